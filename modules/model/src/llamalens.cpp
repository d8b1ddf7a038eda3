// The logit lens of Model::Impl: decoder logits and rows at a relative depth, and the lens of
// a layer's sites in blocks of positions (top-k, entropy, KL between resid_pre and resid_post).

#include "llamaimpl.h"

#include "headlens/model/tunedlens.h"

namespace HeadLens {

at::Tensor Model::Impl::decoderLogits(const at::Tensor &n, LensDecoder dec,
                                      const std::vector<double> &depth)
{
    if (cfg.tiedEmbeddings || dec == LensDecoder::Output || dec == LensDecoder::Tuned)
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

LensBlock Model::Impl::lensOfLogits(const at::Tensor &logits, int k)
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

namespace {

// The translator of (s, layer) as views of the lens's own floats (never copied): weight [D, D]
// and bias [D] (undefined for attn_out and mlp_out, whose translators are linear). Both
// undefined where the tuned lens leaves the site untranslated.
struct Translator {
    at::Tensor weight, bias;
};

Translator translatorAt(const TunedLens &t, Site s, int layer, int nLayers, int64_t D)
{
    const int i = TunedLens::translatorOf(s, layer, nLayers);
    if (i < 0) return {};
    Translator out;
    out.weight = at::from_blob(const_cast<float *>(t.weight[size_t(i)].data()), {D, D}, at::kFloat);
    if (!TunedLens::linearOnly(s))
        out.bias = at::from_blob(const_cast<float *>(t.bias[size_t(i)].data()), {D}, at::kFloat);
    return out;
}

} // namespace

at::Tensor Model::Impl::translate(const at::Tensor &v, Site s, int layer,
                                  const LensOptions &o) const
{
    if (o.decoder != LensDecoder::Tuned) return v;
    if (!o.tuned) throw InputError("the tuned lens decoder needs a lens file (--lens FILE)");
    o.tuned->checkFits(cfg, name);
    const Translator tr = translatorAt(*o.tuned, s, layer, cfg.nLayers, cfg.dModel);
    if (!tr.weight.defined()) return v;
    const int64_t D = cfg.dModel;
    const at::Tensor x = v.to(at::kFloat);
    if (!tr.bias.defined()) return at::matmul(x, tr.weight.t()).to(v.scalar_type());
    return at::addmm(tr.bias, x.reshape({-1, D}), tr.weight.t())
        .view(x.sizes())
        .to(v.scalar_type());
}

Model::Impl::LensReading Model::Impl::readingOf(const at::Tensor &r, Site s, int layer,
                                                const LensOptions &o) const
{
    const at::Tensor r64 = r.to(at::kDouble);
    if (o.decoder != LensDecoder::Tuned) return {r64, 0.0};
    if (!o.tuned) throw InputError("the tuned lens decoder needs a lens file (--lens FILE)");
    o.tuned->checkFits(cfg, name);
    const Translator tr = translatorAt(*o.tuned, s, layer, cfg.nLayers, cfg.dModel);
    if (!tr.weight.defined()) return {r64, 0.0};
    // W^T r as one float32 product with W as stored (a float64 copy of W would be D^2 * 8
    // bytes: 411 MB at Yi-34B's width).
    LensReading out;
    out.direction = at::mv(tr.weight.t(), r64.to(at::kFloat)).to(at::kDouble);
    if (tr.bias.defined()) out.offset = (r64 * tr.bias.to(at::kDouble)).sum().item<double>();
    return out;
}

at::Tensor Model::Impl::lensNorm(const at::Tensor &v, LensNorm norm) const
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

at::Tensor Model::Impl::decoderRows(LensDecoder dec, double d, int64_t r0, int64_t n,
                                    at::ScalarType t) const
{
    if (cfg.tiedEmbeddings || dec == LensDecoder::Output || dec == LensDecoder::Tuned)
        return rowsAs(lmHead, r0, n, t);
    if (dec == LensDecoder::Input) return rowsAs(embed, r0, n, t);
    const double w = dec == LensDecoder::Linear ? d : d * d;
    return rowsAs(embed, r0, n, t) * (1 - w) + rowsAs(lmHead, r0, n, t) * w;
}

at::Tensor Model::Impl::decoderTimes(LensDecoder dec, double d, const at::Tensor &e) const
{
    const int64_t V = cfg.vocabSize, R = tileRows(2 * cfg.dModel, V);
    at::Tensor out = at::empty({V}, at::kDouble);
    for (int64_t r0 = 0; r0 < V; r0 += R) {
        const int64_t n = std::min(R, V - r0);
        out.narrow(0, r0, n).copy_(at::mv(decoderRows(dec, d, r0, n, at::kDouble), e));
    }
    return out;
}

void Model::Impl::layerLens(const std::array<at::Tensor, kSiteCount> &sites, int layer,
                            const LensOptions &o, std::array<LensBlock, kSiteCount> &out,
                            at::Tensor *kl, LensCarry *carry)
{
    // resid_pre[l] and resid_post[l-1] share their tuned translator too.
    const bool depthFree = cfg.tiedEmbeddings || o.decoder == LensDecoder::Output ||
                           o.decoder == LensDecoder::Input || o.decoder == LensDecoder::Tuned;
    const bool reusePre =
        carry && carry->valid && depthFree && sites[size_t(Site::ResidPre)].defined();
    std::vector<int> want;
    for (int s = 0; s < kSiteCount; ++s)
        if (sites[size_t(s)].defined() && !(reusePre && s == int(Site::ResidPre)))
            want.push_back(s);
    if (reusePre) out[size_t(Site::ResidPre)] = carry->post;
    if (want.empty()) {
        if (carry) carry->valid = false;
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
    const bool withKl =
        kl && sites[size_t(Site::ResidPre)].defined() && sites[size_t(Site::ResidPost)].defined();
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
    if (withKl) *kl = at::empty({T}, at::kFloat);
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
        if (want[i] == int(Site::ResidPost)) postAt = int(i);
        if (want[i] == int(Site::ResidPre)) preAt = int(i);
    }
    const auto f32 = [](const at::Tensor &t) { return t.data_ptr<float>(); };
    const auto f64 = [](const at::Tensor &t) { return t.data_ptr<double>(); };
    for (int64_t p0 = 0; p0 < T; p0 += block) {
        const int64_t nb = std::min(block, T - p0);
        std::vector<at::Tensor> rows;
        std::vector<double> rowDepth;
        for (size_t i = 0; i < want.size(); ++i) {
            rows.push_back(lensNorm(
                translate(sites[size_t(want[i])].narrow(0, p0, nb), Site(want[i]), layer, o),
                o.norm));
            rowDepth.insert(rowDepth.end(), size_t(nb), depth[i]);
        }
        const at::Tensor logits = decoderLogits(at::cat(rows, 0), o.decoder, rowDepth).contiguous();
        const float *L = f32(logits);
        const auto siteRows = [&](int i) { return L + int64_t(i) * nb * V; };
        // Positions [q0, q1) of the block: every site's lens, the KL, the carried rows.
        at::parallel_for(0, nb, 1, [&](int64_t q0, int64_t q1) {
            for (size_t i = 0; i < want.size(); ++i) {
                const LensBlock &b = out[size_t(want[i])];
                Kernels::lensRows(siteRows(int(i)), V, k, q0, q1,
                                  b.ids.data_ptr<int32_t>() + p0 * k, f32(b.probs) + p0 * k,
                                  f32(b.entropy) + p0, f32(rowMax[size_t(want[i])]) + p0,
                                  f64(rowLogSum[size_t(want[i])]) + p0);
            }
            const size_t post = size_t(Site::ResidPost), pre = size_t(Site::ResidPre);
            if (withKl) {
                const float *preRows = reusePre ? f32(carry->logits) + p0 * V : siteRows(preAt);
                Kernels::klRows(siteRows(postAt), f32(rowMax[post]) + p0, f64(rowLogSum[post]) + p0,
                                preRows, f32(rowMax[pre]) + p0, f64(rowLogSum[pre]) + p0, V, q0, q1,
                                f32(*kl) + p0);
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

} // namespace HeadLens
