"""Malformed serve requests (issue 13): `headlens-cli serve`, with the bundled stories260K model
loaded, is sent valid requests of every command and a fixed-seed stream of mutations of them
(every field replaced by values of other types and out-of-range numbers, fields dropped and
fields of other commands added, lines cut short, bytes flipped, deep nesting). The engine must
answer every request exactly once, as a result or as a refusal of kind usage, input or cancelled
(never "internal", which means an exception no request check caught), stay alive throughout,
and exit 0 on shutdown. Written files stay in the test's own folder: outputs are only ever
replaced by other paths inside it.

The mutations are drawn by random.Random(SEED); HEADLENS_SERVEFUZZ_N sets how many (default 2000).
"""

import json
import os
import random
import subprocess
import tempfile
import threading
import unittest

import hltest

SEED = 13
N = int(os.environ.get("HEADLENS_SERVEFUZZ_N", "2000"))
EXAMPLE = os.path.join(hltest.SOURCE_DIR, "resources", "examples", "stories260K")

NUMBERS = [0, -1, 1, 2, 3, 7, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 1e300, -1e300, 0.5, 1e-300]
OTHERS = [None, True, False, "", "x", "resid_post", "tuned", "f16", "\u00e9\u4e2d", [], {},
          [1, "a"], {"id": 1}, [[1, 2], [3]], "a" * 5000, [0] * 300]


class ServeFuzz(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not hltest.CLI:
            raise unittest.SkipTest("HEADLENS_CLI is not set (the engine was not built)")
        cls.tmp = tempfile.TemporaryDirectory(prefix="headlens-servefuzz-")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def templates(self, out):
        ids = [1, 403, 407, 261, 378, 285]
        toks = [{"id": 1, "text": "", "begin": 0, "end": 0},
                {"id": 403, "text": "Once", "begin": 0, "end": 4}]
        return [
            {"cmd": "hello"},
            {"cmd": "tokenize", "text": "Once upon a time", "bos": True},
            {"cmd": "generate", "prompt": "Once upon", "n": 3},
            {"cmd": "generate", "token_ids": ids, "n": 2},
            {"cmd": "estimate", "output": out, "prompt": "Once upon a time", "generate": 2},
            {"cmd": "trace", "output": out, "prompt": "Once upon a time", "name": "t",
             "generate": 2, "topk": 5, "lens_norm": "unit", "attention": "f16",
             "residuals": "none", "store_z": False, "force": True},
            {"cmd": "trace", "output": out, "token_ids": ids, "force": True},
            {"cmd": "decompose", "token_ids": ids, "site": "resid_post", "layer": 2, "pos": 3,
             "steps": 4},
            {"cmd": "propagate", "output": out, "parent": "t", "tokens": toks,
             "prompt": "Once", "site": "resid_mid", "layer": 1, "pos": 1, "kind": "subtract",
             "subtract": 1, "generate": 2, "force": True},
            {"cmd": "propagate", "output": out, "parent": "t", "tokens": toks, "prompt": "Once",
             "site": "attn_out", "layer": 0, "pos": 1, "kind": "inject", "inject_text": "a",
             "generate": 1},
            {"cmd": "attribute", "token_ids": ids, "pos": 4},
            {"cmd": "attribute", "prompt": "Once upon a", "token": "time", "minus": "a"},
            {"cmd": "head_roles", "length": 8, "sequences": 1, "seed": 3},
            {"cmd": "head_roles", "length": 6, "sequences": 1, "output": out, "trace": "t"},
            {"cmd": "patch", "output": out, "clean_ids": ids, "corrupted_ids": ids[:-1] + [300],
             "answer_id": 261, "wrong_id": 300, "name": "p", "force": True},
            {"cmd": "cancel", "target": 99999999},
            {"cmd": "unload"},
            {"cmd": "load", "model": os.path.join(EXAMPLE, "stories260K.bin"),
             "tokenizer": os.path.join(EXAMPLE, "tok512.bin")},
        ]

    def mutate(self, rng, req, paths, fields):
        r = dict(req)
        kind = rng.randrange(6)
        keys = [k for k in r if k != "cmd"]
        if kind == 0 and keys:  # a field of another type or out of range
            k = rng.choice(keys)
            r[k] = rng.choice(NUMBERS + OTHERS)
        elif kind == 1 and keys:  # a field dropped
            del r[rng.choice(keys)]
        elif kind == 2:  # a field of another command, with a value of any type
            r[rng.choice(fields)] = rng.choice(NUMBERS + OTHERS + paths)
        elif kind == 3:  # another command's name over these fields
            r["cmd"] = rng.choice(["trace", "patch", "propagate", "decompose", "attribute",
                                   "head_roles", "estimate", "generate", "tokenize", "load",
                                   "nonsense", ""])
        elif kind == 4 and "output" in r:  # another place inside the test's folder
            r["output"] = rng.choice(paths)
        else:  # a list field's items of other types
            lists = [k for k in keys if isinstance(r[k], list)]
            if lists:
                k = rng.choice(lists)
                r[k] = [rng.choice(NUMBERS + OTHERS) if rng.random() < 0.3 else x for x in r[k]]
            else:
                r[rng.choice(keys or ["cmd"])] = rng.choice(NUMBERS + OTHERS)
        return r

    def raw_lines(self, rng, line):
        """Damaged lines: cut short, a byte flipped, and nesting the parser must not recurse
        into."""
        cut = line[:rng.randrange(1, max(2, len(line)))]
        i = rng.randrange(len(line))
        flipped = line[:i] + chr((ord(line[i]) ^ (1 << rng.randrange(7))) or 1) + line[i + 1:]
        return [cut, flipped]

    def test_every_request_is_answered(self):
        folder = self.tmp.name
        out = os.path.join(folder, "fuzz.hlproj")
        paths = [out, os.path.join(folder, "other.hlproj"), folder,
                 os.path.join(folder, "missing", "x.hlproj"), os.path.join(folder, "x.txt"), ""]
        templates = self.templates(out)
        fields = sorted({k for t in templates for k in t if k != "cmd"})
        rng = random.Random(SEED)

        lines, expected = [], set()
        def add(obj):
            rid = len(lines) + 1
            obj = dict(obj, id=rid)
            lines.append(json.dumps(obj))
            if obj.get("cmd") != "cancel":  # a cancel is answered by its target, not itself
                expected.add(rid)
        load = templates[-1]
        add(load)  # the valid requests, load first and unload last
        for t in templates[:-1]:
            add(t)
        add(load)
        for _ in range(N):
            add(self.mutate(rng, rng.choice(templates), paths, fields))
        # Damaged lines: ids far above the requests', so that a line still valid after the
        # damage is not taken for a request of the stream.
        raw = []
        for k in range(N // 10):
            line = json.dumps(dict(rng.choice(templates), id=1000000 + k))
            raw += self.raw_lines(rng, line)
        raw += ["[" * 100000 + "]" * 100000, '{"id": 1, "cmd": ' + "[" * 50000,
                '{"cmd": "hello", "id": ' + "1" * 5000 + "}", "\x00\x01\x02", "{}", "null"]

        engine = subprocess.Popen([hltest.CLI, "serve"], cwd=folder, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  errors="replace")
        answers, answered, lock = [], set(), threading.Condition()
        def read():
            for line in engine.stdout:
                with lock:
                    answers.append(line)
                    try:
                        answered.add(json.loads(line).get("id"))
                    except ValueError:
                        pass
                    lock.notify_all()
        reader = threading.Thread(target=read)
        reader.start()
        def send(batch, wait_for):
            for line in batch:
                engine.stdin.write(line.replace("\n", " ") + "\n")
            engine.stdin.flush()
            with lock:
                done = lock.wait_for(lambda: wait_for <= answered or engine.poll() is not None,
                                     timeout=240)
            if not done:
                engine.kill()
                self.fail(f"serve answered {len(answered)} of {len(lines) + len(raw)} lines "
                          f"in 240 s")
        # The valid requests first, answered before the stream (a cancel in the stream without
        # a target stops whatever runs), then the stream and the damaged lines.
        first = len(templates) + 1
        send(lines[:first], {i for i in range(1, first + 1) if i in expected})
        send(lines[first:] + raw, set(expected))
        engine.stdin.write(json.dumps({"id": 0, "cmd": "shutdown"}) + "\n")
        engine.stdin.close()
        try:
            rc = engine.wait(timeout=60)
        except subprocess.TimeoutExpired:
            engine.kill()
            self.fail("serve did not exit after shutdown")
        reader.join()
        stderr = engine.stderr.read()
        engine.stdout.close()
        engine.stderr.close()
        self.assertEqual(rc, 0, f"serve exited {rc}; its error output ends: {stderr[-2000:]}")

        seen, internal, progress, unanswerable = {}, [], 0, 0
        for a in answers:
            msg = json.loads(a)  # every line the engine writes is JSON
            if "event" in msg:
                progress += 1
                continue
            rid = msg.get("id")
            if rid is None or not isinstance(rid, int) or rid not in expected:
                unanswerable += 1
                continue
            self.assertNotIn(rid, seen, f"request {rid} was answered twice: {a}")
            seen[rid] = msg
            if not msg.get("ok"):
                self.assertIn(msg.get("kind"), ("usage", "input", "cancelled", "internal"), a)
                if msg.get("kind") == "internal":
                    internal.append((lines[rid - 1][:300], msg.get("error")))
        missing = sorted(expected - set(seen))
        self.assertFalse(missing, f"{len(missing)} requests got no answer, e.g. "
                                  f"{[lines[i - 1][:200] for i in missing[:3]]}")
        self.assertFalse(internal, f"{len(internal)} requests failed as internal errors, e.g. "
                                   f"{internal[:3]}")
        ok = sum(1 for m in seen.values() if m.get("ok"))
        # The valid requests ran: a stream where everything is refused would test nothing.
        for rid in range(1, len(templates) + 2):
            if rid not in expected:
                continue
            self.assertTrue(seen[rid].get("ok"), f"a valid request failed: {lines[rid - 1]}: "
                                                 f"{seen[rid].get('error')}")
        print(f"servefuzz: {len(lines)} requests ({ok} ran, {len(seen) - ok} refused) and "
              f"{len(raw)} damaged lines ({unanswerable} answers without an id), "
              f"{progress} progress lines")


if __name__ == "__main__":
    hltest.main()
