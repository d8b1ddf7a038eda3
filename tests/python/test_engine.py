"""A project made by the engine (headlens-cli trace, with every analysis and a comparison) reads
in Python as `headlens-cli export` prints it, and every dataset in it is documented and reads
as stored. Skips without the CLI (HEADLENS_CLI)."""

import hashlib
import io
import json
import os
import subprocess
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

import hltest  # exits 77 without numpy/h5py

import h5py
import numpy as np

import headlens

MODEL = os.path.join(hltest.SOURCE_DIR, "resources", "examples", "adder")
TRACES = ("dense", "sparse")


cli = hltest.cli


@unittest.skipUnless(hltest.CLI and os.access(hltest.CLI, os.X_OK), "headlens-cli is not built")
class EngineProject(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        p = cls.path = os.path.join(cls.tmp.name, "engine.hlproj")
        cli("trace", MODEL, "--prompt", "587+469=", "-o", p, "--name", "dense", "--store-z",
            "--generate", "2")
        # A budget below any pattern: attention/sparse, and float32 residuals.
        cli("trace", MODEL, "--prompt", "123+456=", "-o", p, "--name", "sparse",
            "--attention-budget", "0.000001", "--residuals", "f32", "--attention", "f32")
        cli("stats", p, "--all")
        cli("correlate", p, "--trace", "dense")
        cli("heads", p, "--similarity", "--all")
        cli("compare", p, "--left", "dense", "--right", "sparse")
        cls.roles = json.loads(cli("heads", MODEL, p, "--roles", "--sequences", "2", "--json"))
        cli("decompose", MODEL, p, "--trace", "dense", "--site", "resid_post", "--layer", "2",
            "--pos", "5")
        # Activation patching adds the clean prompt's trace with its map (after the analyses
        # over all traces, which would take it in).
        cls.patch = json.loads(cli("patch", MODEL, "--clean", "587+469=", "--corrupted",
                                   "481+512=", "--answer", "1", "--wrong", "0", "--heads", "-o",
                                   p, "--name", "patched", "--json"))
        # Every export of the dense trace; of the sparse one what its storage changes.
        jobs = [("dense", w, None) for w in ("tokens", "logits", "heads", "attention")]
        jobs += [("dense", "lens", s) for s in hltest.SITES]
        jobs += [("sparse", "attention", None), ("sparse", "lens", "resid_post")]

        def export(job):
            trace, what, site = job
            extra = ["--site", site] if site else []
            return json.loads(cli("export", p, "--trace", trace, "--what", what, "--format",
                                  "json", *extra))

        with ThreadPoolExecutor(4) as pool:  # each run starts the engine: overlap them
            cls.exports = dict(zip(jobs, pool.map(export, jobs)))
        cls.info = json.loads(cli("info", p, "--json"))
        cls.project = headlens.open(p)

    @classmethod
    def tearDownClass(cls):
        cls.project.close()
        cls.tmp.cleanup()

    def export(self, trace, what, site=None):
        return self.exports[(trace, what, site)]

    def test_tuned_lens_is_recorded(self):
        with tempfile.TemporaryDirectory() as d:
            prompts, lens = os.path.join(d, "sums.txt"), os.path.join(d, "lens.safetensors")
            with open(prompts, "w") as f:
                f.write("587+469=1056\n123+456=0579\n")
            cli("fit-lens", MODEL, "--prompts", prompts, "-o", lens, "--steps", "3")
            p = os.path.join(d, "tuned.hlproj")
            cli("trace", MODEL, "--prompt", "587+469=", "-o", p, "--lens-decoder", "tuned",
                "--lens", lens)
            project = headlens.open(p)
            try:
                t = project.traces["trace-1"]
                with open(lens, "rb") as f:
                    self.assertEqual(t.tuned_lens_sha256, hashlib.sha256(f.read()).hexdigest())
                self.assertEqual(t.lens_decoder, "tuned")
                self.assertEqual(os.path.realpath(t.tuned_lens_path), os.path.realpath(lens))
                self.assertEqual(self.project.traces["dense"].tuned_lens_sha256, "")
            finally:
                project.close()

    def test_listing(self):
        self.assertEqual(list(self.project.traces), [t["name"] for t in self.info["traces"]])
        for listed in self.info["traces"]:
            t = self.project.traces[listed["name"]]
            self.assertEqual((t.n_tokens, t.n_layers, t.n_heads, t.prompt),
                             (listed["n_tokens"], listed["n_layers"], listed["n_heads"],
                              listed["prompt"]))

    def test_tokens(self):
        t = self.project.trace("dense")
        rows = self.export("dense", "tokens")
        offsets = t.token_offsets
        self.assertEqual(len(rows), t.n_tokens)
        for r in rows:
            p = r["pos"]
            self.assertEqual(r["id"], t.token_ids[p])
            self.assertEqual(r["text"], t.token_text[p])
            self.assertEqual((r["begin"], r["end"]), tuple(offsets[p]))
            self.assertEqual(r["generated"], p >= t.n_prompt_tokens)
        self.assertEqual(t.n_tokens - t.n_prompt_tokens, 2)

    def assertTopK(self, trace, topk, rows, lead):
        """rows of an export (lead: the index columns before rank) equal topk's datasets."""
        self.assertEqual(len(rows), topk.ids.size)
        for r in rows:
            at = tuple(r[c] for c in lead)
            i = at + (r["rank"] - 1,)
            self.assertEqual(r["id"], topk.ids[i])
            self.assertEqual(r["text"], trace.text(r["id"]))
            self.assertEqual(np.float32(r["prob"]), topk.probs[i])
            self.assertEqual(np.float32(r["entropy"]), topk.entropy[at])

    def test_lens_and_logits(self):
        for (name, what, site), rows in self.exports.items():
            t = self.project.trace(name)
            if what == "lens":
                self.assertTopK(t, t.lens(site), rows, ("layer", "pos"))
            elif what == "logits":
                self.assertTopK(t, t.logits, rows, ("pos",))
        self.assertEqual(self.project.trace("dense").lens_sites(), list(hltest.SITES))

    def test_heads(self):
        t = self.project.trace("dense")
        rows = self.export("dense", "heads")
        metrics = {m: t.heads(m).read() for m in
                   ("contrib_norm", "contrib_cosine", "contrib_projection", "attn_entropy",
                    "value_norm")}
        self.assertEqual(len(rows), metrics["contrib_norm"].size)
        for r in rows:
            i = (r["layer"], r["head"], r["pos"])
            for m, values in metrics.items():
                self.assertEqual(np.float32(r[m]), values[i], (m, i))

    def test_attention_dense_and_sparse(self):
        for name in TRACES:
            t = self.project.trace(name)
            self.assertEqual(t.attention_sparse, name == "sparse")
            expected = np.zeros(t.attention.shape, dtype=np.float32)
            for r in self.export(name, "attention"):
                expected[r["layer"], r["head"], r["query"], r["key"]] = r["weight"]
            np.testing.assert_array_equal(np.asarray(t.attention), expected, err_msg=name)
            for layer in range(t.n_layers):
                np.testing.assert_array_equal(t.attention[layer], expected[layer])
        sparse = self.project.trace("sparse").attention
        np.testing.assert_array_equal(sparse.row(1, 6), np.asarray(sparse)[1, :, 6, :])

    def test_every_dataset_is_documented_and_reads_as_stored(self):
        paths = self.project.dataset_paths()
        with h5py.File(self.path, "r") as raw:
            for path in paths:
                ds = self.project[path]
                self.assertTrue(ds.documented, f"{path} is not in headlens/layout.py")
                want = raw[path].asstr()[()] if ds.is_string else raw[path][()]
                got = ds.read()
                if ds.is_string:
                    self.assertEqual(list(got), list(want), path)
                else:
                    self.assertEqual(got.dtype, np.float32 if want.dtype == np.float16
                                     else want.dtype, path)
                    np.testing.assert_array_equal(got, want, err_msg=path)
        # What the engine wrote: analyses of the project and of a trace, a comparison.
        for part in ("analysis/stats/contrib_norm/head_mean", "analysis/head_similarity/order",
                     "traces/dense/analysis/correlations/values", "traces/dense/heads/z",
                     "traces/sparse/attention/sparse/keys", "comparisons/dense-vs-sparse/kl",
                     "traces/patched/analysis/patching/heads_recovered"):
            self.assertIn(part, paths)

    def test_analyses_and_comparison(self):
        p = self.project
        self.assertEqual(sorted(p.analyses()), ["head_similarity", "stats"])
        stats = p.analysis("stats")
        self.assertEqual(stats.attrs["scope"], "project")
        self.assertEqual(list(stats["traces"].read()), list(TRACES))
        mean = stats["contrib_norm/head_mean"]
        self.assertEqual(mean.axes, ("layer", "head"))
        norms = np.concatenate([p.trace(n).heads("contrib_norm").read() for n in TRACES],
                               axis=2)
        np.testing.assert_allclose(mean.read(), norms.mean(axis=2), rtol=1e-5)
        dense = p.trace("dense")
        self.assertEqual(sorted(dense.analyses()), ["correlations", "decompose", "head_roles"])
        step = dense.analysis("decompose")["resid_post-L2-P5"]
        self.assertEqual(step["ids"].axes, ("step",))
        self.assertEqual(list(step["text"].read()), list(dense.text(step["ids"].read())))
        self.assertEqual(dense.analysis("correlations")["values"].axes,
                         ("statistic", "layer", "pos"))
        cmp = p.comparison("dense-vs-sparse")
        self.assertEqual((cmp.left, cmp.right, cmp.mode), ("dense", "sparse", "prompts"))
        self.assertEqual(cmp.pairs.axes, ("pair", "side"))
        pairs = cmp.pairs.read()
        left = [dense.token_text[i] if i >= 0 else "" for i in pairs[:, 0]]
        self.assertEqual(list(cmp["token_text_left"].read()), left)

    def test_head_roles_read_as_the_cli_printed_them(self):
        self.assertEqual(self.roles["stored"], list(TRACES))
        for name in TRACES:
            g = self.project.trace(name).head_roles()
            self.assertEqual(g.attrs["sequences"], 2)
            self.assertEqual(g.attrs["sequence_length"], self.roles["sequence_length"])
            n = self.roles["sequence_length"]
            tokens = g["tokens"].read()
            self.assertEqual(g["tokens"].axes, ("sequence", "pos"))
            np.testing.assert_array_equal(tokens[:, -n:], tokens[:, -2 * n:-n])  # r, r
            for score in ("previous_token", "first_token", "self", "duplicate_token",
                          "induction", "mean_distance"):
                ds = g[score]
                self.assertEqual(ds.axes, ("layer", "head"))
                values = ds.read()
                for h in self.roles["heads"]:
                    want = h[score]
                    got = values[h["layer"], h["head"]]
                    if want is None:
                        self.assertTrue(np.isnan(got))
                    else:
                        self.assertAlmostEqual(got, want, places=12)
        try:
            import pandas  # noqa: F401
        except ImportError:
            return
        frame = self.project.trace("dense").to_frame("roles")
        self.assertEqual(len(frame), len(self.roles["heads"]))
        self.assertAlmostEqual(frame["induction"].iloc[0], self.roles["heads"][0]["induction"])
    def test_patching(self):
        t = self.project.trace("patched")
        self.assertTrue(t.has_patching)
        self.assertFalse(self.project.trace("dense").has_patching)
        m = t.patching
        self.assertEqual((m["answer_text"], m["wrong_text"]), ("1", "0"))
        self.assertEqual(m["sites"].split(), list(hltest.SITES))
        self.assertEqual(m["corrupted_prompt"], "481+512=")
        self.assertEqual(m["corrupted_text"], self.patch["corrupted_tokens"])
        self.assertEqual(list(m["corrupted_ids"]),
                         [int(i) for i in cli("tokenize", MODEL, "--text", "481+512=").split()])
        self.assertEqual(m["recovered"].shape, (5, t.n_layers, t.n_tokens))
        self.assertEqual(m["heads_recovered"].shape, (t.n_layers, t.n_heads, t.n_tokens))
        self.assertAlmostEqual(m["ld_clean"], self.patch["ld_clean"])
        for i, site in enumerate(hltest.SITES):
            np.testing.assert_array_equal(m["recovered"][i],
                                          np.float32(self.patch["sites"][site]), err_msg=site)
        np.testing.assert_array_equal(m["heads_recovered"], np.float32(self.patch["heads"]))
        # The last layer's resid_post at the last position: all of the clean answer.
        self.assertAlmostEqual(float(m["recovered"][4, -1, -1]), 1.0, places=5)
        self.assertEqual(t["analysis/patching/recovered"].axes, ("site", "layer", "pos"))

    def test_frames_match_export(self):
        try:
            import pandas as pd
        except ImportError:
            self.skipTest("pandas is not installed")
        t = self.project.trace("dense")
        for what, site in (("lens", "resid_mid"), ("logits", None), ("tokens", None),
                           ("heads", None)):
            rows = self.export("dense", what, site)
            frame = t.to_frame(what, site=site or "resid_post")
            expected = pd.DataFrame(rows)[[c for c in rows[0] if c != "decision_layer"]]
            self.assertEqual(sorted(frame.columns), sorted(expected.columns), what)
            expected = expected[list(frame.columns)]
            for column in frame.columns:
                a, b = frame[column].to_numpy(), expected[column].to_numpy()
                if a.dtype.kind == "f" and a.dtype.itemsize == 4:
                    b = b.astype(np.float32)
                if column == "contrib_share":
                    np.testing.assert_allclose(a, b.astype(float), rtol=1e-6)
                else:
                    self.assertEqual(list(a), list(b), (what, column))


@unittest.skipUnless(hltest.CLI and os.access(hltest.CLI, os.X_OK), "headlens-cli is not built")
class InterruptedAppend(unittest.TestCase):
    """A batch appending to a project is killed while it writes in place: Python reads the
    project as it was (without writing to it), and the bytes it sees are those HeadLens puts
    back when it next opens the project."""

    def test_killed_append_reads_as_before(self):
        import signal
        import time
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "p.hlproj")
            cli("trace", MODEL, "--prompt", "587+469=", "-o", p, "--name", "first")
            with io.open(p, "rb") as f:
                before = f.read()
            prompts = os.path.join(tmp, "prompts.txt")
            with io.open(prompts, "w") as f:
                f.write("".join(f"{100 + i}+{200 + i}=\n" for i in range(400)))
            journal = headlens.journal.journal_path(p)
            proc = subprocess.Popen([hltest.CLI, "batch", MODEL, "--prompts", prompts, "-o", p,
                                     "--store-z"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while not (os.path.exists(journal) and os.path.getsize(p) > len(before)) and \
                    proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(0.2)  # let it write some traces in place
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.assertTrue(os.path.exists(journal), "the batch finished before it was killed")
            with headlens.open(p) as project:
                self.assertEqual(list(project.traces), ["first"])
                ids = project.traces["first"].lens("resid_post").ids[:]
            self.assertTrue(os.path.exists(journal))  # Python never writes
            with io.open(p, "rb") as f:
                self.assertNotEqual(f.read(), before)
            size, records = headlens.journal.read_journal(journal)
            view = headlens.journal.RestoredView(p, size, records)
            seen = view.read()
            view.close()
            cli("info", p)  # HeadLens undoes the append
            self.assertFalse(os.path.exists(journal))
            with io.open(p, "rb") as f:
                self.assertEqual(f.read(), before)
            self.assertEqual(seen, before)
            with headlens.open(p) as project:
                np.testing.assert_array_equal(project.traces["first"].lens("resid_post").ids[:],
                                              ids)


if __name__ == "__main__":
    hltest.main()
