// The forward pass with taps: the only translation unit of HeadLens that includes libtorch
// (ATen) headers. Everything TRACE.md defines is computed here, from tensors that wrap the
// memory-mapped weight files without copies whenever the stored dtype is the compute dtype.

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/trace/error.h"
#include "weights.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace HeadLens {

CaptureSink::~CaptureSink() = default;

Tap tapForSite(Site s) { return static_cast<Tap>(static_cast<int>(s)); }

int setEngineThreads(int n)
{
    if (n <= 0)
        n = std::max(1u, std::thread::hardware_concurrency());
    at::set_num_threads(n);
    return at::get_num_threads();
}

double timePlainMatmul(int64_t rows, int64_t inner, int64_t cols, const std::string &dtype,
                       int repeat)
{
    at::NoGradGuard noGrad;
    const at::ScalarType ct = dtype == "bf16" ? at::kBFloat16 : at::kFloat;
    at::Tensor a = at::randn({rows, inner}).to(ct), b = at::randn({cols, inner}).to(ct);
    double best = 1e300;
    for (int i = 0; i < std::max(1, repeat); ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        at::Tensor c = at::matmul(a, b.t());
        (void)c.data_ptr();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

namespace {

at::ScalarType scalarType(DType t)
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

// A tensor over the mapped bytes (zero-copy) or, when the dtype differs, a converted copy.
// The mapping is read-only: nothing below ever writes into a weight in place.
at::Tensor weight(const TensorEntry &e, at::ScalarType ct)
{
    at::Tensor t = at::from_blob(const_cast<void *>(e.data), e.shape,
                                 at::TensorOptions().dtype(scalarType(e.dtype)));
    return t.scalar_type() == ct ? t : t.to(ct);
}

// llama2.c rotates adjacent pairs (2i, 2i+1); Hugging Face rotates halves (i, i + dh/2). The
// two are the same model up to this permutation of the q/k rows inside every head.
at::Tensor adjacentToHalves(const at::Tensor &w, int nHeads, int dh)
{
    std::vector<int64_t> perm(size_t(nHeads) * dh);
    for (int h = 0; h < nHeads; ++h)
        for (int j = 0; j < dh; ++j)
            perm[size_t(h * dh + j)] = h * dh + (j < dh / 2 ? 2 * j : 2 * (j - dh / 2) + 1);
    at::Tensor idx = at::tensor(perm, at::kLong);
    return w.index_select(0, idx).contiguous();
}

struct LayerWeights {
    at::Tensor attnNorm, wq, wk, wv, wo, bq, bk, bv, bo;
    at::Tensor ffnNorm, wGate, wUp, wDown, bGate, bUp, bDown;
    at::Tensor woGram; // [H, dh, dh] float64, Wo_h^T Wo_h; built on first use
};

struct KvCache {
    std::vector<at::Tensor> k, v; // per layer [Hkv, pos, dh]
};

at::Tensor linear(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
    return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
}

at::Tensor rotateHalf(const at::Tensor &x)
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

} // namespace

struct Model::Impl {
    WeightSet ws;
    ModelConfig cfg;
    std::string name, path, dtypeName, format;
    at::ScalarType ct = at::kFloat;
    std::unique_ptr<Tokenizer> tokenizer;
    at::Tensor embed, finalNorm, lmHead; // lmHead aliases embed when tied
    std::vector<LayerWeights> layers;
    at::Tensor ropeCos, ropeSin; // [positions, dh] in the compute dtype

    at::Tensor rms(const at::Tensor &x, const at::Tensor &g) const
    {
        at::Tensor xf = x.to(at::kFloat);
        at::Tensor y = xf * at::rsqrt(xf.pow(2).mean(-1, true) + cfg.normEps);
        if (g.defined())
            y = y * g.to(at::kFloat);
        return y.to(ct);
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

    const at::Tensor &woGram(int l)
    {
        LayerWeights &w = layers[size_t(l)];
        if (!w.woGram.defined()) {
            const int H = cfg.nHeads, dh = cfg.dHead;
            at::Tensor woh = w.wo.to(at::kDouble).view({cfg.dModel, H, dh}).permute({1, 0, 2});
            w.woGram = at::bmm(woh.transpose(1, 2), woh).contiguous(); // [H, dh, dh]
        }
        return w.woGram;
    }

    // Decoder logits of normalised rows n [rows, D] for rows whose relative depths are
    // `depth` (used by the linear and quadratic decoders only).
    at::Tensor decoderLogits(const at::Tensor &n, LensDecoder dec, const std::vector<double> &depth)
    {
        if (cfg.tiedEmbeddings || dec == LensDecoder::Output)
            return at::matmul(n, lmHead.t()).to(at::kFloat);
        if (dec == LensDecoder::Input)
            return at::matmul(n, embed.t()).to(at::kFloat);
        at::Tensor le = at::matmul(n, embed.t()).to(at::kFloat);
        at::Tensor lu = at::matmul(n, lmHead.t()).to(at::kFloat);
        std::vector<float> w(depth.size());
        for (size_t i = 0; i < depth.size(); ++i)
            w[i] = float(dec == LensDecoder::Linear ? depth[i] : depth[i] * depth[i]);
        at::Tensor wt = at::tensor(w, at::kFloat).unsqueeze(1);
        return le * (1 - wt) + lu * wt;
    }

    // Softmax over the vocabulary of raw logits [rows, V]: top-k and entropy, in float32.
    static void topkEntropy(const at::Tensor &logits, int k, at::Tensor &ids, at::Tensor &probs,
                            at::Tensor &entropy)
    {
        // Elementwise work in sub-blocks of rows that stay in cache; entropy from log-probs
        // (not lse - <p, l>, which cancels badly when the distribution is sharp).
        const int64_t rows = logits.size(0), V = logits.size(1);
        const int64_t sub = std::max<int64_t>(1, (int64_t(1) << 18) / V);
        std::vector<at::Tensor> e, pr, id;
        for (int64_t r0 = 0; r0 < rows; r0 += sub) {
            const int64_t n = std::min(sub, rows - r0);
            at::Tensor logp = at::log_softmax(logits.narrow(0, r0, n), -1);
            at::Tensor p = logp.exp();
            e.push_back((-at::bmm(p.unsqueeze(1), logp.unsqueeze(2)).view({n})).clamp_min(0));
            auto top = at::topk(logp, k, -1, true, true);
            pr.push_back(std::get<0>(top).exp());
            id.push_back(std::get<1>(top).to(at::kInt));
        }
        entropy = at::cat(e, 0).contiguous();
        probs = at::cat(pr, 0).contiguous();
        ids = at::cat(id, 0).contiguous();
    }

    // Lens of rows x [rows, D], processed in blocks that keep the [rows, V] logits small.
    LensBlock lens(const at::Tensor &x, const LensOptions &o, const std::vector<double> &depth)
    {
        const int64_t rows = x.size(0);
        const int k = std::min<int>(o.topk, cfg.vocabSize);
        const int64_t block = std::max<int64_t>(1, (int64_t(1) << 22) / cfg.vocabSize);
        LensBlock out;
        std::vector<at::Tensor> ids, probs, ent;
        for (int64_t r0 = 0; r0 < rows; r0 += block) {
            const int64_t nr = std::min(block, rows - r0);
            at::Tensor v = x.narrow(0, r0, nr);
            at::Tensor n;
            switch (o.norm) {
            case LensNorm::Full:
                n = rms(v, finalNorm);
                break;
            case LensNorm::Unit:
                n = rms(v, at::Tensor());
                break;
            case LensNorm::None:
                n = v.to(ct);
                break;
            }
            std::vector<double> d(depth.begin() + r0, depth.begin() + r0 + nr);
            at::Tensor i, p, e;
            topkEntropy(decoderLogits(n, o.decoder, d), k, i, p, e);
            ids.push_back(i);
            probs.push_back(p);
            ent.push_back(e);
        }
        out.ids = at::cat(ids, 0).contiguous();
        out.probs = at::cat(probs, 0).contiguous();
        out.entropy = at::cat(ent, 0).contiguous();
        return out;
    }

    // One pass over the layers. With a cache, ids are new tokens after cache positions and
    // nothing is captured. Returns the final-norm hidden states [T, D].
    at::Tensor forward(const std::vector<int32_t> &ids, CaptureSink *sink, const LensOptions &lo,
                       KvCache *cache)
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
        ensureRope(past + T);
        at::Tensor cosT = ropeCos.narrow(0, past, T), sinT = ropeSin.narrow(0, past, T);

        std::vector<int64_t> idv(ids.begin(), ids.end());
        at::Tensor x = embed.index_select(0, at::tensor(idv, at::kLong)).to(ct);

        const int64_t Tk = past + T;
        at::Tensor mask = at::full({T, Tk}, -std::numeric_limits<float>::infinity(),
                                   at::TensorOptions().dtype(at::kFloat))
                              .triu(past + 1);
        const double scale = 1.0 / std::sqrt(double(dh));

        // Lens of the whole model is done per layer; with depth-free decoders resid_pre[l]
        // is the same vector as resid_post[l-1], so its lens is reused.
        const bool depthFree = cfg.tiedEmbeddings || lo.decoder == LensDecoder::Output ||
                               lo.decoder == LensDecoder::Input;
        LensBlock prevPost;
        bool havePrevPost = false;

        for (int l = 0; l < L; ++l) {
            if (sink && sink->cancelled())
                throw Cancelled();
            const LayerWeights &w = layers[size_t(l)];
            at::Tensor residPre = x;

            at::Tensor a = rms(x, w.attnNorm);
            at::Tensor q = linear(a, w.wq, w.bq).view({T, H, dh}).transpose(0, 1);
            at::Tensor k = linear(a, w.wk, w.bk).view({T, Hkv, dh}).transpose(0, 1);
            at::Tensor v = linear(a, w.wv, w.bv).view({T, Hkv, dh}).transpose(0, 1);
            q = q * cosT + rotateHalf(q) * sinT;
            k = k * cosT + rotateHalf(k) * sinT;
            if (cache) {
                if (past > 0) {
                    k = at::cat({cache->k[size_t(l)], k}, 1);
                    v = at::cat({cache->v[size_t(l)], v}, 1);
                }
                cache->k[size_t(l)] = k.contiguous();
                cache->v[size_t(l)] = v.contiguous();
            }
            // Query head h reads kv head h / group: group the query heads of one kv head.
            at::Tensor qg = q.reshape({Hkv, int64_t(group) * T, dh});
            at::Tensor scores = at::bmm(qg, k.transpose(1, 2)).view({H, T, Tk}).to(at::kFloat);
            scores = scores * scale + mask;
            at::Tensor patternF = at::softmax(scores, -1); // [H, T, Tk] float32
            at::Tensor pattern = patternF.to(ct);
            at::Tensor z = at::bmm(pattern.view({Hkv, int64_t(group) * T, Tk}), v)
                               .view({H, T, dh});
            at::Tensor zc = z.transpose(0, 1).reshape({T, int64_t(H) * dh}); // [pos, head*dh]
            at::Tensor attnOut = linear(zc, w.wo, w.bo);
            at::Tensor residMid = residPre + attnOut;

            at::Tensor m = rms(residMid, w.ffnNorm);
            at::Tensor hmid = at::silu(linear(m, w.wGate, w.bGate)) * linear(m, w.wUp, w.bUp);
            at::Tensor mlpOut = linear(hmid, w.wDown, w.bDown);
            at::Tensor residPost = residMid + mlpOut;
            x = residPost;

            if (sink) {
                const at::Tensor *sites[kSiteCount] = {&residPre, &attnOut, &residMid, &mlpOut,
                                                       &residPost};
                for (Site s : allSites())
                    if (sink->wants(tapForSite(s), l))
                        sink->tensor(tapForSite(s), l, F32(*sites[int(s)]).view());
                if (sink->wants(Tap::Pattern, l))
                    sink->tensor(Tap::Pattern, l, F32(patternF).view());
                if (sink->wants(Tap::Z, l))
                    sink->tensor(Tap::Z, l, F32(zc.view({T, H, dh})).view());
                if (sink->wants(Tap::HeadMetrics, l))
                    headMetrics(l, sink, z, v, attnOut, patternF, group);

                // Lens: all wanted sites of this layer in one batch of rows.
                std::vector<Site> want;
                for (Site s : allSites()) {
                    if (!sink->wantsLens(s, l))
                        continue;
                    if (s == Site::ResidPre && depthFree && havePrevPost) {
                        sink->lens(s, l, prevPost.view(0, T));
                        continue;
                    }
                    want.push_back(s);
                }
                havePrevPost = false;
                if (!want.empty()) {
                    std::vector<at::Tensor> rowsV;
                    std::vector<double> depth;
                    for (Site s : want) {
                        rowsV.push_back(*sites[int(s)]);
                        depth.insert(depth.end(), size_t(T), siteDepth(s, l, L));
                    }
                    LensBlock lb = lens(at::cat(rowsV, 0), lo, depth);
                    for (size_t i = 0; i < want.size(); ++i) {
                        sink->lens(want[i], l, lb.view(int64_t(i) * T, T));
                        if (want[i] == Site::ResidPost && depthFree) {
                            prevPost.ids = lb.ids.narrow(0, int64_t(i) * T, T).contiguous();
                            prevPost.probs = lb.probs.narrow(0, int64_t(i) * T, T).contiguous();
                            prevPost.entropy = lb.entropy.narrow(0, int64_t(i) * T, T).contiguous();
                            havePrevPost = true;
                        }
                    }
                }
                sink->progress(l + 1, L);
            }
        }
        return rms(x, finalNorm);
    }

    // TRACE.md head metrics from W_o slices. Norms go through the Gram matrices
    // Wo_h^T Wo_h in float64 (||Wo_h z||^2 = z^T G_h z), so no [H, T, D] tensor is built.
    void headMetrics(int l, CaptureSink *sink, const at::Tensor &z, const at::Tensor &v,
                     const at::Tensor &attnOut, const at::Tensor &patternF, int group)
    {
        const LayerWeights &w = layers[size_t(l)];
        const int H = cfg.nHeads, dh = cfg.dHead;
        const int64_t T = z.size(1);
        const at::Tensor &G = woGram(l);
        at::Tensor z64 = z.to(at::kDouble);                               // [H, T, dh]
        at::Tensor norm = (at::bmm(z64, G) * z64).sum(-1).clamp_min(0).sqrt(); // [H, T]
        at::Tensor ao = attnOut.to(at::kFloat);                           // [T, D]
        at::Tensor g = at::matmul(ao, w.wo.to(at::kFloat)).view({T, H, dh}).transpose(0, 1);
        at::Tensor dot = (z.to(at::kFloat) * g).sum(-1).to(at::kDouble); // [H, T]
        at::Tensor aoNorm = ao.to(at::kDouble).norm(2, -1);               // [T]
        at::Tensor safeAo = aoNorm.clamp_min(1e-300);
        at::Tensor proj = dot / safeAo;
        at::Tensor cosine = dot / (safeAo * norm.clamp_min(1e-300));
        cosine = at::where(norm > 0, cosine, at::zeros_like(cosine));
        at::Tensor ent = (-at::xlogy(patternF, patternF).sum(-1)).clamp_min(0); // [H, T]
        at::Tensor vh = v.to(at::kDouble).repeat_interleave(group, 0);  // [H, Tk, dh]
        at::Tensor vnorm = (at::bmm(vh, G) * vh).sum(-1).clamp_min(0).sqrt();

        F32 fn(norm), fc(cosine), fp(proj), fe(ent), fv(vnorm);
        HeadMetricsView mv{fn.view(), fc.view(), fp.view(), fe.view(), fv.view()};
        sink->heads(l, mv);
    }
};

Model::Model(std::unique_ptr<Impl> impl) : d(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string &path, const LoadOptions &opts)
{
    setEngineThreads(opts.threads);
    auto d = std::make_unique<Impl>();
    if (opts.dtype == "f32")
        d->ct = at::kFloat;
    else if (opts.dtype == "bf16")
        d->ct = at::kBFloat16;
    else if (opts.dtype == "f16")
        d->ct = at::kHalf;
    else
        throw InputError("unknown compute dtype '" + opts.dtype + "' (use f32, bf16 or f16)");
    // Not every CPU build of libtorch multiplies in every dtype: ask before loading.
    try {
        at::Tensor probe = at::ones({2, 2}, at::TensorOptions().dtype(d->ct));
        (void)at::linear(probe, probe);
    } catch (const std::exception &) {
        throw InputError("compute dtype " + opts.dtype +
                         " is not supported by this libtorch on the CPU; use f32 or bf16");
    }
    d->dtypeName = opts.dtype;

    d->ws = openWeights(path);
    d->cfg = d->ws.config;
    d->format = d->ws.format;
    std::error_code ec;
    d->path = fs::absolute(path, ec).lexically_normal().string();
    fs::path p(d->path);
    d->name = p.filename().empty() ? p.parent_path().filename().string() : p.filename().string();
    if (d->format == "hf-safetensors" && !d->name.empty() && d->name.back() == '/')
        d->name.pop_back();

    // Tokenizer: the explicit one, else whatever the folder holds.
    std::string tokPath = opts.tokenizerPath;
    if (tokPath.empty() && fs::is_directory(path))
        tokPath = findTokenizerInFolder(path);
    if (!tokPath.empty()) {
        d->tokenizer = loadTokenizer(tokPath);
        if (d->tokenizer->vocabSize() > d->cfg.vocabSize)
            throw InputError("tokenizer " + tokPath + " has " +
                             std::to_string(d->tokenizer->vocabSize()) +
                             " tokens but the model's vocabulary has only " +
                             std::to_string(d->cfg.vocabSize));
        if (d->cfg.bosId < 0)
            d->cfg.bosId = d->tokenizer->bosId();
        if (d->cfg.eosId < 0)
            d->cfg.eosId = d->tokenizer->eosId();
    }

    const ModelConfig &c = d->cfg;
    const at::ScalarType ct = d->ct;
    const WeightSet &ws = d->ws;
    d->embed = weight(ws.get("model.embed_tokens.weight", {c.vocabSize, c.dModel}), ct);
    d->finalNorm = weight(ws.get("model.norm.weight", {c.dModel}), ct);
    d->lmHead = c.tiedEmbeddings ? d->embed
                                 : weight(ws.get("lm_head.weight", {c.vocabSize, c.dModel}), ct);
    const int64_t qd = int64_t(c.nHeads) * c.dHead, kvd = int64_t(c.nKvHeads) * c.dHead;
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string pre = "model.layers." + std::to_string(l) + ".";
        LayerWeights w;
        w.attnNorm = weight(ws.get(pre + "input_layernorm.weight", {c.dModel}), ct);
        w.ffnNorm = weight(ws.get(pre + "post_attention_layernorm.weight", {c.dModel}), ct);
        w.wq = weight(ws.get(pre + "self_attn.q_proj.weight", {qd, c.dModel}), ct);
        w.wk = weight(ws.get(pre + "self_attn.k_proj.weight", {kvd, c.dModel}), ct);
        w.wv = weight(ws.get(pre + "self_attn.v_proj.weight", {kvd, c.dModel}), ct);
        w.wo = weight(ws.get(pre + "self_attn.o_proj.weight", {c.dModel, qd}), ct);
        w.wGate = weight(ws.get(pre + "mlp.gate_proj.weight", {c.dFfn, c.dModel}), ct);
        w.wUp = weight(ws.get(pre + "mlp.up_proj.weight", {c.dFfn, c.dModel}), ct);
        w.wDown = weight(ws.get(pre + "mlp.down_proj.weight", {c.dModel, c.dFfn}), ct);
        if (c.attnBias) {
            w.bq = weight(ws.get(pre + "self_attn.q_proj.bias", {qd}), ct);
            w.bk = weight(ws.get(pre + "self_attn.k_proj.bias", {kvd}), ct);
            w.bv = weight(ws.get(pre + "self_attn.v_proj.bias", {kvd}), ct);
        }
        if (c.attnOutBias)
            w.bo = weight(ws.get(pre + "self_attn.o_proj.bias", {c.dModel}), ct);
        if (c.mlpBias) {
            w.bGate = weight(ws.get(pre + "mlp.gate_proj.bias", {c.dFfn}), ct);
            w.bUp = weight(ws.get(pre + "mlp.up_proj.bias", {c.dFfn}), ct);
            w.bDown = weight(ws.get(pre + "mlp.down_proj.bias", {c.dModel}), ct);
        }
        if (ws.ropeAdjacentPairs) {
            w.wq = adjacentToHalves(w.wq, c.nHeads, c.dHead);
            w.wk = adjacentToHalves(w.wk, c.nKvHeads, c.dHead);
            if (w.bq.defined())
                w.bq = adjacentToHalves(w.bq.unsqueeze(1), c.nHeads, c.dHead).squeeze(1);
            if (w.bk.defined())
                w.bk = adjacentToHalves(w.bk.unsqueeze(1), c.nKvHeads, c.dHead).squeeze(1);
        }
        d->layers.push_back(std::move(w));
    }
    return std::unique_ptr<Model>(new Model(std::move(d)));
}

const ModelConfig &Model::config() const { return d->cfg; }
const std::string &Model::name() const { return d->name; }
const std::string &Model::path() const { return d->path; }
const std::string &Model::fingerprint() const { return d->ws.fingerprint; }
const std::string &Model::computeDtype() const { return d->dtypeName; }
const std::string &Model::format() const { return d->format; }
const Tokenizer *Model::tokenizer() const { return d->tokenizer.get(); }
int64_t Model::weightBytes() const { return d->ws.totalBytes; }

std::vector<TokenInfo> Model::tokenize(const std::string &text, bool addBos) const
{
    if (!d->tokenizer)
        throw InputError("model " + d->path +
                         " has no tokenizer this build can read; give --tokenizer or --token-ids");
    return d->tokenizer->encode(text, addBos);
}

std::vector<TokenInfo> Model::tokensFromIds(const std::vector<int32_t> &ids) const
{
    std::vector<TokenInfo> out;
    out.reserve(ids.size());
    for (int32_t id : ids) {
        TokenInfo t;
        t.id = id;
        if (d->tokenizer && id >= 0 && id < d->tokenizer->vocabSize())
            t.text = d->tokenizer->displayText(id);
        else
            t.text = "[" + std::to_string(id) + "]";
        out.push_back(std::move(t));
    }
    return out;
}

std::string Model::decode(const std::vector<int32_t> &ids) const
{
    if (d->tokenizer)
        return d->tokenizer->decode(ids);
    std::string s;
    for (int32_t id : ids)
        s += "[" + std::to_string(id) + "]";
    return s;
}

void Model::checkIds(const std::vector<int32_t> &ids, int extraTokens) const
{
    if (ids.empty())
        throw InputError("the prompt has no tokens");
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= d->cfg.vocabSize)
            throw InputError("token id " + std::to_string(ids[i]) + " at position " +
                             std::to_string(i) + " is outside the vocabulary [0, " +
                             std::to_string(d->cfg.vocabSize) + ") of " + d->path);
    const int64_t need = int64_t(ids.size()) + std::max(0, extraTokens);
    if (d->cfg.maxSeqLen > 0 && need > d->cfg.maxSeqLen)
        throw InputError("the prompt has " + std::to_string(ids.size()) + " tokens" +
                         (extraTokens > 0 ? " (+" + std::to_string(extraTokens) + " to generate)"
                                          : std::string()) +
                         ", more than the model's context of " +
                         std::to_string(d->cfg.maxSeqLen) + " tokens");
}

void Model::run(const std::vector<int32_t> &ids, CaptureSink *sink, const LensOptions &lens)
{
    checkIds(ids);
    at::NoGradGuard noGrad;
    at::Tensor hidden = d->forward(ids, sink, lens, nullptr);
    if (!sink || !sink->wantsLogits())
        (void)at::matmul(hidden, d->lmHead.t()); // the plain forward ends in the logits
    else {
        at::Tensor ids_, probs, ent;
        Impl::topkEntropy(at::matmul(hidden, d->lmHead.t()).to(at::kFloat),
                          std::min(lens.topk, d->cfg.vocabSize), ids_, probs, ent);
        LensBlock b{ids_, probs, ent};
        sink->logits(b.view(0, int64_t(ids.size())));
    }
}

FloatArray Model::logits(const std::vector<int32_t> &ids)
{
    checkIds(ids);
    at::NoGradGuard noGrad;
    at::Tensor out =
        at::matmul(d->forward(ids, nullptr, {}, nullptr), d->lmHead.t()).to(at::kFloat).contiguous();
    FloatArray a({out.size(0), out.size(1)});
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + out.numel(), a.data.begin());
    return a;
}

std::vector<int32_t> Model::generate(const std::vector<int32_t> &ids, int n, bool stopAtEos,
                                     const std::function<bool()> &cancelled)
{
    checkIds(ids, n);
    at::NoGradGuard noGrad;
    KvCache cache;
    std::vector<int32_t> out;
    at::Tensor hidden = d->forward(ids, nullptr, {}, &cache);
    for (int i = 0; i < n; ++i) {
        if (cancelled && cancelled())
            throw Cancelled();
        at::Tensor last = hidden.narrow(0, hidden.size(0) - 1, 1);
        at::Tensor logits = at::matmul(last, d->lmHead.t()).to(at::kFloat);
        const int32_t next = int32_t(logits.argmax(-1).item<int64_t>());
        out.push_back(next);
        if (stopAtEos && next == d->cfg.eosId)
            break;
        if (i + 1 < n)
            hidden = d->forward({next}, nullptr, {}, &cache);
    }
    return out;
}

} // namespace HeadLens
