"""kill -9 at 20 moments of an append (issue 18's criterion): every kill leaves the project's
earlier traces readable, as they were, by Python (which never writes) and by headlens-cli
(which undoes a half-done append when it opens the project); the new trace is either absent or
whole. Half of the moments fall in the in-place write itself, timed on a first append; the
other half anywhere in the command's run. Skips without the CLI (HEADLENS_CLI)."""

import io
import os
import random
import signal
import subprocess
import tempfile
import time
import unittest

import hltest  # exits 77 without numpy/h5py

import numpy as np

import headlens
import headlens.journal

cli = hltest.cli
MODEL = os.path.join(hltest.SOURCE_DIR, "resources", "examples", "adder")
KILLS = 20


def append_command(path, name):
    return [hltest.CLI, "trace", MODEL, "--prompt", "587+469=", "--generate", "6", "--store-z",
            "-o", path, "--name", name]


def snapshot(path):
    """What a reader sees of every trace: its tokens and its lens's top-1 ids at every site."""
    seen = {}
    with headlens.open(path) as project:
        for name in project.traces:
            t = project.traces[name]
            seen[name] = (t.token_ids.tolist(), [np.array(t.lens(s).ids[:]) for s in hltest.SITES])
    return seen


def assert_same(test, old, now):
    for name, (tokens, ids) in old.items():
        test.assertIn(name, now)
        test.assertEqual(now[name][0], tokens)
        for a, b in zip(ids, now[name][1]):
            np.testing.assert_array_equal(a, b)


@unittest.skipUnless(hltest.CLI and os.access(hltest.CLI, os.X_OK), "headlens-cli is not built")
class KillAppend(unittest.TestCase):
    def test_twenty_kills(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "p.hlproj")
            cli("trace", MODEL, "--prompt", "123+456=", "-o", p, "--name", "first")
            cli("trace", MODEL, "--prompt", "999+1=", "-o", p, "--name", "second")
            journal = headlens.journal.journal_path(p)

            # A first append, timed: when the command starts, when its journal appears (the
            # in-place write begins) and when it is gone (the append is committed).
            start = time.monotonic()
            proc = subprocess.Popen(append_command(p, "timed"), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            opened = closed = None
            while proc.poll() is None:
                now = time.monotonic() - start
                if os.path.exists(journal):
                    opened = now if opened is None else opened
                elif opened is not None and closed is None:
                    closed = now
                time.sleep(0.001)
            total = time.monotonic() - start
            self.assertEqual(proc.returncode, 0)
            if opened is None:  # too quick to see: the write is somewhere in the run
                opened, closed = 0.0, total
            closed = total if closed is None else closed
            old = snapshot(p)
            self.assertEqual(sorted(old), ["first", "second", "timed"])

            # Even kills: a random moment inside the in-place write (after the journal appears);
            # odd ones: a random moment of the whole run.
            rng = random.Random(18)
            during = added = 0
            for i in range(KILLS):
                name = f"killed-{i}"
                with io.open(p, "rb") as f:
                    before = f.read()
                proc = subprocess.Popen(append_command(p, name), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                if i % 2 == 0:
                    while not os.path.exists(journal) and proc.poll() is None:
                        time.sleep(0.0005)
                    time.sleep(rng.uniform(0.0, 0.8 * (closed - opened)))
                else:
                    time.sleep(rng.uniform(0.0, total))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                interrupted = os.path.exists(journal)
                during += interrupted

                # Python first: it reads the project as it was, and writes nothing.
                now = snapshot(p)
                assert_same(self, old, now)
                if interrupted:
                    self.assertNotIn(name, now)
                self.assertEqual(os.path.exists(journal), interrupted)

                # Then HeadLens opens it, undoing a half-done append.
                info = cli("info", p)
                self.assertFalse(os.path.exists(journal))
                if interrupted:
                    with io.open(p, "rb") as f:
                        self.assertEqual(f.read(), before, f"kill {i}")
                now = snapshot(p)
                assert_same(self, old, now)
                if name in now:  # committed before the kill: whole, and kept
                    self.assertIn(name, info)
                    added += 1
                    old = now
            print(f"kill-append: {KILLS} kills over a {total:.2f} s append (in-place write "
                  f"{opened:.3f}-{closed:.3f} s): {during} during the write, undone; {added} "
                  f"after the commit, kept; {KILLS - during - added} before the write")
            self.assertGreater(during, 0, "no kill fell inside the in-place write")


if __name__ == "__main__":
    hltest.main()
