"""Direct logit attribution in Python: a trace made by the engine reads as trace.dla, its parts
add up to the model's logit, the token attributed is the model's top-1, the heads are what
`headlens-cli attribute --json` gives, and a damaged attribution dataset is refused by name.
Skips without the CLI (HEADLENS_CLI)."""

import json
import os
import shutil
import tempfile
import unittest

import hltest  # exits 77 without numpy/h5py

import h5py
import numpy as np

import headlens

MODEL = os.path.join(hltest.SOURCE_DIR, "resources", "examples", "adder")
PROMPT = "587+469="


cli = hltest.cli


@unittest.skipUnless(hltest.CLI and os.access(hltest.CLI, os.X_OK), "headlens-cli is not built")
class Dla(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "dla.hlproj")
        cli("trace", MODEL, "--prompt", PROMPT, "-o", cls.path, "--name", "t")
        cls.attributed = json.loads(cli("attribute", MODEL, "--prompt", PROMPT, "--json"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_reads_and_adds_up(self):
        with headlens.open(self.path) as p:
            t = p.traces["t"]
            self.assertTrue(t.has_dla)
            a = t.dla
            self.assertEqual(a.heads.axes, ("layer", "head", "pos"))
            self.assertEqual(a.blocks.axes, ("layer", "block", "pos"))
            self.assertEqual(a.heads.shape, (t.n_layers, t.n_heads, t.n_tokens))
            self.assertEqual(a.blocks.shape, (t.n_layers, 2, t.n_tokens))
            np.testing.assert_array_equal(a.token_ids.read(), t.logits.ids[:, 0])
            err = a.sum_error()
            scale = np.abs(a.blocks.read()).sum(axis=(0, 1)) + np.abs(a.embed.read())
            self.assertLess(float(np.max(np.abs(err) / scale)), 1e-6)
            # The model has no o_proj bias: the heads make the attention block.
            np.testing.assert_allclose(a.heads.read().sum(axis=1), a.blocks[:, 0, :],
                                       rtol=1e-4, atol=1e-4)

    def test_heads_are_what_attribute_gives(self):
        with headlens.open(self.path) as p:
            heads = p.traces["t"].dla.heads.read()
        positions = self.attributed["positions"]
        self.assertEqual(len(positions), heads.shape[2])
        cli_heads = np.stack([np.array(q["heads"]) for q in positions], axis=-1)
        np.testing.assert_allclose(heads, cli_heads, rtol=1e-4, atol=1e-4)

    def test_damaged_dataset_is_refused(self):
        bad = os.path.join(self.tmp.name, "bad.hlproj")
        shutil.copy(self.path, bad)
        with h5py.File(bad, "r+") as f:
            g = f["traces/t/blocks"]
            del g["dla"]
            g["dla"] = np.zeros((1, 3, 1), dtype=np.float32)
        with headlens.open(bad) as p:
            with self.assertRaises(headlens.ProjectError) as e:
                p.traces["t"].dla.blocks.read()
            self.assertIn("blocks/dla", str(e.exception))


if __name__ == "__main__":
    hltest.main()
