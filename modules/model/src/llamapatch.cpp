// Activation patching of Model::Impl (patching.h): every (site, layer, position), and every
// head's z at a position, taken from the clean run into the corrupted run one at a time.
//
// A patch at (site, layer l, position p) changes nothing before it: earlier layers, and rows
// before p of later layers (attention is causal), are the corrupted run's. Within layer l after
// its attention, rows do not mix: a patch of attn_out, resid_mid, mlp_out, resid_post or of a
// head's z changes row p only, until the next layer's attention. So the copies of one
// (site, layer) run as one batch: row p alone through the rest of layer l, then all copies
// [copies, rows, D] through the later layers over the rows from the batch's first patched
// position on, with the keys and values of earlier rows taken from the corrupted run's cache;
// and the last layer computes only the last row's query, attention and MLP, since only its
// logits are read.

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

at::Tensor lastRow(const at::Tensor &x)
{
    return x.narrow(1, x.size(1) - 1, 1);
}

} // namespace

struct Model::Impl::PatchRun {
    const Impl &m;
    std::vector<std::array<at::Tensor, kSiteCount>> clean, corrupted; // per layer, [T, D]
    std::vector<at::Tensor> cleanZ, corruptedZ;                       // per layer, [T, H, dh]
    KvCache kv;      // the corrupted run's keys (rotated) and values, per layer [Hkv, T, dh]
    at::Tensor diff; // [D] float64: W_U[answer] - W_U[wrong]
    at::Tensor mask; // [T, T] float32, causal
    int64_t T = 0;
    double ldCorrupted = 0;

    const at::Tensor &site(bool isClean, int l, Site s) const
    {
        return (isClean ? clean : corrupted)[size_t(l)][size_t(s)];
    }

    // LD of final-norm rows [B, D]: float64 [B].
    at::Tensor ld(const at::Tensor &normed) const { return normed.to(at::kDouble).matmul(diff); }

    // Continues B patched copies of rows [r0, T) from layer l on: x [B, T - r0, D] is the
    // copies' resid_pre of layer l (l == L: the final residual). Returns their LD [B].
    at::Tensor continueFrom(int l, at::Tensor x, int64_t r0) const
    {
        const ModelConfig &c = m.cfg;
        const int L = c.nLayers, H = c.nHeads, Hkv = c.nKvHeads, dh = c.dHead, group = H / Hkv;
        const double scale = 1.0 / std::sqrt(double(dh));
        const int64_t B = x.size(0);
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
                auto past = [&](const at::Tensor &t) {
                    return t.narrow(1, 0, r0).unsqueeze(0).expand({B, Hkv, r0, dh});
                };
                k = at::cat({past(kv.k[size_t(l)]), k}, 2);
                v = at::cat({past(kv.v[size_t(l)]), v}, 2);
            }
            const at::Tensor qg = q.reshape({B, Hkv, int64_t(group) * Rq, dh});
            at::Tensor scores =
                at::matmul(qg, k.transpose(2, 3)).view({B, H, Rq, T}).to(at::kFloat);
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

    // Continues from resid_post of layer l, which differs from the corrupted run's only in row
    // pos[b] of copy b, there post[b] [B, D].
    at::Tensor fromPostRows(int l, const at::Tensor &post, const std::vector<int64_t> &pos,
                            int64_t r0) const
    {
        const int64_t B = post.size(0), R = T - r0;
        if (l == m.cfg.nLayers - 1) { // only the last row is read; elsewhere it is corrupted's
            at::Tensor out = at::full({B}, ldCorrupted, at::kDouble);
            const at::Tensor lds = ld(m.rms(post, m.finalNorm, m.finalNormB));
            for (int64_t b = 0; b < B; ++b)
                if (pos[size_t(b)] == T - 1) out[b].copy_(lds[b]);
            return out;
        }
        at::Tensor x = corrupted[size_t(l)][size_t(Site::ResidPost)]
                           .narrow(0, r0, R)
                           .unsqueeze(0)
                           .expand({B, R, post.size(1)})
                           .clone();
        for (int64_t b = 0; b < B; ++b)
            x[b][pos[size_t(b)] - r0].copy_(post[b]);
        return continueFrom(l + 1, x, r0);
    }

    // The same from resid_mid of layer l: the rest of layer l on the patched rows only.
    at::Tensor fromMidRows(int l, const at::Tensor &mid, const std::vector<int64_t> &pos,
                           int64_t r0) const
    {
        const LayerWeights &w = m.layers[size_t(l)];
        return fromPostRows(l, mid + m.mlp(m.rms(mid, w.ffnNorm, w.ffnNormB), w), pos, r0);
    }
};

PatchMap Model::Impl::patchMap(const std::vector<int32_t> &cleanIds,
                               const std::vector<int32_t> &corruptedIds, const PatchOptions &o)
{
    if (cleanIds.size() != corruptedIds.size())
        throw InputError("the clean prompt has " + std::to_string(cleanIds.size()) +
                         " tokens and the corrupted prompt " + std::to_string(corruptedIds.size()) +
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
    run.diff =
        lmHead.select(0, o.answer).to(at::kDouble) - lmHead.select(0, o.wrong).to(at::kDouble);
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
    run.ldCorrupted = map.ldCorrupted;
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
    // Copies per batch: the largest tensors of a copy through a later layer are its rows'
    // scores and probabilities [H, rows, T] and the MLP's hidden rows, a few of each at once.
    const int64_t perRow = 8 * D + 3 * int64_t(cfg.dFfn) + 3 * int64_t(H) * T;
    const int64_t perCopy = std::max<int64_t>(1, perRow * T * 4);
    const int64_t maxBatch = std::max<int64_t>(1, o.batchBytes / perCopy);

    // One patch: a position, and the head for head patches.
    struct Copy {
        int64_t pos;
        int head;
    };
    // Runs copies (in order of position) in batches: finish(batch) returns their LD [B].
    auto sweep = [&](const std::vector<Copy> &copies,
                     const std::function<at::Tensor(const std::vector<Copy> &)> &finish,
                     const std::function<void(const Copy &, float)> &store) {
        for (size_t c0 = 0; c0 < copies.size(); c0 += size_t(maxBatch)) {
            if (o.cancelled && o.cancelled()) throw Cancelled();
            const std::vector<Copy> batch(
                copies.begin() + std::ptrdiff_t(c0),
                copies.begin() + std::ptrdiff_t(std::min(copies.size(), c0 + size_t(maxBatch))));
            const at::Tensor lds = finish(batch).contiguous();
            const double *p = lds.data_ptr<double>();
            for (size_t i = 0; i < batch.size(); ++i)
                store(batch[i], float((p[i] - map.ldCorrupted) / span));
        }
    };
    auto positions = [](const std::vector<Copy> &batch) {
        std::vector<int64_t> pos;
        for (const Copy &c : batch)
            pos.push_back(c.pos);
        return pos;
    };
    auto rows = [](const at::Tensor &t, const std::vector<int64_t> &pos) {
        return t.index_select(0, at::tensor(pos, at::kLong));
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
            const at::Tensor &cleanSite = run.site(true, l, s);
            std::vector<Copy> copies;
            for (int64_t t = 0; t < T; ++t) // an identical vector patches nothing: 0 exactly
                if (!at::equal(cleanSite[t], run.site(false, l, s)[t])) copies.push_back({t, 0});
            auto finish = [&](const std::vector<Copy> &batch) -> at::Tensor {
                const std::vector<int64_t> pos = positions(batch);
                const int64_t r0 = pos.front(), R = T - r0, B = int64_t(pos.size());
                switch (s) {
                case Site::ResidPre: {
                    at::Tensor x = run.site(false, l, s)
                                       .narrow(0, r0, R)
                                       .unsqueeze(0)
                                       .expand({B, R, D})
                                       .clone();
                    for (int64_t b = 0; b < B; ++b)
                        x[b][pos[size_t(b)] - r0].copy_(cleanSite[pos[size_t(b)]]);
                    return run.continueFrom(l, x, r0);
                }
                case Site::AttnOut:
                    return run.fromMidRows(
                        l, rows(run.site(false, l, Site::ResidPre), pos) + rows(cleanSite, pos),
                        pos, r0);
                case Site::ResidMid:
                    return run.fromMidRows(l, rows(cleanSite, pos), pos, r0);
                case Site::MlpOut:
                    return run.fromPostRows(
                        l, rows(run.site(false, l, Site::ResidMid), pos) + rows(cleanSite, pos),
                        pos, r0);
                case Site::ResidPost:
                    break;
                }
                return run.fromPostRows(l, rows(cleanSite, pos), pos, r0);
            };
            sweep(copies, finish,
                  [&](const Copy &c, float r) { at3(map.sites, int(s), l, c.pos) = r; });
            step();
        }
        if (!o.heads) continue;
        // A head's z enters attn_out through its own columns of W_o alone: the patched resid_mid
        // is the corrupted one plus W_o,h (z_clean - z_corrupted).
        const at::Tensor &cz = run.cleanZ[size_t(l)], &rz = run.corruptedZ[size_t(l)];
        std::vector<Copy> copies;
        for (int64_t t = 0; t < T; ++t)
            for (int h = 0; h < H; ++h)
                if (!at::equal(cz[t][h], rz[t][h])) copies.push_back({t, h});
        const LayerWeights &w = layers[size_t(l)];
        auto finish = [&](const std::vector<Copy> &batch) -> at::Tensor {
            const std::vector<int64_t> pos = positions(batch);
            const int64_t B = int64_t(pos.size());
            at::Tensor dz = at::zeros({B, H, dh}, cz.options());
            for (int64_t b = 0; b < B; ++b) {
                const Copy &c = batch[size_t(b)];
                dz[b][c.head].copy_(cz[c.pos][c.head] - rz[c.pos][c.head]);
            }
            const at::Tensor mid = rows(run.site(false, l, Site::ResidMid), pos) +
                                   linear(dz.view({B, int64_t(H) * dh}), w.wo, at::Tensor());
            return run.fromMidRows(l, mid, pos, pos.front());
        };
        sweep(copies, finish,
              [&](const Copy &c, float r) { at3(map.heads, l, c.head, c.pos) = r; });
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
