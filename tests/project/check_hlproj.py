#!/usr/bin/python3
"""Check a .hlproj file against shared/design/HLPROJ.md (schema version 1) with h5py.

Usage: check_hlproj.py [--values] FILE.hlproj

Checks every name, dtype and shape the contract promises: root attributes and groups, each
trace's attributes and datasets (shapes consistent with its model_config JSON, T from
tokens/ids and K = topk), optional datasets when present (float16 or float32 for attention,
residual and z), comparisons when present, and that large datasets are chunked per layer and
compressed. With --values it also checks value ranges (probabilities in [0, 1], entropies
>= 0, token ids in [0, vocab_size)); use it on files written from real models.

Prints one line per problem and exits 1 if there is any; otherwise prints "ok: N traces"
and exits 0. Needs python3 with h5py and numpy (Debian: python3-h5py).
"""

import json
import re
import sys

import h5py
import numpy as np

SITES = ["resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"]
HEAD_METRICS = ["contrib_norm", "contrib_cosine", "contrib_projection", "attn_entropy",
                "value_norm"]
LENS_NORMS = {"full", "unit", "none"}
LENS_DECODERS = {"output", "input", "linear", "quadratic"}
COMPARISON_MODES = {"prompts", "models"}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

# model_config keys and what they must hold
CONFIG_KEYS = {
    "architecture": "str", "n_layers": "pos", "n_heads": "pos", "n_kv_heads": "pos",
    "d_model": "pos", "d_head": "pos", "d_ffn": "int", "vocab_size": "int",
    "max_seq_len": "int", "rope_theta": "num", "rope_scaling": "num", "norm_eps": "num",
    "tied_embeddings": "bool", "attn_bias": "bool", "attn_out_bias": "bool",
    "mlp_bias": "bool", "bos_id": "int", "eos_id": "int",
}

INT32 = np.dtype("int32")
FLOAT32 = np.dtype("float32")
FLOAT16 = np.dtype("float16")


class Checker:
    def __init__(self, check_values):
        self.problems = []
        self.check_values = check_values

    def problem(self, where, message):
        self.problems.append(f"{where}: {message}")

    # ------------------------------------------------------------------ attributes

    def string_attr(self, obj, name, required=True):
        where = f"{obj.name} attribute '{name}'"
        if name not in obj.attrs:
            if required:
                self.problem(where, "missing")
            return None
        tid = obj.attrs.get_id(name).get_type()
        if not isinstance(tid, h5py.h5t.TypeStringID):
            self.problem(where, "is not a string")
            return None
        if not tid.is_variable_str():
            self.problem(where, "is not a variable-length string")
        if tid.get_cset() != h5py.h5t.CSET_UTF8:
            self.problem(where, "is not marked UTF-8")
        shape = obj.attrs.get_id(name).shape
        if shape not in ((), None):
            self.problem(where, f"is not a scalar (shape {shape})")
            return None
        value = obj.attrs[name]
        if not isinstance(value, str):
            self.problem(where, f"h5py reads it as {type(value).__name__}, not str")
            return None
        return value

    def int_attr(self, obj, name, required=True):
        where = f"{obj.name} attribute '{name}'"
        if name not in obj.attrs:
            if required:
                self.problem(where, "missing")
            return None
        value = obj.attrs[name]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            self.problem(where, f"is not an integer ({value!r})")
            return None
        return int(value)

    def time_attr(self, obj, name):
        value = self.string_attr(obj, name)
        if value is not None and not ISO_UTC.match(value):
            self.problem(f"{obj.name} attribute '{name}'", f"'{value}' is not ISO 8601 UTC")

    # ------------------------------------------------------------------ datasets

    def dataset(self, group, path, dtypes, shape, required=True):
        """Returns the dataset when it exists, is a dataset and has one of dtypes and shape."""
        where = f"{group.name}/{path}"
        if path not in group:
            if required:
                self.problem(where, "required dataset is missing")
            return None
        ds = group.get(path)
        if not isinstance(ds, h5py.Dataset):
            self.problem(where, "is not a dataset")
            return None
        ok = True
        if dtypes == "utf8":
            info = h5py.check_string_dtype(ds.dtype)
            if info is None or info.encoding != "utf-8" or info.length is not None:
                self.problem(where, f"dtype {ds.dtype} is not a variable-length UTF-8 string")
                ok = False
        elif ds.dtype not in dtypes:
            names = " or ".join(str(d) for d in dtypes)
            self.problem(where, f"dtype {ds.dtype}, expected {names}")
            ok = False
        if shape is not None and tuple(ds.shape) != tuple(shape):
            self.problem(where, f"shape {list(ds.shape)}, expected {list(shape)}")
            ok = False
        return ds if ok else None

    def chunked(self, ds, outer, compressed=True):
        """Large datasets: chunks of one layer (outer=1) or one layer-head (outer=2); attention
        and lens data compressed, dense float vectors (residuals, z) stored as they are
        (SCHEMA-ADDITIONS.md "Storage")."""
        where = ds.name
        if ds.chunks is None:
            self.problem(where, "is not chunked")
            return
        if any(c != 1 for c in ds.chunks[:outer]):
            self.problem(where, f"chunks {list(ds.chunks)} do not hold one "
                                f"{'layer' if outer == 1 else 'layer-head'} each")
        if compressed and ds.compression is None:
            self.problem(where, "is not compressed")
        if not compressed and ds.compression is not None:
            self.problem(where, f"is compressed ({ds.compression}), which costs more time than it saves")

    def sparse_attention(self, g, L, H, T, dense_too):
        """attention/sparse (SCHEMA-ADDITIONS.md): rows in the order layer, query, head; row
        (l, q, h) holds entries [row_end of the row before, row_end) of keys and weights, keys
        in [0, q], at most max_keys of them; kept weights plus remainder make 1."""
        where = g.name + "/attention/sparse"
        if dense_too:
            self.problem(where, "is stored beside attention/pattern")
        ends = self.dataset(g, "attention/sparse/row_end", [np.dtype("<i8")], [L, T, H])
        rest = self.dataset(g, "attention/sparse/remainder", [FLOAT32], [L, T, H])
        keys = self.dataset(g, "attention/sparse/keys", [INT32], None)
        weights = self.dataset(g, "attention/sparse/weights", [FLOAT16, FLOAT32], None)
        if ends is None or rest is None or keys is None or weights is None:
            return
        if keys.shape != weights.shape or len(keys.shape) != 1:
            self.problem(where, f"keys {keys.shape} and weights {weights.shape} differ")
            return
        if not self.check_values:
            return
        e = ends[()].reshape(-1).astype(np.int64)
        start = np.concatenate([[0], e[:-1]])
        n = e - start
        if (n < 0).any() or e[-1] != keys.shape[0]:
            self.problem(where, "row_end is not a running count of the entries")
            return
        if n.max(initial=0) > g["attention/sparse"].attrs.get("max_keys", 128):
            self.problem(where, f"a row keeps {n.max()} keys")
        k, w = keys[()].astype(np.int64), weights[()].astype(np.float64)
        query = np.repeat(np.tile(np.repeat(np.arange(T), H), L), n)
        if (k < 0).any() or (k > query).any():
            self.problem(where, "a key is outside its row's causal range")
        kept = np.add.reduceat(w, start) if len(w) else np.zeros(len(n))
        kept = np.where(n > 0, kept, 0.0)
        total = kept + rest[()].reshape(-1).astype(np.float64)
        if np.abs(total - 1.0).max(initial=0) > 2e-3:
            self.problem(where, f"kept weights plus remainder differ from 1 by up to "
                                f"{np.abs(total - 1.0).max():.3g}")

    def values_in(self, ds, low, high, what):
        if ds is None or not self.check_values or ds.size == 0:
            return
        data = ds[()]
        if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
            self.problem(ds.name, f"{what}: holds NaN or infinity")
            return
        if low is not None and data.min() < low:
            self.problem(ds.name, f"{what}: {data.min()} is below {low}")
        if high is not None and data.max() > high:
            self.problem(ds.name, f"{what}: {data.max()} is above {high}")

    # ------------------------------------------------------------------ the file

    def check_file(self, path):
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            self.problem(path, f"cannot be opened as HDF5 ({e})")
            return 0
        with f:
            fmt = self.string_attr(f, "format")
            if fmt is not None and fmt != "headlens-project":
                self.problem("/ attribute 'format'", f"is '{fmt}', not 'headlens-project'")
            version = self.int_attr(f, "schema_version")
            if version is not None and version != 1:
                self.problem("/ attribute 'schema_version'", f"is {version}, expected 1")
            if "schema_version" in f.attrs and f.attrs["schema_version"].dtype != INT32:
                self.problem("/ attribute 'schema_version'",
                             f"dtype {f.attrs['schema_version'].dtype}, expected int32")
            self.string_attr(f, "app_version")
            self.time_attr(f, "created")
            self.time_attr(f, "modified")
            for name in ("traces", "comparisons"):
                if not isinstance(f.get(name), h5py.Group):
                    self.problem(f"/{name}", "required group is missing")
            traces = f.get("traces")
            if not isinstance(traces, h5py.Group):
                return 0
            names = []
            for name, obj in traces.items():
                if isinstance(obj, h5py.Group):
                    names.append(name)
                    self.check_trace(obj, name)
                else:
                    self.problem(obj.name, "is not a trace group")
            comparisons = f.get("comparisons")
            if isinstance(comparisons, h5py.Group):
                for name, obj in comparisons.items():
                    self.check_comparison(obj, set(names))
            return len(names)

    def check_config(self, g):
        text = self.string_attr(g, "model_config")
        if text is None:
            return None
        where = f"{g.name} attribute 'model_config'"
        try:
            config = json.loads(text)
        except ValueError as e:
            self.problem(where, f"is not JSON ({e})")
            return None
        if not isinstance(config, dict):
            self.problem(where, "is not a JSON object")
            return None
        ok = True
        for key, kind in CONFIG_KEYS.items():
            if key not in config:
                self.problem(where, f"key '{key}' is missing")
                ok = False
                continue
            v = config[key]
            good = {
                "str": isinstance(v, str),
                "bool": isinstance(v, bool),
                "int": isinstance(v, int) and not isinstance(v, bool),
                "pos": isinstance(v, int) and not isinstance(v, bool) and v > 0,
                "num": isinstance(v, (int, float)) and not isinstance(v, bool),
            }[kind]
            if not good:
                self.problem(where, f"key '{key}' = {v!r} is not {kind}")
                if kind == "pos":
                    ok = False  # the shapes cannot be checked without it
        return config if ok else None

    def check_trace(self, g, name):
        for attr in ("name", "prompt", "model_name", "model_path", "model_fingerprint",
                     "lens_norm", "lens_decoder", "compute_dtype", "app_version"):
            self.string_attr(g, attr)
        self.time_attr(g, "created")
        if g.attrs.get("name") not in (None, name):
            self.problem(f"{g.name} attribute 'name'", f"is '{g.attrs['name']}', not '{name}'")
        norm = self.string_attr(g, "lens_norm", required=False)
        if norm is not None and norm not in LENS_NORMS:
            self.problem(f"{g.name} attribute 'lens_norm'", f"'{norm}' is not one of {LENS_NORMS}")
        decoder = self.string_attr(g, "lens_decoder", required=False)
        if decoder is not None and decoder not in LENS_DECODERS:
            self.problem(f"{g.name} attribute 'lens_decoder'",
                         f"'{decoder}' is not one of {LENS_DECODERS}")
        self.string_attr(g, "parent", required=False)
        edit = self.string_attr(g, "edit", required=False)
        if edit is not None:
            try:
                json.loads(edit)
            except ValueError as e:
                self.problem(f"{g.name} attribute 'edit'", f"is not JSON ({e})")
        if "edit" in g.attrs and "parent" not in g.attrs:
            self.problem(g.name, "has an 'edit' but no 'parent'")
        prompt = g.attrs.get("prompt")
        K = self.int_attr(g, "topk")
        if K is not None and K < 1:
            self.problem(f"{g.name} attribute 'topk'", f"is {K}")
            K = None
        n_prompt = self.int_attr(g, "n_prompt_tokens")
        config = self.check_config(g)

        ids = self.dataset(g, "tokens/ids", [INT32], None)
        if ids is not None and ids.ndim != 1:
            self.problem(ids.name, f"shape {list(ids.shape)} is not [T]")
            ids = None
        if ids is None or config is None or K is None:
            self.problem(g.name, "cannot check shapes (needs tokens/ids, model_config, topk)")
            return
        T = ids.shape[0]
        L, H = config["n_layers"], config["n_heads"]
        D, dh = config["d_model"], config["d_head"]
        if n_prompt is not None and not 0 <= n_prompt <= T:
            self.problem(f"{g.name} attribute 'n_prompt_tokens'", f"is {n_prompt}, T is {T}")

        self.dataset(g, "tokens/text", "utf8", [T])
        offsets = self.dataset(g, "tokens/offsets", [INT32], [T, 2])
        if offsets is not None and T > 0:
            o = offsets[()]
            none = (o[:, 0] == -1) & (o[:, 1] == -1)
            some = ~none
            if np.any(o[some] < 0) or np.any(o[some, 0] > o[some, 1]):
                self.problem(offsets.name, "has pairs that are not [begin, end) or -1 -1")
            if isinstance(prompt, str) and np.any(o[some, 1] > len(prompt)):
                self.problem(offsets.name, f"reaches past the prompt ({len(prompt)} characters)")
        vocab = config["vocab_size"] if config["vocab_size"] > 0 else None
        self.values_in(ids, 0, None if vocab is None else vocab - 1, "token ids")

        lens = g.get("lens")
        if lens is not None:
            if not isinstance(lens, h5py.Group):
                self.problem(lens.name, "is not a group")
            else:
                for site, sg in lens.items():
                    if site not in SITES:
                        self.problem(sg.name, f"'{site}' is not a site ({', '.join(SITES)})")
                        continue
                    tk = self.dataset(g, f"lens/{site}/topk_ids", [INT32], [L, T, K])
                    tp = self.dataset(g, f"lens/{site}/topk_probs", [FLOAT32], [L, T, K])
                    te = self.dataset(g, f"lens/{site}/entropy", [FLOAT32], [L, T])
                    for ds in (tk, tp, te):
                        if ds is not None:
                            self.chunked(ds, 1)
                    self.values_in(tk, 0, None if vocab is None else vocab - 1, "token ids")
                    self.values_in(tp, 0.0, 1.0, "probabilities")
                    self.values_in(te, 0.0, None, "entropy")

        lk = self.dataset(g, "logits/topk_ids", [INT32], [T, K])
        lp = self.dataset(g, "logits/topk_probs", [FLOAT32], [T, K])
        le = self.dataset(g, "logits/entropy", [FLOAT32], [T])
        self.values_in(lk, 0, None if vocab is None else vocab - 1, "token ids")
        self.values_in(lp, 0.0, 1.0, "probabilities")
        self.values_in(le, 0.0, None, "entropy")

        for metric in HEAD_METRICS:
            self.dataset(g, f"heads/{metric}", [FLOAT32], [L, H, T])

        big = [FLOAT16, FLOAT32]
        att = self.dataset(g, "attention/pattern", big, [L, H, T, T], required=False)
        if att is not None:
            self.chunked(att, 2)
            self.values_in(att, 0.0, 1.0, "attention probabilities")
        if "attention/sparse" in g:
            self.sparse_attention(g, L, H, T, att is not None)
        residual = g.get("residual")
        if residual is not None:
            if not isinstance(residual, h5py.Group):
                self.problem(residual.name, "is not a group")
            else:
                for site in residual:
                    if site not in SITES:
                        self.problem(f"{residual.name}/{site}", f"'{site}' is not a site")
                        continue
                    r = self.dataset(g, f"residual/{site}", big, [L, T, D])
                    if r is not None:
                        self.chunked(r, 1, compressed=False)
        z = self.dataset(g, "heads/z", big, [L, T, H, dh], required=False)
        if z is not None:
            self.chunked(z, 1, compressed=False)

    def check_comparison(self, c, trace_names):
        if not isinstance(c, h5py.Group):
            self.problem(c.name, "is not a comparison group")
            return
        for side in ("left", "right"):
            v = self.string_attr(c, side)
            if v is not None and v not in trace_names:
                self.problem(f"{c.name} attribute '{side}'", f"names no trace ('{v}')")
        mode = self.string_attr(c, "mode")
        if mode is not None and mode not in COMPARISON_MODES:
            self.problem(f"{c.name} attribute 'mode'", f"'{mode}' is not one of {COMPARISON_MODES}")
        pairs = self.dataset(c, "pairs", [INT32], None)
        if pairs is not None and (pairs.ndim != 2 or pairs.shape[1] != 2):
            self.problem(pairs.name, f"shape {list(pairs.shape)} is not [P, 2]")


def main(argv):
    args = [a for a in argv[1:] if a != "--values"]
    if len(args) != 1 or any(a.startswith("-") for a in args):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    checker = Checker("--values" in argv[1:])
    n = checker.check_file(args[0])
    for p in checker.problems:
        print(p)
    if checker.problems:
        return 1
    print(f"ok: {n} traces")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
