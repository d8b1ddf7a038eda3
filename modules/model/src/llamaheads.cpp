// Head metrics of Model::Impl: the heads' vectors Wo_h z_h summed into attn_out, their
// per-position metrics, value norms through the Gram matrices of W_o, and the MLP's ratio.

#include "llamaimpl.h"

namespace HeadLens {

const at::Tensor &Model::Impl::woGram(int l)
{
    LayerWeights &w = layers[size_t(l)];
    if (!w.woGram.defined()) {
        const at::Tensor woh = woHeads(w, at::kFloat); // [H, dh, D]
        w.woGram = at::bmm(woh, woh.transpose(1, 2)).contiguous();
    }
    return w.woGram;
}

void Model::Impl::startHeadCapture(const at::Tensor &residPre, int64_t T, HeadCapture &hc) const
{
    const int H = cfg.nHeads;
    hc.residPre = residPre.to(at::kFloat).contiguous();
    hc.perHead = at::empty({5, H, T}, at::kFloat);
    hc.attnRatio = at::empty({T}, at::kFloat);
    hc.pairCosine = at::empty({T, H, H}, at::kDouble);
}

at::Tensor Model::Impl::headOutputs(int l, const at::Tensor &z, const at::Tensor &residPre,
                                    HeadCapture &hc)
{
    if (ct != at::kFloat) return headOutputsLowPrecision(l, z, residPre, hc);
    const LayerWeights &w = layers[size_t(l)];
    const int H = cfg.nHeads;
    const int64_t T = z.size(1), D = cfg.dModel;
    const int64_t chunk = headChunk(T, H * D * 4);
    const at::Tensor woh = woHeads(w, at::kFloat); // [H, dh, D]
    const at::Tensor zf = z.to(at::kFloat);
    const at::Tensor bias = w.bo.defined() ? w.bo.to(at::kFloat).contiguous() : at::Tensor();
    const float *biasData = bias.defined() ? bias.data_ptr<float>() : nullptr;
    startHeadCapture(residPre, T, hc);
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

at::Tensor Model::Impl::headOutputsLowPrecision(int l, const at::Tensor &z,
                                                const at::Tensor &residPre, HeadCapture &hc)
{
    const LayerWeights &w = layers[size_t(l)];
    const int H = cfg.nHeads, dh = cfg.dHead;
    const int64_t T = z.size(1), D = cfg.dModel, n = H + 2;
    // attn_out as the plain pass makes it: one product with W_o.
    const at::Tensor attnOut = linear(z.transpose(0, 1).reshape({T, int64_t(H) * dh}), w.wo, w.bo);
    startHeadCapture(residPre, T, hc);
    const Kernels::HeadDotsOut out = hc.out();
    const at::Tensor zc = z.contiguous();
    const int64_t chunk = headChunk(T, n * D * int64_t(at::elementSize(ct)));
    // Each head's product reads its slice of W_o transposed. With one block of positions it
    // reads the slice in place; with several, W_o is first copied once as [H, D, dh] (runs of
    // dh values), which costs about what the strided reads of one block lose (Yi-34B's shape,
    // 161 positions: copy 30 ms, strided reads 24 ms slower; a copy to [H, dh, D] would be a
    // slow transposition).
    const at::Tensor wo = w.wo.to(ct);
    const at::Tensor woh =
        chunk < T ? wo.view({D, int64_t(H), int64_t(dh)}).permute({1, 0, 2}).contiguous()
                  : at::Tensor();
    const auto headSlice = [&](int h) {
        return woh.defined() ? woh.select(0, h).t() : wo.narrow(1, int64_t(h) * dh, dh).t();
    };
    // Per block of positions: the heads' vectors, attn_out and resid_pre as n rows of each
    // position, and their dot products as one batched product over the positions.
    at::Tensor rows = at::empty({chunk, n, D}, ct);
    for (int64_t t0 = 0; t0 < T; t0 += chunk) {
        const int64_t c = std::min(chunk, T - t0);
        at::Tensor e = rows.narrow(0, 0, c);
        for (int h = 0; h < H; ++h) {
            at::Tensor eh = e.select(1, h);
            at::mm_out(eh, zc.select(0, h).narrow(0, t0, c), headSlice(h));
        }
        e.select(1, H).copy_(attnOut.narrow(0, t0, c));
        e.select(1, H + 1).copy_(residPre.narrow(0, t0, c));
        const at::Tensor gram = at::bmm(e, e.transpose(1, 2)).to(at::kDouble).contiguous();
        const double *g = gram.data_ptr<double>();
        at::parallel_for(0, c, grainFor(n * n), [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i)
                Kernels::headMetricsAt(g + i * n * n, H, t0 + i, out);
        });
    }
    return attnOut;
}

at::Tensor Model::Impl::woHeads(const LayerWeights &w, at::ScalarType t) const
{
    const int64_t D = cfg.dModel;
    return w.wo.to(t).view({D, int64_t(cfg.nHeads), int64_t(cfg.dHead)}).permute({1, 2, 0});
}

int64_t Model::Impl::headChunk(int64_t T, int64_t bytesPerPosition) const
{
    return std::clamp<int64_t>(headBlockBytes / bytesPerPosition, 1, T);
}

void Model::Impl::redoHeadRow(int l, const at::Tensor &z, const at::Tensor &attnOut, int64_t row,
                              HeadCapture &hc)
{
    if (row < 0 || row >= attnOut.size(0)) return;
    const int H = cfg.nHeads;
    const int64_t D = cfg.dModel;
    const at::Tensor woh = woHeads(layers[size_t(l)], at::kFloat);
    const at::Tensor r = at::bmm(z.narrow(1, row, 1).to(at::kFloat), woh).contiguous(); // [H, 1, D]
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

void Model::Impl::headMetrics(int l, CaptureSink *sink, const HeadCapture &hc, const at::Tensor &v,
                              const at::Tensor &ent, int group, const at::Tensor &residMid,
                              const at::Tensor &mlpOut)
{
    const int H = cfg.nHeads;
    const int64_t T = hc.attnRatio.size(0), Tk = v.size(1), D = cfg.dModel;
    const at::Tensor &G = woGram(l);
    at::Tensor vh = v.to(at::kFloat);
    if (group > 1) vh = vh.repeat_interleave(group, 0); // [H, Tk, dh]
    if (vh.stride(2) != 1) vh = vh.contiguous();
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
    const HeadMetricsView mv{viewOf(m[0]),         viewOf(m[1]),    viewOf(m[2]), viewOf(ent),
                             viewOf(vnorm),        viewOf(m[3]),    viewOf(m[4]), viewOf(sim),
                             viewOf(hc.attnRatio), viewOf(mlpRatio)};
    sink->heads(l, mv);
}

} // namespace HeadLens
