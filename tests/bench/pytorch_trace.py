#!/usr/bin/python3
"""The yardstick for `headlens-cli trace`: the same work written as a researcher would in plain
Python + PyTorch (Debian's python3-torch), with no HeadLens code.

Loads a Hugging Face Llama folder (single model.safetensors, f32), runs the prompt's token ids
through the model capturing the five sites, attention patterns and per-head vectors (W_o
slices), decodes every site of every layer with the logit lens (top-k and entropy), and writes
the lot to an HDF5 file with h5py (attention and residuals as float16, like the CLI default).

usage: pytorch_trace.py MODEL_DIR --token-ids 1,2,3 -o OUT.h5 [--topk 10] [--threads N]
"""
import argparse
import json
import struct
import sys
import time

import h5py
import numpy as np
import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F16": np.float16}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32))
    return out


def rms(x, g, eps):
    return g * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--token-ids", required=True)
    ap.add_argument("-o", required=True)
    ap.add_argument("--topk", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    t0 = time.time()
    cfg = json.load(open(f"{a.model}/config.json"))
    W = load_safetensors(f"{a.model}/model.safetensors")
    L, H, D = cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["hidden_size"]
    Hkv = cfg.get("num_key_value_heads", H)
    dh, eps, theta = D // H, cfg.get("rms_norm_eps", 1e-6), cfg.get("rope_theta", 1e4)
    emb = W["model.embed_tokens.weight"]
    head = emb if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    gf = W["model.norm.weight"]
    ids = torch.tensor([int(x) for x in a.token_ids.split(",")])
    T, K = len(ids), a.topk
    inv = theta ** (-torch.arange(0, dh, 2, dtype=torch.float64) / dh)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None]
    cos = torch.cat([ang.cos(), ang.cos()], -1).float()
    sin = torch.cat([ang.sin(), ang.sin()], -1).float()
    mask = torch.full((T, T), float("-inf")).triu(1)

    sites = {s: [] for s in ["resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"]}
    patterns, metrics = [], {k: [] for k in ["contrib_norm", "contrib_cosine", "contrib_projection", "attn_entropy", "value_norm"]}
    lens = {s: ([], [], []) for s in sites}

    def decode(v):
        logp = torch.log_softmax(rms(v, gf, eps) @ head.T, -1)
        top = logp.topk(K, -1)
        return top.indices.int(), top.values.exp(), -(logp.exp() * logp).sum(-1)

    with torch.no_grad():
        x = emb[ids]
        for l in range(L):
            p = f"model.layers.{l}."
            pre = x
            h = rms(x, W[p + "input_layernorm.weight"], eps)
            q = (h @ W[p + "self_attn.q_proj.weight"].T).view(T, H, dh).transpose(0, 1)
            k = (h @ W[p + "self_attn.k_proj.weight"].T).view(T, Hkv, dh).transpose(0, 1)
            v = (h @ W[p + "self_attn.v_proj.weight"].T).view(T, Hkv, dh).transpose(0, 1)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k, v = k.repeat_interleave(H // Hkv, 0), v.repeat_interleave(H // Hkv, 0)
            pat = torch.softmax(q @ k.transpose(1, 2) / dh ** 0.5 + mask, -1)
            z = pat @ v
            wo = W[p + "self_attn.o_proj.weight"]
            woh = wo.view(D, H, dh).permute(1, 2, 0)            # [H, dh, D]
            result = torch.bmm(z, woh)                          # [H, T, D] per-head vectors
            attn = result.sum(0)
            mid = pre + attn
            m = rms(mid, W[p + "post_attention_layernorm.weight"], eps)
            mlp = (torch.nn.functional.silu(m @ W[p + "mlp.gate_proj.weight"].T) * (m @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
            x = mid + mlp
            for s, val in zip(sites, [pre, attn, mid, mlp, x]):
                sites[s].append(val)
                i, pr, e = decode(val)
                lens[s][0].append(i), lens[s][1].append(pr), lens[s][2].append(e)
            patterns.append(pat)
            n = result.norm(dim=-1)
            dot = (result * attn[None]).sum(-1)
            an = attn.norm(dim=-1)
            metrics["contrib_norm"].append(n)
            metrics["contrib_cosine"].append(dot / (n * an))
            metrics["contrib_projection"].append(dot / an)
            metrics["attn_entropy"].append(-(torch.xlogy(pat, pat)).sum(-1))
            metrics["value_norm"].append(torch.bmm(v, woh).norm(dim=-1))
        li, lp, le = decode(x)

    with h5py.File(a.o, "w") as f:
        g = f.create_group("traces/trace-1")
        g["tokens/ids"] = ids.int().numpy()
        for s in sites:
            g.create_dataset(f"lens/{s}/topk_ids", data=torch.stack(lens[s][0]).numpy(), chunks=(1, T, K), compression="gzip", shuffle=True)
            g.create_dataset(f"lens/{s}/topk_probs", data=torch.stack(lens[s][1]).numpy(), chunks=(1, T, K), compression="gzip", shuffle=True)
            g.create_dataset(f"lens/{s}/entropy", data=torch.stack(lens[s][2]).numpy(), chunks=(1, T), compression="gzip", shuffle=True)
            g.create_dataset(f"residual/{s}", data=torch.stack(sites[s]).half().numpy(), chunks=(1, T, D), compression="gzip", shuffle=True)
        g["logits/topk_ids"], g["logits/topk_probs"], g["logits/entropy"] = li.numpy(), lp.numpy(), le.numpy()
        for k_, vals in metrics.items():
            g[f"heads/{k_}"] = torch.stack(vals).numpy()
        g.create_dataset("attention/pattern", data=torch.stack(patterns).half().numpy(), chunks=(1, 1, T, T), compression="gzip", shuffle=True)
    print(f"pytorch reference: traced {T} tokens through {L} layers in {time.time() - t0:.3f} s (after imports)", file=sys.stderr)


if __name__ == "__main__":
    main()
