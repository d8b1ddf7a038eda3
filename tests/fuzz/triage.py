#!/usr/bin/python3
"""Which of fuzz_hlproj's crashes the programs would have: each artifact is opened by the
built headlens-cli as a user would (info, then export of every trace's tokens, lens, logits,
heads and attention). The engine reads a project's structure and metadata in a child process
first, so a crash inside libhdf5 there is a refusal (exit 3 naming the file); only a crash of
headlens-cli itself, a hang, or an answer other than a result or a one-line refusal, is a
finding.

usage: tests/fuzz/triage.py ARTIFACT... [--cli build/app/cli/headlens-cli]
Prints one line per artifact and a summary; exits 1 when any is a finding.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHAT = ["tokens", "lens", "logits", "heads", "attention"]


def run(cli, args):
    try:
        r = subprocess.run([cli] + args, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "hang", ""
    err = r.stderr.decode(errors="replace").strip()
    if r.returncode < 0:
        return f"crash (signal {-r.returncode})", err
    if r.returncode not in (0, 3):
        return f"exit {r.returncode}", err
    if r.returncode == 3 and (len(err.splitlines()) != 1 or "error:" not in err):
        return "refusal not one line", err
    return ("ok" if r.returncode == 0 else "refused"), r.stdout.decode(errors="replace")


def triage(cli, path):
    kind, out = run(cli, ["info", path, "--json"])
    if kind == "refused":
        return "refused at open", []
    if kind != "ok":
        return f"FINDING: info: {kind}", [out]
    try:
        traces = [t["name"] for t in json.loads(out)["traces"]]
    except (ValueError, KeyError, TypeError):
        return "FINDING: info --json printed no listing", [out]
    refused = 0
    for name in traces:
        for what in WHAT:
            kind, out = run(cli, ["export", path, "--trace", name, "--what", what])
            if kind == "refused":
                refused += 1
            elif kind != "ok":
                return f"FINDING: export --trace {name!r} --what {what}: {kind}", [out]
    return f"opens; {refused} of {len(traces) * len(WHAT)} exports refused", []


def main(argv):
    cli = os.path.join(HERE, "..", "..", "build", "app", "cli", "headlens-cli")
    files = []
    i = 0
    while i < len(argv):
        if argv[i] == "--cli":
            cli = argv[i + 1]
            i += 2
        else:
            files.append(argv[i])
            i += 1
    findings = 0
    for f in files:
        verdict, details = triage(cli, f)
        print(f"{os.path.basename(f)}: {verdict}")
        for d in details:
            print("    " + d[:400].replace("\n", "\n    "))
        findings += verdict.startswith("FINDING")
    print(f"triage: {len(files)} artifacts, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
