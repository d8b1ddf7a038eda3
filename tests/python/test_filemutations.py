"""Damaged files from outside, end to end (issue 13's campaign, re-run as a test): every kind of
file headlens-cli reads is mutated by a fixed-seed stream (bytes flipped, zeroed, inserted and
repeated, the file cut short, a number in a text file replaced by NaN, 1e999, a negative or a
huge one) and given to the command that reads it. Each run must end within its time limit,
stay under a memory bound, and exit 0 or 3; a refusal (3) is one line naming the problem, under
a few hundred bytes. Exit 1, a signal, a hang or a blow-up is a finding.

Damaged numbers must not pass silently: a NaN or an infinity written into a weight that every
position uses (a norm's weight) must be refused (exit 3, saying where the numbers stop being finite), not
turned into a generation of zeros.

HEADLENS_MUTATIONS sets the mutations per input kind (default 25; the campaign of the issue is
200: HEADLENS_MUTATIONS=200, about ten minutes).
"""

import json
import os
import random
import resource
import shutil
import struct
import subprocess
import tempfile
import unittest

import hltest

SEED = 13
N = int(os.environ.get("HEADLENS_MUTATIONS", "25"))
EXAMPLES = os.path.join(hltest.SOURCE_DIR, "resources", "examples")
TIMEOUT = 60            # seconds a run may take (the slowest valid run here takes ~1 s)
MEMORY_BOUND = 2 << 30  # bytes of peak resident memory a run may reach
NUMBERS = [b"NaN", b"1e999", b"-1", b"0", b"4294967296", b"-2147483649", b"9" * 40, b"0.5",
           b"-0", b"1e-320"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def mutate(rng, data, text):
    """One damage of data (bytes); text files also get their numbers replaced."""
    kinds = ["flip", "zero", "insert", "repeat", "truncate"] + (["number"] * 3 if text else [])
    kind = rng.choice(kinds)
    b = bytearray(data)
    n = len(b)
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(n)] = rng.randrange(256)
    elif kind == "zero":
        at = rng.randrange(n)
        b[at:at + rng.randint(1, 1024)] = bytes(min(n - at, rng.randint(1, 1024)))
    elif kind == "insert":
        at = rng.randrange(n + 1)
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == "repeat":
        at = rng.randrange(n)
        b[at:at] = b[at:at + rng.randint(1, 4096)]
    elif kind == "truncate":
        del b[rng.randrange(n):]
    else:  # number: a run of digits replaced
        starts = [i for i in range(n) if chr(b[i]).isdigit() and (i == 0 or not chr(b[i - 1]).isdigit())]
        if not starts:
            return mutate(rng, data, False)
        at = rng.choice(starts)
        end = at
        while end < n and (chr(b[end]).isdigit() or b[end] in b".eE-+"):
            end += 1
        b[at:end] = rng.choice(NUMBERS)
    return bytes(b), kind


def safetensors_offset(data, name):
    """Byte offset and length of tensor name's data in a safetensors file."""
    (header_len,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + header_len])
    begin, end = header[name]["data_offsets"]
    return 8 + header_len + begin, end - begin


class FileMutations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not hltest.CLI:
            raise unittest.SkipTest("HEADLENS_CLI is not set (the engine was not built)")
        cls.tmp = tempfile.TemporaryDirectory(prefix="headlens-mutations-")
        cls.findings = []
        cls.counts = {}

    @classmethod
    def tearDownClass(cls):
        for kind, c in sorted(cls.counts.items()):
            print(f"{kind}: {c['runs']} runs, {c[0]} accepted, {c[3]} refused")
        cls.tmp.cleanup()

    def run_cli(self, label, args, expect=(0, 3)):
        """Runs headlens-cli; records a finding unless it exits as expected, in time, within
        the memory bound, with a refusal of one short line."""
        def limit():
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        try:
            r = subprocess.run([hltest.CLI, *args], capture_output=True, timeout=TIMEOUT,
                               preexec_fn=limit, cwd=self.tmp.name)
        except subprocess.TimeoutExpired:
            self.findings.append(f"{label}: no answer in {TIMEOUT} s")
            return None
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        err = r.stderr.decode("utf-8", "replace")
        c = self.counts.setdefault(label.split(" #")[0], {"runs": 0, 0: 0, 3: 0})
        c["runs"] += 1
        if r.returncode in c:
            c[r.returncode] += 1
        if r.returncode not in expect:
            self.findings.append(f"{label}: exit {r.returncode}, expected {expect}: {err[:300]}")
        elif r.returncode == 3:
            lines = err.strip().splitlines()
            if len(lines) != 1 or len(lines[0]) > 600 or not lines[0].startswith("headlens-cli: error:"):
                self.findings.append(f"{label}: a refusal that is not one short line: {err[:300]!r}")
        if peak > MEMORY_BOUND and peak > before:
            self.findings.append(f"{label}: peak memory {peak >> 20} MiB")
        return r

    def campaign(self, kind, original, place, args, text=False):
        """N mutations of original, each written by place(bytes) and read by args."""
        rng = random.Random(f"{SEED}-{kind}")
        for i in range(N):
            data, how = mutate(rng, original, text)
            place(data)
            self.run_cli(f"{kind} #{i} ({how})", args)

    def folder(self, name, source):
        d = os.path.join(self.tmp.name, name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(source, d)
        return d

    def test_hf_folder(self):
        d = self.folder("adder", os.path.join(EXAMPLES, "adder"))
        gen = ["generate", d, "--prompt", "12+34=", "-n", "3"]
        for name, text in (("config.json", True), ("tokenizer.json", True),
                           ("model.safetensors", False)):
            path = os.path.join(d, name)
            original = read(path)
            self.campaign(name, original, lambda b, p=path: write(p, b), gen, text)
            write(path, original)
        self.assertEqual(self.findings, [])

    def test_llama2c(self):
        d = self.folder("stories", os.path.join(EXAMPLES, "stories260K"))
        model, tok = os.path.join(d, "stories260K.bin"), os.path.join(d, "tok512.bin")
        gen = ["generate", model, "--tokenizer", tok, "--prompt", "Once upon", "-n", "3"]
        for path in (model, tok):
            original = read(path)
            self.campaign(os.path.basename(path), original, lambda b, p=path: write(p, b), gen)
            write(path, original)
        self.assertEqual(self.findings, [])

    def test_project(self):
        path = os.path.join(self.tmp.name, "example.hlproj")
        original = read(os.path.join(EXAMPLES, "example.hlproj"))
        trace = json.loads(hltest.cli("info", os.path.join(EXAMPLES, "example.hlproj"),
                                      "--json"))["traces"][0]["name"]
        rng = random.Random(f"{SEED}-hlproj")
        for i in range(N):
            data, how = mutate(rng, original, False)
            write(path, data)
            self.run_cli(f"hlproj info #{i} ({how})", ["info", path])
            self.run_cli(f"hlproj export #{i} ({how})",
                         ["export", path, "--trace", trace, "--what", "lens"])
        self.assertEqual(self.findings, [])

    def test_a_project_that_crashes_libhdf5_is_refused(self):
        """The campaign's mutation #56 of the example project (a repeated run of bytes) makes
        libhdf5 1.10 free a pointer read from a damaged link table while listing the traces.
        The engine reads a project's structure in a child process first: exit 3, naming it."""
        rng = random.Random(f"{SEED}-hlproj")
        original = read(os.path.join(EXAMPLES, "example.hlproj"))
        for _ in range(57):
            data, how = mutate(rng, original, False)
        path = os.path.join(self.tmp.name, "crashes-libhdf5.hlproj")
        write(path, data)
        for args in (["info", path], ["export", path, "--trace", "carry-587+469", "--what", "lens"]):
            r = self.run_cli(f"crashing project {args[0]}", args, expect=(3,))
            self.assertIsNotNone(r)
            self.assertIn(path, r.stderr.decode())
        self.assertEqual(read(path), data, "the damaged file was changed")
        self.assertEqual(self.findings, [])

    def test_a_project_whose_trace_crashes_libhdf5_is_refused(self):
        """fuzz_hlproj's project whose trace group has a damaged local heap: libhdf5 1.10 copies
        from a null pointer looking a dataset up (SIGSEGV in H5F__accum_read), past what the
        listing of traces reads. The check in a child visits every object, so it is refused."""
        fixture = os.path.join(hltest.SOURCE_DIR, "tests", "project", "data",
                               "damaged-local-heap.hlproj")
        path = os.path.join(self.tmp.name, "damaged-local-heap.hlproj")
        data = read(fixture)
        write(path, data)
        for args in (["info", path], ["export", path, "--trace", "t", "--what", "tokens"]):
            r = self.run_cli(f"damaged local heap {args[0]}", args, expect=(3,))
            self.assertIsNotNone(r)
            self.assertIn(path, r.stderr.decode())
            self.assertIn("the file is damaged", r.stderr.decode())
        self.assertEqual(read(path), data, "the damaged file was changed")
        self.assertEqual(self.findings, [])

    def test_prompt_file(self):
        path = os.path.join(self.tmp.name, "prompt.txt")
        out = os.path.join(self.tmp.name, "prompt.hlproj")
        original = "Once upon a time, there was a little girl named Lily.\n".encode()
        self.campaign("prompt file", original, lambda b: write(path, b),
                      ["trace", os.path.join(EXAMPLES, "stories260K", "stories260K.bin"),
                       "--tokenizer", os.path.join(EXAMPLES, "stories260K", "tok512.bin"),
                       "--prompt-file", path, "-o", out, "--force", "--attention", "none",
                       "--residuals", "none"])
        self.assertEqual(self.findings, [])

    def test_non_finite_weights_are_refused(self):
        """NaN or infinity in a norm weight reaches every position: always exit 3."""
        rng = random.Random(f"{SEED}-nonfinite")
        # llama2.c v0: a header of 7 int32, the embedding [vocab, dim], then rms_att [L, dim].
        d = self.folder("stories-nan", os.path.join(EXAMPLES, "stories260K"))
        model = os.path.join(d, "stories260K.bin")
        original = read(model)
        dim, _, n_layers, _, _, vocab, _ = struct.unpack_from("<7i", original, 0)
        rms_att = 28 + abs(vocab) * dim * 4
        # Hugging Face: the final norm of the adder.
        a = self.folder("adder-nan", os.path.join(EXAMPLES, "adder"))
        weights = os.path.join(a, "model.safetensors")
        st = read(weights)
        norm_at, norm_len = safetensors_offset(st, "model.norm.weight")
        cases = max(4, N // 5)
        for i in range(cases):
            bad = rng.choice([float("nan"), float("inf"), float("-inf")])
            b = bytearray(original)
            struct.pack_into("<f", b, rms_att + 4 * rng.randrange(n_layers * dim), bad)
            write(model, bytes(b))
            r = self.run_cli(f"non-finite rms_att #{i}",
                             ["generate", model, "--tokenizer", os.path.join(d, "tok512.bin"),
                              "--prompt", "Once upon", "-n", "3"], expect=(3,))
            if r is not None and r.returncode == 3:
                self.assertIn("finite", r.stderr.decode())
            s = bytearray(st)
            struct.pack_into("<f", s, norm_at + 4 * rng.randrange(norm_len // 4), bad)
            write(weights, bytes(s))
            self.run_cli(f"non-finite final norm #{i}",
                         ["generate", a, "--prompt", "12+34=", "-n", "3"], expect=(3,))
        self.assertEqual(self.findings, [])

    def setUp(self):
        self.findings.clear()


if __name__ == "__main__":
    hltest.main()
