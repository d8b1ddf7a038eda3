"""A project whose append was interrupted, read as it was before the append.

HeadLens appends a trace to a project in place and keeps the old content of every byte it
overwrites in the journal ".<file>.journal" beside it (modules/project/src/appendjournal.h,
SCHEMA-ADDITIONS.md "Appending in place"). A killed append leaves that journal, and HeadLens
undoes the append the next time it opens the project. This reader never writes: it reads
such a project through a view that puts the journal's old bytes back and ends the file at its
old length, which is the project exactly as it was before the append.
"""

import io
import os
import struct

MAGIC = b"HLJRNL01"
_HEADER = struct.Struct("<8sQQ")
_RECORD = struct.Struct("<QQQ")


def journal_path(path):
    """Where the journal of the project at path lies (a symlink's target's folder)."""
    real = os.path.realpath(path)
    folder, name = os.path.split(real)
    return os.path.join(folder, "." + name + ".journal")


def _fnv1a(data, h=0xcbf29ce484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_journal(path):
    """(original size, [(offset, old bytes)]) from a journal file, or None when its header is
    incomplete (the append was killed before it changed anything). Stops at a record the kill
    cut short: its bytes were never overwritten."""
    with io.open(path, "rb") as f:
        data = f.read()
    if len(data) < _HEADER.size:
        return None
    magic, size, check = _HEADER.unpack_from(data, 0)
    if magic != MAGIC or check != _fnv1a(data[:16]):
        return None
    records, at = [], _HEADER.size
    while at + _RECORD.size <= len(data):
        offset, length, check = _RECORD.unpack_from(data, at)
        body = data[at + _RECORD.size:at + _RECORD.size + length]
        if length == 0 or offset > size or length > size - offset or len(body) != length:
            break
        if _fnv1a(body, _fnv1a(data[at:at + 16])) != check:
            break
        records.append((offset, body))
        at += _RECORD.size + length
    return size, records


class RestoredView(io.RawIOBase):
    """The project file as it was before the interrupted append, read-only."""

    def __init__(self, path, size, records):
        super().__init__()
        self._f = io.open(path, "rb")
        self._size = size
        self._records = sorted(records)
        self._pos = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer):
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self._size - self._pos))
        if n == 0:
            return 0
        start, end = self._pos, self._pos + n
        self._f.seek(start)
        got = self._f.readinto(view[:n])
        if got < n:  # the append cut the file shorter: the journal holds the rest
            view[got:n] = bytes(n - got)
        for offset, body in self._records:
            lo, hi = max(start, offset), min(end, offset + len(body))
            if lo < hi:
                view[lo - start:hi - start] = body[lo - offset:hi - offset]
        self._pos = end
        return n

    def close(self):
        if not self.closed:
            self._f.close()
        super().close()
