#pragma once
// The plain data of a trace: one run of one model on one prompt, with every quantity of
// shared/design/TRACE.md. Field names follow HLPROJ.md so that the file layout and the
// in-memory layout read the same. Not a QObject; documents wrap it.

#include "headlens/trace/array.h"

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace HeadLens {

// The five sites of the residual stream, per layer.
enum class Site { ResidPre = 0, AttnOut, ResidMid, MlpOut, ResidPost };
constexpr int kSiteCount = 5;
const char *siteName(Site s); // "resid_pre", ...
std::optional<Site> siteFromName(const std::string &name);
const std::array<Site, kSiteCount> &allSites();
// Relative depth of a site of layer l in a model of L layers (TRACE.md "Lens").
double siteDepth(Site s, int layer, int nLayers);

// How propagate changes the vector of one site (TRACE.md "Propagate and inject"): not at
// all, minus its top lens tokens, or with a token's direction in place of its top one. The
// names are the requests' "kind" and a child trace's edit JSON.
enum class EditKind { Unchanged = 0, Subtract, Inject };
const char *editKindName(EditKind k); // "unchanged", "subtract", "inject"
std::optional<EditKind> editKindFromName(const std::string &name);

// The name a new trace gets beside others: base itself, else the first of base-2, base-3, ...
// that taken() says is free.
std::string freeTraceName(const std::string &base,
                          const std::function<bool(const std::string &)> &taken);

// A model's vocabulary as the lookup of a token given as text needs it (here, without the
// model, so that every face of HeadLens finds the same token).
struct TokenVocabulary {
    int size = 0;
    std::function<std::string(int32_t)> piece;    // the token as the tokenizer stores it
    std::function<std::string(int32_t)> readable; // its readable form (TokenInfo::text)
    std::function<std::vector<int32_t>(const std::string &)> encode; // text, no BOS
};
// The token a user means by text: the one whose piece is text, else the one whose readable
// form is, else the one token text encodes to. InputError naming text when there is none.
int32_t tokenIdOfText(const std::string &text, const TokenVocabulary &vocab);

enum class LensNorm { Full, Unit, None };
// Tuned: the output matrix after a learned affine translator per site (a tuned lens file,
// headlens/model/tunedlens.h); the trace records the file's path and SHA-256.
enum class LensDecoder { Output, Input, Linear, Quadratic, Tuned };
// How an optional large dataset is stored: not at all, as float16, or as float32.
enum class StoreType { None, F16, F32 };

const char *lensNormName(LensNorm n);
const char *lensDecoderName(LensDecoder d);
const char *storeTypeName(StoreType t); // "none", "f16", "f32"
std::optional<LensNorm> lensNormFromName(const std::string &s);
std::optional<LensDecoder> lensDecoderFromName(const std::string &s);
std::optional<StoreType> storeTypeFromName(const std::string &s);

// The architecture of a model: what HLPROJ.md's `model_config` holds.
struct ModelConfig {
    std::string architecture = "llama"; // "llama" (incl. Mistral, Yi) or "gpt2"
    int nLayers = 0;
    int nHeads = 0;
    int nKvHeads = 0;
    int dModel = 0;
    int dHead = 0;
    int dFfn = 0;
    int vocabSize = 0;
    int maxSeqLen = 0; // context length the model was trained for
    double ropeTheta = 10000.0;
    double ropeScaling = 1.0; // linear rope scaling factor (positions divided by it)
    double normEps = 1e-5;
    bool tiedEmbeddings = false;
    bool attnBias = false;    // q/k/v projection biases
    bool attnOutBias = false; // o_proj bias
    bool mlpBias = false;
    std::string activation = "silu"; // silu (SwiGLU, Llama), gelu_new (tanh), gelu (erf)
    int bosId = -1;                  // -1: the model uses none
    int eosId = -1;

    bool operator==(const ModelConfig &o) const;
};

// One token of a trace.
struct TokenInfo {
    int32_t id = 0;
    std::string text;   // readable form (byte tokens as <0xE2>, newline as ↵)
    int32_t begin = -1; // [begin, end) offsets in the prompt, in Unicode code points
    int32_t end = -1;   // -1 -1 when the token has no characters (BOS, generated)
};

// Lens results of one site for every layer and position.
struct LensSite {
    IntArray topkIds;     // [layer, pos, k]
    FloatArray topkProbs; // [layer, pos, k]
    FloatArray entropy;   // [layer, pos]  nats
    bool empty() const { return topkIds.empty(); }
};

// Direct logit attribution (TRACE.md "Direct logit attribution"): what each part of the model
// writes into the residual stream, read as the logit of one token (or the difference of two)
// through the final norm with its scale held at the value the whole residual gives it. The
// parts add up: embed + sum over layers of blocks + rest = logit, up to float rounding.
struct LogitAttribution {
    IntArray tokenIds; // [pos] the token whose logit is attributed (at trace time the top-1)
    IntArray minusIds; // [pos] the token whose logit is subtracted; empty: none
    FloatArray heads;  // [layer, head, pos]  each head's vector result_h
    FloatArray blocks; // [layer, 2, pos]  attn_out (o_proj bias included), mlp_out
    FloatArray embed;  // [pos]  resid_pre[0] (token embedding, and GPT-2's position embedding)
    FloatArray rest;   // [pos]  the final LayerNorm's bias, and what an edit added (else 0)
    FloatArray logit;  // [pos]  the model's own final logit (difference)
    bool empty() const { return heads.empty(); }
};

struct Trace {
    // --- metadata (HLPROJ.md attributes)
    std::string name;
    std::string prompt;
    std::string modelName;
    std::string modelPath;
    std::string modelFingerprint;
    ModelConfig config;
    LensNorm lensNorm = LensNorm::Full;
    LensDecoder lensDecoder = LensDecoder::Output;
    int topk = 10;
    std::string computeDtype = "f32";
    std::string created; // ISO 8601 UTC
    std::string appVersion;
    int nPromptTokens = 0;       // tokens at and after this index were generated
    std::string parent;          // propagate/inject only
    std::string edit;            // JSON of the edit, propagate/inject only
    std::string tunedLensPath;   // lensDecoder Tuned only: the lens file
    std::string tunedLensSha256; // and the SHA-256 of its bytes

    // --- tokens
    std::vector<TokenInfo> tokens; // [pos]
    // Readable text of every id that appears in the trace (tokens, lens and logits top-k), so
    // a project shows its tokens without the model's tokenizer. Stored as vocab/ids, vocab/text.
    std::map<int32_t, std::string> vocab;

    // --- lens per site (index with int(Site))
    std::array<LensSite, kSiteCount> lens;

    // --- the model's own next-token prediction
    IntArray logitsTopkIds;     // [pos, k]
    FloatArray logitsTopkProbs; // [pos, k]
    FloatArray logitsEntropy;   // [pos]

    // --- change of meaning per layer (TRACE.md "Attention versus change of meaning")
    FloatArray changeCosine; // [layer, pos] 1 - cos(resid_pre, resid_post)
    FloatArray changeKl;     // [layer, pos] KL(lens(resid_post) || lens(resid_pre)), nats

    // --- per-head metrics (TRACE.md "Head metrics")
    FloatArray contribNorm;       // [layer, head, pos]
    FloatArray contribCosine;     // [layer, head, pos]
    FloatArray contribProjection; // [layer, head, pos]
    FloatArray attnEntropy;       // [layer, head, pos]
    FloatArray valueNorm;         // [layer, head, key_pos]

    // --- weight on the residual and head redundancy (additions to HLPROJ v1; optional)
    FloatArray residRatio;        // [layer, head, pos] ||result_h|| / ||resid_pre||
    FloatArray residProjection;   // [layer, head, pos] <result_h, resid_pre> / ||resid_pre||
    FloatArray attnResidRatio;    // [layer, pos] ||attn_out|| / ||resid_pre||
    FloatArray mlpResidRatio;     // [layer, pos] ||mlp_out|| / ||resid_mid||
    FloatArray contribSimilarity; // [layer, head, head] mean cos(result_h, result_g) over pos

    // --- direct logit attribution of the model's top-1 token (an addition; optional)
    LogitAttribution dla;

    // --- optional large data; StoreType says how it is (to be) stored in the file
    FloatArray attentionPattern; // [layer, head, query_pos, key_pos]
    StoreType attentionStore = StoreType::None;
    // Stored sparsely: per row the keys that hold 99% of its weight (at most 128), the rest
    // left out (SCHEMA-ADDITIONS.md); attentionPattern, when read, has 0 for them.
    bool attentionSparse = false;
    std::array<FloatArray, kSiteCount> residual; // each [layer, pos, d_model]
    StoreType residualStore = StoreType::None;
    FloatArray z; // [layer, pos, head, d_head]
    StoreType zStore = StoreType::None;

    int nTokens() const { return static_cast<int>(tokens.size()); }
    std::vector<int32_t> tokenIds() const;
    // vocab's text for id, or "[id]" when the trace does not know it.
    std::string idText(int32_t id) const;
};

// Current time as ISO 8601 UTC, e.g. 2026-11-28T14:30:00Z.
std::string isoNowUtc();

} // namespace HeadLens
