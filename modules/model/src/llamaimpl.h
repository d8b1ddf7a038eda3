#pragma once
// The Llama forward pass on libtorch tensors, shared by the engine (engine.cpp) and the
// example-model trainer. Module-private: this header includes ATen and must never be included
// from a header of another module (ARCHITECTURE.md: torch stays inside modules/model).

#include "headlens/model/model.h"
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
    at::Tensor attnNorm, attnNormB, wq, wk, wv, wo, bq, bk, bv, bo;  // *NormB: LayerNorm bias
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
    at::Tensor perHead;    // [5, H, T] float32: norm, cosine, projection, resid ratio, resid projection
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

    // The model's normalisation: RMSNorm (Llama) or LayerNorm (GPT-2), in float32. Without
    // g (and b) it only normalises: the lens's "unit" norm.
    at::Tensor rms(const at::Tensor &x, const at::Tensor &g, const at::Tensor &b = {}) const
    {
        at::Tensor xf = x.to(at::kFloat);
        at::Tensor y;
        if (gpt2) {
            at::Tensor c = xf - xf.mean(-1, true);
            y = c * at::rsqrt(c.pow(2).mean(-1, true) + cfg.normEps);
        } else {
            y = xf * at::rsqrt(xf.pow(2).mean(-1, true) + cfg.normEps);
        }
        if (g.defined())
            y = y * g.to(at::kFloat);
        if (b.defined())
            y = y + b.to(at::kFloat);
        return y.to(ct);
    }

    at::Tensor mlp(const at::Tensor &m, const LayerWeights &w) const
    {
        if (!gpt2)
            return linear(at::silu(linear(m, w.wGate, w.bGate)) * linear(m, w.wUp, w.bUp), w.wDown,
                          w.bDown);
        at::Tensor h = linear(m, w.wUp, w.bUp);
        h = cfg.activation == "gelu" ? at::gelu(h) : at::gelu(h, "tanh");
        return linear(h, w.wDown, w.bDown);
    }

    void ensureRope(int64_t positions)
    {
        if (ropeCos.defined() && ropeCos.size(0) >= positions)
            return;
        const int dh = cfg.dHead;
        at::Tensor c = at::empty({positions, dh}, at::kDouble);
        at::Tensor s = at::empty({positions, dh}, at::kDouble);
        double *cp = c.data_ptr<double>(), *sp = s.data_ptr<double>();
        for (int64_t p = 0; p < positions; ++p) {
            for (int i = 0; i < dh / 2; ++i) {
                const double invFreq = std::pow(cfg.ropeTheta, -2.0 * i / dh);
                const double a = (double(p) / cfg.ropeScaling) * invFreq;
                cp[p * dh + i] = cp[p * dh + i + dh / 2] = std::cos(a);
                sp[p * dh + i] = sp[p * dh + i + dh / 2] = std::sin(a);
            }
        }
        ropeCos = c.to(ct);
        ropeSin = s.to(ct);
    }

    // Wo_h^T Wo_h per head [H, dh, dh] in float32 (value norms), made once per layer by one
    // batched float32 product: in float64 it took as long as the rest of a layer's head
    // metrics at Yi-34B's shape. The value norms it gives stay within tst_engine's tolerance
    // of the float64 reference.
    const at::Tensor &woGram(int l)
    {
        LayerWeights &w = layers[size_t(l)];
        if (!w.woGram.defined()) {
            const at::Tensor woh = woHeads(w, at::kFloat); // [H, dh, D]
            w.woGram = at::bmm(woh, woh.transpose(1, 2)).contiguous();
        }
        return w.woGram;
    }

    // Decoder logits of normalised rows n [rows, D] for rows whose relative depths are
    // `depth` (used by the linear and quadratic decoders only).
    at::Tensor decoderLogits(const at::Tensor &n, LensDecoder dec, const std::vector<double> &depth)
    {
        if (cfg.tiedEmbeddings || dec == LensDecoder::Output)
            return linear(n, lmHead, at::Tensor()).to(at::kFloat);
        if (dec == LensDecoder::Input) return linear(n, embed, at::Tensor()).to(at::kFloat);
        at::Tensor le = linear(n, embed, at::Tensor()).to(at::kFloat);
        at::Tensor lu = linear(n, lmHead, at::Tensor()).to(at::kFloat);
        std::vector<float> w(depth.size());
        for (size_t i = 0; i < depth.size(); ++i)
            w[i] = float(dec == LensDecoder::Linear ? depth[i] : depth[i] * depth[i]);
        at::Tensor wt = at::tensor(w, at::kFloat).unsqueeze(1);
        return le * (1 - wt) + lu * wt;
    }

    // Top-k (ids, probabilities) and entropy of every row of logits [rows, V] (float32).
    static LensBlock lensOfLogits(const at::Tensor &logits, int k)
    {
        const at::Tensor x = logits.contiguous();
        const int64_t rows = x.size(0), V = x.size(1);
        LensBlock b{at::empty({rows, k}, at::kInt), at::empty({rows, k}, at::kFloat),
                    at::empty({rows}, at::kFloat)};
        at::Tensor mx = at::empty({rows}, at::kFloat), ls = at::empty({rows}, at::kDouble);
        at::parallel_for(0, rows, 1, [&](int64_t r0, int64_t r1) {
            Kernels::lensRows(x.data_ptr<float>(), V, k, r0, r1, b.ids.data_ptr<int32_t>(),
                              b.probs.data_ptr<float>(), b.entropy.data_ptr<float>(),
                              mx.data_ptr<float>(), ls.data_ptr<double>());
        });
        return b;
    }

    // The vector the decoder sees: N(v) of TRACE.md.
    at::Tensor lensNorm(const at::Tensor &v, LensNorm norm) const
    {
        switch (norm) {
        case LensNorm::Full:
            return rms(v, finalNorm, finalNormB);
        case LensNorm::Unit:
            return rms(v, at::Tensor());
        case LensNorm::None:
            break;
        }
        return v.to(ct);
    }

    // Rows [r0, r0 + n) of the decoder matrix at relative depth d, in dtype t. Never the
    // whole [V, D] matrix: a mixed decoder is mixed a tile at a time, in t.
    at::Tensor decoderRows(LensDecoder dec, double d, int64_t r0, int64_t n, at::ScalarType t) const
    {
        if (cfg.tiedEmbeddings || dec == LensDecoder::Output) return rowsAs(lmHead, r0, n, t);
        if (dec == LensDecoder::Input) return rowsAs(embed, r0, n, t);
        const double w = dec == LensDecoder::Linear ? d : d * d;
        return rowsAs(embed, r0, n, t) * (1 - w) + rowsAs(lmHead, r0, n, t) * w;
    }

    // The decoder matrix at depth d times e [D] in float64, a tile of rows at a time: [V].
    at::Tensor decoderTimes(LensDecoder dec, double d, const at::Tensor &e) const
    {
        const int64_t V = cfg.vocabSize, R = tileRows(2 * cfg.dModel, V);
        at::Tensor out = at::empty({V}, at::kDouble);
        for (int64_t r0 = 0; r0 < V; r0 += R) {
            const int64_t n = std::min(R, V - r0);
            out.narrow(0, r0, n).copy_(at::mv(decoderRows(dec, d, r0, n, at::kDouble), e));
        }
        return out;
    }

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
                   std::array<LensBlock, kSiteCount> &out, at::Tensor *kl, LensCarry *carry)
    {
        const bool depthFree = cfg.tiedEmbeddings || o.decoder == LensDecoder::Output ||
                               o.decoder == LensDecoder::Input;
        const bool reusePre = carry && carry->valid && depthFree &&
                              sites[size_t(Site::ResidPre)].defined();
        std::vector<int> want;
        for (int s = 0; s < kSiteCount; ++s)
            if (sites[size_t(s)].defined() && !(reusePre && s == int(Site::ResidPre)))
                want.push_back(s);
        if (reusePre)
            out[size_t(Site::ResidPre)] = carry->post;
        if (want.empty()) {
            if (carry)
                carry->valid = false;
            return;
        }
        const int64_t T = sites[size_t(want[0])].size(0), V = cfg.vocabSize;
        const int64_t S = int64_t(want.size());
        const int k = std::min<int>(o.topk, cfg.vocabSize);
        // Rows per matmul: enough that packing the [V, D] decoder is amortised (~260 rows at
        // V = 32k), while the [rows, V] logits, the one large buffer per block, stay within
        // 32 MiB. A decoder stored in another dtype is converted tile by tile for every block,
        // so then blocks are up to 8x larger (256 MiB: ~1000 rows at V = 64k), which keeps
        // the conversion within a few percent of the product.
        const bool converted = lmHead.scalar_type() != ct || embed.scalar_type() != ct;
        const int64_t budget = int64_t(converted ? 256 : 32) << 20;
        const int64_t rowsPerBlock = std::clamp<int64_t>(budget / (4 * V), 64, 2048);
        const int64_t block = std::max<int64_t>(1, rowsPerBlock / S);
        const bool withKl = kl && sites[size_t(Site::ResidPre)].defined() &&
                            sites[size_t(Site::ResidPost)].defined();
        // Each site's outputs, and the log-softmax of its rows (max and log-sum per row).
        std::array<at::Tensor, kSiteCount> rowMax, rowLogSum;
        for (int s : want) {
            out[size_t(s)] = LensBlock{at::empty({T, k}, at::kInt), at::empty({T, k}, at::kFloat),
                                       at::empty({T}, at::kFloat)};
            rowMax[size_t(s)] = at::empty({T}, at::kFloat);
            rowLogSum[size_t(s)] = at::empty({T}, at::kDouble);
        }
        if (reusePre) {
            rowMax[size_t(Site::ResidPre)] = carry->max;
            rowLogSum[size_t(Site::ResidPre)] = carry->logSum;
        }
        if (withKl)
            *kl = at::empty({T}, at::kFloat);
        // Keep resid_post's logits [T, V] for the next layer when they fit in 256 MiB. The
        // buffer is reused: rows [p0, p0 + nb) of the layer below are read (for the KL) before
        // this layer's rows overwrite them, by the same thread.
        const bool keepPost = carry && depthFree && sites[size_t(Site::ResidPost)].defined() &&
                              T * V * 4 <= (int64_t(256) << 20);
        at::Tensor postStore;
        if (keepPost)
            postStore = carry->logits.defined() && carry->logits.size(0) == T
                            ? carry->logits
                            : at::empty({T, V}, at::kFloat);
        std::vector<double> depth;
        int postAt = -1, preAt = -1; // the sites' places among the wanted ones
        for (size_t i = 0; i < want.size(); ++i) {
            depth.push_back(siteDepth(Site(want[i]), layer, cfg.nLayers));
            if (want[i] == int(Site::ResidPost))
                postAt = int(i);
            if (want[i] == int(Site::ResidPre))
                preAt = int(i);
        }
        const auto f32 = [](const at::Tensor &t) { return t.data_ptr<float>(); };
        const auto f64 = [](const at::Tensor &t) { return t.data_ptr<double>(); };
        for (int64_t p0 = 0; p0 < T; p0 += block) {
            const int64_t nb = std::min(block, T - p0);
            std::vector<at::Tensor> rows;
            std::vector<double> rowDepth;
            for (size_t i = 0; i < want.size(); ++i) {
                rows.push_back(lensNorm(sites[size_t(want[i])].narrow(0, p0, nb), o.norm));
                rowDepth.insert(rowDepth.end(), size_t(nb), depth[i]);
            }
            const at::Tensor logits = decoderLogits(at::cat(rows, 0), o.decoder, rowDepth).contiguous();
            const float *L = f32(logits);
            const auto siteRows = [&](int i) { return L + int64_t(i) * nb * V; };
            // Positions [q0, q1) of the block: every site's lens, the KL, the carried rows.
            at::parallel_for(0, nb, 1, [&](int64_t q0, int64_t q1) {
                for (size_t i = 0; i < want.size(); ++i) {
                    const LensBlock &b = out[size_t(want[i])];
                    Kernels::lensRows(siteRows(int(i)), V, k, q0, q1, b.ids.data_ptr<int32_t>() + p0 * k,
                                      f32(b.probs) + p0 * k, f32(b.entropy) + p0,
                                      f32(rowMax[size_t(want[i])]) + p0,
                                      f64(rowLogSum[size_t(want[i])]) + p0);
                }
                const size_t post = size_t(Site::ResidPost), pre = size_t(Site::ResidPre);
                if (withKl) {
                    const float *preRows = reusePre ? f32(carry->logits) + p0 * V : siteRows(preAt);
                    Kernels::klRows(siteRows(postAt), f32(rowMax[post]) + p0, f64(rowLogSum[post]) + p0,
                                    preRows, f32(rowMax[pre]) + p0, f64(rowLogSum[pre]) + p0, V, q0,
                                    q1, f32(*kl) + p0);
                }
                if (keepPost)
                    std::copy(siteRows(postAt) + q0 * V, siteRows(postAt) + q1 * V,
                              f32(postStore) + (p0 + q0) * V);
            });
        }
        if (carry) {
            carry->valid = keepPost;
            if (keepPost) {
                carry->post = out[size_t(Site::ResidPost)];
                carry->logits = postStore;
                carry->max = rowMax[size_t(Site::ResidPost)];
                carry->logSum = rowLogSum[size_t(Site::ResidPost)];
            } else {
                carry->logits = at::Tensor();
            }
        }
    }

    // Replaces row `pos` of t by f(row) when (site, layer) is the edited one and pos lies in
    // the positions [past, past + T) that t holds.
    static void applyEdit(const EditHook *edit, Site site, int layer, int64_t past, at::Tensor &t)
    {
        if (!edit || edit->site != site || edit->layer != layer)
            return;
        const int64_t row = edit->pos - past;
        if (row < 0 || row >= t.size(0))
            return;
        at::Tensor copy = t.clone();
        copy.select(0, row).copy_(edit->f(t.select(0, row)));
        t = copy;
    }

    // One pass over the layers. With a cache, ids are new tokens after cache positions and
    // nothing is captured. Returns the final-norm hidden states [T, D]. When `stopAt` is
    // given, the pass stops after that site of that layer and returns its vectors instead.
    at::Tensor forward(const std::vector<int32_t> &ids, CaptureSink *sink, const LensOptions &lo,
                       KvCache *cache, const EditHook *edit = nullptr,
                       std::pair<Site, int> *stopAt = nullptr)
    {
        const int64_t T = int64_t(ids.size());
        const int L = cfg.nLayers, H = cfg.nHeads, Hkv = cfg.nKvHeads, dh = cfg.dHead;
        const int group = H / Hkv;
        const int64_t past = (cache && !cache->k.empty() && cache->k[0].defined())
                                 ? cache->k[0].size(1)
                                 : 0;
        if (cache && cache->k.empty()) {
            cache->k.resize(size_t(L));
            cache->v.resize(size_t(L));
        }
        at::Tensor cosT, sinT; // RoPE tables (Llama only: GPT-2 learns its positions)
        if (!gpt2) {
            ensureRope(past + T);
            cosT = ropeCos.narrow(0, past, T);
            sinT = ropeSin.narrow(0, past, T);
        }

        std::vector<int64_t> idv(ids.begin(), ids.end());
        at::Tensor x = embed.index_select(0, at::tensor(idv, at::kLong)).to(ct);
        if (gpt2) {
            if (past + T > posEmbed.size(0))
                throw InputError("position " + std::to_string(past + T - 1) +
                                 " is beyond the model's " + std::to_string(posEmbed.size(0)) +
                                 " learned positions");
            x = x + posEmbed.narrow(0, past, T);
        }

        const int64_t Tk = past + T;
        // Masked scores are a large finite negative, not -inf: their softmax weight is exactly
        // 0 all the same, and log-probabilities (scores - logsumexp) stay finite, so the
        // attention entropy needs no log of the pattern.
        at::Tensor mask = at::full({T, Tk}, -1e30f,
                                   at::TensorOptions().dtype(at::kFloat))
                              .triu(past + 1);
        const double scale = 1.0 / std::sqrt(double(dh));
        auto stopHere = [&](Site s, int l) { return stopAt && stopAt->first == s && stopAt->second == l; };

        LensCarry carry;
        for (int l = 0; l < L; ++l) {
            if (sink && sink->cancelled())
                throw Cancelled();
            const LayerWeights &w = layers[size_t(l)];
            applyEdit(edit, Site::ResidPre, l, past, x);
            at::Tensor residPre = x;
            if (stopHere(Site::ResidPre, l))
                return residPre;

            at::Tensor a = rms(x, w.attnNorm, w.attnNormB);
            at::Tensor q = linear(a, w.wq, w.bq).view({T, H, dh}).transpose(0, 1);
            at::Tensor k = linear(a, w.wk, w.bk).view({T, Hkv, dh}).transpose(0, 1);
            at::Tensor v = linear(a, w.wv, w.bv).view({T, Hkv, dh}).transpose(0, 1);
            if (!gpt2) {
                q = q * cosT + rotateHalf(q) * sinT;
                k = k * cosT + rotateHalf(k) * sinT;
            }
            if (cache) {
                if (past > 0) {
                    k = at::cat({cache->k[size_t(l)], k}, 1);
                    v = at::cat({cache->v[size_t(l)], v}, 1);
                }
                cache->k[size_t(l)] = k.contiguous();
                cache->v[size_t(l)] = v.contiguous();
            }
            const bool wantHeads = sink && sink->wants(Tap::HeadMetrics, l);
            const bool wantPattern = sink && sink->wants(Tap::Pattern, l);
            const Attention att =
                attention(q, k, v, mask, scale, group, l, wantPattern ? sink : nullptr, wantHeads);
            const at::Tensor &z = att.z;
            at::Tensor zc = z.transpose(0, 1).reshape({T, int64_t(H) * dh}); // [pos, head*dh]
            // With head metrics wanted, attn_out is summed from the heads' vectors, which
            // the metrics need anyway, instead of a second product with W_o.
            HeadCapture heads;
            at::Tensor attnOut = wantHeads ? headOutputs(l, z, residPre, heads)
                                           : linear(zc, w.wo, w.bo);
            applyEdit(edit, Site::AttnOut, l, past, attnOut);
            if (wantHeads && edit && edit->site == Site::AttnOut && edit->layer == l)
                redoHeadRow(l, z, attnOut, edit->pos - past, heads);
            if (stopHere(Site::AttnOut, l))
                return attnOut;
            at::Tensor residMid = residPre + attnOut;
            applyEdit(edit, Site::ResidMid, l, past, residMid);
            if (stopHere(Site::ResidMid, l))
                return residMid;

            at::Tensor mlpOut = mlp(rms(residMid, w.ffnNorm, w.ffnNormB), w);
            applyEdit(edit, Site::MlpOut, l, past, mlpOut);
            if (stopHere(Site::MlpOut, l))
                return mlpOut;
            at::Tensor residPost = residMid + mlpOut;
            applyEdit(edit, Site::ResidPost, l, past, residPost);
            if (stopHere(Site::ResidPost, l))
                return residPost;
            x = residPost;
            checkFinite(l, past, {&residPre, &attnOut, &residMid, &mlpOut, &residPost});

            if (sink) {
                const at::Tensor *sites[kSiteCount] = {&residPre, &attnOut, &residMid, &mlpOut,
                                                       &residPost};
                for (Site s : allSites())
                    if (sink->wants(tapForSite(s), l))
                        sink->tensor(tapForSite(s), l, F32(*sites[int(s)]).view());
                if (att.pattern.defined()) sink->tensor(Tap::Pattern, l, viewOf(att.pattern));
                if (sink->wants(Tap::Z, l))
                    sink->tensor(Tap::Z, l, F32(zc.view({T, H, dh})).view());
                if (wantHeads) headMetrics(l, sink, heads, v, att.entropy, group, residMid, mlpOut);

                std::array<at::Tensor, kSiteCount> lensIn;
                for (Site s : allSites())
                    if (sink->wantsLens(s, l))
                        lensIn[size_t(s)] = *sites[int(s)];
                std::array<LensBlock, kSiteCount> lensOut;
                at::Tensor kl;
                if (edit && edit->site == Site::ResidPre && edit->layer == l)
                    carry.valid = false; // the edit made resid_pre differ from resid_post below
                layerLens(lensIn, l, lo, lensOut, &kl, &carry);
                for (Site s : allSites())
                    if (lensIn[size_t(s)].defined())
                        sink->lens(s, l, lensOut[size_t(s)].view(0, T));
                if (sink->wants(Tap::Change, l)) {
                    const at::Tensor pre = residPre.to(at::kFloat).contiguous();
                    const at::Tensor post = residPost.to(at::kFloat).contiguous();
                    at::Tensor cosd = at::empty({T}, at::kFloat);
                    at::parallel_for(0, T, grainFor(3 * cfg.dModel), [&](int64_t r0, int64_t r1) {
                        Kernels::rowCompare(pre.data_ptr<float>(), post.data_ptr<float>(),
                                            cfg.dModel, r0, r1, cosd.data_ptr<float>(), nullptr);
                    });
                    if (!kl.defined())
                        kl = at::full({T}, std::numeric_limits<float>::quiet_NaN(), at::kFloat);
                    F32 kv(kl.view({1, T}));
                    sink->change(l, cosd.data_ptr<float>(), kv.view().data, int(T));
                }
                sink->progress(l + 1, L);
            }
        }
        return rms(x, finalNorm, finalNormB);
    }

    // The vector of one site at one position, from a forward pass over ids (float32 [D]).
    at::Tensor siteVector(const std::vector<int32_t> &ids, Site site, int layer, int pos)
    {
        if (layer < 0 || layer >= cfg.nLayers)
            throw InputError("layer " + std::to_string(layer) + " is outside [0, " +
                             std::to_string(cfg.nLayers) + ")");
        if (pos < 0 || pos >= int(ids.size()))
            throw InputError("position " + std::to_string(pos) + " is outside the " +
                             std::to_string(ids.size()) + " tokens");
        std::pair<Site, int> stop(site, layer);
        std::vector<int32_t> head(ids.begin(), ids.begin() + pos + 1); // causal: later tokens don't matter
        return forward(head, nullptr, {}, nullptr, nullptr, &stop).select(0, pos);
    }

    // The lens top-1 token of vector v at (site, layer).
    int32_t lensTop1(const at::Tensor &v, Site site, int layer, const LensOptions &lo)
    {
        at::Tensor n = lensNorm(v.unsqueeze(0), lo.norm);
        const double d = siteDepth(site, layer, cfg.nLayers);
        return int32_t(decoderLogits(n, lo.decoder, {d}).argmax(-1).item<int64_t>());
    }

    // The direction in site space whose removal zeroes a token's lens logit: for the full
    // norm the decoder row scaled by the final norm's weight (N(v) = g * v / rms(v)).
    at::Tensor tokenDirection(int32_t id, Site site, int layer, const LensOptions &lo)
    {
        at::Tensor row =
            decoderRows(lo.decoder, siteDepth(site, layer, cfg.nLayers), id, 1, at::kDouble)[0];
        if (lo.norm == LensNorm::Full)
            row = row * finalNorm.to(at::kDouble);
        return row;
    }

    EditHook makeEdit(const VectorEdit &e, const LensOptions &lo)
    {
        if (e.layer < 0 || e.layer >= cfg.nLayers)
            throw InputError("edit layer " + std::to_string(e.layer) + " is outside [0, " +
                             std::to_string(cfg.nLayers) + ")");
        if (e.kind == VectorEdit::Kind::Inject && (e.injectId < 0 || e.injectId >= cfg.vocabSize))
            throw InputError("token id " + std::to_string(e.injectId) + " to inject is outside the vocabulary");
        if (e.kind == VectorEdit::Kind::Subtract && e.subtractCount < 1)
            throw InputError("subtract at least one token");
        EditHook h;
        h.site = e.site;
        h.layer = e.layer;
        h.pos = e.pos;
        const VectorEdit edit = e;
        h.f = [this, edit, lo](const at::Tensor &row) -> at::Tensor {
            at::Tensor v = row.to(at::kDouble);
            switch (edit.kind) {
            case VectorEdit::Kind::Unchanged:
                return row;
            case VectorEdit::Kind::Subtract:
                for (int i = 0; i < edit.subtractCount; ++i) {
                    const int32_t top = lensTop1(v.to(ct), edit.site, edit.layer, lo);
                    at::Tensor u = tokenDirection(top, edit.site, edit.layer, lo);
                    v = v - ((v * u).sum() / (u * u).sum().clamp_min(1e-300)) * u;
                }
                break;
            case VectorEdit::Kind::Inject: {
                const double d = siteDepth(edit.site, edit.layer, cfg.nLayers);
                const int32_t top = lensTop1(row, edit.site, edit.layer, lo);
                at::Tensor c = decoderRows(lo.decoder, d, top, 1, at::kDouble)[0];
                at::Tensor e2 = decoderRows(lo.decoder, d, edit.injectId, 1, at::kDouble)[0];
                c = c / c.norm().clamp_min(1e-300);
                e2 = e2 / e2.norm().clamp_min(1e-300);
                v = v + (v * c).sum() * (e2 - c);
                break;
            }
            }
            return v.to(row.scalar_type());
        };
        return h;
    }

    // The heads' vectors result_h[t] = Wo_h z_h[t] (TRACE.md), in float32 whatever the compute
    // dtype (with libtorch 1.13's batched bf16 product on the CPU, a bf16 capture at Yi-34B's
    // shape took 5.6 s instead of 2.4 s), for a block of positions at a time [H, c, D], summed into
    // attn_out (plus the o_proj bias, which belongs to no head); from their dot products with each
    // other, attn_out and resid_pre, every per-position head metric (into hc). Each block is one
    // product per head over c positions: a product per position would read all of W_o once per
    // token (205 MB at Yi-34B's shape). Returns attn_out [T, D].
    at::Tensor headOutputs(int l, const at::Tensor &z, const at::Tensor &residPre, HeadCapture &hc)
    {
        const LayerWeights &w = layers[size_t(l)];
        const int H = cfg.nHeads;
        const int64_t T = z.size(1), D = cfg.dModel;
        const int64_t chunk = headChunk(T);
        const at::Tensor woh = woHeads(w, at::kFloat); // [H, dh, D]
        const at::Tensor zf = z.to(at::kFloat);
        const at::Tensor bias = w.bo.defined() ? w.bo.to(at::kFloat).contiguous() : at::Tensor();
        const float *biasData = bias.defined() ? bias.data_ptr<float>() : nullptr;
        hc.residPre = residPre.to(at::kFloat).contiguous();
        hc.perHead = at::empty({5, H, T}, at::kFloat);
        hc.attnRatio = at::empty({T}, at::kFloat);
        hc.pairCosine = at::empty({T, H, H}, at::kDouble);
        const Kernels::HeadDotsOut out = hc.out();
        at::Tensor attnOut = at::empty({T, D}, at::kFloat);
        for (int64_t t0 = 0; t0 < T; t0 += chunk) {
            const int64_t c = std::min(chunk, T - t0);
            const at::Tensor r = at::bmm(zf.narrow(1, t0, c), woh).contiguous();
            Kernels::HeadBlock b;
            b.r = r.data_ptr<float>();
            b.headStride = c * D;
            b.attnOut = attnOut.data_ptr<float>();
            b.residPre = hc.residPre.data_ptr<float>();
            b.H = H;
            b.D = D;
            b.t0 = t0;
            at::parallel_for(0, c, grainFor((H + 2) * (H + 3) / 2 * D), [&](int64_t i0, int64_t i1) {
                Kernels::sumHeads(b, biasData, i0, i1, attnOut.data_ptr<float>());
                Kernels::headDots(b, i0, i1, out);
            });
        }
        return attnOut.to(ct);
    }

    // W_o as per-head slices [H, dh, D] in dtype t: a view of a weight stored so, else one
    // conversion for the layer.
    at::Tensor woHeads(const LayerWeights &w, at::ScalarType t) const
    {
        const int64_t D = cfg.dModel;
        return w.wo.to(t).view({D, int64_t(cfg.nHeads), int64_t(cfg.dHead)}).permute({1, 2, 0});
    }

    // Positions per block of head vectors: [H, c, D] float32 within 32 MiB, and at least 16
    // positions, so that each product is a GEMM over positions at every shape.
    int64_t headChunk(int64_t T) const
    {
        const int64_t perPos = int64_t(cfg.nHeads) * cfg.dModel;
        return std::clamp<int64_t>((int64_t(8) << 20) / perPos, std::min<int64_t>(T, 16), T);
    }

    // A damaged weight (a NaN, an overflow) turns every later number into NaN and the trace into
    // garbage: each layer's output is checked (one pass over [T, D]), and when it is not
    // finite, the first site and position that are not say where it began. Inference only: the
    // trainer (grad mode) is left alone.
    void checkFinite(int l, int64_t past,
                     const std::array<const at::Tensor *, kSiteCount> &sites) const
    {
        if (at::GradMode::is_enabled() || at::isfinite(*sites[kSiteCount - 1]).all().item<bool>())
            return;
        for (Site s : allSites()) {
            const at::Tensor bad = ~at::isfinite(*sites[int(s)]).all(1); // [T]
            if (!bad.any().item<bool>()) continue;
            const int64_t pos = bad.nonzero()[0][0].item<int64_t>() + past;
            throw InputError("the model's numbers stop being finite (NaN or infinity) at layer " +
                             std::to_string(l) + ", " + siteName(s) + ", position " +
                             std::to_string(pos) + ": its weights (" + path +
                             ") or config are damaged");
        }
    }

    // The same for the model's logits [rows, V] (float32): the output matrix can be damaged too.
    void checkFiniteLogits(const at::Tensor &logits) const
    {
        if (!at::GradMode::is_enabled() && !at::isfinite(logits).all().item<bool>())
            throw InputError("the model's logits are not finite (NaN or infinity) though its "
                             "last layer is: its output matrix or final norm (" +
                             path + ") is damaged");
    }

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
                        bool wantEntropy) const
    {
        const int64_t H = q.size(0), T = q.size(1), dh = q.size(2), Hkv = k.size(0), Tk = k.size(1);
        const int64_t rows = std::clamp<int64_t>(attnBlockBytes / (H * Tk * 12), 1, T);
        const bool toSink = sink && sink->wantsAttentionRows();
        Attention a;
        if (wantEntropy) a.entropy = at::empty({H, T}, at::kFloat);
        if (sink && !toSink && rows < T) a.pattern = at::empty({H, T, Tk}, at::kFloat);
        const at::Tensor kt = k.transpose(1, 2);
        for (int64_t q0 = 0; q0 < T; q0 += rows) {
            const int64_t nb = std::min(rows, T - q0);
            const at::Tensor qb = q.narrow(1, q0, nb).reshape({Hkv, int64_t(group) * nb, dh});
            at::Tensor scores = at::bmm(qb, kt).view({H, nb, Tk}).to(at::kFloat);
            scores = scores * scale + mask.narrow(0, q0, nb);
            const at::Tensor p = at::softmax(scores, -1); // [H, nb, Tk] float32
            at::Tensor zb =
                at::bmm(p.to(ct).view({Hkv, int64_t(group) * nb, Tk}), v).view({H, nb, dh});
            if (nb == T) {
                a.z = zb; // one block: no copy (and the trainer's autograd sees plain ops)
            } else {
                if (!a.z.defined()) a.z = at::empty({H, T, dh}, zb.options());
                a.z.narrow(1, q0, nb).copy_(zb);
            }
            if (wantEntropy) {
                at::Tensor e = at::empty({H, nb}, at::kFloat);
                const at::Tensor s = scores.contiguous(), pc = p.contiguous();
                at::parallel_for(0, H * nb, grainFor(Tk), [&](int64_t r0, int64_t r1) {
                    Kernels::softmaxEntropy(s.data_ptr<float>(), pc.data_ptr<float>(), nb, Tk,
                                            Tk - T + q0, r0, r1, e.data_ptr<float>());
                });
                a.entropy.narrow(1, q0, nb).copy_(e);
            }
            if (toSink)
                sink->attentionRows(l, q0, viewOf(p.contiguous()));
            else if (sink && nb == T)
                a.pattern = p.contiguous(); // one block: the whole layer as it is
            else if (sink)
                a.pattern.narrow(1, q0, nb).copy_(p);
        }
        return a;
    }

    // After an edit replaced attn_out's vector at `row`, that position's metrics anew.
    void redoHeadRow(int l, const at::Tensor &z, const at::Tensor &attnOut, int64_t row, HeadCapture &hc)
    {
        if (row < 0 || row >= attnOut.size(0))
            return;
        const int H = cfg.nHeads;
        const int64_t D = cfg.dModel;
        const at::Tensor woh = woHeads(layers[size_t(l)], at::kFloat);
        const at::Tensor r =
            at::bmm(z.narrow(1, row, 1).to(at::kFloat), woh).contiguous(); // [H, 1, D]
        const at::Tensor ao = attnOut.to(at::kFloat).contiguous();
        Kernels::HeadBlock b;
        b.r = r.data_ptr<float>();
        b.headStride = D;
        b.attnOut = ao.data_ptr<float>();
        b.residPre = hc.residPre.data_ptr<float>();
        b.H = H;
        b.D = D;
        b.t0 = row;
        Kernels::headDots(b, 0, 1, hc.out());
    }

    // TRACE.md head metrics: the per-position ones from headOutputs, the attention entropy,
    // the value norms through the Gram matrices Wo_h^T Wo_h (||Wo_h v||^2 = v^T G_h v), the
    // heads' mean mutual cosines and the MLP's weight on the residual.
    void headMetrics(int l, CaptureSink *sink, const HeadCapture &hc, const at::Tensor &v,
                     const at::Tensor &ent, int group, const at::Tensor &residMid,
                     const at::Tensor &mlpOut)
    {
        const int H = cfg.nHeads;
        const int64_t T = hc.attnRatio.size(0), Tk = v.size(1), D = cfg.dModel;
        const at::Tensor &G = woGram(l);
        at::Tensor vh = v.to(at::kFloat);
        if (group > 1)
            vh = vh.repeat_interleave(group, 0); // [H, Tk, dh]
        if (vh.stride(2) != 1)
            vh = vh.contiguous();
        const at::Tensor vG = at::bmm(vh, G).contiguous(); // [H, Tk, dh]
        at::Tensor vnorm = at::empty({H, Tk}, at::kFloat);
        Kernels::quadraticNorms(vG.data_ptr<float>(), vh.data_ptr<float>(), vh.stride(0), vh.stride(1),
                                Tk, cfg.dHead, 0, H * Tk, vnorm.data_ptr<float>());
        at::Tensor sim = at::empty({H, H}, at::kFloat);
        Kernels::meanPairCosine(hc.pairCosine.data_ptr<double>(), T, H, sim.data_ptr<float>());
        at::Tensor mlpRatio = at::empty({T}, at::kFloat);
        {
            const at::Tensor m = mlpOut.to(at::kFloat).contiguous();
            const at::Tensor r = residMid.to(at::kFloat).contiguous();
            at::parallel_for(0, T, grainFor(2 * D), [&](int64_t r0, int64_t r1) {
                Kernels::rowCompare(m.data_ptr<float>(), r.data_ptr<float>(), D, r0, r1, nullptr,
                                    mlpRatio.data_ptr<float>());
            });
        }
        const at::Tensor &m = hc.perHead;
        const HeadMetricsView mv{viewOf(m[0]),  viewOf(m[1]),         viewOf(m[2]),
                                 viewOf(ent),   viewOf(vnorm),        viewOf(m[3]),
                                 viewOf(m[4]),  viewOf(sim),          viewOf(hc.attnRatio),
                                 viewOf(mlpRatio)};
        sink->heads(l, mv);
    }
};

} // namespace HeadLens
