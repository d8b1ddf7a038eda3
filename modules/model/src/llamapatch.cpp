// Activation patching of Model::Impl (patching.h): every (site, layer, position), and every
// head's z at a position, taken from the clean run into the corrupted run one at a time.
//
// A patch at (site, layer l, position p) changes nothing before it: earlier layers, and rows
// before p of later layers (attention is causal), are the corrupted run's. So the copies of one
// (site, layer) run as one batch [copies, rows, D] from the patched site onward only, over the
// rows from the batch's first patched position on, with the keys and values of earlier rows
// taken from the corrupted run's cache; and the last layer computes only the last row's query,
// attention and MLP, since only its logits are read.

#include "headlens/model/patching.h"
#include "llamaimpl.h"

namespace HeadLens {

namespace {

// The five sites and z of every layer of one forward pass, in the compute dtype.
class RunCapture : public CaptureSink {
public:
    RunCapture(int L, at::ScalarType ct) : sites(size_t(L)), z(size_t(L)), m_ct(ct) {}
    std::vector<std::array<at::Tensor, kSiteCount>> sites; // [T, D]
    std::vector<at::Tensor> z;                             // [T, H, dh]

    bool wants(Tap tap, int) override { return int(tap) <= int(Tap::ResidPost) || tap == Tap::Z; }
    bool wantsLens(Site, int) override { return false; }
    bool wantsLogits() override { return false; }
    void tensor(Tap tap, int l, const TensorView &v) override
    {
        at::Tensor t = at::from_blob(const_cast<float *>(v.data), v.shape, at::kFloat).to(m_ct);
        if (m_ct == at::kFloat) t = t.clone();
        if (tap == Tap::Z)
            z[size_t(l)] = t;
        else
            sites[size_t(l)][size_t(tap)] = t;
    }
    void heads(int, const HeadMetricsView &) override {}
    void lens(Site, int, const LensView &) override {}
    void logits(const LensView &) override {}

private:
    at::ScalarType m_ct;
};

at::Tensor lastRow(const at::Tensor &x) { return x.narrow(1, x.size(1) - 1, 1); }

} // namespace

struct Model::Impl::PatchRun {
    const Impl &m;
    std::vector<std::array<at::Tensor, kSiteCount>> clean, corrupted; // per layer, [T, D]
    std::vector<at::Tensor> cleanZ, corruptedZ;                       // per layer, [T, H, dh]
    KvCache kv;       // the corrupted run's keys (rotated) and values, per layer [Hkv, T, dh]
    at::Tensor diff;  // [D] float64: W_U[answer] - W_U[wrong]
    at::Tensor mask;  // [T, T] float32, causal
    int64_t T = 0;

    // LD of final-norm rows [B, D]: float64 [B].
    at::Tensor ld(const at::Tensor &normed) const { return normed.to(at::kDouble).matmul(diff); }

    // Continues B patched copies of rows [r0, T) from layer l on: x [B, T - r0, D] is the
    // copies' resid_pre of layer l, or their resid_mid when mid. Returns their LD [B].
    at::Tensor continueFrom(int l, bool mid, at::Tensor x, int64_t r0) const
    {
        const ModelConfig &c = m.cfg;
        const int L = c.nLayers, H = c.nHeads, Hkv = c.nKvHeads, dh = c.dHead, group = H / Hkv;
        const double scale = 1.0 / std::sqrt(double(dh));
        const int64_t B = x.size(0);
        if (mid) {
            const LayerWeights &w = m.layers[size_t(l)];
            if (l == L - 1) x = lastRow(x);
            x = x + m.mlp(m.rms(x, w.ffnNorm, w.ffnNormB), w);
            ++l;
        }
        for (; l < L; ++l) {
            const LayerWeights &w = m.layers[size_t(l)];
            const int64_t R = x.size(1);
            const at::Tensor a = m.rms(x, w.attnNorm, w.attnNormB);
            const bool last = l == L - 1;
            const at::Tensor aq = last ? lastRow(a) : a;
            const int64_t Rq = aq.size(1), q0 = T - Rq;
            at::Tensor q = linear(aq, w.wq, w.bq).view({B, Rq, H, dh}).transpose(1, 2);
            at::Tensor k = linear(a, w.wk, w.bk).view({B, R, Hkv, dh}).transpose(1, 2);
            at::Tensor v = linear(a, w.wv, w.bv).view({B, R, Hkv, dh}).transpose(1, 2);
            if (!m.gpt2) {
                const at::Tensor cq = m.ropeCos.narrow(0, q0, Rq), sq = m.ropeSin.narrow(0, q0, Rq);
                const at::Tensor ck = m.ropeCos.narrow(0, r0, R), sk = m.ropeSin.narrow(0, r0, R);
                q = q * cq + rotateHalf(q) * sq;
                k = k * ck + rotateHalf(k) * sk;
            }
            if (r0 > 0) {
                k = at::cat({kv.k[size_t(l)].narrow(1, 0, r0).unsqueeze(0).expand({B, Hkv, r0, dh}),
                             k},
                            2);
                v = at::cat({kv.v[size_t(l)].narrow(1, 0, r0).unsqueeze(0).expand({B, Hkv, r0, dh}),
                             v},
                            2);
            }
            const at::Tensor qg = q.reshape({B, Hkv, int64_t(group) * Rq, dh});
            at::Tensor scores = at::matmul(qg, k.transpose(2, 3)).view({B, H, Rq, T}).to(at::kFloat);
            scores = scores * scale + mask.narrow(0, q0, Rq);
            const at::Tensor p = at::softmax(scores, -1).to(m.ct);
            const at::Tensor z =
                at::matmul(p.view({B, Hkv, int64_t(group) * Rq, T}), v).view({B, H, Rq, dh});
            const at::Tensor attnOut =
                linear(z.transpose(1, 2).reshape({B, Rq, int64_t(H) * dh}), w.wo, w.bo);
            if (last) x = lastRow(x);
            x = x + attnOut;
            x = x + m.mlp(m.rms(x, w.ffnNorm, w.ffnNormB), w);
        }
        return ld(m.rms(x.select(1, x.size(1) - 1), m.finalNorm, m.finalNormB));
    }
};

PatchMap Model::Impl::patchMap(const std::vector<int32_t> &cleanIds,
                               const std::vector<int32_t> &corruptedIds, const PatchOptions &o)
{
    if (cleanIds.size() != corruptedIds.size())
        throw InputError("the clean prompt has " + std::to_string(cleanIds.size()) +
                         " tokens and the corrupted prompt " +
                         std::to_string(corruptedIds.size()) +
                         ": patching needs prompts of the same token count");
    if (cleanIds.empty()) throw InputError("the prompts have no tokens");
    for (const auto &[id, what] : {std::pair(o.answer, "answer"), std::pair(o.wrong, "wrong")})
        if (id < 0 || id >= cfg.vocabSize)
            throw InputError(std::string("the ") + what + " token id " + std::to_string(id) +
                             " is outside the vocabulary [0, " + std::to_string(cfg.vocabSize) +
                             ")");
    if (o.answer == o.wrong) throw InputError("the answer and the wrong token are the same");

    const int L = cfg.nLayers, H = cfg.nHeads, dh = cfg.dHead;
    const int64_t T = int64_t(cleanIds.size()), D = cfg.dModel;
    PatchRun run{*this, {}, {}, {}, {}, {}, {}, {}, T};
    run.diff = (lmHead.select(0, o.answer).to(at::kDouble) - lmHead.select(0, o.wrong).to(at::kDouble));
    run.mask = at::full({T, T}, -1e30f, at::TensorOptions().dtype(at::kFloat)).triu(1);

    RunCapture cc(L, ct), cr(L, ct);
    const at::Tensor finalClean = forward(cleanIds, &cc, {}, nullptr);
    const at::Tensor finalCorrupted = forward(corruptedIds, &cr, {}, &run.kv);
    run.clean = std::move(cc.sites);
    run.cleanZ = std::move(cc.z);
    run.corrupted = std::move(cr.sites);
    run.corruptedZ = std::move(cr.z);

    PatchMap map;
    map.nLayers = L;
    map.nHeads = H;
    map.nPos = int(T);
    map.answer = o.answer;
    map.wrong = o.wrong;
    map.ldClean = run.ld(finalClean.narrow(0, T - 1, 1)).item<double>();
    map.ldCorrupted = run.ld(finalCorrupted.narrow(0, T - 1, 1)).item<double>();
    const double span = map.ldClean - map.ldCorrupted;
    if (!(std::abs(span) > 0) || !std::isfinite(span))
        throw InputError("the clean and the corrupted prompt give the same logit difference (" +
                         std::to_string(map.ldClean) +
                         ") between the answer and the wrong token: there is nothing to recover");
    map.sites.reset({kSiteCount, L, T}, 0.0f);
    if (o.heads) map.heads.reset({L, H, T}, 0.0f);

    const int total = L * kSiteCount + (o.heads ? L : 0);
    int done = 0;
    auto step = [&]() {
        if (o.progress) o.progress(++done, total);
    };
    // Copies per batch: the largest tensors of a copy's rows are its scores and probabilities
    // [H, rows, T] and the MLP's hidden rows, a few of each alive at once.
    const int64_t perRow = 8 * D + 3 * int64_t(cfg.dFfn) + 3 * int64_t(H) * T;
    const int64_t perCopy = std::max<int64_t>(1, perRow * T * 4);
    const int64_t maxBatch = std::max<int64_t>(1, o.batchBytes / perCopy);

    // Runs the copies (pos, unit) in order of pos, in batches: make(x, r0, copy, slot) patches
    // copy's row into x [B, T - r0, ...] at batch slot, finish(x, r0) continues and returns LD.
    struct Copy {
        int64_t pos;
        int unit; // the head, for head patches
    };
    auto sweep = [&](const std::vector<Copy> &copies, const at::Tensor &corruptedRows,
                     const std::function<void(at::Tensor &, int64_t, const Copy &, int64_t)> &put,
                     const std::function<at::Tensor(const at::Tensor &, int64_t)> &finish,
                     const std::function<void(const Copy &, float)> &store) {
        for (size_t c0 = 0; c0 < copies.size();) {
            if (o.cancelled && o.cancelled()) throw Cancelled();
            const size_t n = std::min(copies.size() - c0, size_t(maxBatch));
            const int64_t r0 = copies[c0].pos, R = T - r0;
            std::vector<int64_t> shape(corruptedRows.sizes().begin(), corruptedRows.sizes().end());
            shape[0] = R;
            shape.insert(shape.begin(), int64_t(n));
            at::Tensor x = corruptedRows.narrow(0, r0, R).unsqueeze(0).expand(shape).clone();
            for (size_t i = 0; i < n; ++i)
                put(x, r0, copies[c0 + i], int64_t(i));
            const at::Tensor lds = finish(x, r0).contiguous();
            const double *p = lds.data_ptr<double>();
            for (size_t i = 0; i < n; ++i)
                store(copies[c0 + i], float((p[i] - map.ldCorrupted) / span));
            c0 += n;
        }
    };

    auto at3 = [](FloatArray &a, int64_t i, int64_t j, int64_t k) -> float & {
        return a.data[size_t((i * a.shape[1] + j) * a.shape[2] + k)];
    };
    for (int l = 0; l < L; ++l) {
        for (Site s : allSites()) {
            if (s == Site::ResidPre && l > 0) {
                // resid_pre[l] is resid_post[l-1]: the same patch, the same answer.
                for (int64_t t = 0; t < T; ++t)
                    at3(map.sites, int(s), l, t) = at3(map.sites, int(Site::ResidPost), l - 1, t);
                step();
                continue;
            }
            const at::Tensor &cleanSite = run.clean[size_t(l)][size_t(s)];
            const at::Tensor &corruptedSite = run.corrupted[size_t(l)][size_t(s)];
            std::vector<Copy> copies;
            for (int64_t t = 0; t < T; ++t) // an identical vector patches nothing: 0 exactly
                if (!at::equal(cleanSite[t], corruptedSite[t])) copies.push_back({t, 0});
            auto put = [&](at::Tensor &x, int64_t r0, const Copy &c, int64_t slot) {
                x.select(0, slot).select(0, c.pos - r0).copy_(cleanSite[c.pos]);
            };
            auto finish = [&](const at::Tensor &x, int64_t r0) -> at::Tensor {
                const int64_t R = T - r0;
                switch (s) {
                case Site::ResidPre:
                    return run.continueFrom(l, false, x, r0);
                case Site::AttnOut:
                    return run.continueFrom(
                        l, true, run.corrupted[size_t(l)][int(Site::ResidPre)].narrow(0, r0, R) + x,
                        r0);
                case Site::ResidMid:
                    return run.continueFrom(l, true, x, r0);
                case Site::MlpOut:
                    return run.continueFrom(
                        l + 1, false,
                        run.corrupted[size_t(l)][int(Site::ResidMid)].narrow(0, r0, R) + x, r0);
                case Site::ResidPost:
                    break;
                }
                return run.continueFrom(l + 1, false, x, r0);
            };
            sweep(copies, corruptedSite, put, finish,
                  [&](const Copy &c, float r) { at3(map.sites, int(s), l, c.pos) = r; });
            step();
        }
        if (!o.heads) continue;
        const at::Tensor &cz = run.cleanZ[size_t(l)], &rz = run.corruptedZ[size_t(l)];
        std::vector<Copy> copies;
        for (int64_t t = 0; t < T; ++t)
            for (int h = 0; h < H; ++h)
                if (!at::equal(cz[t][h], rz[t][h])) copies.push_back({t, h});
        const LayerWeights &w = layers[size_t(l)];
        auto put = [&](at::Tensor &x, int64_t r0, const Copy &c, int64_t slot) {
            x.select(0, slot).select(0, c.pos - r0).select(0, c.unit).copy_(cz[c.pos][c.unit]);
        };
        auto finish = [&](const at::Tensor &x, int64_t r0) -> at::Tensor {
            const int64_t B = x.size(0), R = T - r0;
            const at::Tensor attnOut = linear(x.reshape({B, R, int64_t(H) * dh}), w.wo, w.bo);
            return run.continueFrom(
                l, true, run.corrupted[size_t(l)][int(Site::ResidPre)].narrow(0, r0, R) + attnOut,
                r0);
        };
        sweep(copies, rz, put, finish,
              [&](const Copy &c, float r) { at3(map.heads, l, c.unit, c.pos) = r; });
        step();
    }
    return map;
}

PatchMap Model::patch(const std::vector<int32_t> &clean, const std::vector<int32_t> &corrupted,
                      const PatchOptions &opts)
{
    checkIds(clean);
    checkIds(corrupted);
    PatchMap map;
    {
        at::NoGradGuard noGrad;
        map = d->patchMap(clean, corrupted, opts);
    }
    map.corruptedIds = corrupted;
    for (const TokenInfo &t : tokensFromIds(corrupted))
        map.corruptedText.push_back(t.text);
    map.answerText = tokensFromIds({opts.answer}).front().text;
    map.wrongText = tokensFromIds({opts.wrong}).front().text;
    return map;
}

} // namespace HeadLens
