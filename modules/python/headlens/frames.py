"""pandas DataFrames of a trace, where pandas is installed (it is optional). The tables have
the columns of `headlens-cli export`."""

import numpy as np


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError("DataFrames need pandas (Debian: python3-pandas)") from None
    return pandas


def _long(values, axes, columns):
    """One row per value of values (shape by axes): the axis indices, then columns."""
    pd = _pandas()
    index = np.indices(values.shape).reshape(len(axes), -1)
    data = {a: index[i] for i, a in enumerate(axes)}
    data.update({name: np.asarray(col).reshape(-1) for name, col in columns.items()})
    return pd.DataFrame(data)


def dataset_frame(ds, name="value"):
    return _long(np.asarray(ds), ds.axes, {name: np.asarray(ds)})


def tokens_frame(trace):
    offsets = trace.token_offsets
    return _pandas().DataFrame({
        "pos": np.arange(trace.n_tokens),
        "id": trace.token_ids,
        "text": trace.token_text,
        "begin": offsets[:, 0],
        "end": offsets[:, 1],
        "generated": np.arange(trace.n_tokens) >= trace.n_prompt_tokens,
    })


def _topk_frame(trace, topk, axes):
    ids = topk.ids.read()
    rank_axes = axes + ("rank",)
    frame = _long(ids, rank_axes, {
        "id": ids,
        "text": trace.text(ids),
        "prob": topk.probs.read(),
        "entropy": np.broadcast_to(topk.entropy.read()[..., None], ids.shape),
    })
    frame["rank"] += 1
    return frame


def lens_frame(trace, site="resid_post"):
    return _topk_frame(trace, trace.lens(site), ("layer", "pos"))


def logits_frame(trace):
    return _topk_frame(trace, trace.logits, ("pos",))


def heads_frame(trace):
    """One row per (layer, pos, head), as the export orders them; contrib_share is a head's
    share of the layer's summed contribution norms at that position (0 where the sum is 0)."""
    metrics = {m: np.asarray(trace.heads(m)).transpose(0, 2, 1)
               for m in ("contrib_norm", "contrib_cosine", "contrib_projection", "attn_entropy",
                         "value_norm")}
    norm = metrics["contrib_norm"].astype(np.float64)
    total = norm.sum(axis=2, keepdims=True)
    share = np.divide(norm, total, out=np.zeros_like(norm), where=total > 0)
    columns = {"contrib_norm": metrics.pop("contrib_norm"), "contrib_share": share, **metrics}
    return _long(share, ("layer", "pos", "head"), columns)[
        ["layer", "head", "pos", *columns]]


def roles_frame(trace):
    """One row per (layer, head) with the head-role scores."""
    from . import layout

    g = trace.head_roles()
    columns = {n: np.asarray(g[n]) for n in layout.HEAD_ROLE_SCORES}
    return _long(columns["previous_token"], ("layer", "head"), columns)


def grid_frame(grid):
    pd = _pandas()
    columns = pd.MultiIndex.from_arrays([np.arange(len(grid.tokens)), grid.tokens],
                                        names=["pos", "token"])
    return pd.DataFrame(grid.text, index=pd.RangeIndex(len(grid.text), name="layer"),
                        columns=columns)
