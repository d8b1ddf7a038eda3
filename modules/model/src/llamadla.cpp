// Direct logit attribution of Model::Impl (TRACE.md "Direct logit attribution"): each part the
// residual stream is the sum of, read along one unembedding row through the final norm whose
// scale is held at the value the whole final residual gives it.

#include "llamaimpl.h"

namespace HeadLens {

namespace {

FloatArray toArray(const at::Tensor &t, std::vector<int64_t> shape)
{
    const at::Tensor c = t.to(at::kFloat).contiguous();
    FloatArray a(std::move(shape));
    std::copy(c.data_ptr<float>(), c.data_ptr<float>() + c.numel(), a.data.begin());
    return a;
}

// Row-wise dot products of a and b [T, D] in float64: [T]. The parts of a logit cancel each
// other (a head's +30 against another's -29), so their sum check needs them exact.
at::Tensor rowDots(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kDouble) * b.to(at::kDouble)).sum(-1);
}

} // namespace

LogitAttribution Model::Impl::attribute(const DlaCapture &c, const at::Tensor &hidden,
                                        const std::vector<int32_t> &token,
                                        const std::vector<int32_t> &minus)
{
    const int64_t L = cfg.nLayers, H = cfg.nHeads, T = c.final.size(0);
    auto idTensor = [](const std::vector<int32_t> &ids) {
        return at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
    };
    // dir[t] = W_U[token[t]] - W_U[minus[t]]: the logit (difference) is hidden[t] . dir[t].
    at::Tensor dir = lmHead.index_select(0, idTensor(token)).to(at::kFloat);
    const bool withMinus = !minus.empty() && minus[0] >= 0;
    if (withMinus) dir = dir - lmHead.index_select(0, idTensor(minus)).to(at::kFloat);

    // The final norm with its scale s fixed is linear: RMSNorm's g * x / s, LayerNorm's
    // g * (x - mean x) / s + b. A part c of the residual then adds <g * c / s, dir> (for
    // LayerNorm the same with c centred, which is <c, u - mean u> with u = g * dir / s), and
    // LayerNorm's bias adds <b, dir> to the logit, belonging to no part.
    const at::Tensor x = c.final.to(at::kDouble);
    at::Tensor centred = gpt2 ? x - x.mean(-1, true) : x;
    const at::Tensor s = at::sqrt(centred.pow(2).mean(-1, true) + cfg.normEps); // [T, 1]
    at::Tensor u = dir.to(at::kDouble) * finalNorm.to(at::kDouble) / s;
    if (gpt2) u = u - u.mean(-1, true);
    at::Tensor rest = at::zeros({T}, at::kDouble);
    if (finalNormB.defined()) rest += (dir.to(at::kDouble) * finalNormB.to(at::kDouble)).sum(-1);
    if (c.edited.defined()) rest += rowDots(c.edited, u);

    LogitAttribution a;
    a.tokenIds = IntArray({T});
    std::copy(token.begin(), token.end(), a.tokenIds.data.begin());
    if (withMinus) {
        a.minusIds = IntArray({T});
        std::copy(minus.begin(), minus.end(), a.minusIds.data.begin());
    }
    at::Tensor heads = at::empty({L, H, T}, at::kDouble);
    at::Tensor blocks = at::empty({L, 2, T}, at::kDouble);
    // A head's part is <z_h Wo_h^T, u> = <z_h, (u Wo)_h>: one GEMM over positions per layer
    // ([T, D] x [D, H*dh]) instead of the heads' [H, T, D] vectors.
    // In the compute dtype, as the pass's products: in bf16, W_o is read as stored instead of
    // widened whole (205 MB a layer at Yi-34B's shape), and the product runs on oneDNN.
    const at::Tensor uf = u.to(ct);
    for (int64_t l = 0; l < L; ++l) {
        const LayerWeights &w = layers[size_t(l)];
        const at::Tensor uw = at::mm(uf, w.wo.to(ct)); // [T, H*dh]
        const at::Tensor zh = c.z[size_t(l)].to(at::kDouble).view({T, H, -1});
        const at::Tensor perHead = (zh * uw.to(at::kDouble).view({T, H, -1})).sum(-1); // [T, H]
        heads[l].copy_(perHead.t());
        at::Tensor attn = perHead.sum(-1);
        if (w.bo.defined()) attn = attn + (u * w.bo.to(at::kDouble)).sum(-1);
        blocks[l][0].copy_(attn);
        blocks[l][1].copy_(rowDots(c.mlpOut[size_t(l)], u));
    }
    a.heads = toArray(heads, {L, H, T});
    a.blocks = toArray(blocks, {L, 2, T});
    a.embed = toArray(rowDots(c.embed, u), {T});
    a.rest = toArray(rest, {T});
    a.logit = toArray(rowDots(hidden, dir), {T});
    return a;
}

} // namespace HeadLens
