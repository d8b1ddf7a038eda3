#pragma once
// The Llama forward pass on libtorch tensors, shared by the engine (engine.cpp) and the
// example-model trainer. Module-private: this header includes ATen and must never be included
// from a header of another module (ARCHITECTURE.md: torch stays inside modules/model).
// Model::Impl's bodies live in llamaforward.cpp, llamalens.cpp, llamaedits.cpp and
// llamaheads.cpp, so ATen's headers are compiled for each job once; the small helpers below
// stay inline, as linear() runs for every matrix product of every layer.

#include "headlens/model/model.h"
#include "headlens/model/patching.h"
#include "headlens/model/tokenizer.h"
#include "headlens/trace/error.h"
#include "kernels.h"
#include "weights.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace HeadLens {

namespace detail {

inline at::ScalarType scalarType(DType t)
{
    switch (t) {
    case DType::F32:
        return at::kFloat;
    case DType::F16:
        return at::kHalf;
    case DType::BF16:
        return at::kBFloat16;
    default:
        throw InputError(std::string("weights of dtype ") + dtypeName(t) + " are not supported");
    }
}

// A tensor over the mapped bytes, in the dtype they are stored in (never a copy). The mapping
// is read-only: nothing below ever writes into a weight in place. Matrices stay like this:
// linear() converts them a tile at a time, so a bf16 model computed in f32 holds no f32 copy
// of any layer, and pages of a model larger than RAM can be evicted and read again.
inline at::Tensor stored(const TensorEntry &e)
{
    return at::from_blob(const_cast<void *>(e.data), e.shape,
                         at::TensorOptions().dtype(scalarType(e.dtype)));
}

// A converted copy when the stored dtype differs from ct: for vectors (norms, biases) and for
// GPT-2, whose Conv1D matrices are used transposed.
inline at::Tensor weight(const TensorEntry &e, at::ScalarType ct)
{
    at::Tensor t = stored(e);
    return t.scalar_type() == ct ? t : t.to(ct);
}

// Rows of a [rows, in] weight per converted tile: 16 MiB of f32, at least 16 rows.
inline int64_t tileRows(int64_t in, int64_t rows)
{
    return std::clamp<int64_t>((int64_t(4) << 20) / std::max<int64_t>(1, in), 16,
                               std::max<int64_t>(1, rows));
}

// x [..., in] times w^T for a weight w [out, in] in any stored dtype, in x's dtype. A weight
// of x's dtype is used as it lies; any other is converted a tile of rows at a time into one
// reused buffer, right before its product.
inline at::Tensor linear(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
    if (w.scalar_type() == x.scalar_type())
        return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
    const int64_t in = w.size(1), out = w.size(0);
    const at::Tensor x2 = x.reshape({-1, in});
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = out;
    at::Tensor y = at::empty({x2.size(0), out}, x.options());
    const int64_t R = tileRows(in, out);
    at::Tensor tile = at::empty({R, in}, x.options()), part;
    for (int64_t r0 = 0; r0 < out; r0 += R) {
        const int64_t n = std::min(R, out - r0);
        at::Tensor t = tile.narrow(0, 0, n);
        t.copy_(w.narrow(0, r0, n));
        part = at::mm(x2, t.t());
        y.narrow(1, r0, n).copy_(part);
    }
    if (b.defined()) y.add_(b.to(x.scalar_type()));
    return y.view(shape);
}

// Rows [r0, r0 + n) of a weight in dtype ct (a view when it is stored so).
inline at::Tensor rowsAs(const at::Tensor &w, int64_t r0, int64_t n, at::ScalarType ct)
{
    const at::Tensor r = w.narrow(0, r0, n);
    return r.scalar_type() == ct ? r : r.to(ct);
}

// llama2.c rotates adjacent pairs (2i, 2i+1); Hugging Face rotates halves (i, i + dh/2). The
// two are the same model up to this permutation of the q/k rows inside every head.
inline at::Tensor adjacentToHalves(const at::Tensor &w, int nHeads, int dh)
{
    std::vector<int64_t> perm(size_t(nHeads) * dh);
    for (int h = 0; h < nHeads; ++h)
        for (int j = 0; j < dh; ++j)
            perm[size_t(h * dh + j)] = h * dh + (j < dh / 2 ? 2 * j : 2 * (j - dh / 2) + 1);
    at::Tensor idx = at::tensor(perm, at::kLong);
    return w.index_select(0, idx).contiguous();
}

struct LayerWeights {
    at::Tensor attnNorm, attnNormB, wq, wk, wv, wo, bq, bk, bv, bo;     // *NormB: LayerNorm bias
    at::Tensor ffnNorm, ffnNormB, wGate, wUp, wDown, bGate, bUp, bDown; // wGate: Llama only
    at::Tensor woGram; // [H, dh, dh] float32, Wo_h^T Wo_h; built on first use
};

struct EditHook {
    Site site = Site::ResidPost;
    int layer = 0;
    int64_t pos = 0;
    std::function<at::Tensor(const at::Tensor &row)> f; // [D] -> [D], same dtype
};

struct KvCache {
    std::vector<at::Tensor> k, v; // per layer [Hkv, pos, dh]
};

inline at::Tensor rotateHalf(const at::Tensor &x)
{
    const int64_t half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// Holds a float32 copy of a tensor for a sink callback.
struct F32 {
    at::Tensor t;
    explicit F32(const at::Tensor &x) : t(x.to(at::kFloat).contiguous()) {}
    TensorView view() const
    {
        TensorView v;
        v.data = t.data_ptr<float>();
        v.shape.assign(t.sizes().begin(), t.sizes().end());
        return v;
    }
};

// Lens output for one block of rows, ready to hand to a sink.
struct LensBlock {
    at::Tensor ids;     // [rows, k] int32
    at::Tensor probs;   // [rows, k] float32
    at::Tensor entropy; // [rows] float32
    LensView view(int64_t row0, int64_t nRows) const
    {
        LensView v;
        v.k = int(ids.size(1));
        v.nPos = int(nRows);
        v.topkIds = ids.data_ptr<int32_t>() + row0 * v.k;
        v.topkProbs = probs.data_ptr<float>() + row0 * v.k;
        v.entropy = entropy.data_ptr<float>() + row0;
        return v;
    }
};

// What the head metrics of one layer need beyond the forward pass: the per-position metrics
// (made with attn_out, so again for a position whose attn_out is edited) and float32 resid_pre.
struct HeadCapture {
    at::Tensor
        perHead; // [5, H, T] float32: norm, cosine, projection, resid ratio, resid projection
    at::Tensor attnRatio;  // [T] float32
    at::Tensor pairCosine; // [T, H, H] float64
    at::Tensor residPre;   // [T, D] float32, contiguous
    Kernels::HeadDotsOut out() const
    {
        Kernels::HeadDotsOut o;
        o.T = attnRatio.size(0);
        float *m = perHead.data_ptr<float>();
        const int64_t n = perHead.size(1) * perHead.size(2);
        o.contribNorm = m;
        o.contribCosine = m + n;
        o.contribProjection = m + 2 * n;
        o.residRatio = m + 3 * n;
        o.residProjection = m + 4 * n;
        o.attnResidRatio = attnRatio.data_ptr<float>();
        o.pairCosine = pairCosine.data_ptr<double>();
        return o;
    }
};

// What direct logit attribution keeps of one forward pass: the direction a position's logit
// is read along is known only once the last layer is done, so each layer's parts wait here.
struct DlaCapture {
    std::vector<at::Tensor> z;      // per layer [T, H*dh], compute dtype
    std::vector<at::Tensor> mlpOut; // per layer [T, D], before any edit
    at::Tensor embed;               // [T, D] resid_pre[0]
    at::Tensor final;               // [T, D] resid_post[L-1], before the final norm
    at::Tensor edited;              // [T, D] float32, what edits added to the stream; or none
    void addEdit(const at::Tensor &delta)
    {
        const at::Tensor d = delta.to(at::kFloat);
        edited = edited.defined() ? edited + d : d;
    }
};

inline TensorView viewOf(const at::Tensor &t) // t: float32, contiguous
{
    TensorView v;
    v.data = t.data_ptr<float>();
    v.shape.assign(t.sizes().begin(), t.sizes().end());
    return v;
}

// Items per task for at::parallel_for over items of `work` multiply-adds each: waking the
// other threads costs about as much as 2^18 of them here, so smaller loops run on one thread.
inline int64_t grainFor(int64_t work)
{
    return std::max<int64_t>(1, (int64_t(1) << 18) / std::max<int64_t>(1, work));
}

} // namespace detail

using namespace detail;

struct Model::Impl {
    WeightSet ws;
    ModelConfig cfg;
    std::string name, path, dtypeName, format;
    at::ScalarType ct = at::kFloat;
    std::unique_ptr<Tokenizer> tokenizer;
    at::Tensor embed, finalNorm, lmHead; // lmHead aliases embed when tied
    bool gpt2 = false;                   // GPT-2: LayerNorm, learned positions, GELU MLP
    at::Tensor posEmbed, finalNormB;     // GPT-2 only
    std::vector<LayerWeights> layers;
    at::Tensor ropeCos, ropeSin; // [positions, dh] in the compute dtype
    // Working memory of one block of attention rows (LoadOptions::attentionBlockBytes).
    int64_t attnBlockBytes = kDefaultAttentionBlockBytes;
    // Working memory of one block of the heads' vectors (LoadOptions::headBlockBytes).
    int64_t headBlockBytes = kDefaultHeadBlockBytes;

    // --- The forward pass and its parts (llamaforward.cpp).

    // The model's normalisation: RMSNorm (Llama) or LayerNorm (GPT-2), in float32. Without
    // g (and b) it only normalises: the lens's "unit" norm.
    at::Tensor rms(const at::Tensor &x, const at::Tensor &g, const at::Tensor &b = {}) const;

    at::Tensor mlp(const at::Tensor &m, const LayerWeights &w) const;

    void ensureRope(int64_t positions);

    // One pass over the layers. With a cache, ids are new tokens after cache positions and
    // nothing is captured. Returns the final-norm hidden states [T, D]. When `stopAt` is
    // given, the pass stops after that site of that layer and returns its vectors instead.
    at::Tensor forward(const std::vector<int32_t> &ids, CaptureSink *sink, const LensOptions &lo,
                       KvCache *cache, const EditHook *edit = nullptr,
                       std::pair<Site, int> *stopAt = nullptr, DlaCapture *dla = nullptr);

    // The vector of one site at one position, from a forward pass over ids (float32 [D]).
    at::Tensor siteVector(const std::vector<int32_t> &ids, Site site, int layer, int pos);

    // A damaged weight (a NaN, an overflow) turns every later number into NaN and the trace into
    // garbage: each layer's output is checked (one pass over [T, D]), and when it is not
    // finite, the first site and position that are not say where it began. Inference only: the
    // trainer (grad mode) is left alone.
    void checkFinite(int l, int64_t past,
                     const std::array<const at::Tensor *, kSiteCount> &sites) const;

    // The same for the model's logits [rows, V] (float32): the output matrix can be damaged too.
    void checkFiniteLogits(const at::Tensor &logits) const;

    // Causal attention of one layer, a block of query rows at a time so that a long prompt's
    // [H, T, Tk] scores are never all held at once: each block's scores, masked scores and
    // probabilities (float32) stay within attnBlockBytes. q [H, T, dh], k and v [Hkv, Tk, dh];
    // query head h reads kv head h / group. Each block's attention rows go to the sink as they
    // are made when it takes rows, else they are gathered into one [H, T, Tk] tensor for it;
    // the attention entropy of every row is made on the way when asked for.
    struct Attention {
        at::Tensor z;       // [H, T, dh], compute dtype
        at::Tensor pattern; // [H, T, Tk] float32, for a sink that takes whole layers
        at::Tensor entropy; // [H, T] float32, nats
    };
    Attention attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                        const at::Tensor &mask, double scale, int group, int l, CaptureSink *sink,
                        bool wantEntropy) const;

    // --- The logit lens (llamalens.cpp).

    // Decoder logits of normalised rows n [rows, D] for rows whose relative depths are
    // `depth` (used by the linear and quadratic decoders only).
    at::Tensor decoderLogits(const at::Tensor &n, LensDecoder dec,
                             const std::vector<double> &depth);

    // Top-k (ids, probabilities) and entropy of every row of logits [rows, V] (float32).
    static LensBlock lensOfLogits(const at::Tensor &logits, int k);

    // The tuned lens's translation of site vectors v [..., D] of (s, layer) (tunedlens.h), in
    // v's dtype; v itself for any other decoder.
    at::Tensor translate(const at::Tensor &v, Site s, int layer, const LensOptions &o) const;

    // The vector the decoder sees: N(v) of TRACE.md.
    at::Tensor lensNorm(const at::Tensor &v, LensNorm norm) const;

    // Rows [r0, r0 + n) of the decoder matrix at relative depth d, in dtype t. Never the
    // whole [V, D] matrix: a mixed decoder is mixed a tile at a time, in t.
    at::Tensor decoderRows(LensDecoder dec, double d, int64_t r0, int64_t n,
                           at::ScalarType t) const;

    // The decoder matrix at depth d times e [D] in float64, a tile of rows at a time: [V].
    at::Tensor decoderTimes(LensDecoder dec, double d, const at::Tensor &e) const;

    // Lens of the wanted sites of one layer (site tensors [T, D]; undefined = not wanted),
    // in blocks of positions so the [rows, V] logits stay small. When resid_pre and
    // resid_post are both wanted, kl receives KL(post || pre) per position.
    // resid_pre[l] is the very vector resid_post[l-1]: with a depth-free decoder its lens is
    // carried over from the layer below (with its logits, for the KL) instead of recomputed.
    struct LensCarry {
        LensBlock post;
        at::Tensor logits;      // [T, V] resid_post's decoder logits
        at::Tensor max, logSum; // [T] float32, float64: log p = (logit - max) - logSum
        bool valid = false;
    };

    void layerLens(const std::array<at::Tensor, kSiteCount> &sites, int layer, const LensOptions &o,
                   std::array<LensBlock, kSiteCount> &out, at::Tensor *kl, LensCarry *carry);

    // --- Vector edits at one site, layer and position (llamaedits.cpp).

    // Replaces row `pos` of t by f(row) when (site, layer) is the edited one and pos lies in
    // the positions [past, past + T) that t holds.
    static void applyEdit(const EditHook *edit, Site site, int layer, int64_t past, at::Tensor &t);

    // The lens top-1 token of vector v at (site, layer).
    int32_t lensTop1(const at::Tensor &v, Site site, int layer, const LensOptions &lo);

    // How the lens reads a vector r of the decoder's space (a decoder row) from a site
    // vector v, in float64: <r, translate(v)> = <W^T r, v> + <r, b>, so direction W^T r and
    // offset <r, b> for the tuned lens (offset 0 for the translators of attn_out and mlp_out,
    // which have no bias); r and 0 for the logit lenses, and for a site the tuned lens leaves
    // untranslated.
    struct LensReading {
        at::Tensor direction; // [D]
        double offset = 0;
    };
    LensReading readingOf(const at::Tensor &r, Site site, int layer, const LensOptions &lo) const;

    // How the lens reads a token's logit before the norm's 1/rms scale: the decoder row,
    // scaled by the final norm's weight for the full norm (N(v) = g * v / rms(v)), read
    // through the translator. Subtracting direction * (<direction, v> + offset) / |direction|^2
    // from v zeroes that logit, by the smallest change to v that does.
    LensReading tokenReading(int32_t id, Site site, int layer, const LensOptions &lo) const;

    EditHook makeEdit(const VectorEdit &e, const LensOptions &lo);

    // --- Direct logit attribution (llamadla.cpp).

    // The attribution of a captured pass along, per position t, the unembedding row of
    // token[t] minus that of minus[t] (minus empty or -1: none), read through the final norm
    // with the scale of the final residual held fixed. hidden [T, D] is the pass's final-norm
    // output (the model's logit is hidden . direction).
    LogitAttribution attribute(const DlaCapture &c, const at::Tensor &hidden,
                               const std::vector<int32_t> &token,
                               const std::vector<int32_t> &minus);

    // --- Head metrics (llamaheads.cpp).

    // Wo_h^T Wo_h per head [H, dh, dh] in float32 (value norms), made once per layer by one
    // batched float32 product: in float64 it took as long as the rest of a layer's head
    // metrics at Yi-34B's shape. The value norms it gives stay within tst_engine's tolerance
    // of the float64 reference.
    const at::Tensor &woGram(int l);

    // The heads' vectors result_h[t] = Wo_h z_h[t] (TRACE.md) of an f32 compute, a block of
    // positions at a time [H, c, D], summed into attn_out (plus the o_proj bias, which belongs
    // to no head); from their dot products with each other, attn_out and resid_pre (float32
    // products summed in float64), every per-position head metric (into hc). Each block is one
    // product per head over c positions: a product per position would read all of W_o once
    // per token (205 MB at Yi-34B's shape). Returns attn_out [T, D].
    at::Tensor headOutputs(int l, const at::Tensor &z, const at::Tensor &residPre, HeadCapture &hc);
    // headOutputs for a bf16 compute: attn_out from one product with W_o as in a plain pass,
    // the heads' vectors and all their dot products as bf16 matrix products (oneDNN), which
    // keeps the metrics' cost a share of the bf16 pass, at bf16's precision (about 3
    // significant digits).
    at::Tensor headOutputsLowPrecision(int l, const at::Tensor &z, const at::Tensor &residPre,
                                       HeadCapture &hc);
    // The capture's float32 buffers for T positions, and resid_pre in float32.
    void startHeadCapture(const at::Tensor &residPre, int64_t T, HeadCapture &hc) const;

    // W_o as per-head slices [H, dh, D] in dtype t: a view of a weight stored so, else one
    // conversion for the layer.
    at::Tensor woHeads(const LayerWeights &w, at::ScalarType t) const;

    // Positions per block of head vectors: as many as headBlockBytes holds at bytesPerPosition
    // (at least one). The default 128 MiB makes each product a GEMM over positions: 83 of them
    // in float32 at Yi-34B's shape, where 32 MiB gave 20 and the products ran at half the
    // speed of the pass's own (capture / plain 1.37 at 1024 tokens against 1.20).
    int64_t headChunk(int64_t T, int64_t bytesPerPosition) const;

    // After an edit replaced attn_out's vector at `row`, that position's metrics anew.
    void redoHeadRow(int l, const at::Tensor &z, const at::Tensor &attnOut, int64_t row,
                     HeadCapture &hc);

    // TRACE.md head metrics: the per-position ones from headOutputs, the attention entropy,
    // the value norms through the Gram matrices Wo_h^T Wo_h (||Wo_h v||^2 = v^T G_h v), the
    // heads' mean mutual cosines and the MLP's weight on the residual.
    void headMetrics(int l, CaptureSink *sink, const HeadCapture &hc, const at::Tensor &v,
                     const at::Tensor &ent, int group, const at::Tensor &residMid,
                     const at::Tensor &mlpOut);

    // --- Activation patching (llamapatch.cpp).

    struct PatchRun; // the two runs' captures and the batched continuation
    PatchMap patchMap(const std::vector<int32_t> &clean, const std::vector<int32_t> &corrupted,
                      const PatchOptions &o);
};

} // namespace HeadLens
