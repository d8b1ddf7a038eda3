"""Names and axes of everything a .hlproj file holds.

The C++ reader and writer spell these names in modules/project/src/hlprojlayout.h; the
contract is shared/design/HLPROJ.md with modules/project/SCHEMA-ADDITIONS.md. Python cannot
include the header, so the names are spelled here once more, and tests/python/test_layout.py
fails when either document or the header names a dataset this table lacks.

Every dataset is listed with the names of its axes. A name in SIZES stands for a size the
trace fixes (its layers, heads, tokens, ...), and shapes are checked against it when read.
"""

FORMAT = "headlens-project"
SCHEMA_VERSION = 1  # the newest schema this package reads; older ones read too

TRACES = "traces"
COMPARISONS = "comparisons"
ANALYSIS = "analysis"

SITES = ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post")

# Axis name -> the trace size it must equal ("L" layers, "H" heads, "T" tokens, "K" top-k,
# "D" d_model, "dh" d_head) or a fixed number. Axes not named here have a free size.
SIZES = {
    "layer": "L",
    "head": "H",
    "other_head": "H",
    "pos": "T",
    "query": "T",
    "key": "T",
    "k": "K",
    "d_model": "D",
    "d_head": "dh",
    "bound": 2,  # tokens/offsets: [begin, end)
    "block": 2,  # blocks/dla: attention, MLP
    "site": 5,  # the five sites, in SITES order (activation patching)
}

LENS = ("topk_ids", "topk_probs", "entropy")
LOGITS = ("topk_ids", "topk_probs", "entropy")
HEAD_METRICS = ("contrib_norm", "contrib_cosine", "contrib_projection", "attn_entropy",
                "value_norm")
OPTIONAL_HEAD_METRICS = ("resid_ratio", "resid_projection")
CHANGE_MEASURES = ("cosine_distance", "kl")
BLOCK_RATIOS = ("attn_resid_ratio", "mlp_resid_ratio")
# Direct logit attribution of the model's top-1 token (SCHEMA-ADDITIONS.md).
DLA_HEADS = "heads/dla"
DLA_BLOCKS = "blocks/dla"
DLA_PER_POS = ("embed", "rest", "logit", "token_ids")  # blocks/dla_<name>, [pos]

ATTENTION = "attention/pattern"
SPARSE = "attention/sparse"
SPARSE_ROW_END = SPARSE + "/row_end"
SPARSE_REMAINDER = SPARSE + "/remainder"
SPARSE_KEYS = SPARSE + "/keys"
SPARSE_WEIGHTS = SPARSE + "/weights"
SPARSE_MAX_KEYS = 128  # when the group lacks its max_keys attribute
Z = "heads/z"
VOCAB_IDS = "vocab/ids"
VOCAB_TEXT = "vocab/text"
# Attributes of a trace made with the tuned lens decoder: the lens file and its SHA-256.
TUNED_LENS_PATH = "tuned_lens_path"
TUNED_LENS_SHA256 = "tuned_lens_sha256"
TRACE_ATTRIBUTES = (TUNED_LENS_PATH, TUNED_LENS_SHA256)
# Activation patching (headlens-cli patch), kept with the clean prompt's trace.
PATCHING = "analysis/patching"
PATCHING_RECOVERED = PATCHING + "/recovered"
PATCHING_HEADS = PATCHING + "/heads_recovered"
PATCHING_CORRUPTED_IDS = PATCHING + "/corrupted_ids"
PATCHING_CORRUPTED_TEXT = PATCHING + "/corrupted_text"


def lens_path(site, name):
    return f"lens/{site}/{name}"


def residual_path(site):
    return f"residual/{site}"


def _trace_datasets():
    d = {
        "tokens/ids": ("pos",),
        "tokens/text": ("pos",),
        "tokens/offsets": ("pos", "bound"),
        "logits/topk_ids": ("pos", "k"),
        "logits/topk_probs": ("pos", "k"),
        "logits/entropy": ("pos",),
        ATTENTION: ("layer", "head", "query", "key"),
        SPARSE_ROW_END: ("layer", "query", "head"),
        SPARSE_REMAINDER: ("layer", "query", "head"),
        SPARSE_KEYS: ("entry",),
        SPARSE_WEIGHTS: ("entry",),
        Z: ("layer", "pos", "head", "d_head"),
        "heads/contrib_similarity": ("layer", "head", "other_head"),
        VOCAB_IDS: ("vocab",),
        VOCAB_TEXT: ("vocab",),
        PATCHING_RECOVERED: ("site", "layer", "pos"),
        PATCHING_HEADS: ("layer", "head", "pos"),
        PATCHING_CORRUPTED_IDS: ("pos",),
        PATCHING_CORRUPTED_TEXT: ("pos",),
    }
    for site in SITES:
        d[lens_path(site, "topk_ids")] = ("layer", "pos", "k")
        d[lens_path(site, "topk_probs")] = ("layer", "pos", "k")
        d[lens_path(site, "entropy")] = ("layer", "pos")
        d[residual_path(site)] = ("layer", "pos", "d_model")
    for m in HEAD_METRICS + OPTIONAL_HEAD_METRICS:
        d["heads/" + m] = ("layer", "head", "pos")
    for m in CHANGE_MEASURES:
        d["change/" + m] = ("layer", "pos")
    for m in BLOCK_RATIOS:
        d["blocks/" + m] = ("layer", "pos")
    d[DLA_HEADS] = ("layer", "head", "pos")
    d[DLA_BLOCKS] = ("layer", "block", "pos")
    for m in DLA_PER_POS:
        d["blocks/dla_" + m] = ("pos",)
    return d


# Paths inside /traces/<name>/.
TRACE_DATASETS = _trace_datasets()
# What the values of a trace dataset must be (the C++ reader checks the same); float otherwise.
TRACE_INTEGER = frozenset(p for p in TRACE_DATASETS
                          if p.endswith(("ids", "offsets", "row_end", "keys")))
TRACE_STRING = frozenset(p for p in TRACE_DATASETS if p.endswith("text"))
REQUIRED_TRACE_DATASETS = (
    ("tokens/ids", "tokens/text", "tokens/offsets")
    + tuple("logits/" + n for n in LOGITS)
    + tuple("heads/" + m for m in HEAD_METRICS))

STATS_METRICS = ("attn_entropy", "contrib_norm", "contrib_share", "contrib_cosine",
                 "contrib_projection", "resid_ratio", "resid_projection")


# The scores of the head_roles analysis (hlprojlayout.h's headRoleDataset, mean_distance).
HEAD_ROLES = "head_roles"
HEAD_ROLE_SCORES = ("previous_token", "first_token", "self", "duplicate_token", "induction",
                    "mean_distance")


def _analysis_datasets():
    d = {
        # decompose/<site>-L<layer>-P<pos>
        "decompose/*/ids": ("step",),
        "decompose/*/probs": ("step",),
        "decompose/*/norms": ("step",),
        "decompose/*/text": ("step",),
        "stats/quantile_levels": ("quantile",),
        "stats/ranking": ("rank", "layer_head"),  # columns: layer, head
        "stats/ranking_mean_contrib_norm": ("rank",),
        "stats/*/bin_edges": ("edge",),
        "stats/*/head_quantiles": ("layer", "head", "quantile"),
        "stats/*/head_histogram": ("layer", "head", "bin"),
        "stats/*/layer_quantiles": ("layer", "quantile"),
        "stats/*/layer_histogram": ("layer", "bin"),
        "correlations/statistics": ("statistic",),
        "correlations/measures": ("measure",),
        "correlations/overall_pearson": ("statistic", "measure"),
        "correlations/overall_spearman": ("statistic", "measure"),
        "correlations/overall_n": ("statistic", "measure"),
        "correlations/values": ("statistic", "layer", "pos"),
        "head_similarity/jsd_similarity": ("layer", "head", "other_head"),
        "head_similarity/pattern_correlation": ("layer", "head", "other_head"),
        "head_similarity/contrib_similarity": ("layer", "head", "other_head"),
        "head_similarity/cluster": ("layer", "head"),
        "head_similarity/order": ("layer", "slot"),
        "head_similarity/n_clusters": ("layer",),
        "head_roles/tokens": ("sequence", "pos"),
        # patching, in a trace: the same datasets as TRACE_DATASETS' analysis/patching/...
        "patching/recovered": ("site", "layer", "pos"),
        "patching/heads_recovered": ("layer", "head", "pos"),
        "patching/corrupted_ids": ("pos",),
        "patching/corrupted_text": ("pos",),
    }
    for n in HEAD_ROLE_SCORES:
        d["head_roles/" + n] = ("layer", "head")
    for n in ("n", "non_finite", "mean", "std", "underflow", "overflow"):
        d["stats/*/head_" + n] = ("layer", "head")
        d["stats/*/layer_" + n] = ("layer",)
    for n in ("pearson", "spearman", "n"):
        d["correlations/per_layer_" + n] = ("statistic", "measure", "layer")
    # Groups that cover traces name them.
    for kind in ("stats", "correlations", "head_similarity"):
        d[kind + "/traces"] = ("trace",)
    return d


# Paths inside /analysis/ and /traces/<name>/analysis/; "*" is any one name.
ANALYSIS_DATASETS = _analysis_datasets()

# Paths inside /comparisons/<name>/.
COMPARISON_DATASETS = {
    "pairs": ("pair", "side"),
    "token_text_left": ("pair",),
    "token_text_right": ("pair",),
    "top1_ids": ("pair", "side"),
    "top1_text_left": ("pair",),
    "top1_text_right": ("pair",),
    "top1_prob": ("pair", "side"),
    "entropy": ("pair", "side"),
    "decision_layer": ("pair", "side"),
    "decision_depth": ("pair", "side"),
    "kl": ("pair",),
    "depth_grid": ("depth",),
    "depth_layer": ("depth", "side"),
    "depth_mean_entropy": ("depth", "side"),
}

# Paths from the root that the workbench keeps (HLPROJ.md: "names of its own").
PROJECT_DATASETS = {
    "workbench/notes": ("item",),
    "workbench/view_settings": ("item",),
}


def axes_of(table, path):
    """The axes of path in table, where "*" in a key matches one name; None if unknown."""
    if path in table:
        return table[path]
    parts = path.split("/")
    for key, axes in table.items():
        kparts = key.split("/")
        if len(kparts) == len(parts) and all(k in ("*", p) for k, p in zip(kparts, parts)):
            return axes
    return None
