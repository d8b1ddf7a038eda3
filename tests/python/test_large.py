"""Reading one layer of a 1 GB trace touches only that layer: the bytes the process reads
(/proc/self/io) stay near the layer's size, and the time is printed as a figure (a benchmark,
with only a generous sanity bound). The trace is synthetic: float16 attention [24, 16, 1024,
1024] and residuals [24, 1024, 4096], chunked by layer(-head) as the engine writes them."""

import os
import tempfile
import time
import unittest

import hltest  # exits 77 without numpy/h5py

import h5py
import numpy as np

import headlens

L, H, T, D = 24, 16, 1024, 4096
MiB = 1 << 20


def bytes_read():
    """Bytes this process has read through system calls (page-cache hits included)."""
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


def write_big_trace(path):
    hltest.write_project(path, {"big": dict(L=L, H=H, T=T, D=D, K=5, attention=None,
                                            residual=None)})
    base = np.tril(np.full((T, T), 1 / 1024, dtype=np.float16))
    with h5py.File(path, "a") as f:
        g = f["traces/big"]
        att = g.create_dataset("attention/pattern", (L, H, T, T), np.float16,
                               chunks=(1, 1, T, T))
        res = g.create_dataset("residual/resid_post", (L, T, D), np.float16, chunks=(1, T, D))
        for l in range(L):
            for h in range(H):
                att[l, h] = base + np.float16(l)  # each layer's values say which layer it is
            res[l] = np.full((T, D), l, dtype=np.float16)
    drop_from_cache(path)


def drop_from_cache(path):
    """Out of the page cache: the next read comes from the disk, as in a new session."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


@unittest.skipUnless(os.path.exists("/proc/self/io"), "needs /proc/self/io (Linux)")
class OneLayerOfALargeTrace(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "big.hlproj")
        start = time.perf_counter()
        write_big_trace(cls.path)
        cls.size = os.path.getsize(cls.path)
        print(f"\nwrote a {cls.size / 2**30:.2f} GiB trace in {time.perf_counter() - start:.1f} s")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def read_one_layer(self, what, layer, layer_bytes, check):
        before, start = bytes_read(), time.perf_counter()
        with headlens.open(self.path) as project:
            trace = project.trace("big")
            opened, ready = bytes_read() - before, time.perf_counter()
            values = what(trace)[layer]
            seconds = time.perf_counter() - ready
            read = bytes_read() - before - opened
        check(values)
        print(f"{what.__doc__}: layer {layer} of {self.size / 2**30:.2f} GiB: "
              f"{seconds * 1000:.1f} ms, read {read / MiB:.1f} MiB for a "
              f"{layer_bytes / MiB:.1f} MiB layer; opening the project and the trace "
              f"{(ready - start) * 1000:.1f} ms, {opened / 1024:.0f} KiB")
        self.assertLess(read, layer_bytes * 1.1 + 2 * MiB, "more than the layer was read")
        self.assertLess(seconds, 10, "sanity bound: a layer of this size takes milliseconds")

    def test_attention_layer(self):
        def attention(trace):
            """attention [head, query, key]"""
            return trace.attention

        def check(a):
            self.assertEqual(a.shape, (H, T, T))
            self.assertEqual(a[3, 10, 2], np.float32(np.float16(1 / 1024) + np.float16(7)))
            self.assertEqual(a[0, 2, 10], 7)

        self.read_one_layer(attention, 7, H * T * T * 2, check)  # from the disk
        self.read_one_layer(attention, 7, H * T * T * 2, check)  # from the page cache

        def stored(trace):
            """attention as stored (float16) [head, query, key]"""
            return trace.attention.stored

        def check_stored(a):
            self.assertEqual(a.dtype, np.float16)
            check(a)

        drop_from_cache(self.path)
        self.read_one_layer(stored, 7, H * T * T * 2, check_stored)  # from the disk
        self.read_one_layer(stored, 7, H * T * T * 2, check_stored)  # from the page cache

    def test_residual_layer(self):
        def residual(trace):
            """residual/resid_post [pos, d_model]"""
            return trace.residual("resid_post")

        def check(r):
            self.assertEqual(r.shape, (T, D))
            self.assertTrue((r == 19).all())

        self.read_one_layer(residual, 19, T * D * 2, check)  # from the disk
        self.read_one_layer(residual, 19, T * D * 2, check)  # from the page cache


if __name__ == "__main__":
    hltest.main()
