"""Shared by the Python tests: the skip rule, the paths CTest passes, and a writer of small
synthetic projects laid out as HLPROJ.md says (for refusals and for sizes the engine would take
long to make).

Importing this module exits with 77 (CTest's SKIP_RETURN_CODE) when numpy or h5py is missing.
"""

import json
import os
import subprocess
import sys
import unittest

SKIP = 77

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"SKIP: {e.name} is not installed (Debian: python3-numpy, python3-h5py)")
    sys.exit(SKIP)

SOURCE_DIR = os.environ.get("HEADLENS_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "modules", "python"))
EXAMPLE_PROJECT = os.path.join(SOURCE_DIR, "resources", "examples", "example.hlproj")
CLI = os.environ.get("HEADLENS_CLI", "")

SITES = ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post")


def cli(*args):
    """Runs headlens-cli (CLI) with args and gives its standard output; fails the test, with
    its error output, when it exits non-zero."""
    r = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError(f"headlens-cli {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def main():
    """Runs the module's tests; exit 0 when they pass, 1 when one fails, 77 when all skipped."""
    result = unittest.main(exit=False, verbosity=2).result
    if result.failures or result.errors or result.unexpectedSuccesses:
        sys.exit(1)
    sys.exit(SKIP if result.testsRun and len(result.skipped) == result.testsRun else 0)


def write_project(path, traces, root_attrs=None):
    """A project file with traces {name: dict(L=, H=, T=, K=, D=, attention=None|"f16"|"f32"|
    "sparse", residual=None|"f16"|"f32", rng=)}; root_attrs replace the root's attributes."""
    with h5py.File(path, "w") as f:
        attrs = {"format": "headlens-project", "schema_version": np.int32(1),
                 "app_version": "test", "created": "2026-01-01T00:00:00Z",
                 "modified": "2026-01-01T00:00:00Z"}
        attrs.update(root_attrs or {})
        for k, v in attrs.items():
            if v is not None:
                f.attrs[k] = v
        f.create_group("traces")
        f.create_group("comparisons")
        for name, spec in traces.items():
            write_trace(f.create_group(f"traces/{name}"), name, **spec)


def write_trace(g, name, L=2, H=2, T=5, K=3, D=8, attention="f16", residual="f16", rng=None,
                pattern=None):
    rng = rng or np.random.default_rng(1)
    cfg = {"architecture": "llama", "n_layers": L, "n_heads": H, "d_model": D, "vocab_size": 50}
    text = h5py.string_dtype("utf-8")
    g.attrs.update({"name": name, "prompt": "a prompt", "model_name": "synthetic",
                    "model_config": json.dumps(cfg), "topk": np.int64(K),
                    "lens_norm": "full", "lens_decoder": "output",
                    "n_prompt_tokens": np.int64(T)})
    ids = rng.integers(0, 50, size=T, dtype=np.int32)
    g["tokens/ids"] = ids
    g.create_dataset("tokens/text", data=[f"t{i}" for i in ids], dtype=text)
    g["tokens/offsets"] = np.stack([np.arange(T), np.arange(T) + 1], axis=1).astype(np.int32)
    g["logits/topk_ids"] = rng.integers(0, 50, size=(T, K), dtype=np.int32)
    g["logits/topk_probs"] = rng.random((T, K), dtype=np.float32)
    g["logits/entropy"] = rng.random(T, dtype=np.float32)
    for site in SITES:
        g[f"lens/{site}/topk_ids"] = rng.integers(0, 50, size=(L, T, K), dtype=np.int32)
        g[f"lens/{site}/topk_probs"] = rng.random((L, T, K), dtype=np.float32)
        g[f"lens/{site}/entropy"] = rng.random((L, T), dtype=np.float32)
    for m in ("contrib_norm", "contrib_cosine", "contrib_projection", "attn_entropy",
              "value_norm"):
        g[f"heads/{m}"] = rng.random((L, H, T), dtype=np.float32)
    g["vocab/ids"] = np.arange(50, dtype=np.int32)
    g.create_dataset("vocab/text", data=[f"v{i}" for i in range(50)], dtype=text)
    if pattern is None and attention is not None:
        pattern = causal_pattern(rng, L, H, T)
    if attention in ("f16", "f32"):
        g.create_dataset("attention/pattern", data=pattern.astype(f"float{attention[1:]}"),
                         chunks=(1, 1, T, T))
    elif attention == "sparse":
        write_sparse(g, pattern)
    if residual is not None:
        for site in SITES:
            g.create_dataset(f"residual/{site}", chunks=(1, T, D),
                             data=rng.standard_normal((L, T, D)).astype(f"float{residual[1:]}"))
    return pattern


def causal_pattern(rng, L, H, T):
    """Attention probabilities [L, H, T, T]: causal rows that sum to 1, some weights tiny."""
    p = rng.random((L, H, T, T)) ** 6
    p = np.tril(p)
    return (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)


def kept_keys(row, max_keys=128, mass=0.99):
    """The keys a sparse row keeps (SCHEMA-ADDITIONS.md): heaviest first until 99% of the mass,
    at most max_keys."""
    order = sorted(range(len(row)), key=lambda k: (-row[k], k))[:max_keys]
    kept, total = [], 0.0
    for k in order:
        if total >= mass or row[k] <= 0:
            break
        kept.append(k)
        total += float(row[k])
    return kept


def write_sparse(g, pattern):
    """attention/sparse for pattern [L, H, T, T], rows in (layer, query, head) order."""
    L, H, T, _ = pattern.shape
    row_end = np.zeros((L, T, H), dtype=np.int64)
    remainder = np.zeros((L, T, H), dtype=np.float32)
    keys, weights = [], []
    for l in range(L):
        for q in range(T):
            for h in range(H):
                kept = kept_keys(pattern[l, h, q, :q + 1])
                keys += kept
                weights += [pattern[l, h, q, k] for k in kept]
                row_end[l, q, h] = len(keys)
                remainder[l, q, h] = 1 - sum(pattern[l, h, q, k] for k in kept)
    g["attention/sparse/row_end"] = row_end
    g["attention/sparse/remainder"] = remainder
    g["attention/sparse/keys"] = np.asarray(keys, dtype=np.int32)
    g["attention/sparse/weights"] = np.asarray(weights, dtype=np.float16)
    g["attention/sparse"].attrs["max_keys"] = np.int64(128)
    g["attention/sparse"].attrs["mass"] = "0.99"


def dense_of_sparse(pattern):
    """What a reader must give for pattern stored sparse: the kept weights (as float16), 0 for
    the rest."""
    L, H, T, _ = pattern.shape
    out = np.zeros_like(pattern)
    for l in range(L):
        for h in range(H):
            for q in range(T):
                for k in kept_keys(pattern[l, h, q, :q + 1]):
                    out[l, h, q, k] = np.float16(pattern[l, h, q, k])
    return out
