#pragma once
// Names inside a .hlproj file (shared/design/HLPROJ.md), shared by the reader and the writer
// so that both spell them once.

#include "headlens/trace/headroles.h"
#include "headlens/trace/trace.h"

#include <array>
#include <string>

namespace HeadLens::HlProj {

constexpr const char *kTracesGroup = "traces";
constexpr const char *kComparisonsGroup = "comparisons";

constexpr const char *kTokenIds = "tokens/ids";
constexpr const char *kTokenText = "tokens/text";
constexpr const char *kTokenOffsets = "tokens/offsets";
constexpr const char *kLogitsTopkIds = "logits/topk_ids";
constexpr const char *kLogitsTopkProbs = "logits/topk_probs";
constexpr const char *kLogitsEntropy = "logits/entropy";
constexpr const char *kAttention = "attention/pattern";
constexpr const char *kZ = "heads/z";
// Sparse attention (SCHEMA-ADDITIONS.md), written instead of kAttention over the budget.
constexpr const char *kSparseGroup = "attention/sparse";
constexpr const char *kSparseRowEnd = "attention/sparse/row_end";      // [L, T, H] int64
constexpr const char *kSparseRemainder = "attention/sparse/remainder"; // [L, T, H] float32
constexpr const char *kSparseKeys = "attention/sparse/keys";           // [N] int32
constexpr const char *kSparseWeights = "attention/sparse/weights";     // [N] float16/32
// Additions to HLPROJ.md v1 (optional: older files lack them).
constexpr const char *kChangeCosine = "change/cosine_distance";        // [L, T]
constexpr const char *kChangeKl = "change/kl";                         // [L, T]
constexpr const char *kVocabIds = "vocab/ids";                         // [U]
constexpr const char *kVocabText = "vocab/text";                       // [U]
constexpr const char *kContribSimilarity = "heads/contrib_similarity"; // [L, H, H]
constexpr const char *kAttnResidRatio = "blocks/attn_resid_ratio";     // [L, T]
constexpr const char *kMlpResidRatio = "blocks/mlp_resid_ratio";       // [L, T]
// Trace attributes (not datasets) of a trace made with the tuned lens decoder.
constexpr const char *kTunedLensPathAttr = "tuned_lens_path";     // string
constexpr const char *kTunedLensSha256Attr = "tuned_lens_sha256"; // string, lowercase hex
// Direct logit attribution of the model's top-1 token (TRACE.md, SCHEMA-ADDITIONS.md).
constexpr const char *kDlaHeads = "heads/dla";               // [L, H, T]
constexpr const char *kDlaBlocks = "blocks/dla";             // [L, 2, T] attention, MLP
constexpr const char *kDlaEmbed = "blocks/dla_embed";        // [T]
constexpr const char *kDlaRest = "blocks/dla_rest";          // [T]
constexpr const char *kDlaLogit = "blocks/dla_logit";        // [T]
constexpr const char *kDlaTokenIds = "blocks/dla_token_ids"; // [T] int32
// Activation patching (SCHEMA-ADDITIONS.md), kept with the clean prompt's trace.
constexpr const char *kPatchingGroup = "analysis/patching";
constexpr const char *kPatchingRecovered = "analysis/patching/recovered";   // [5, L, T] float32
constexpr const char *kPatchingHeads = "analysis/patching/heads_recovered"; // [L, H, T] float32
constexpr const char *kPatchingCorruptedIds = "analysis/patching/corrupted_ids";   // [T] int32
constexpr const char *kPatchingCorruptedText = "analysis/patching/corrupted_text"; // [T] string

// The required [L,H,T] head metrics and where they live in a Trace.
struct HeadMetric {
    const char *path;
    FloatArray Trace::*field;
};
inline const std::array<HeadMetric, 5> &headMetrics()
{
    static const std::array<HeadMetric, 5> metrics = {{
        {"heads/contrib_norm", &Trace::contribNorm},
        {"heads/contrib_cosine", &Trace::contribCosine},
        {"heads/contrib_projection", &Trace::contribProjection},
        {"heads/attn_entropy", &Trace::attnEntropy},
        {"heads/value_norm", &Trace::valueNorm},
    }};
    return metrics;
}

inline std::string lensGroup(Site s)
{
    return std::string("lens/") + siteName(s);
}
inline std::string lensTopkIds(Site s)
{
    return lensGroup(s) + "/topk_ids";
}
inline std::string lensTopkProbs(Site s)
{
    return lensGroup(s) + "/topk_probs";
}
inline std::string lensEntropy(Site s)
{
    return lensGroup(s) + "/entropy";
}
inline std::string residual(Site s)
{
    return std::string("residual/") + siteName(s);
}

// Optional [L, H, T] head datasets (issue 8), read when present.
inline const std::array<HeadMetric, 2> &optionalHeadMetrics()
{
    static const std::array<HeadMetric, 2> metrics = {{
        {"heads/resid_ratio", &Trace::residRatio},
        {"heads/resid_projection", &Trace::residProjection},
    }};
    return metrics;
}

// Head roles (SCHEMA-ADDITIONS.md "head_roles"): an analysis of a trace's model, in
// /traces/<name>/analysis/head_roles; the names below are relative to that group.
constexpr const char *kHeadRolesGroup = "head_roles";
inline std::string headRoleDataset(HeadRole r) // [L, H] float64, one per role
{
    return headRoleName(r);
}
struct HeadRolesNames {
    const char *meanDistance = "mean_distance"; // [L, H] float64
    const char *tokens = "tokens";              // [S, 2n + 1] int32, the probe's sequences
    // attributes
    const char *nLayers = "n_layers", *nHeads = "n_heads", *nQueries = "n_queries",
               *nRepeatQueries = "n_repeat_queries", *sequenceLength = "sequence_length",
               *sequences = "sequences", *seed = "seed", *source = "source",
               *positions = "positions", *modelFingerprint = "model_fingerprint";
};
inline const HeadRolesNames &headRolesNames()
{
    static const HeadRolesNames names;
    return names;
}

} // namespace HeadLens::HlProj
