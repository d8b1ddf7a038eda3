"""Lazy, axis-labelled views of the datasets in a project.

Nothing is read when a view is made: indexing reads only the selected part (for the large
datasets, chunked by layer, one layer is one chunk). float16 storage reads as float32, as the
C++ reader gives it, and strings read as Python str.
"""

import h5py
import numpy as np

from . import layout
from .errors import ProjectError


def attr_value(v):
    """An HDF5 attribute as Python gives it: str for strings (fixed or variable length, UTF-8),
    int / float for scalars."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace").rstrip("\0 ")
    if isinstance(v, np.generic):
        return v.item()
    return v


def attrs_dict(obj):
    return {k: attr_value(v) for k, v in obj.attrs.items()}


def _is_string(dtype):
    return h5py.check_string_dtype(dtype) is not None


def _readable(a, stored):
    """Values as handed out: float16 widened to float32."""
    a = np.asarray(a)
    if stored.kind == "f" and stored.itemsize <= 2:
        return a.astype(np.float32)
    return a


def check_number_type(h5ds, where, path):
    """The C++ reader's rule for a dataset's numbers (h5util's checkNumberType): integers of 1, 2,
    4 or 8 bytes, floats of 2, 4 or 8, their bits and fields inside them. A damaged datatype
    message can claim 4 GB per value, which libhdf5 would allocate to convert each value."""
    t = h5ds.id.get_type()
    cls = t.get_class()
    if cls not in (h5py.h5t.INTEGER, h5py.h5t.FLOAT):
        return
    size, precision, offset = t.get_size(), t.get_precision(), t.get_offset()
    ok = (size in (2, 4, 8) or (cls == h5py.h5t.INTEGER and size == 1)) and precision > 0 \
        and offset >= 0 and offset + precision <= 8 * size
    if ok and cls == h5py.h5t.FLOAT:
        spos, epos, esize, mpos, msize = t.get_fields()
        ok = spos < precision and epos + esize <= precision and mpos + msize <= precision \
            and esize > 0 and msize > 0
    if not ok:
        kind = "floats" if cls == h5py.h5t.FLOAT else "integers"
        raise ProjectError(f"{where}: dataset {path} holds {kind} of {size} bytes ({precision} "
                           f"bits at offset {offset}), a type no HeadLens writer makes: the file "
                           f"is damaged")


def check_storage(h5ds, where, path):
    """The C++ reader's rule (h5util's checkStorageHolds): a shape its storage can fill, since
    deflate inflates at most about 1032:1 and nothing stores more than the file holds (64 MiB
    of slack for small datasets never written). A damaged shape claimed 128 GB in 36 KB."""
    t = h5ds.id.get_type()
    if t.get_class() not in (h5py.h5t.INTEGER, h5py.h5t.FLOAT):
        return
    nbytes = float(np.prod([float(d) for d in h5ds.shape])) * t.get_size()
    slack = 64.0 * 2**20
    if nbytes <= slack:
        return
    stored = min(h5ds.id.get_storage_size(), h5ds.file.id.get_filesize())
    if nbytes > 1100 * stored + slack:
        raise ProjectError(f"{where}: dataset {path} has shape {_shape_string(h5ds.shape)} "
                           f"({int(nbytes // 2**20)} MiB) but stores {stored} bytes: the file is "
                           f"damaged")


def _shape_string(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


class Dataset:
    """One dataset of a project, with its axis names. ds[...] reads a part as numpy, np.asarray(ds)
    or ds.read() all of it, ds.sel(layer=3) by axis name."""

    def __init__(self, h5ds, path, axes, where, check=None):
        self._ds = h5ds
        self._check = check  # check(values, key): raises ProjectError on values out of range
        self.path = path
        self.documented = axes is not None
        self.axes = tuple(axes) if axes is not None else tuple(f"dim_{i}" for i in range(h5ds.ndim))
        check_number_type(h5ds, where, path)
        check_storage(h5ds, where, path)
        if len(self.axes) != h5ds.ndim:
            raise ProjectError(f"{where}: dataset {path} has shape {_shape_string(h5ds.shape)}, "
                               f"expected {len(self.axes)} axes ({', '.join(self.axes)})")

    shape = property(lambda self: self._ds.shape)
    ndim = property(lambda self: self._ds.ndim)
    size = property(lambda self: self._ds.size)
    stored_dtype = property(lambda self: self._ds.dtype,
                            doc="The type in the file (float16 or float32 for the large datasets).")

    @property
    def dtype(self):
        """The type that reads hand out."""
        d = self._ds.dtype
        if _is_string(d):
            return np.dtype(object)
        return np.dtype(np.float32) if d.kind == "f" and d.itemsize <= 2 else d

    @property
    def is_string(self):
        return _is_string(self._ds.dtype)

    @property
    def attrs(self):
        return attrs_dict(self._ds)

    def __len__(self):
        return self._ds.shape[0] if self._ds.ndim else 1

    def __getitem__(self, key):
        if self.is_string:
            return np.asarray(self._ds.asstr()[key], dtype=object)
        values = _readable(self._ds[key], self._ds.dtype)
        if self._check is not None:
            self._check(values, key)
        return values

    def read(self):
        return self[()]

    @property
    def stored(self):
        """The same dataset handing values out as stored: ds.stored[7] is float16 where the file
        holds float16, without the widening to float32 (about half the time of a large read)."""
        return _Stored(self)

    def __array__(self, dtype=None, copy=None):
        a = self.read()
        return a if dtype is None else a.astype(dtype)

    def sel(self, **index):
        """Reads by axis name, e.g. ds.sel(layer=3, head=slice(0, 2)); other axes whole."""
        unknown = set(index) - set(self.axes)
        if unknown:
            raise KeyError(f"{self.path} has no axis {', '.join(sorted(unknown))} "
                           f"(its axes: {', '.join(self.axes)})")
        return self[tuple(index.get(a, slice(None)) for a in self.axes)]

    def to_frame(self, name="value"):
        """A pandas DataFrame, one row per value, with a column per axis (pandas needed)."""
        from .frames import dataset_frame

        return dataset_frame(self, name)

    def __repr__(self):
        dims = ", ".join(f"{a}={n}" for a, n in zip(self.axes, self.shape))
        return f"<headlens.Dataset {self.path} ({dims}) {self._ds.dtype}>"


class _Stored:
    """Dataset.stored: indexing reads values in the file's own type, checked like the dataset's."""

    def __init__(self, ds):
        self._of = ds

    @property
    def dtype(self):
        return self._of.stored_dtype

    def __getitem__(self, key):
        ds = self._of
        if ds.is_string:
            return ds[key]
        values = np.asarray(ds._ds[key])
        if ds._check is not None:
            ds._check(values, key)
        return values


def _expand_key(key, ndim):
    """key as a tuple of ndim entries (Ellipsis and missing trailing axes made explicit)."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = ndim - (len(key) - 1)
        key = key[:i] + (slice(None),) * fill + key[i + 1:]
    return key + (slice(None),) * (ndim - len(key))


class SparseAttention:
    """attention/sparse read as the dense [layer, head, query, key] pattern it stands for, with
    0 for the keys left out (SCHEMA-ADDITIONS.md). Like Dataset, it reads only the layers (and,
    with row(), the query) asked for."""

    axes = layout.TRACE_DATASETS[layout.ATTENTION]
    documented = True
    is_string = False
    dtype = np.dtype(np.float32)

    def __init__(self, group, n_layers, n_heads, n_tokens, where):
        self.path = layout.SPARSE
        self._where = where
        self._L, self._H, self._T = n_layers, n_heads, n_tokens
        self._row_end = group[layout.SPARSE_ROW_END]
        self._keys = group[layout.SPARSE_KEYS]
        self._weights = group[layout.SPARSE_WEIGHTS]
        self.remainder = Dataset(group[layout.SPARSE_REMAINDER], layout.SPARSE_REMAINDER,
                                 layout.TRACE_DATASETS[layout.SPARSE_REMAINDER], where)
        self._max_keys = int(attr_value(group[layout.SPARSE].attrs.get("max_keys",
                                                                        layout.SPARSE_MAX_KEYS)))
        rows = (self._L, self._T, self._H)
        if self._row_end.shape != rows or self.remainder.shape != rows:
            self._fail(f"{layout.SPARSE_ROW_END} has shape {_shape_string(self._row_end.shape)}, "
                       f"expected {_shape_string(rows)} (layer, query, head)")
        if self._keys.ndim != 1 or self._weights.shape != self._keys.shape:
            self._fail("sparse attention keys and weights differ in shape")

    def _fail(self, msg):
        raise ProjectError(f"{self._where}: {msg}")

    shape = property(lambda self: (self._L, self._H, self._T, self._T))
    ndim = 4
    size = property(lambda self: int(np.prod(self.shape)))
    stored_dtype = property(lambda self: self._weights.dtype)

    def __len__(self):
        return self._L

    def _scatter(self, layer, q0, nq):
        """Rows [q0, q0 + nq) of a layer as [head, nq, key]."""
        H, T = self._H, self._T
        ends = np.empty(nq * H + 1, dtype=np.int64)
        ends[1:] = self._row_end[layer, q0:q0 + nq, :].reshape(-1)
        flat = (layer * T + q0) * H - 1  # the row before the first, in (layer, query, head) order
        ends[0] = 0 if flat < 0 else self._row_end[flat // (T * H), (flat // H) % T, flat % H]
        counts = np.diff(ends)
        n = self._keys.shape[0]
        if ends[0] < 0 or (counts < 0).any() or ends[-1] > n or (counts > self._max_keys).any():
            self._fail(f"{layout.SPARSE_ROW_END} is inconsistent")
        keys = self._keys[ends[0]:ends[-1]]
        weights = _readable(self._weights[ends[0]:ends[-1]], self._weights.dtype)
        if ((keys < 0) | (keys >= T)).any():
            bad = keys[(keys < 0) | (keys >= T)][0]
            self._fail(f"sparse attention key {bad} is outside the {T} positions")
        row = np.repeat(np.arange(nq * H), counts)
        out = np.zeros((H, nq, T), dtype=np.float32)
        out[row % H, row // H, keys] = weights
        return out

    def _layer(self, layer):
        return self._scatter(self._layer_index(layer), 0, self._T)

    def row(self, layer, query):
        """One query row of every head of a layer, [head, key], read on its own."""
        if not 0 <= query < self._T:
            raise IndexError(f"query {query} is out of range (the trace has {self._T} tokens)")
        return self._scatter(self._layer_index(layer), query, 1)[:, 0, :]

    def _layer_index(self, layer):
        if not -self._L <= layer < self._L:
            raise IndexError(f"layer {layer} is out of range (the trace has {self._L} layers)")
        return layer % self._L

    def __getitem__(self, key):
        first, *rest = _expand_key(key, 4)
        if isinstance(first, (int, np.integer)):
            return self._layer(int(first))[tuple(rest)]
        layers = np.arange(self._L)[first]
        stacked = np.stack([self._layer(int(l)) for l in layers]) if len(layers) else \
            np.zeros((0, self._H, self._T, self._T), dtype=np.float32)
        return stacked[(slice(None),) + tuple(rest)]

    def read(self):
        return self[()]

    # Scattered into float32 either way: the dense pattern has no stored type of its own.
    stored = property(lambda self: self)
    __array__ = Dataset.__array__
    sel = Dataset.sel
    to_frame = Dataset.to_frame

    def __repr__(self):
        return (f"<headlens.SparseAttention (layer={self._L}, head={self._H}, query={self._T}, "
                f"key={self._T}) {self._weights.dtype}>")


class Group:
    """A group of results (an analysis, a comparison): attributes, datasets and child groups by
    name, datasets labelled from table (keys relative to prefix)."""

    def __init__(self, h5group, table, prefix, where):
        self._g = h5group
        self._table = table
        self._prefix = prefix
        self._where = where

    @property
    def name(self):
        return self._g.name.rsplit("/", 1)[-1]

    @property
    def attrs(self):
        return attrs_dict(self._g)

    def keys(self):
        return list(self._g.keys())

    def __iter__(self):
        return iter(self.keys())

    def __contains__(self, name):
        return name in self._g

    def datasets(self):
        """Paths of every dataset below, relative to this group."""
        out = []
        self._g.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
        return out

    def __getitem__(self, name):
        if name not in self._g:
            raise KeyError(f"{self._where}: {self._g.name} has no '{name}'")
        obj = self._g[name]
        rel = f"{self._prefix}/{name}" if self._prefix else name
        if isinstance(obj, h5py.Group):
            return Group(obj, self._table, rel, self._where)
        return Dataset(obj, name, layout.axes_of(self._table, rel), self._where)

    def __repr__(self):
        return f"<headlens.Group {self._g.name}: {', '.join(self.keys())}>"


class Comparison(Group):
    """/comparisons/<name>: two traces' tokens aligned (HLPROJ.md, SCHEMA-ADDITIONS.md)."""

    def __init__(self, h5group, where):
        super().__init__(h5group, layout.COMPARISON_DATASETS, "", where)

    left = property(lambda self: self.attrs.get("left"))
    right = property(lambda self: self.attrs.get("right"))
    mode = property(lambda self: self.attrs.get("mode"))
    pairs = property(lambda self: self["pairs"])
