// The forward pass of Model::Impl: normalisation, MLP, rotary tables, causal attention in
// blocks of query rows, the pass over the layers with its captures, and the checks that its
// numbers stay finite.

#include "llamaimpl.h"

namespace HeadLens {

at::Tensor Model::Impl::rms(const at::Tensor &x, const at::Tensor &g, const at::Tensor &b) const
{
    at::Tensor xf = x.to(at::kFloat);
    at::Tensor y;
    if (gpt2) {
        at::Tensor c = xf - xf.mean(-1, true);
        y = c * at::rsqrt(c.pow(2).mean(-1, true) + cfg.normEps);
    } else {
        y = xf * at::rsqrt(xf.pow(2).mean(-1, true) + cfg.normEps);
    }
    if (g.defined()) y = y * g.to(at::kFloat);
    if (b.defined()) y = y + b.to(at::kFloat);
    return y.to(ct);
}

at::Tensor Model::Impl::mlp(const at::Tensor &m, const LayerWeights &w) const
{
    if (!gpt2)
        return linear(at::silu(linear(m, w.wGate, w.bGate)) * linear(m, w.wUp, w.bUp), w.wDown,
                      w.bDown);
    at::Tensor h = linear(m, w.wUp, w.bUp);
    h = cfg.activation == "gelu" ? at::gelu(h) : at::gelu(h, "tanh");
    return linear(h, w.wDown, w.bDown);
}

void Model::Impl::ensureRope(int64_t positions)
{
    if (ropeCos.defined() && ropeCos.size(0) >= positions) return;
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

at::Tensor Model::Impl::forward(const std::vector<int32_t> &ids, CaptureSink *sink,
                                const LensOptions &lo, KvCache *cache, const EditHook *edit,
                                std::pair<Site, int> *stopAt, DlaCapture *dla)
{
    const int64_t T = int64_t(ids.size());
    const int L = cfg.nLayers, H = cfg.nHeads, Hkv = cfg.nKvHeads, dh = cfg.dHead;
    const int group = H / Hkv;
    const int64_t past =
        (cache && !cache->k.empty() && cache->k[0].defined()) ? cache->k[0].size(1) : 0;
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
    at::Tensor mask =
        at::full({T, Tk}, -1e30f, at::TensorOptions().dtype(at::kFloat)).triu(past + 1);
    const double scale = 1.0 / std::sqrt(double(dh));
    auto stopHere = [&](Site s, int l) {
        return stopAt && stopAt->first == s && stopAt->second == l;
    };

    if (dla) dla->embed = x;
    LensCarry carry;
    for (int l = 0; l < L; ++l) {
        if (sink && sink->cancelled()) throw Cancelled();
        const LayerWeights &w = layers[size_t(l)];
        // An edit's change of the stream is no block's: the attribution keeps it apart.
        auto applyEdit = [&](const EditHook *e, Site s, int layer, int64_t p, at::Tensor &t) {
            const at::Tensor before = t;
            Impl::applyEdit(e, s, layer, p, t);
            if (dla && !t.is_same(before)) dla->addEdit(t - before);
        };
        applyEdit(edit, Site::ResidPre, l, past, x);
        at::Tensor residPre = x;
        if (stopHere(Site::ResidPre, l)) return residPre;

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
        at::Tensor attnOut =
            wantHeads ? headOutputs(l, z, residPre, heads) : linear(zc, w.wo, w.bo);
        applyEdit(edit, Site::AttnOut, l, past, attnOut);
        if (wantHeads && edit && edit->site == Site::AttnOut && edit->layer == l)
            redoHeadRow(l, z, attnOut, edit->pos - past, heads);
        if (stopHere(Site::AttnOut, l)) return attnOut;
        at::Tensor residMid = residPre + attnOut;
        applyEdit(edit, Site::ResidMid, l, past, residMid);
        if (stopHere(Site::ResidMid, l)) return residMid;

        at::Tensor mlpOut = mlp(rms(residMid, w.ffnNorm, w.ffnNormB), w);
        if (dla) {
            dla->z.push_back(zc);
            dla->mlpOut.push_back(mlpOut);
        }
        applyEdit(edit, Site::MlpOut, l, past, mlpOut);
        if (stopHere(Site::MlpOut, l)) return mlpOut;
        at::Tensor residPost = residMid + mlpOut;
        applyEdit(edit, Site::ResidPost, l, past, residPost);
        if (stopHere(Site::ResidPost, l)) return residPost;
        x = residPost;
        checkFinite(l, past, {&residPre, &attnOut, &residMid, &mlpOut, &residPost});

        if (sink) {
            const at::Tensor *sites[kSiteCount] = {&residPre, &attnOut, &residMid, &mlpOut,
                                                   &residPost};
            for (Site s : allSites())
                if (sink->wants(tapForSite(s), l))
                    sink->tensor(tapForSite(s), l, F32(*sites[int(s)]).view());
            if (att.pattern.defined()) sink->tensor(Tap::Pattern, l, viewOf(att.pattern));
            if (sink->wants(Tap::Z, l)) sink->tensor(Tap::Z, l, F32(zc.view({T, H, dh})).view());
            if (wantHeads) headMetrics(l, sink, heads, v, att.entropy, group, residMid, mlpOut);

            std::array<at::Tensor, kSiteCount> lensIn;
            for (Site s : allSites())
                if (sink->wantsLens(s, l)) lensIn[size_t(s)] = *sites[int(s)];
            std::array<LensBlock, kSiteCount> lensOut;
            at::Tensor kl;
            if (edit && edit->site == Site::ResidPre && edit->layer == l)
                carry.valid = false; // the edit made resid_pre differ from resid_post below
            layerLens(lensIn, l, lo, lensOut, &kl, &carry);
            for (Site s : allSites())
                if (lensIn[size_t(s)].defined()) sink->lens(s, l, lensOut[size_t(s)].view(0, T));
            if (sink->wants(Tap::Change, l)) {
                const at::Tensor pre = residPre.to(at::kFloat).contiguous();
                const at::Tensor post = residPost.to(at::kFloat).contiguous();
                at::Tensor cosd = at::empty({T}, at::kFloat);
                at::parallel_for(0, T, grainFor(3 * cfg.dModel), [&](int64_t r0, int64_t r1) {
                    Kernels::rowCompare(pre.data_ptr<float>(), post.data_ptr<float>(), cfg.dModel,
                                        r0, r1, cosd.data_ptr<float>(), nullptr);
                });
                if (!kl.defined())
                    kl = at::full({T}, std::numeric_limits<float>::quiet_NaN(), at::kFloat);
                F32 kv(kl.view({1, T}));
                sink->change(l, cosd.data_ptr<float>(), kv.view().data, int(T));
            }
            sink->progress(l + 1, L);
        }
    }
    if (dla) dla->final = x;
    return rms(x, finalNorm, finalNormB);
}

at::Tensor Model::Impl::siteVector(const std::vector<int32_t> &ids, Site site, int layer, int pos)
{
    if (layer < 0 || layer >= cfg.nLayers)
        throw InputError("layer " + std::to_string(layer) + " is outside [0, " +
                         std::to_string(cfg.nLayers) + ")");
    if (pos < 0 || pos >= int(ids.size()))
        throw InputError("position " + std::to_string(pos) + " is outside the " +
                         std::to_string(ids.size()) + " tokens");
    std::pair<Site, int> stop(site, layer);
    std::vector<int32_t> head(ids.begin(),
                              ids.begin() + pos + 1); // causal: later tokens don't matter
    return forward(head, nullptr, {}, nullptr, nullptr, &stop).select(0, pos);
}

void Model::Impl::checkFinite(int l, int64_t past,
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

void Model::Impl::checkFiniteLogits(const at::Tensor &logits) const
{
    if (!at::GradMode::is_enabled() && !at::isfinite(logits).all().item<bool>())
        throw InputError("the model's logits are not finite (NaN or infinity) though its "
                         "last layer is: its output matrix or final norm (" +
                         path + ") is damaged");
}

Model::Impl::Attention Model::Impl::attention(const at::Tensor &q, const at::Tensor &k,
                                              const at::Tensor &v, const at::Tensor &mask,
                                              double scale, int group, int l, CaptureSink *sink,
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
        at::Tensor zb = at::bmm(p.to(ct).view({Hkv, int64_t(group) * nb, Tk}), v).view({H, nb, dh});
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

} // namespace HeadLens
