#pragma once
// A loaded transformer and the forward pass with taps. This header is free of torch: the
// model module links libtorch PRIVATE, and nothing else in HeadLens ever sees a torch type.
//
// Capture follows llama.cpp's callback: the engine asks a CaptureSink whether it wants a
// quantity before computing or copying anything optional for it, and asks between layers
// whether to stop (then it throws Cancelled).

#include "headlens/model/patching.h"
#include "headlens/trace/layerstream.h"
#include "headlens/trace/trace.h"
#include "headlens/trace/tracecost.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace HeadLens {

class Tokenizer;
struct TunedLens;

struct LoadOptions {
    std::string tokenizerPath; // overrides the folder's tokenizer; required for llama2.c files
    std::string dtype = "f32"; // compute dtype: f32, bf16, f16
    int threads = 0;           // 0: one per core
    // Working memory of one block of attention rows: a long prompt's attention scores are made
    // a block of query rows at a time, so a layer never holds all of [H, T, T] (2 GB per
    // tensor for Llama-2-7B at 4096 tokens).
    int64_t attentionBlockBytes = kDefaultAttentionBlockBytes;
    // Working memory of one block of the heads' vectors (H per position, or H + 2 in bf16 and
    // f16 with attn_out and resid_pre), which the head metrics take a block of positions at a
    // time.
    int64_t headBlockBytes = kDefaultHeadBlockBytes;
};

enum class Tap {
    ResidPre,
    AttnOut,
    ResidMid,
    MlpOut,
    ResidPost,   // [pos, d_model]
    Pattern,     // [head, query_pos, key_pos]
    Z,           // [pos, head, d_head]
    HeadMetrics, // see HeadMetricsView
    Change,      // see CaptureSink::change
};
Tap tapForSite(Site s);

// A read-only float32 view, valid only during the callback.
struct TensorView {
    const float *data = nullptr;
    std::vector<int64_t> shape;
};

struct HeadMetricsView {          // float32, valid during the callback
    TensorView contribNorm;       // [head, pos]
    TensorView contribCosine;     // [head, pos]
    TensorView contribProjection; // [head, pos]
    TensorView attnEntropy;       // [head, pos]
    TensorView valueNorm;         // [head, key_pos]
    TensorView residRatio;        // [head, pos] ||result_h|| / ||resid_pre||
    TensorView residProjection;   // [head, pos] <result_h, resid_pre> / ||resid_pre||
    TensorView contribSimilarity; // [head, head] mean over positions of cos(result_h, result_g)
    TensorView attnResidRatio;    // [pos] ||attn_out|| / ||resid_pre||
    TensorView mlpResidRatio;     // [pos] ||mlp_out|| / ||resid_mid||
};

struct LensView {                     // one site of one layer, or the final logits
    const int32_t *topkIds = nullptr; // [pos, k]
    const float *topkProbs = nullptr; // [pos, k]
    const float *entropy = nullptr;   // [pos]
    int nPos = 0;
    int k = 0;
};

class CaptureSink {
public:
    virtual ~CaptureSink();
    virtual bool wants(Tap tap, int layer) = 0;
    virtual bool wantsLens(Site site, int layer) = 0;
    virtual void tensor(Tap tap, int layer, const TensorView &v) = 0;
    // Whether attention comes as blocks of query rows (attentionRows) instead of one
    // [head, query_pos, key_pos] tensor per layer (tensor(Tap::Pattern, ...)), which a long
    // prompt makes large.
    virtual bool wantsAttentionRows() { return false; }
    // Rows [q0, q0 + rows) of layer l's attention: [head, rows, key_pos] (asked with
    // wants(Tap::Pattern, l), when wantsAttentionRows()).
    virtual void attentionRows(int layer, int64_t q0, const TensorView &rows)
    {
        (void)layer, (void)q0, (void)rows;
    }
    virtual void heads(int layer, const HeadMetricsView &m) = 0;
    virtual void lens(Site site, int layer, const LensView &v) = 0;
    virtual void logits(const LensView &v) = 0;
    // Whether the final logits' top-k and entropy are wanted (they cost a softmax over V).
    virtual bool wantsLogits() { return true; }
    // Change of meaning in layer l (asked with wants(Tap::Change, l)), both [pos]:
    // 1 - cos(resid_pre, resid_post), and KL(lens(resid_post) || lens(resid_pre)) in nats
    // (NaN unless the lens of both sites is wanted in that layer).
    virtual void change(int layer, const float *cosineDistance, const float *kl, int nPos)
    {
        (void)layer, (void)cosineDistance, (void)kl, (void)nPos;
    }
    // Whether the direct logit attribution of the model's top-1 token is wanted: the pass then
    // keeps every layer's z and mlp_out (8·L·T·d_model bytes in f32) until the final logits
    // say which token each position predicts, and hands the result to attribution().
    virtual bool wantsAttribution() { return false; }
    virtual void attribution(const LogitAttribution &a) { (void)a; }
    // Asked between layers; returning true makes the forward pass throw Cancelled.
    virtual bool cancelled() { return false; }
    virtual void progress(int layerDone, int nLayers) { (void)layerDone, (void)nLayers; }
};

struct LensOptions {
    int topk = 10;
    LensNorm norm = LensNorm::Full;
    LensDecoder decoder = LensDecoder::Output;
    std::shared_ptr<const TunedLens> tuned; // decoder Tuned only: its translators
};

// An edit of one site vector for propagate/inject (TRACE.md "Propagate and inject").
struct VectorEdit {
    using Kind = EditKind;
    Kind kind = Kind::Unchanged;
    Site site = Site::ResidPost;
    int layer = 0;
    int pos = 0;
    int subtractCount = 1; // Subtract: remove the lens top token this many times, iteratively
    int32_t injectId = -1; // Inject: the token whose decoder direction replaces the top one
    std::string toJson() const;
};

// One step of iterative decoding (TRACE.md): the most likely token of the remaining vector,
// its probability then, and the norm of the remaining vector before it was removed.
struct DecodeStep {
    int32_t id = 0;
    float prob = 0;
    float norm = 0;
};

class Model {
public:
    // Loads a Hugging Face folder (safetensors) or a llama2.c checkpoint file. Throws
    // InputError naming the file and the problem when the model cannot be used.
    static std::unique_ptr<Model> load(const std::string &path, const LoadOptions &opts = {});
    ~Model();
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;

    const ModelConfig &config() const;
    const std::string &name() const;        // folder or file name
    const std::string &path() const;        // absolute
    const std::string &fingerprint() const; // sha256 hex over config and weight headers
    const std::string &computeDtype() const;
    const std::string &format() const;  // "hf-safetensors", "llama2c-v0", "llama2c-v1"
    const Tokenizer *tokenizer() const; // null when the model has none
    int64_t weightBytes() const;        // bytes of all weights as stored
    bool convertsWeights() const;       // stored in another dtype than the compute one

    // Tokens of text (InputError when there is no tokenizer). Without a tokenizer, texts
    // of ids read "[id]".
    std::vector<TokenInfo> tokenize(const std::string &text, bool addBos = true) const;
    std::vector<TokenInfo> tokensFromIds(const std::vector<int32_t> &ids) const;
    std::string decode(const std::vector<int32_t> &ids) const;
    // InputError unless every id is in the vocabulary and the sequence fits the context.
    void checkIds(const std::vector<int32_t> &ids, int extraTokens = 0) const;

    // The forward pass over ids, handing every wanted quantity to sink (null: plain forward).
    // With an edit, the vector at (edit.site, edit.layer, edit.pos) is replaced on the way.
    void run(const std::vector<int32_t> &ids, CaptureSink *sink, const LensOptions &lens = {},
             const VectorEdit *edit = nullptr);
    // Iterative decoding of the vector at (site, layer, pos) of the forward pass over ids,
    // with the lens's norm and decoder: at most maxSteps steps, stopping early as TRACE.md says.
    std::vector<DecodeStep> decompose(const std::vector<int32_t> &ids, Site site, int layer,
                                      int pos, const LensOptions &lens, int maxSteps);
    // Direct logit attribution (TRACE.md) of the forward pass over ids: the logit of token at
    // every position (-1: the model's own top-1 there), minus the logit of minus when it is
    // not -1. InputError for a token outside the vocabulary.
    LogitAttribution attribute(const std::vector<int32_t> &ids, int32_t token = -1,
                               int32_t minus = -1);
    // Logits of the plain forward pass, [pos, vocab].
    FloatArray logits(const std::vector<int32_t> &ids);
    // n greedily generated ids after ids (stops after EOS when stopAtEos). generated(k) is
    // called after each token, with the count so far (progress).
    std::vector<int32_t> generate(const std::vector<int32_t> &ids, int n, bool stopAtEos = true,
                                  const std::function<bool()> &cancelled = {},
                                  const VectorEdit *edit = nullptr, const LensOptions &lens = {},
                                  const std::function<void(int)> &generated = {});

    // Activation patching of corrupted by clean, prompts of the same token count (patching.h).
    // InputError when the counts differ or a token is outside the vocabulary.
    PatchMap patch(const std::vector<int32_t> &clean, const std::vector<int32_t> &corrupted,
                   const PatchOptions &opts);

    struct Impl;
    // For the engine's own files (Impl is defined in a private header of modules/model).
    Impl &impl() { return *d; }

private:
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

struct TraceOptions {
    LensOptions lens;
    StoreType attention = StoreType::F16;
    StoreType residuals = StoreType::F16;
    StoreType z = StoreType::None;
    int generate = 0;                 // greedily generated tokens appended and traced
    const VectorEdit *edit = nullptr; // propagate/inject: applied in generation and the trace
    // When set, attention, residuals and z go here layer by layer as they are computed, and
    // the returned Trace leaves those arrays empty (their StoreTypes still say what is stored).
    LayerStream *stream = nullptr;
    // Attention whose dense form would take more bytes than this is stored sparsely (the keys
    // that hold 99% of each row). 8 GB: Yi-34B's 60 layers at 1024 tokens fit (7.0 GB), while
    // Llama-2-7B at 4096 tokens (34 GB) goes sparse.
    int64_t attentionBudgetBytes = kDefaultAttentionBudgetBytes;
    std::function<bool()> cancelled;
    std::function<void(const std::string &stage, int done, int total)> progress;
};

// Runs tokens through the model and returns a complete Trace (metadata, tokens, lens of all
// five sites, logits, head metrics, and the optional data asked for). The name is left empty.
Trace traceTokens(Model &model, std::vector<TokenInfo> tokens, const std::string &prompt,
                  const TraceOptions &opts);

// Seconds of the fastest of `repeat` plain libtorch matmuls [rows, inner] x [inner, cols] in
// the given compute dtype: the yardstick the bench command holds the lens against.
double timePlainMatmul(int64_t rows, int64_t inner, int64_t cols, const std::string &dtype,
                       int repeat);

// Propagate/inject: tokens 0..edit.pos of parent, the edit applied, then n tokens generated
// greedily, all traced. The result names parent as its parent and carries edit.toJson().
Trace propagate(Model &model, const Trace &parent, const VectorEdit &edit, int n,
                const TraceOptions &opts);

// Sets libtorch's intra-op threads (0: one per core) and returns the number in use.
int setEngineThreads(int n);

} // namespace HeadLens
