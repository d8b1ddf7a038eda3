#!/usr/bin/python3
"""Is a trace of a bf16 (or f16) checkpoint, computed in f32 from weights converted a tile at a
time, the trace of the same weights held in f32? Writes an exact f32 copy of the checkpoint
(every bf16/f16 value widened, which loses nothing), traces the same token ids through both
with default options, and compares: the lens top-1 of every site, layer and position, and the
logits' top-k ids and probabilities. Prints figures; exits 1 when top-1s differ or a logit
probability differs by more than 1e-4.

usage: precision_check.py MODEL_DIR [--tokens N] [--cli PATH] [--work DIR] [--seed S]
Needs numpy and h5py (Debian's python3-numpy, python3-h5py); about the checkpoint's f32 size
of free disk in --work (default /tmp/headlens-precision).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import time

import h5py
import numpy as np

BLOCK = 1 << 24  # values converted at a time


def widen_file(src, dst):
    with open(src, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        meta = header.pop("__metadata__", None)
        names = sorted(header, key=lambda k: header[k]["data_offsets"][0])
        out, offset = {}, 0
        for name in names:
            count = int(np.prod(header[name]["shape"])) if header[name]["shape"] else 1
            out[name] = {"dtype": "F32", "shape": header[name]["shape"],
                         "data_offsets": [offset, offset + 4 * count]}
            offset += 4 * count
        if meta is not None:
            out["__metadata__"] = meta
        text = json.dumps(out).encode()
        text += b" " * ((8 - (8 + len(text)) % 8) % 8)
        with open(dst, "wb") as g:
            g.write(struct.pack("<Q", len(text)))
            g.write(text)
            for name in names:
                info = header[name]
                begin, end = info["data_offsets"]
                f.seek(base + begin)
                left = end - begin
                size = {"BF16": 2, "F16": 2, "F32": 4}[info["dtype"]]
                while left > 0:
                    raw = f.read(min(left, BLOCK * size))
                    left -= len(raw)
                    if info["dtype"] == "BF16":
                        v = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view("<f4")
                    elif info["dtype"] == "F16":
                        v = np.frombuffer(raw, "<f2").astype("<f4")
                    else:
                        v = np.frombuffer(raw, "<f4")
                    g.write(v.tobytes())


def widen(src_dir, dst_dir):
    os.makedirs(dst_dir, exist_ok=True)
    for name in os.listdir(src_dir):
        s, d = os.path.join(src_dir, name), os.path.join(dst_dir, name)
        if name.endswith(".safetensors"):
            widen_file(s, d)
        elif name == "config.json":
            cfg = json.load(open(s))
            cfg["torch_dtype"] = "float32"
            json.dump(cfg, open(d, "w"), indent=1)
        elif os.path.isfile(s):
            shutil.copy(s, d)


def trace(cli, model, ids, out):
    t0 = time.time()
    subprocess.run([cli, "trace", model, "--token-ids", ",".join(map(str, ids)), "-o", out,
                    "--force"], check=True, stdout=subprocess.DEVNULL)
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--cli", default=os.path.join(os.path.dirname(__file__),
                                                  "../../build/app/cli/headlens-cli"))
    ap.add_argument("--work", default="/tmp/headlens-precision")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    rng = np.random.default_rng(a.seed)
    ids = [1] + list(rng.integers(3, cfg["vocab_size"], a.tokens - 1))
    f32 = os.path.join(a.work, os.path.basename(os.path.normpath(a.model)) + "-as-f32")
    if not os.path.exists(os.path.join(f32, "config.json")):
        t0 = time.time()
        widen(a.model, f32)
        print(f"widened {a.model} to f32 in {time.time() - t0:.1f} s")
    pa, pb = os.path.join(a.work, "stored.hlproj"), os.path.join(a.work, "f32.hlproj")
    print(f"trace of the stored checkpoint: {trace(a.cli, a.model, ids, pa):.1f} s")
    print(f"trace of its f32 copy:          {trace(a.cli, f32, ids, pb):.1f} s")
    ta, tb = (h5py.File(p, "r")["traces/trace-1"] for p in (pa, pb))
    bad = False
    for site in ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"):
        x, y = ta[f"lens/{site}/topk_ids"][:, :, 0], tb[f"lens/{site}/topk_ids"][:, :, 0]
        p = np.abs(ta[f"lens/{site}/topk_probs"][()] - tb[f"lens/{site}/topk_probs"][()]).max()
        n = int((x != y).sum())
        bad |= n > 0
        print(f"lens {site:10s}: top-1 differs at {n} of {x.size} blocks; "
              f"top-k probabilities differ by at most {p:.2e}")
    ids_same = np.array_equal(ta["logits/topk_ids"][()], tb["logits/topk_ids"][()])
    dp = np.abs(ta["logits/topk_probs"][()] - tb["logits/topk_probs"][()]).max()
    bad |= (not ids_same) or dp > 1e-4
    print(f"logits: top-k ids {'identical' if ids_same else 'DIFFER'}; "
          f"probabilities differ by at most {dp:.2e}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
