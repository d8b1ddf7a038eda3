"""The headlens package on the example project and on synthetic files: labels, texts, the
lens grid, float16 and sparse storage, and the refusals of the C++ reader."""

import os
import re
import tempfile
import unittest

import hltest  # exits 77 without numpy/h5py

import h5py
import numpy as np

import headlens

PROMPT_TRACE = "carry-587+469"


class ExampleProject(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.project = headlens.open(hltest.EXAMPLE_PROJECT)
        cls.raw = h5py.File(hltest.EXAMPLE_PROJECT, "r")

    @classmethod
    def tearDownClass(cls):
        cls.project.close()
        cls.raw.close()

    def test_metadata(self):
        self.assertEqual(self.project.schema_version, 1)
        self.assertEqual(list(self.project.traces), list(self.raw["traces"].keys()))
        t = self.project.traces[PROMPT_TRACE]
        self.assertEqual(t.prompt, "587+469=")
        self.assertEqual((t.n_layers, t.n_heads, t.n_tokens, t.topk), (4, 4, 13, 10))
        self.assertEqual(t.config["d_model"], 64)

    def test_lens_is_labelled_and_lazy(self):
        t = self.project.trace(PROMPT_TRACE)
        lens = t.lens("resid_post")
        self.assertEqual(lens.ids.axes, ("layer", "pos", "k"))
        self.assertEqual(lens.entropy.axes, ("layer", "pos"))
        raw = self.raw[f"traces/{PROMPT_TRACE}/lens/resid_post"]
        np.testing.assert_array_equal(lens.ids[2], raw["topk_ids"][2])
        np.testing.assert_array_equal(np.asarray(lens.probs), raw["topk_probs"][()])
        np.testing.assert_array_equal(lens.probs.sel(layer=1, pos=3), raw["topk_probs"][1, 3])
        with self.assertRaises(KeyError):
            lens.ids.sel(head=0)
        with self.assertRaises(ValueError):
            t.lens("resid_middle")

    def test_float16_reads_as_float32(self):
        t = self.project.trace(PROMPT_TRACE)
        att = t.attention
        self.assertEqual(att.stored_dtype, np.float16)
        layer = att[1]
        self.assertEqual(layer.dtype, np.float32)
        np.testing.assert_array_equal(
            layer, self.raw[f"traces/{PROMPT_TRACE}/attention/pattern"][1].astype(np.float32))
        self.assertEqual(t.residual("resid_post").sel(layer=0, pos=0).dtype, np.float32)

    def test_text_through_vocabulary(self):
        t = self.project.trace(PROMPT_TRACE)
        raw = self.raw[f"traces/{PROMPT_TRACE}"]
        vocab = dict(zip(raw["vocab/ids"][()].tolist(), raw["vocab/text"].asstr()[()]))
        ids = t.logits.ids[:, 0]
        self.assertEqual(list(t.text(ids)), [vocab[i] for i in ids.tolist()])
        self.assertEqual(t.text(12345), "[12345]")
        self.assertEqual(t.token_text, list(raw["tokens/text"].asstr()[()]))

    def test_grid_is_top1_of_each_layer(self):
        t = self.project.trace(PROMPT_TRACE)
        g = t.grid()
        ids = self.raw[f"traces/{PROMPT_TRACE}/lens/resid_post/topk_ids"][()]
        self.assertEqual(g.ids.shape, (t.n_layers, t.n_tokens))
        np.testing.assert_array_equal(g.ids, ids[:, :, 0])
        self.assertEqual(g.text[3, 9], t.text(ids[3, 9, 0]))
        self.assertEqual(len(str(g).splitlines()), 1 + t.n_layers)

    def test_every_dataset_is_documented_and_reads_as_stored(self):
        for path in self.project.dataset_paths():
            ds = self.project[path]
            self.assertTrue(ds.documented, path)
            raw = self.raw[path]
            if ds.is_string:
                self.assertEqual(list(ds.read()), list(raw.asstr()[()]), path)
            else:
                np.testing.assert_array_equal(ds.read(), raw[()], err_msg=path)

    def test_frames(self):
        try:
            import pandas  # noqa: F401
        except ImportError:
            self.skipTest("pandas is not installed")
        t = self.project.trace(PROMPT_TRACE)
        lens = t.to_frame("lens", site="mlp_out")
        self.assertEqual(list(lens.columns), ["layer", "pos", "rank", "id", "text", "prob",
                                              "entropy"])
        self.assertEqual(len(lens), t.n_layers * t.n_tokens * t.topk)
        row = lens[(lens.layer == 2) & (lens.pos == 5) & (lens["rank"] == 1)].iloc[0]
        self.assertEqual(row.id, t.lens("mlp_out").ids[2, 5, 0])
        heads = t.to_frame("heads")
        shares = heads.groupby(["layer", "pos"]).contrib_share.sum()
        np.testing.assert_allclose(shares, 1.0, rtol=1e-6)
        self.assertEqual(t.grid().to_frame().shape, (t.n_layers, t.n_tokens))


class Synthetic(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def assertRefuses(self, path, error, pattern):
        with self.assertRaises(error) as ctx:
            headlens.open(path)
        self.assertRegex(str(ctx.exception), pattern)
        self.assertIn(path, str(ctx.exception))

    def test_values_are_checked_where_read(self):
        """A project's own values are checked as the C++ reader checks them (issue 13): ids in
        the vocabulary, probabilities in [0, 1], entropies not negative; the message names the
        dataset and the index."""
        p = self.path("values.hlproj")
        hltest.write_project(p, {"t": dict(attention=None, residual=None)})
        with h5py.File(p, "a") as f:
            g = f["traces/t"]
            g["logits/topk_ids"][1, 2] = 50  # vocab_size is 50
            g["lens/resid_post/topk_probs"][1, 3, 0] = np.nan
            g["lens/attn_out/entropy"][0, 4] = -2.0
            g["tokens/ids"][0] = -7
        with headlens.open(p) as project:
            t = project.traces["t"]
            cases = [
                (lambda: t.logits.ids[:], r"logits/topk_ids holds the token id 50 at \[1, 2\], "
                 r"outside the model's vocabulary \(0 to 49\)"),
                (lambda: t.lens("resid_post").probs[:],
                 r"lens/resid_post/topk_probs holds nan at \[1, 3, 0\], which is not a probability"),
                (lambda: t.lens("attn_out").entropy[0], r"lens/attn_out/entropy holds -2.0 at \[4\] "
                 r"of the part 0, which is not an entropy"),
                (lambda: t.token_ids, r"tokens/ids holds the token id -7 at \[0\], which cannot "
                 r"be a token id"),
            ]
            for read, pattern in cases:
                with self.assertRaises(headlens.ProjectError) as ctx:
                    read()
                self.assertRegex(str(ctx.exception), pattern)
                self.assertIn("trace 't'", str(ctx.exception))
            # The values that are right still read.
            self.assertEqual(t.lens("resid_post").ids[:].shape[0], t.n_layers)

    def test_refusals(self):
        p = self.path("newer.hlproj")
        hltest.write_project(p, {"t": {}}, {"schema_version": np.int32(2)})
        self.assertRefuses(p, headlens.NewerSchemaError, r"newer HeadLens \(schema 2\)")
        p = self.path("other.h5")
        hltest.write_project(p, {"t": {}}, {"format": "something-else"})
        self.assertRefuses(p, headlens.NotAProjectError, r"its format is 'something-else'")
        p = self.path("noformat.h5")
        hltest.write_project(p, {"t": {}}, {"format": None})
        self.assertRefuses(p, headlens.NotAProjectError, r"no 'format' attribute")
        p = self.path("noschema.hlproj")
        hltest.write_project(p, {"t": {}}, {"schema_version": None})
        self.assertRefuses(p, headlens.ProjectError, r"no 'schema_version'")
        p = self.path("text.hlproj")
        with open(p, "w") as f:
            f.write("not a project\n")
        self.assertRefuses(p, headlens.NotAProjectError, r"not an HDF5 file")
        p = self.path("truncated.hlproj")
        with open(hltest.EXAMPLE_PROJECT, "rb") as f:
            head = f.read(4096)
        with open(p, "wb") as f:
            f.write(head)
        self.assertRefuses(p, headlens.ProjectError, r"damaged or truncated")
        self.assertRefuses(self.path("missing.hlproj"), headlens.ProjectError, r"no such file")
        self.assertRefuses(self.tmp.name, headlens.ProjectError, r"is a folder")

    def test_a_damaged_trace_is_refused_when_opened(self):
        p = self.path("bad.hlproj")
        hltest.write_project(p, {"good": {}, "bad": {}})
        with h5py.File(p, "a") as f:
            del f["traces/bad/heads/value_norm"]
            f["traces/bad/heads/value_norm"] = np.zeros((2, 2, 4), dtype=np.float32)
            del f["traces/good/logits/entropy"]
        with headlens.open(p) as project:
            self.assertEqual(sorted(project.traces), ["bad", "good"])  # still listed
            with self.assertRaisesRegex(headlens.ProjectError,
                                        r"trace 'bad': dataset heads/value_norm has shape "
                                        r"\[2, 2, 4\].*pos = 5"):
                project.trace("bad")
            with self.assertRaisesRegex(headlens.ProjectError,
                                        r"required dataset logits/entropy is missing"):
                project.trace("good")

    def test_a_damaged_number_type_is_refused(self):
        # As the C++ reader's refusals: a float of 4 GB per value (the fuzz finding), which
        # libhdf5 would allocate to convert each value, and an integer of 3 bytes.
        cases = (("heads/contrib_projection", h5py.h5t.IEEE_F32LE, 0xfffffffb,
                  r"dataset heads/contrib_projection holds floats of 4294967291 bytes \(32 bits "
                  r"at offset 0\), a type no HeadLens writer makes: the file is damaged"),
                 ("logits/topk_ids", h5py.h5t.STD_I32LE, 3,
                  r"dataset logits/topk_ids holds integers of 3 bytes"))
        for n, (path, base, size, message) in enumerate(cases):
            p = self.path(f"types-{n}.hlproj")
            hltest.write_project(p, {"t": {}})
            with h5py.File(p, "a") as f:
                group = f["traces/t/" + os.path.dirname(path)]
                shape = group[os.path.basename(path)].shape
                del group[os.path.basename(path)]
                t = base.copy()
                t.set_size(size)
                h5py.h5d.create(group.id, os.path.basename(path).encode(), t,
                                h5py.h5s.create_simple(shape))
            with headlens.open(p) as project:
                with self.assertRaisesRegex(headlens.ProjectError,
                                            re.escape(p) + r": trace 't': " + message):
                    project.trace("t")

    def test_a_shape_past_its_storage_is_refused(self):
        # As the C++ reader's refusal: a shape of 3 GB that was never written.
        p = self.path("shape.hlproj")
        hltest.write_project(p, {"t": {}})
        with h5py.File(p, "a") as f:
            group = f["traces/t/logits"]
            T = group["topk_ids"].shape[0]
            del group["topk_ids"]
            group.create_dataset("topk_ids", shape=(T, 2**28), dtype=np.int32)
        with headlens.open(p) as project:
            with self.assertRaisesRegex(headlens.ProjectError,
                                        re.escape(p) + r": trace 't': dataset logits/topk_ids "
                                        rf"has shape \[{T}, 268435456\] \(\d+ MiB\) but stores 0 "
                                        r"bytes: the file is damaged"):
                project.trace("t")

    def test_sparse_attention_reads_dense(self):
        p = self.path("sparse.hlproj")
        rng = np.random.default_rng(7)
        L, H, T = 3, 2, 20
        pattern = hltest.causal_pattern(rng, L, H, T)
        hltest.write_project(p, {"s": dict(L=L, H=H, T=T, attention="sparse", pattern=pattern,
                                           rng=rng)})
        expected = hltest.dense_of_sparse(pattern)
        # The sparse form leaves keys out: a test that cannot tell the forms apart proves little.
        self.assertGreater(np.count_nonzero(pattern) - np.count_nonzero(expected), 0)
        with headlens.open(p) as project:
            t = project.trace("s")
            self.assertTrue(t.attention_sparse)
            att = t.attention
            self.assertEqual((att.shape, att.axes), ((L, H, T, T),
                                                     ("layer", "head", "query", "key")))
            for l in range(L):
                np.testing.assert_array_equal(att[l], expected[l])
            np.testing.assert_array_equal(np.asarray(att), expected)
            np.testing.assert_array_equal(att[1:, 0, 5], expected[1:, 0, 5])
            np.testing.assert_array_equal(att[-1, ..., 3], expected[-1, ..., 3])
            np.testing.assert_array_equal(att.row(2, 11), expected[2, :, 11, :])
            np.testing.assert_array_equal(att.sel(head=1, query=7), expected[:, 1, 7])
            with self.assertRaisesRegex(IndexError, "layer 3 is out of range"):
                att[3]
        with h5py.File(p, "a") as f:
            f["traces/s/attention/sparse/row_end"][1, 0, 0] = 10 ** 9
        with headlens.open(p) as project:
            with self.assertRaisesRegex(headlens.ProjectError, r"row_end is inconsistent"):
                project.trace("s").attention[1]

    def test_read_only(self):
        with headlens.open(hltest.EXAMPLE_PROJECT) as project:
            self.assertEqual(project._file.mode, "r")
            self.assertFalse(hasattr(project.trace(PROMPT_TRACE), "__setitem__"))


class Version(unittest.TestCase):
    def test_version_is_the_projects(self):
        with open(os.path.join(hltest.SOURCE_DIR, "CMakeLists.txt")) as f:
            version = re.search(r"project\(HeadLens VERSION ([0-9.]+)", f.read()).group(1)
        self.assertEqual(headlens.__version__, version)


if __name__ == "__main__":
    hltest.main()
