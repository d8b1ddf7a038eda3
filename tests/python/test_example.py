"""resources/examples/notebook_example.py runs on the example project and writes its two charts
(matplotlib's Agg backend, into a temporary folder). Skips without matplotlib."""

import os
import subprocess
import sys
import tempfile
import unittest

import hltest  # exits 77 without numpy/h5py

SCRIPT = os.path.join(hltest.SOURCE_DIR, "resources", "examples", "notebook_example.py")
PNG = b"\x89PNG\r\n\x1a\n"

try:
    import matplotlib  # noqa: F401
except ImportError:
    print("SKIP: matplotlib is not installed (Debian: python3-matplotlib)")
    sys.exit(hltest.SKIP)


class NotebookExample(unittest.TestCase):
    def test_draws_the_grid_and_the_head_chart(self):
        with tempfile.TemporaryDirectory() as out:
            env = dict(os.environ, MPLBACKEND="Agg", HEADLENS_EXAMPLE_OUT=out,
                       MPLCONFIGDIR=os.path.join(out, "mpl"),
                       PYTHONPATH=os.path.join(hltest.SOURCE_DIR, "modules", "python"))
            r = subprocess.run([sys.executable, SCRIPT], env=env, capture_output=True,
                               text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("carry-587+469", r.stdout)
            self.assertRegex(r.stdout, r"(?m)^L3 ")  # the grid's last layer row
            for name in ("logit_lens_grid.png", "head_contributions.png"):
                path = os.path.join(out, name)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(8), PNG, name)
                self.assertGreater(os.path.getsize(path), 5000, name)


if __name__ == "__main__":
    hltest.main()
