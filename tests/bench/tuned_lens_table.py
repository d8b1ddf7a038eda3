#!/usr/bin/python3
"""The tuned-vs-logit lens table of README ("The tuned lens"): for stories260K and the example
models, prompts the model generated itself (greedy, from BOS and one token: a different start
token per prompt; the adder from "a+b=" with random a, b), a tuned lens fitted by
`headlens-cli fit-lens` on the training prompts, and the KL(final || lens) of both lenses at
every place on the held-out prompts, whose start tokens training never saw.

usage: tests/bench/tuned_lens_table.py [CLI] [OUTDIR [--prompts-only]]
(CLI: build/app/cli/headlens-cli; OUTDIR: /tmp/headlens-tuned-lens). Standard library only.
"""

import json
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/app/cli/headlens-cli")
OUT = sys.argv[2] if len(sys.argv) > 2 else "/tmp/headlens-tuned-lens"
EX = os.path.join(ROOT, "resources/examples")
PROMPTS_ONLY = len(sys.argv) > 3 and sys.argv[3] == "--prompts-only"

MODELS = {
    # name: (model, extra load args, start tokens of training / held-out prompts, tokens made)
    "stories260K": (os.path.join(EX, "stories260K/stories260K.bin"),
                    ["--tokenizer", os.path.join(EX, "stories260K/tok512.bin")], 48),
    "facts": (os.path.join(EX, "facts"), [], 24),
    "adder": (os.path.join(EX, "adder"), [], 5),
}
N_TRAIN, N_HELD = 200, 50


class Engine:
    """headlens-cli serve with a model loaded (app/cli/PROTOCOL.md)."""

    def __init__(self, model, args):
        self.p = subprocess.Popen([CLI, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        self.n = 0
        json.loads(self.p.stdout.readline())  # hello
        load = {"model": model}
        if args:
            load["tokenizer"] = args[1]
        self.info = self.ask("load", **load)

    def ask(self, cmd, **fields):
        self.n += 1
        self.p.stdin.write(json.dumps({"id": self.n, "cmd": cmd, **fields}) + "\n")
        self.p.stdin.flush()
        while True:
            m = json.loads(self.p.stdout.readline())
            if m.get("id") == self.n and "event" not in m:
                if not m["ok"]:
                    raise RuntimeError(m["error"])
                return m["result"]

    def close(self):
        self.ask("shutdown")
        self.p.wait()


def prompts(name, engine, vocab, n_new):
    """Training and held-out prompts: token id lists the model generated itself."""
    rng = random.Random(7)
    if name == "adder":
        starts = [engine.ask("tokenize", text=f"{rng.randrange(1000)}+{rng.randrange(1000)}=")
                  ["tokens"] for _ in range(N_TRAIN + N_HELD)]
        starts = [[t["id"] for t in s] for s in starts]
    else:
        firsts = rng.sample(range(3, vocab), N_TRAIN + N_HELD)  # past <unk> <s> </s>
        starts = [[1, k] for k in firsts]
    out = []
    for s in starts:
        ids = engine.ask("generate", token_ids=s, n=n_new)["ids"]
        out.append(s + ids)
    return out[:N_TRAIN], out[N_TRAIN:]


def write(path, prompts):
    with open(path, "w") as f:
        for p in prompts:
            f.write(json.dumps({"token_ids": p}) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    results = {}
    for name, (model, args, n_new) in MODELS.items():
        tp, hp = os.path.join(OUT, f"{name}-train.jsonl"), os.path.join(OUT, f"{name}-held.jsonl")
        if not (os.path.exists(tp) and os.path.exists(hp)):  # made once, then reused
            e = Engine(model, args)
            train, held = prompts(name, e, e.info["config"]["vocab_size"], n_new)
            e.close()
            write(tp, train)
            write(hp, held)
        if PROMPTS_ONLY:
            continue
        lens = os.path.join(OUT, f"{name}-lens.safetensors")
        r = subprocess.run([CLI, "fit-lens", model, *args, "--prompts", tp, "--held-out", hp,
                            "-o", lens, "--json"], check=True, stdout=subprocess.PIPE, text=True)
        results[name] = json.loads(r.stdout)
        print(f"{name}: fitted in {results[name]['seconds']:.0f} s", file=sys.stderr)
    if PROMPTS_ONLY:
        return
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    for name, r in results.items():
        h = r["held_out"]
        print(f"\n{name}: {r['steps']} steps on {r['train_tokens']} positions of "
              f"{r['train_prompts']} prompts; held out: {h['positions']} positions of "
              f"{h['prompts']} prompts. KL(final || lens), nats:\n")
        print("| place | logit lens | tuned lens |\n|---|---|---|")
        for p in h["places"]:
            print(f"| {p['site']} {p['layer']} | {p['logit_kl']:.3f} | {p['tuned_kl']:.3f} |")


if __name__ == "__main__":
    main()
