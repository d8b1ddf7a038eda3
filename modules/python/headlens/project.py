"""Projects and traces, read-only, with the refusals of the C++ reader
(modules/project/src/projectreader.cpp)."""

import fcntl
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass

import h5py
import numpy as np

from . import journal, layout
from .datasets import Comparison, Dataset, Group, SparseAttention, attr_value, attrs_dict
from .errors import NewerSchemaError, NotAProjectError, ProjectError

LENS_NORMS = ("full", "unit", "none")
LENS_DECODERS = ("output", "input", "linear", "quadratic", "tuned")


def open(path):  # noqa: A001 - the one-line entry point: headlens.open(path)
    """Opens a .hlproj project read-only. Raises ProjectError (NotAProjectError,
    NewerSchemaError) saying what is wrong and where."""
    return Project(path)


def _open_file(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except OSError as e:
        raise ProjectError(f"cannot open project {path}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ProjectError(f"{path} is a folder, not a project file")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block HDF5's open
        raise ProjectError(f"{path} is not a regular file")
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as e:
        raise ProjectError(f"cannot read {path} ({e})") from None
    if not is_hdf5:
        raise NotAProjectError(f"{path} is not a HeadLens project: it is not an HDF5 file")
    restored = _restored_view(path)
    try:
        return h5py.File(restored if restored is not None else path, "r")
    except OSError as e:
        if "unable to lock" in str(e) and "truncated" not in str(e):
            raise ProjectError(f"cannot open {path}: another program holds it locked ({e})") \
                from None
        raise ProjectError(f"{path} is damaged or truncated and cannot be opened ({e})") from None


def _restored_view(path):
    """The project as it was before an append that was killed (its journal lies beside it),
    or None when there is no such journal."""
    jpath = journal.journal_path(path)
    if not os.path.exists(jpath):
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:  # the append holds its lock until it has finished
        raise ProjectError(f"{path} is being written by another program (a trace is being "
                           "added to it); open it when that has finished") from None
    finally:
        os.close(fd)
    try:
        parsed = journal.read_journal(jpath)
    except FileNotFoundError:  # the append finished meanwhile
        return None
    if parsed is None:
        return None
    return journal.RestoredView(path, *parsed)


class Project:
    """A .hlproj file opened read-only. Use headlens.open(path); close() or a with block
    releases the file."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._file = _open_file(self.path)
        try:
            self._check_root()
        except BaseException:
            self._file.close()
            raise

    def _check_root(self):
        path, root = self.path, self._file
        fmt = attr_value(root.attrs.get("format"))
        if fmt is None:
            raise NotAProjectError(f"{path} is an HDF5 file but not a HeadLens project "
                                   "(it has no 'format' attribute)")
        if fmt != layout.FORMAT:
            raise NotAProjectError(f"{path} is not a HeadLens project (its format is '{fmt}', "
                                   f"not '{layout.FORMAT}')")
        schema = attr_value(root.attrs.get("schema_version"))
        if schema is None:
            raise ProjectError(f"{path} has no 'schema_version' attribute; it is damaged")
        if not isinstance(schema, int):
            raise ProjectError(f"{path}: attribute 'schema_version' is not a single integer")
        if schema > layout.SCHEMA_VERSION:
            raise NewerSchemaError(f"{path} was written by a newer HeadLens (schema {schema}); "
                                   f"this version reads schema {layout.SCHEMA_VERSION}")
        if schema < 1:
            raise ProjectError(f"{path} has an invalid schema_version {schema}")
        if not isinstance(root.get(layout.TRACES, getlink=True), h5py.HardLink) or \
                not isinstance(root[layout.TRACES], h5py.Group):
            raise ProjectError(f"{path} has no /{layout.TRACES} group; it is damaged")
        self.schema_version = schema

    # --- the file -------------------------------------------------------------------------
    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def attrs(self):
        return attrs_dict(self._file)

    app_version = property(lambda self: self.attrs.get("app_version", ""))
    created = property(lambda self: self.attrs.get("created", ""))
    modified = property(lambda self: self.attrs.get("modified", ""))

    # --- traces ---------------------------------------------------------------------------
    @property
    def traces(self):
        """Traces by name, in the project's order; each is opened when asked for."""
        return _Traces(self)

    def trace(self, name):
        if name not in self._file[layout.TRACES] or \
                not isinstance(self._file[layout.TRACES][name], h5py.Group):
            raise KeyError(f"{self.path}: there is no trace '{name}'")
        return Trace(self, name)

    # --- results beside the traces --------------------------------------------------------
    @property
    def comparisons(self):
        g = self._file.get(layout.COMPARISONS)
        names = list(g.keys()) if isinstance(g, h5py.Group) else []
        return {n: Comparison(g[n], self.path) for n in names if isinstance(g[n], h5py.Group)}

    def comparison(self, name):
        try:
            return self.comparisons[name]
        except KeyError:
            raise KeyError(f"{self.path}: there is no comparison '{name}'") from None

    def analyses(self):
        """Kinds of results over the project's traces (/analysis/<kind>)."""
        g = self._file.get(layout.ANALYSIS)
        return list(g.keys()) if isinstance(g, h5py.Group) else []

    def analysis(self, kind):
        return _analysis(self._file.get(layout.ANALYSIS), kind, self.path)

    @property
    def notes(self):
        """The workbench's notes on the project ("" when none)."""
        ds = self._file.get("workbench/notes")
        return str(Dataset(ds, "workbench/notes", ("item",), self.path)[0]) \
            if isinstance(ds, h5py.Dataset) and ds.size else ""

    # --- every dataset, by its path from the root -----------------------------------------
    def dataset_paths(self):
        out = []
        self._file.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
        return out

    def __getitem__(self, path):
        """Any dataset by its path from the root, labelled by the part of the file it is in."""
        parts = path.strip("/").split("/")
        if parts[0] == layout.TRACES and len(parts) > 2:
            trace = self.trace(parts[1])
            if parts[2] == layout.ANALYSIS and len(parts) > 4:
                return trace.analysis(parts[3])["/".join(parts[4:])]
            return trace["/".join(parts[2:])]
        if parts[0] == layout.COMPARISONS and len(parts) > 2:
            return self.comparison(parts[1])["/".join(parts[2:])]
        if parts[0] == layout.ANALYSIS and len(parts) > 2:
            return self.analysis(parts[1])["/".join(parts[2:])]
        obj = self._file.get(path)
        if not isinstance(obj, h5py.Dataset):
            raise KeyError(f"{self.path}: there is no dataset {path}")
        return Dataset(obj, path, layout.axes_of(layout.PROJECT_DATASETS, path), self.path)

    def __repr__(self):
        return f"<headlens.Project {self.path}: {len(self.traces)} traces>"


def _analysis(group, kind, where):
    if not isinstance(group, h5py.Group) or not isinstance(group.get(kind), h5py.Group):
        raise KeyError(f"{where}: there is no analysis '{kind}'")
    return Group(group[kind], layout.ANALYSIS_DATASETS, kind, where)


def _check_site(site):
    if site not in layout.SITES:
        raise ValueError(f"site must be one of {', '.join(layout.SITES)}, not '{site}'")


class _Traces(Mapping):
    def __init__(self, project):
        self._p = project
        g = project._file[layout.TRACES]
        self._names = [n for n in g.keys() if isinstance(g.get(n, getlink=True), h5py.HardLink)
                       and isinstance(g[n], h5py.Group)]

    def __getitem__(self, name):
        return self._p.trace(name)

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)


@dataclass(frozen=True)
class TopK:
    """Top-k ids, their probabilities and the entropy of a distribution, lazily read:
    ids/probs [layer, pos, k] and entropy [layer, pos] for a lens site, [pos, k] and [pos]
    for the model's own logits."""

    ids: Dataset
    probs: Dataset
    entropy: Dataset


@dataclass(frozen=True)
class Attribution:
    """Direct logit attribution of the model's top-1 token at every position
    (SCHEMA-ADDITIONS.md): heads [layer, head, pos], blocks [layer, block, pos] (block 0 the
    attention block, 1 the MLP), and embed, rest, logit, token_ids [pos]."""

    heads: Dataset
    blocks: Dataset
    embed: Dataset
    rest: Dataset
    logit: Dataset
    token_ids: Dataset

    def sum_error(self):
        """[pos]: the parts' sum (embedding, every block, rest) minus the model's logit."""
        total = self.embed.read().astype(np.float64) + self.rest.read()
        total += self.blocks.read().astype(np.float64).sum(axis=(0, 1))
        return total - self.logit.read()


@dataclass(frozen=True)
class Grid:
    """The logit-lens grid: the top-1 token of every layer (rows) at every position (columns)."""

    ids: np.ndarray  # [layer, pos]
    probs: np.ndarray  # [layer, pos]
    text: np.ndarray  # [layer, pos], str
    tokens: list  # the tokens' own texts, one per column
    site: str

    def to_frame(self):
        from .frames import grid_frame

        return grid_frame(self)

    def __str__(self):
        cells = [[""] + [repr(t) for t in self.tokens]]
        cells += [[f"L{l}"] + [repr(t) for t in row] for l, row in enumerate(self.text)]
        width = [max(len(r[c]) for r in cells) for c in range(len(cells[0]))]
        return "\n".join("  ".join(s.ljust(w) for s, w in zip(r, width)).rstrip() for r in cells)


class Trace:
    """One run of one model on one prompt (/traces/<name>). Metadata is read when the trace is
    opened, datasets only when asked for."""

    def __init__(self, project, name):
        self.project = project
        self.name = name
        self._g = project._file[layout.TRACES][name]
        self._where = f"{project.path}: trace '{name}'"
        self._vocab = None
        a = self.attrs
        if "model_config" not in a:
            self._fail("attribute model_config is missing")
        try:
            self.config = json.loads(a["model_config"])
        except (TypeError, ValueError) as e:
            self._fail(f"model_config is not valid JSON: {e}")
        if not isinstance(self.config, dict):
            self._fail("model_config is not a JSON object")
        for key in ("n_layers", "n_heads", "d_model"):
            v = self.config.get(key)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                self._fail(f"model_config: '{key}' must be a positive integer")
        self.n_layers, self.n_heads = self.config["n_layers"], self.config["n_heads"]
        self.d_model = self.config["d_model"]
        self.d_head = self.config.get("d_head", self.d_model // self.n_heads)
        ids = self._g.get("tokens/ids")
        if not isinstance(ids, h5py.Dataset):
            self._fail("required dataset tokens/ids is missing")
        if ids.ndim != 1:
            self._fail(f"dataset tokens/ids has shape {list(ids.shape)}, expected [T]")
        self.n_tokens = ids.shape[0]
        topk = a.get("topk")
        logits = self._g.get("logits/topk_ids")
        if topk is not None:
            if not isinstance(topk, int) or not 1 <= topk <= 1000000:
                self._fail(f"attribute topk is {topk}")
            self.topk = topk
        elif isinstance(logits, h5py.Dataset) and logits.ndim == 2:
            self.topk = logits.shape[1]
        else:
            self._fail("attribute topk is missing")
        for attr, allowed in (("lens_norm", LENS_NORMS), ("lens_decoder", LENS_DECODERS)):
            if attr in a and a[attr] not in allowed:
                self._fail(f"attribute {attr} is '{a[attr]}', expected {', '.join(allowed)}")
        self.n_prompt_tokens = a.get("n_prompt_tokens", self.n_tokens)
        if not 0 <= self.n_prompt_tokens <= self.n_tokens:
            self._fail(f"attribute n_prompt_tokens is {self.n_prompt_tokens}, but there are "
                       f"{self.n_tokens} tokens")
        for path in layout.REQUIRED_TRACE_DATASETS:
            if path not in self:
                self._fail(f"required dataset {path} is missing")
            self[path]  # checks its shape and kind

    def _fail(self, msg):
        raise ProjectError(f"{self._where}: {msg}")

    @property
    def attrs(self):
        return attrs_dict(self._g)

    prompt = property(lambda self: self.attrs.get("prompt", ""))
    model_name = property(lambda self: self.attrs.get("model_name", ""))
    model_path = property(lambda self: self.attrs.get("model_path", ""))
    model_fingerprint = property(lambda self: self.attrs.get("model_fingerprint", ""))
    lens_norm = property(lambda self: self.attrs.get("lens_norm", "full"))
    lens_decoder = property(lambda self: self.attrs.get("lens_decoder", "output"))
    compute_dtype = property(lambda self: self.attrs.get("compute_dtype", ""))
    created = property(lambda self: self.attrs.get("created", ""))
    app_version = property(lambda self: self.attrs.get("app_version", ""))
    parent = property(lambda self: self.attrs.get("parent", ""))
    edit = property(lambda self: self.attrs.get("edit", ""))
    # The tuned lens file a trace of lens_decoder "tuned" was decoded with, and its SHA-256.
    tuned_lens_path = property(lambda self: self.attrs.get(layout.TUNED_LENS_PATH, ""))
    tuned_lens_sha256 = property(lambda self: self.attrs.get(layout.TUNED_LENS_SHA256, ""))

    def _sizes(self):
        return {"L": self.n_layers, "H": self.n_heads, "T": self.n_tokens, "K": self.topk,
                "D": self.d_model, "dh": self.d_head}

    # --- datasets -------------------------------------------------------------------------
    def __contains__(self, path):
        return isinstance(self._g.get(path), h5py.Dataset)

    def __getitem__(self, path):
        """A dataset of the trace by its path in the trace (e.g. "heads/contrib_norm"), checked
        against the shape and kind HLPROJ.md gives it."""
        obj = self._g.get(path)
        if not isinstance(obj, h5py.Dataset):
            raise KeyError(f"{self._where}: dataset {path} is missing")
        axes = layout.TRACE_DATASETS.get(path)
        ds = Dataset(obj, path, axes, self._where)
        if axes is None:
            return ds
        kind = "string" if ds.is_string else {"i": "integer", "u": "integer", "f": "float"}.get(
            obj.dtype.kind, "non-numeric")
        want = "integer" if path in layout.TRACE_INTEGER else \
            "string" if path in layout.TRACE_STRING else "float"
        if kind != want:
            self._fail(f"dataset {path} holds {kind} values, expected {want}")
        sizes = self._sizes()
        for axis, n in zip(axes, obj.shape):
            want = layout.SIZES.get(axis)
            want = sizes[want] if isinstance(want, str) else want
            if want is not None and n != want:
                self._fail(f"dataset {path} has shape {list(obj.shape)}, expected "
                           f"({', '.join(axes)}) with {axis} = {want}")
        ds._check = self._value_check(path)
        return ds

    def _value_check(self, path):
        """What the values of a dataset must be, as the C++ reader checks them where it reads
        them: token ids inside the model's vocabulary, probabilities in [0, 1], entropies not
        negative (with room for float16 rounding); None for other datasets."""
        ids = {"tokens/ids", "logits/topk_ids", layout.VOCAB_IDS} | \
            {layout.lens_path(s, "topk_ids") for s in layout.SITES}
        probs = {"logits/topk_probs"} | {layout.lens_path(s, "topk_probs") for s in layout.SITES}
        entropies = {"logits/entropy"} | {layout.lens_path(s, "entropy") for s in layout.SITES}
        vocab = self.config.get("vocab_size")
        vocab = vocab if isinstance(vocab, int) and not isinstance(vocab, bool) and vocab > 0 \
            else None

        def where(values, bad, key):
            at = list(int(i) for i in np.unravel_index(int(np.flatnonzero(bad)[0]), values.shape))
            whole = key == () or key is Ellipsis or key == slice(None) or (
                isinstance(key, tuple) and all(k == slice(None) or k is Ellipsis for k in key))
            part = "" if whole else f" of the part {key!r}"
            return values[tuple(at)], f"at {at}{part}"

        def check_ids(values, key):
            bad = (values < 0) if vocab is None else (values < 0) | (values >= vocab)
            if np.any(bad):
                v, at = where(values, bad, key)
                why = ", which cannot be a token id" if v < 0 else \
                    f", outside the model's vocabulary (0 to {vocab - 1})"
                self._fail(f"dataset {path} holds the token id {int(v)} {at}{why}")

        def check_range(lo, hi, what):
            def check(values, key):
                with np.errstate(invalid="ignore"):
                    bad = ~((values >= lo) & (values <= hi))  # NaN fails both
                if np.any(bad):
                    v, at = where(values, bad, key)
                    self._fail(f"dataset {path} holds {v} {at}, which is not {what}")
            return check

        if path in ids:
            return check_ids
        if path in probs:
            return check_range(0.0, 1.001, "a probability")
        if path in entropies:
            return check_range(-0.001, np.finfo(np.float32).max, "an entropy (nats)")
        return None

    def dataset_paths(self):
        """Paths of the trace's own datasets (its analysis results are under analysis())."""
        out = []

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.startswith(layout.ANALYSIS + "/"):
                out.append(name)

        self._g.visititems(visit)
        return out

    # --- tokens and their texts -----------------------------------------------------------
    @property
    def token_ids(self):
        return self["tokens/ids"].read()

    @property
    def token_text(self):
        return list(self["tokens/text"].read())

    @property
    def token_offsets(self):
        """[pos, 2]: [begin, end) character offsets in the prompt, -1 -1 where none."""
        return self["tokens/offsets"].read()

    @property
    def vocab(self):
        """Token id -> readable text, for every id the trace holds (vocab/ids, vocab/text)."""
        if self._vocab is None:
            self._vocab = {}
            if layout.VOCAB_IDS in self:
                ids = self[layout.VOCAB_IDS]
                text = self[layout.VOCAB_TEXT]
                if text.shape != ids.shape:
                    self._fail(f"dataset {layout.VOCAB_TEXT} has shape {list(text.shape)}, "
                               f"expected {list(ids.shape)} like {layout.VOCAB_IDS}")
                self._vocab = dict(zip(ids.read().tolist(), text.read()))
        return self._vocab

    def text(self, ids):
        """The readable text of a token id, or of an array of ids (same shape, str); "[id]" for
        an id the trace has no text for, as the C++ reader says."""
        vocab = self.vocab
        if np.ndim(ids) == 0:
            i = int(ids)
            return vocab.get(i, f"[{i}]")
        a = np.asarray(ids)
        out = np.empty(a.shape, dtype=object)
        flat = out.reshape(-1)
        for n, i in enumerate(a.reshape(-1).tolist()):
            flat[n] = vocab.get(i, f"[{i}]")
        return out

    # --- the logit lens and the logits ----------------------------------------------------
    def lens_sites(self):
        return [s for s in layout.SITES if isinstance(self._g.get(f"lens/{s}"), h5py.Group)]

    def lens(self, site="resid_post"):
        """The logit lens at a site: TopK of [layer, pos, k] ids and probs, [layer, pos] entropy."""
        _check_site(site)
        if site not in self.lens_sites():
            raise KeyError(f"{self._where} has no lens for site {site}")
        return TopK(*(self[layout.lens_path(site, n)] for n in layout.LENS))

    @property
    def logits(self):
        """The model's own next-token prediction: TopK of [pos, k] ids and probs, [pos] entropy."""
        return TopK(*(self["logits/" + n] for n in layout.LOGITS))

    def grid(self, site="resid_post"):
        """The layers x tokens table of the lens's top-1 tokens."""
        lens = self.lens(site)
        ids = lens.ids[:, :, 0]
        return Grid(ids=ids, probs=lens.probs[:, :, 0], text=self.text(ids),
                    tokens=self.token_text, site=site)

    # --- heads, attention, vectors --------------------------------------------------------
    def head_metrics(self):
        return [m for m in layout.HEAD_METRICS + layout.OPTIONAL_HEAD_METRICS
                if "heads/" + m in self]

    def heads(self, metric):
        """A head metric, [layer, head, pos] (TRACE.md "Head metrics")."""
        if metric not in layout.HEAD_METRICS + layout.OPTIONAL_HEAD_METRICS:
            raise ValueError(f"metric must be one of "
                             f"{', '.join(layout.HEAD_METRICS + layout.OPTIONAL_HEAD_METRICS)}")
        return self["heads/" + metric]

    @property
    def has_dla(self):
        return layout.DLA_HEADS in self

    @property
    def dla(self):
        """Direct logit attribution of the model's top-1 token (an Attribution)."""
        if not self.has_dla:
            raise KeyError(f"{self._where}: no direct logit attribution is stored "
                           f"({layout.DLA_HEADS}; traces made before HeadLens had it lack it)")
        return Attribution(self[layout.DLA_HEADS], self[layout.DLA_BLOCKS],
                           *(self["blocks/dla_" + m] for m in layout.DLA_PER_POS))

    @property
    def attention_sparse(self):
        return layout.ATTENTION not in self and isinstance(self._g.get(layout.SPARSE), h5py.Group)

    @property
    def attention(self):
        """Attention probabilities [layer, head, query, key], dense even where the file keeps
        them sparse (attention/sparse)."""
        if layout.ATTENTION in self:
            return self[layout.ATTENTION]
        if self.attention_sparse:
            return SparseAttention(self._g, self.n_layers, self.n_heads, self.n_tokens,
                                   self._where)
        raise KeyError(f"{self._where}: no attention pattern is stored ({layout.ATTENTION})")

    def residual_sites(self):
        return [s for s in layout.SITES if layout.residual_path(s) in self]

    def residual(self, site):
        """The site vectors [layer, pos, d_model]."""
        _check_site(site)
        return self[layout.residual_path(site)]

    @property
    def z(self):
        """Per-head attention outputs before Wo, [layer, pos, head, d_head]."""
        return self[layout.Z]

    # --- activation patching (headlens-cli patch) ------------------------------------------
    @property
    def has_patching(self):
        return layout.PATCHING_RECOVERED in self

    @property
    def patching(self):
        """The activation patching map kept with this trace (its prompt is the clean one): a
        dict with the group's attributes (answer, wrong, answer_text, wrong_text,
        corrupted_prompt, ld_clean, ld_corrupted, sites) and the arrays "recovered"
        [site, layer, pos] (sites in SITES order), "heads_recovered" [layer, head, pos] (when
        heads were patched), "corrupted_ids" and "corrupted_text" [pos]."""
        if not self.has_patching:
            raise KeyError(f"{self._where}: no patching map is stored ({layout.PATCHING})")
        out = attrs_dict(self._g[layout.PATCHING])
        for path in (layout.PATCHING_RECOVERED, layout.PATCHING_HEADS,
                     layout.PATCHING_CORRUPTED_IDS, layout.PATCHING_CORRUPTED_TEXT):
            if path in self:
                data = self[path].read()
                out[path.rsplit("/", 1)[1]] = list(data) if path.endswith("text") else data
        return out

    # --- results of analyses of this trace ------------------------------------------------
    def analyses(self):
        g = self._g.get(layout.ANALYSIS)
        return list(g.keys()) if isinstance(g, h5py.Group) else []

    def analysis(self, kind):
        return _analysis(self._g.get(layout.ANALYSIS), kind, self._where)

    def head_roles(self):
        """What each head selects (`headlens-cli heads MODEL PROJECT --roles`): the analysis
        group head_roles, whose datasets previous_token, first_token, self, duplicate_token,
        induction and mean_distance are [layer, head]; KeyError when the trace has none."""
        return self.analysis(layout.HEAD_ROLES)

    def to_frame(self, what="lens", site="resid_post"):
        """A pandas DataFrame with the columns of `headlens-cli export --what WHAT`: tokens,
        lens (of site), logits or heads; "roles" gives one row per (layer, head) of
        head_roles()."""
        from . import frames

        makers = {"tokens": frames.tokens_frame, "logits": frames.logits_frame,
                  "heads": frames.heads_frame, "roles": frames.roles_frame}
        if what == "lens":
            return frames.lens_frame(self, site)
        if what not in makers:
            raise ValueError("what must be one of tokens, lens, logits, heads, roles")
        return makers[what](self)

    def __repr__(self):
        return (f"<headlens.Trace '{self.name}': {self.model_name}, {self.n_tokens} tokens, "
                f"{self.n_layers} layers x {self.n_heads} heads>")
