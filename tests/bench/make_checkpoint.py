#!/usr/bin/python3
"""Write a Hugging Face Llama model folder with random weights in a real model's shapes, for
scale tests of `headlens-cli` (memory, speed) without downloading the model.

Standard library and numpy only (Debian's python3-numpy). Writes tensor by tensor, a block of
values at a time, so memory stays small (about 200 MB) whatever the checkpoint's size.
Deterministic: the same (shape, layers, dtype, seed) gives the same bytes. Each tensor draws
from its own generator, seeded by (seed, its name), so a layer's values do not depend on the
layer count or the sharding, and the three dtypes round the same float32 values.

usage: make_checkpoint.py --shape llama2-7b|yi-34b|small --layers N [--dtype bf16|f16|f32]
                          [--seed S] [--shard-bytes B] -o DIR

Values: matrices ~ normal(0, 1/sqrt(in_features)); the embedding ~ normal(0, 1) so the
residual stream starts O(1); lm_head ~ normal(0, 1/sqrt(D)); norm weights 1 + 0.02 normal.
With more weight bytes than --shard-bytes (default 4 GiB) it writes
model-0000k-of-0000K.safetensors shards and model.safetensors.index.json, else one
model.safetensors. config.json is written last: its presence means the folder is complete.
"""
import argparse
import json
import math
import os
import sys
import time
import zlib

import numpy as np

SHAPES = {
    "llama2-7b": dict(hidden_size=4096, num_attention_heads=32, num_key_value_heads=32,
                      intermediate_size=11008, vocab_size=32000, rope_theta=10000.0,
                      rms_norm_eps=1e-5, max_position_embeddings=4096),
    "yi-34b": dict(hidden_size=7168, num_attention_heads=56, num_key_value_heads=8,
                   intermediate_size=20480, vocab_size=64000, rope_theta=5000000.0,
                   rms_norm_eps=1e-5, max_position_embeddings=4096),
    "small": dict(hidden_size=256, num_attention_heads=8, num_key_value_heads=4,
                  intermediate_size=688, vocab_size=2000, rope_theta=10000.0,
                  rms_norm_eps=1e-5, max_position_embeddings=4096),
}

# dtype flag -> (safetensors dtype, bytes per value, config torch_dtype)
DTYPES = {
    "bf16": ("BF16", 2, "bfloat16"),
    "f16": ("F16", 2, "float16"),
    "f32": ("F32", 4, "float32"),
}

BLOCK = 1 << 24  # values generated and written at a time (64 MB of float32)


def tensor_plan(cfg, layers):
    """[(name, shape, kind, std)] in file order. kind: 'normal' (std * N(0,1)) or 'norm'
    (1 + std * N(0,1))."""
    D = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    Hkv = cfg["num_key_value_heads"]
    F = cfg["intermediate_size"]
    V = cfg["vocab_size"]
    if D % H:
        raise SystemExit(f"hidden_size {D} is not a multiple of num_attention_heads {H}")
    dh = D // H
    sD, sF, sA = 1.0 / math.sqrt(D), 1.0 / math.sqrt(F), 1.0 / math.sqrt(H * dh)
    plan = [("model.embed_tokens.weight", [V, D], "normal", 1.0)]
    for i in range(layers):
        p = f"model.layers.{i}."
        plan += [
            (p + "input_layernorm.weight", [D], "norm", 0.02),
            (p + "self_attn.q_proj.weight", [H * dh, D], "normal", sD),
            (p + "self_attn.k_proj.weight", [Hkv * dh, D], "normal", sD),
            (p + "self_attn.v_proj.weight", [Hkv * dh, D], "normal", sD),
            (p + "self_attn.o_proj.weight", [D, H * dh], "normal", sA),
            (p + "post_attention_layernorm.weight", [D], "norm", 0.02),
            (p + "mlp.gate_proj.weight", [F, D], "normal", sD),
            (p + "mlp.up_proj.weight", [F, D], "normal", sD),
            (p + "mlp.down_proj.weight", [D, F], "normal", sF),
        ]
    plan += [
        ("model.norm.weight", [D], "norm", 0.02),
        ("lm_head.weight", [V, D], "normal", sD),
    ]
    return plan


def count(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class Converter:
    """float32 blocks -> little-endian bytes of the target dtype, reusing its buffers."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.f32 = np.empty(BLOCK, dtype=np.float32)
        self.tmp = np.empty(BLOCK, dtype=np.uint32) if dtype == "bf16" else None
        self.out16 = np.empty(BLOCK, dtype="<u2") if dtype == "bf16" else (
            np.empty(BLOCK, dtype="<f2") if dtype == "f16" else None)

    def convert(self, n):
        x = self.f32[:n]
        if self.dtype == "f32":
            return x if sys.byteorder == "little" else x.astype("<f4")
        if self.dtype == "f16":
            out = self.out16[:n]
            out[...] = x  # numpy rounds to nearest even
            return out
        # bf16, round to nearest even: u += 0x7FFF + ((u >> 16) & 1); keep u >> 16.
        # Done in place on x's bits (x is not needed afterwards).
        u = x.view(np.uint32)
        t = self.tmp[:n]
        np.right_shift(u, 16, out=t)
        np.bitwise_and(t, 1, out=t)
        t += 0x7FFF
        u += t
        np.right_shift(u, 16, out=u)
        out = self.out16[:n]
        out[...] = u  # the high half, now in the low 16 bits
        return out


def write_tensor(f, conv, seed, name, shape, kind, std):
    n = count(shape)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    done = 0
    while done < n:
        m = min(BLOCK, n - done)
        x = conv.f32[:m]
        rng.standard_normal(out=x, dtype=np.float32)
        x *= np.float32(std)
        if kind == "norm":
            x += np.float32(1.0)
        f.write(memoryview(conv.convert(m)).cast("B"))
        done += m


def header_bytes(entries, st_dtype):
    """entries: [(name, shape, nbytes)] -> the header with its 8-byte length, data 8-aligned."""
    h = {}
    off = 0
    for name, shape, nbytes in entries:
        h[name] = {"dtype": st_dtype, "shape": shape, "data_offsets": [off, off + nbytes]}
        off += nbytes
    h["__metadata__"] = {"format": "pt"}
    js = json.dumps(h, separators=(",", ":")).encode()
    js += b" " * ((-len(js)) % 8)  # 8 + len is a multiple of 8
    return len(js).to_bytes(8, "little") + js, off


def plan_shards(plan, vbytes, shard_bytes):
    total = sum(count(s) * vbytes for _, s, _, _ in plan)
    if total <= shard_bytes:
        return [plan], total
    shards, cur, cur_bytes = [], [], 0
    for t in plan:
        b = count(t[1]) * vbytes
        if cur and cur_bytes + b > shard_bytes:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append(t)
        cur_bytes += b
    if cur:
        shards.append(cur)
    return shards, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", required=True, choices=sorted(SHAPES))
    ap.add_argument("--layers", required=True, type=int)
    ap.add_argument("--dtype", default="bf16", choices=sorted(DTYPES))
    ap.add_argument("--seed", default=0, type=int)
    ap.add_argument("--shard-bytes", default=4 << 30, type=int)
    ap.add_argument("-o", "--output", required=True, metavar="DIR")
    a = ap.parse_args()
    if a.layers < 1:
        ap.error("--layers must be >= 1")
    if a.shard_bytes < 1:
        ap.error("--shard-bytes must be >= 1")

    cfg = dict(SHAPES[a.shape])
    st_dtype, vbytes, torch_dtype = DTYPES[a.dtype]
    plan = tensor_plan(cfg, a.layers)
    shards, total = plan_shards(plan, vbytes, a.shard_bytes)

    os.makedirs(a.output, exist_ok=True)
    # Leave nothing of an earlier run that a loader could pick up instead.
    for fn in os.listdir(a.output):
        if fn == "config.json" or fn == "model.safetensors.index.json" or (
                fn.startswith("model") and fn.endswith(".safetensors")):
            os.remove(os.path.join(a.output, fn))

    K = len(shards)
    names = (["model.safetensors"] if K == 1 else
             [f"model-{k + 1:05d}-of-{K:05d}.safetensors" for k in range(K)])
    print(f"make_checkpoint: {a.shape}, {a.layers} layers, {a.dtype}, seed {a.seed}: "
          f"{len(plan)} tensors, {total / 2**30:.2f} GiB in {K} file(s) -> {a.output}",
          file=sys.stderr, flush=True)

    conv = Converter(a.dtype)
    t0 = time.monotonic()
    written = 0
    weight_map = {}
    for fname, shard in zip(names, shards):
        entries = [(name, shape, count(shape) * vbytes) for name, shape, _, _ in shard]
        head, data_bytes = header_bytes(entries, st_dtype)
        path = os.path.join(a.output, fname)
        with open(path, "wb") as f:
            f.write(head)
            for name, shape, kind, std in shard:
                write_tensor(f, conv, a.seed, name, shape, kind, std)
                nb = count(shape) * vbytes
                written += nb
                weight_map[name] = fname
                if nb >= (16 << 20) or name == shard[-1][0]:
                    dt = time.monotonic() - t0
                    print(f"  {fname} {name} {shape}: {written / 2**30:6.2f} / "
                          f"{total / 2**30:.2f} GiB, {dt:6.1f} s, "
                          f"{written / 2**20 / max(dt, 1e-9):6.0f} MiB/s",
                          file=sys.stderr, flush=True)
        size = os.path.getsize(path)
        if size != len(head) + data_bytes:
            raise SystemExit(f"{path}: wrote {size} bytes, expected {len(head) + data_bytes}")

    if K > 1:
        with open(os.path.join(a.output, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
            f.write("\n")

    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg["hidden_size"],
        "intermediate_size": cfg["intermediate_size"],
        "num_attention_heads": cfg["num_attention_heads"],
        "num_key_value_heads": cfg["num_key_value_heads"],
        "num_hidden_layers": a.layers,
        "vocab_size": cfg["vocab_size"],
        "rope_theta": cfg["rope_theta"],
        "rms_norm_eps": cfg["rms_norm_eps"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "torch_dtype": torch_dtype,
    }
    tmp = os.path.join(a.output, "config.json.tmp")
    with open(tmp, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(a.output, "config.json"))

    dt = time.monotonic() - t0
    print(f"make_checkpoint: wrote {written} bytes of weights ({written / 2**30:.2f} GiB) "
          f"in {dt:.1f} s ({written / 2**20 / max(dt, 1e-9):.0f} MiB/s)",
          file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
