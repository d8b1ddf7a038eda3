#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (tests/fuzz/fuzz_*.cpp) into OUT/<target>/:
small valid inputs of each format, from the bundled examples and made here. Folder targets
take their files as parts of one input, joined by fuzzinput.h's separator.

usage: make_seeds.py OUT [HEADLENS_CLI]     (the CLI, when given, adds a project it traced)
Needs only Python 3; numpy and h5py add a project seed, spm_train a SentencePiece seed."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "resources", "examples")
SEP = b"\n--headlens-file--\n"


def put(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(path):
    with open(path, "rb") as f:
        return f.read()


def floats(n, start=0.0):
    return struct.pack(f"<{n}f", *[start + 0.01 * i for i in range(n)])


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, bytes)] -> a safetensors file."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


D, F, V, H, KV, L = 8, 16, 16, 2, 1, 1


def llama_config(**extra):
    c = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": D,
         "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H,
         "num_key_value_heads": KV, "vocab_size": V, "max_position_embeddings": 32,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False}
    c.update(extra)
    return json.dumps(c, indent=1)


def llama_tensors():
    kv = KV * (D // H)
    shapes = {"model.embed_tokens.weight": [V, D], "model.norm.weight": [D],
              "lm_head.weight": [V, D]}
    for i in range(L):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": [D],
                       p + "post_attention_layernorm.weight": [D],
                       p + "self_attn.q_proj.weight": [D, D], p + "self_attn.k_proj.weight": [kv, D],
                       p + "self_attn.v_proj.weight": [kv, D], p + "self_attn.o_proj.weight": [D, D],
                       p + "mlp.gate_proj.weight": [F, D], p + "mlp.up_proj.weight": [F, D],
                       p + "mlp.down_proj.weight": [D, F]})
    out = []
    for name, shape in shapes.items():
        n = 1
        for s in shape:
            n *= s
        out.append((name, "F32", shape, floats(n)))
    return out


def seeds_weights(out):
    put(out, "safetensors", "small", safetensors(
        [("a", "F32", [2, 2], floats(4)), ("b", "BF16", [3], b"\x80\x3f" * 3),
         ("c", "F16", [2], b"\x00\x3c" * 2), ("d", "I64", [1], struct.pack("<q", 7))],
        {"format": "pt"}))
    put(out, "safetensors", "adder-header", read(os.path.join(EXAMPLES, "adder",
                                                              "model.safetensors"))[:4096])
    put(out, "safetensors", "llama", safetensors(llama_tensors()))

    for ex in ("adder", "facts"):
        put(out, "hfconfig", ex, read(os.path.join(EXAMPLES, ex, "config.json")))
    put(out, "hfconfig", "mistral", llama_config(
        architectures=["MistralForCausalLM"], model_type="mistral",
        rope_scaling={"type": "linear", "factor": 2.0}, attention_bias=True))
    put(out, "hfconfig", "gpt2", json.dumps(
        {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 8, "n_layer": 1,
         "n_head": 2, "n_positions": 32, "vocab_size": 16, "layer_norm_epsilon": 1e-5}))

    tensors = llama_tensors()
    half = len(tensors) // 2
    shards = [safetensors(tensors[:half]), safetensors(tensors[half:])]
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    index = {"metadata": {"total_size": sum(len(t[3]) for t in tensors)},
             "weight_map": {t[0]: names[0 if i < half else 1] for i, t in enumerate(tensors)}}
    put(out, "hffolder", "two-shards",
        SEP.join([llama_config().encode(), json.dumps(index, indent=1).encode()] + shards))

    # llama2.c: the legacy header (negative vocab: an unshared classifier) and version 1.
    hs = D // H
    kvd = KV * hs
    seq = 4
    sizes = [V * D, L * D, L * D * D, L * kvd * D, L * kvd * D, L * D * D, L * D, L * F * D,
             L * D * F, L * F * D, D, seq * hs, V * D]
    put(out, "llama2c", "legacy",
        struct.pack("<7i", D, F, L, H, KV, -V, seq) + b"".join(floats(n) for n in sizes))
    v1_sizes = [L * D, L * D, D, V * D, L * D * D, L * kvd * D, L * kvd * D, L * D * D,
                L * F * D, L * D * F, L * F * D]
    head = struct.pack("<Ii7iB", 0x616B3432, 1, D, F, L, H, KV, V, seq, 1)
    put(out, "llama2c", "v1", head + b"\0" * (256 - len(head)) +
        b"".join(floats(n) for n in v1_sizes))


def seeds_tokenizers(out):
    put(out, "hftokenizer", "adder", read(os.path.join(EXAMPLES, "adder", "tokenizer.json")))
    vocab = {"<|endoftext|>": 0, "H": 1, "e": 2, "l": 3, "o": 4, "\u0120": 5, "w": 6, "r": 7,
             "d": 8, "He": 9, "ll": 10, "\u0120w": 11, "or": 12, "Hell": 13}
    merges = ["H e", "l l", "\u0120 w", "o r", "He ll"]
    put(out, "hftokenizer", "bytelevel-bpe", json.dumps({
        "version": "1.0", "added_tokens": [{"id": 0, "content": "<|endoftext|>", "special": True,
                                            "single_word": False, "lstrip": False,
                                            "rstrip": False, "normalized": False}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None, "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "vocab": vocab, "merges": merges, "dropout": None,
                  "unk_token": None, "fuse_unk": False, "byte_fallback": False}}, indent=1))
    put(out, "hftokenizer", "sentencepiece-bpe", json.dumps({
        "version": "1.0", "added_tokens": [],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None, "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ",
                                                         "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x41>": 3,
                                           "\u2581": 4, "a": 5, "b": 6, "\u2581a": 7},
                  "merges": ["\u2581 a"], "unk_token": "<unk>", "byte_fallback": True,
                  "fuse_unk": True, "dropout": None}}, indent=1))
    put(out, "bpefiles", "gpt2", SEP.join([
        json.dumps(vocab).encode(), ("#version: 0.2\n" + "\n".join(merges) + "\n").encode()]))
    put(out, "llama2ctokenizer", "tok512",
        read(os.path.join(EXAMPLES, "stories260K", "tok512.bin")))
    put(out, "llama2ctokenizer", "facts", read(os.path.join(EXAMPLES, "facts", "tokenizer.bin")))
    spm = shutil.which("spm_train")
    if spm:
        with tempfile.TemporaryDirectory() as tmp:
            text = os.path.join(tmp, "text.txt")
            with open(text, "w") as f:
                f.write("Once upon a time there was a little girl.\n" * 20 +
                        "She loved to play in the park with her dog.\n" * 20)
            for kind in ("bpe", "unigram"):
                prefix = os.path.join(tmp, kind)
                r = subprocess.run([spm, f"--input={text}", f"--model_prefix={prefix}",
                                    "--vocab_size=40", f"--model_type={kind}",
                                    "--hard_vocab_limit=false", "--minloglevel=2",
                                    "--normalization_rule_name=identity"],
                                   capture_output=True)
                if r.returncode == 0:
                    put(out, "sentencepiece", kind, read(prefix + ".model"))


def seeds_projects(out, cli):
    sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
    try:
        import numpy as np
        import hltest
    except (ImportError, SystemExit):
        return
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "p.hlproj")
        hltest.write_project(p, {"t": dict(L=2, H=2, T=4, K=2, D=4, attention="f16",
                                           residual=None, rng=np.random.default_rng(0))})
        put(out, "hlproj", "small", read(p))
        if cli and os.access(cli, os.X_OK):
            q = os.path.join(tmp, "q.hlproj")
            subprocess.run([cli, "trace", os.path.join(EXAMPLES, "adder"), "--prompt", "1+2=",
                            "-o", q, "--name", "a"], check=True, capture_output=True)
            if os.path.getsize(q) < 400_000:
                put(out, "hlproj", "engine", read(q))


def seeds_tunedlens(out):
    tensors = []
    for place in ("resid_pre.0", "resid_mid.0"):
        eye = [1.0 if r == c else 0.0 for r in range(D) for c in range(D)]
        tensors.append((place + ".weight", "F32", [D, D], struct.pack(f"<{D * D}f", *eye)))
        tensors.append((place + ".bias", "F32", [D], floats(D)))
    meta = {"format": "headlens-tuned-lens", "version": "1", "model_name": "tiny",
            "model_fingerprint": "0" * 16, "architecture": "llama", "n_layers": "1",
            "d_model": str(D), "vocab_size": str(V), "norm": "full", "seed": "1",
            "steps": "10", "train_tokens": "100"}
    put(out, "tunedlens", "identity", safetensors(tensors, meta))
    put(out, "tunedlens", "wrong-version", safetensors(tensors, dict(meta, version="2")))


def seeds_serve(out):
    """serve's requests, one per line (PROTOCOL.md), as the workbench sends them."""
    toks = [{"id": 1, "text": "<s>", "begin": 0, "end": 0},
            {"id": 403, "text": " Once", "begin": 0, "end": 4}]
    reqs = [
        {"id": 1, "cmd": "hello"},
        {"id": 2, "cmd": "load", "model": "m.bin", "tokenizer": "t.bin", "dtype": "bf16",
         "threads": 2},
        {"id": 3, "cmd": "tokenize", "text": "Once upon a time", "bos": True},
        {"id": 4, "cmd": "generate", "token_ids": [1, 403], "n": 3},
        {"id": 5, "cmd": "trace", "output": "p.hlproj", "prompt": "Once upon", "name": "t",
         "generate": 2, "topk": 5, "lens_norm": "unit", "lens_decoder": "output",
         "attention": "f32", "residuals": "none", "store_z": True, "force": True,
         "attention_budget_gb": 0.5},
        {"id": 6, "cmd": "estimate", "output": "p.hlproj", "token_ids": [1, 403, 2]},
        {"id": 7, "cmd": "decompose", "token_ids": [1, 403], "site": "resid_mid", "layer": 1,
         "pos": 1, "steps": 4, "lens_decoder": "input"},
        {"id": 8, "cmd": "propagate", "output": "p.hlproj", "parent": "t", "tokens": toks,
         "prompt": "Once", "site": "resid_post", "layer": 0, "pos": 1, "kind": "inject",
         "inject_text": " upon", "generate": 3},
        {"id": 9, "cmd": "propagate", "output": "p.hlproj", "parent": "t", "tokens": toks,
         "layer": 1, "pos": 0, "kind": "subtract", "subtract": 2, "name": "child"},
        {"id": 10, "cmd": "attribute", "prompt": "Once upon a", "token": " time",
         "minus_id": 7, "pos": 2},
        {"id": 11, "cmd": "head_roles", "length": 8, "sequences": 2, "seed": 3,
         "output": "p.hlproj", "traces": ["t"]},
        {"id": 12, "cmd": "patch", "output": "p.hlproj", "clean": "Once upon",
         "corrupted_ids": [1, 2, 3], "answer": " a", "wrong_id": 9, "heads": True},
        {"id": 13, "cmd": "cancel", "target": 5},
        {"id": 14, "cmd": "unload"},
        {"id": 15, "cmd": "shutdown"},
    ]
    for r in reqs:
        put(out, "serve", r["cmd"] + "-" + str(r["id"]), json.dumps(r))
    put(out, "serve", "session", "\n".join(json.dumps(r) for r in reqs[:6]))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    cli = sys.argv[2] if len(sys.argv) > 2 else ""
    seeds_weights(out)
    seeds_tokenizers(out)
    seeds_projects(out, cli)
    seeds_tunedlens(out)
    seeds_serve(out)


if __name__ == "__main__":
    main()
