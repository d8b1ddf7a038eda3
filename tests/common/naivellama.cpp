#include "naivellama.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace HeadLens::Test {

namespace {

// y[o] = sum_i W[o, i] x[i] (+ b[o]); W is [out, in] floats.
void matvec(const std::vector<float> &W, const std::vector<float> &b, const double *x, int in,
            int out, double *y)
{
    for (int o = 0; o < out; ++o) {
        double s = b.empty() ? 0.0 : double(b[size_t(o)]);
        const float *row = W.data() + size_t(o) * size_t(in);
        for (int i = 0; i < in; ++i)
            s += double(row[i]) * x[i];
        y[o] = s;
    }
}

// g * x / sqrt(mean(x^2) + eps); g null means all ones.
void rmsNorm(const double *x, const float *g, int n, double eps, double *y)
{
    double ss = 0.0;
    for (int i = 0; i < n; ++i)
        ss += x[i] * x[i];
    const double inv = 1.0 / std::sqrt(ss / n + eps);
    for (int i = 0; i < n; ++i)
        y[i] = (g ? double(g[i]) : 1.0) * x[i] * inv;
}

// Hugging Face RoPE on one head vector: pairs (i, i + dh/2).
void ropeHalves(double *x, int dh, double pos, double theta)
{
    const int half = dh / 2;
    for (int i = 0; i < half; ++i) {
        const double invFreq = std::pow(theta, -2.0 * i / dh);
        const double a = pos * invFreq;
        const double c = std::cos(a), s = std::sin(a);
        const double x1 = x[i], x2 = x[i + half];
        x[i] = x1 * c - x2 * s;
        x[i + half] = x2 * c + x1 * s;
    }
}

double silu(double x)
{
    return x / (1.0 + std::exp(-x));
}

double dot(const double *a, const double *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; ++i)
        s += a[i] * b[i];
    return s;
}

} // namespace

NaiveForward naiveForward(const LlamaWeights &w, const std::vector<int32_t> &ids,
                          const NaivePatch *patch)
{
    const ModelConfig &c = w.config;
    NaiveForward f;
    f.L = c.nLayers;
    f.T = int(ids.size());
    f.H = c.nHeads;
    f.Hkv = c.nKvHeads;
    f.D = c.dModel;
    f.dh = c.dHead;
    f.V = c.vocabSize;
    const int L = f.L, T = f.T, H = f.H, Hkv = f.Hkv, D = f.D, dh = f.dh, V = f.V, F = c.dFfn;
    const int qDim = H * dh, kvDim = Hkv * dh, group = H / Hkv;
    const size_t LTD = size_t(L) * size_t(T) * size_t(D);
    for (auto &s : f.sites)
        s.assign(LTD, 0.0);
    f.pattern.assign(size_t(L) * size_t(H) * size_t(T) * size_t(T), 0.0);
    f.z.assign(size_t(L) * size_t(T) * size_t(qDim), 0.0);
    f.v.assign(size_t(L) * size_t(T) * size_t(kvDim), 0.0);
    f.result.assign(size_t(L) * size_t(H) * size_t(T) * size_t(D), 0.0);
    f.logits.assign(size_t(T) * size_t(V), 0.0);

    std::vector<double> x(size_t(T) * size_t(D));
    for (int t = 0; t < T; ++t) {
        if (ids[size_t(t)] < 0 || ids[size_t(t)] >= V)
            throw std::out_of_range("naiveForward: id out of range");
        for (int d = 0; d < D; ++d)
            x[size_t(t * D + d)] = double(w.embed[size_t(ids[size_t(t)]) * size_t(D) + size_t(d)]);
    }
    const double scale = 1.0 / std::sqrt(double(dh));
    const size_t Dz = size_t(D), Fz = size_t(F), Tz = size_t(T);
    std::vector<double> a(Dz), q(Tz * size_t(qDim)), k(Tz * size_t(kvDim)), v(Tz * size_t(kvDim)),
        scores(Tz), gate(Fz), up(Fz), hid(Fz);

    for (int l = 0; l < L; ++l) {
        const LlamaLayer &ly = w.layers[size_t(l)];
        auto siteRow = [&](Site s, int t) {
            return f.sites[size_t(s)].data() + (size_t(l) * size_t(T) + size_t(t)) * size_t(D);
        };
        auto patchSite = [&](Site s, int t, double *row) {
            if (patch)
                for (const NaivePatch::SiteVector &p : patch->sites)
                    if (p.site == s && p.layer == l && p.pos == t) std::copy_n(p.v.data(), D, row);
        };
        for (int t = 0; t < T; ++t) {
            patchSite(Site::ResidPre, t, &x[size_t(t * D)]);
            std::copy_n(&x[size_t(t * D)], D, siteRow(Site::ResidPre, t));
            rmsNorm(&x[size_t(t * D)], ly.attnNorm.data(), D, c.normEps, a.data());
            matvec(ly.wq, ly.bq, a.data(), D, qDim, &q[size_t(t * qDim)]);
            matvec(ly.wk, ly.bk, a.data(), D, kvDim, &k[size_t(t * kvDim)]);
            matvec(ly.wv, ly.bv, a.data(), D, kvDim, &v[size_t(t * kvDim)]);
            const double pos = double(t) / c.ropeScaling;
            for (int h = 0; h < H; ++h)
                ropeHalves(&q[size_t(t * qDim + h * dh)], dh, pos, c.ropeTheta);
            for (int g = 0; g < Hkv; ++g)
                ropeHalves(&k[size_t(t * kvDim + g * dh)], dh, pos, c.ropeTheta);
            std::copy_n(&v[size_t(t * kvDim)], kvDim,
                        &f.v[(size_t(l) * size_t(T) + size_t(t)) * size_t(kvDim)]);
        }
        for (int h = 0; h < H; ++h) {
            const int g = h / group;
            for (int t = 0; t < T; ++t) {
                double mx = -INFINITY;
                for (int s = 0; s <= t; ++s) {
                    scores[size_t(s)] =
                        dot(&q[size_t(t * qDim + h * dh)], &k[size_t(s * kvDim + g * dh)], dh) *
                        scale;
                    mx = std::max(mx, scores[size_t(s)]);
                }
                double sum = 0.0;
                for (int s = 0; s <= t; ++s) {
                    scores[size_t(s)] = std::exp(scores[size_t(s)] - mx);
                    sum += scores[size_t(s)];
                }
                double *prow =
                    &f.pattern[((size_t(l) * size_t(H) + size_t(h)) * size_t(T) + size_t(t)) *
                               size_t(T)];
                double *zrow = &f.z[((size_t(l) * size_t(T) + size_t(t)) * size_t(H) + size_t(h)) *
                                    size_t(dh)];
                for (int s = 0; s <= t; ++s) {
                    prow[s] = scores[size_t(s)] / sum;
                    for (int j = 0; j < dh; ++j)
                        zrow[j] += prow[s] * v[size_t(s * kvDim + g * dh + j)];
                }
                if (patch)
                    for (const NaivePatch::HeadZ &p : patch->heads)
                        if (p.layer == l && p.head == h && p.pos == t)
                            std::copy_n(p.z.data(), dh, zrow);
                double *res =
                    &f.result[((size_t(l) * size_t(H) + size_t(h)) * size_t(T) + size_t(t)) *
                              size_t(D)];
                for (int d = 0; d < D; ++d) {
                    const float *worow = ly.wo.data() + size_t(d) * size_t(qDim) + size_t(h * dh);
                    double s = 0.0;
                    for (int j = 0; j < dh; ++j)
                        s += double(worow[j]) * zrow[j];
                    res[d] = s;
                }
            }
        }
        for (int t = 0; t < T; ++t) {
            double *ao = siteRow(Site::AttnOut, t);
            for (int d = 0; d < D; ++d) {
                double s = ly.bo.empty() ? 0.0 : double(ly.bo[size_t(d)]);
                for (int h = 0; h < H; ++h)
                    s += f.headResult(l, h, t)[d];
                ao[d] = s;
            }
            patchSite(Site::AttnOut, t, ao);
            double *mid = siteRow(Site::ResidMid, t);
            for (int d = 0; d < D; ++d)
                mid[d] = x[size_t(t * D + d)] + ao[d];
            patchSite(Site::ResidMid, t, mid);
            rmsNorm(mid, ly.ffnNorm.data(), D, c.normEps, a.data());
            matvec(ly.wGate, ly.bGate, a.data(), D, F, gate.data());
            matvec(ly.wUp, ly.bUp, a.data(), D, F, up.data());
            for (int i = 0; i < F; ++i)
                hid[size_t(i)] = silu(gate[size_t(i)]) * up[size_t(i)];
            double *mo = siteRow(Site::MlpOut, t);
            matvec(ly.wDown, ly.bDown, hid.data(), F, D, mo);
            patchSite(Site::MlpOut, t, mo);
            double *post = siteRow(Site::ResidPost, t);
            for (int d = 0; d < D; ++d)
                post[d] = mid[d] + mo[d];
            patchSite(Site::ResidPost, t, post);
            std::copy_n(post, D, &x[size_t(t * D)]);
        }
    }
    const std::vector<float> &WU = w.unembed();
    const std::vector<float> none;
    for (int t = 0; t < T; ++t) {
        rmsNorm(&x[size_t(t * D)], w.finalNorm.data(), D, c.normEps, a.data());
        matvec(WU, none, a.data(), D, V, &f.logits[size_t(t) * size_t(V)]);
    }
    return f;
}

NaiveHeadMetrics naiveHeadMetrics(const LlamaWeights &w, const NaiveForward &f)
{
    const int L = f.L, H = f.H, T = f.T, D = f.D, dh = f.dh, Hkv = f.Hkv;
    const int qDim = H * dh, kvDim = Hkv * dh, group = H / Hkv;
    const size_t n = size_t(L) * size_t(H) * size_t(T);
    NaiveHeadMetrics m;
    for (auto *v : {&m.contribNorm, &m.contribShare, &m.contribCosine, &m.contribProjection,
                    &m.attnEntropy, &m.valueNorm})
        v->assign(n, 0.0);
    for (int l = 0; l < L; ++l) {
        const LlamaLayer &ly = w.layers[size_t(l)];
        for (int t = 0; t < T; ++t) {
            const double *ao = f.site(Site::AttnOut, l, t);
            const double aoNorm = std::sqrt(dot(ao, ao, D));
            double normSum = 0.0;
            for (int h = 0; h < H; ++h) {
                const size_t i = (size_t(l) * size_t(H) + size_t(h)) * size_t(T) + size_t(t);
                const double *r = f.headResult(l, h, t);
                const double rn = std::sqrt(dot(r, r, D));
                m.contribNorm[i] = rn;
                normSum += rn;
                const double rd = dot(r, ao, D);
                m.contribCosine[i] = (rn > 0 && aoNorm > 0) ? rd / (rn * aoNorm) : 0.0;
                m.contribProjection[i] = aoNorm > 0 ? rd / aoNorm : 0.0;
                double e = 0.0;
                for (int s = 0; s <= t; ++s) {
                    const double p = f.patternAt(l, h, t, s);
                    if (p > 0) e -= p * std::log(p);
                }
                m.attnEntropy[i] = e;
                // What source position t can send through head h.
                const int g = h / group;
                const double *vv =
                    &f.v[(size_t(l) * size_t(T) + size_t(t)) * size_t(kvDim) + size_t(g * dh)];
                double ss = 0.0;
                for (int d = 0; d < D; ++d) {
                    const float *worow = ly.wo.data() + size_t(d) * size_t(qDim) + size_t(h * dh);
                    double s = 0.0;
                    for (int j = 0; j < dh; ++j)
                        s += double(worow[j]) * vv[j];
                    ss += s * s;
                }
                m.valueNorm[i] = std::sqrt(ss);
            }
            for (int h = 0; h < H; ++h) {
                const size_t i = (size_t(l) * size_t(H) + size_t(h)) * size_t(T) + size_t(t);
                m.contribShare[i] = normSum > 0 ? m.contribNorm[i] / normSum : 0.0;
            }
        }
    }

    // Each head against the residual it is added to, the blocks against theirs, and how alike
    // the heads' outputs are (mean over positions of the cosine; a zero vector has cosine 0).
    m.residRatio.assign(n, 0.0);
    m.residProjection.assign(n, 0.0);
    m.attnResidRatio.assign(size_t(L) * size_t(T), 0.0);
    m.mlpResidRatio.assign(size_t(L) * size_t(T), 0.0);
    m.changeCosine.assign(size_t(L) * size_t(T), 0.0);
    m.contribSimilarity.assign(size_t(L) * size_t(H) * size_t(H), 0.0);
    for (int l = 0; l < L; ++l) {
        for (int t = 0; t < T; ++t) {
            const double *pre = f.site(Site::ResidPre, l, t);
            const double *ao = f.site(Site::AttnOut, l, t);
            const double *mid = f.site(Site::ResidMid, l, t);
            const double *mo = f.site(Site::MlpOut, l, t);
            const double *post = f.site(Site::ResidPost, l, t);
            const double preNorm = std::sqrt(dot(pre, pre, D));
            const double postNorm = std::sqrt(dot(post, post, D));
            const size_t lt = size_t(l) * size_t(T) + size_t(t);
            m.attnResidRatio[lt] = std::sqrt(dot(ao, ao, D)) / preNorm;
            m.mlpResidRatio[lt] = std::sqrt(dot(mo, mo, D)) / std::sqrt(dot(mid, mid, D));
            m.changeCosine[lt] = 1.0 - dot(pre, post, D) / (preNorm * postNorm);
            for (int h = 0; h < H; ++h) {
                const size_t i = (size_t(l) * size_t(H) + size_t(h)) * size_t(T) + size_t(t);
                const double *r = f.headResult(l, h, t);
                m.residRatio[i] = std::sqrt(dot(r, r, D)) / preNorm;
                m.residProjection[i] = dot(r, pre, D) / preNorm;
                for (int g = 0; g < H; ++g) {
                    const double *rg = f.headResult(l, g, t);
                    const double na = std::sqrt(dot(r, r, D)), nb = std::sqrt(dot(rg, rg, D));
                    const double c = (na > 0 && nb > 0) ? dot(r, rg, D) / (na * nb) : 0.0;
                    m.contribSimilarity[(size_t(l) * size_t(H) + size_t(h)) * size_t(H) +
                                        size_t(g)] += c / double(T);
                }
            }
        }
    }
    return m;
}

double naiveSiteDepth(Site s, int layer, int nLayers)
{
    switch (s) {
    case Site::ResidPre:
        return double(layer) / nLayers;
    case Site::ResidPost:
        return double(layer + 1) / nLayers;
    case Site::AttnOut:
    case Site::ResidMid:
    case Site::MlpOut:
        return (layer + 0.5) / nLayers;
    }
    throw std::invalid_argument("naiveSiteDepth: bad site");
}

std::vector<double> naiveLensProbs(const LlamaWeights &w, const double *v, double depth,
                                   LensNorm norm, LensDecoder decoder)
{
    const ModelConfig &c = w.config;
    const int D = c.dModel, V = c.vocabSize;
    std::vector<double> e(static_cast<size_t>(D));
    switch (norm) {
    case LensNorm::Full:
        rmsNorm(v, w.finalNorm.data(), D, c.normEps, e.data());
        break;
    case LensNorm::Unit:
        rmsNorm(v, nullptr, D, c.normEps, e.data());
        break;
    case LensNorm::None:
        std::copy_n(v, D, e.data());
        break;
    }
    double a = 0.0, b = 1.0; // decoder = a W_E + b W_U
    switch (decoder) {
    case LensDecoder::Output:
    case LensDecoder::Tuned: // the output matrix; the translator is naiveTunedLensProbs's
        a = 0.0, b = 1.0;
        break;
    case LensDecoder::Input:
        a = 1.0, b = 0.0;
        break;
    case LensDecoder::Linear:
        a = 1.0 - depth, b = depth;
        break;
    case LensDecoder::Quadratic:
        a = 1.0 - depth * depth, b = depth * depth;
        break;
    }
    const std::vector<float> &WE = w.embed, &WU = w.unembed();
    std::vector<double> logits(static_cast<size_t>(V));
    for (int j = 0; j < V; ++j) {
        double s = 0.0;
        for (int d = 0; d < D; ++d) {
            const size_t i = size_t(j) * size_t(D) + size_t(d);
            s += (a * double(WE[i]) + b * double(WU[i])) * e[size_t(d)];
        }
        logits[size_t(j)] = s;
    }
    return softmaxOf(logits.data(), V);
}

std::vector<double> naiveTunedLensProbs(const LlamaWeights &w, const double *v,
                                        const std::vector<float> &W, const std::vector<float> &b,
                                        bool linearOnly)
{
    const int D = w.config.dModel;
    std::vector<double> y(static_cast<size_t>(D));
    for (int r = 0; r < D; ++r) {
        double s = linearOnly ? 0.0 : double(b[size_t(r)]);
        for (int c = 0; c < D; ++c)
            s += double(W[size_t(r) * size_t(D) + size_t(c)]) * v[c];
        y[size_t(r)] = s;
    }
    return naiveLensProbs(w, y.data(), 1.0, LensNorm::Full, LensDecoder::Output);
}

double klNats(const std::vector<double> &p, const std::vector<double> &q)
{
    double kl = 0.0;
    for (size_t i = 0; i < p.size(); ++i)
        if (p[i] > 0) kl += p[i] * (std::log(p[i]) - std::log(q[i]));
    return kl;
}

std::vector<double> softmaxOf(const double *logits, int n)
{
    double mx = -INFINITY;
    for (int i = 0; i < n; ++i)
        mx = std::max(mx, logits[i]);
    std::vector<double> p(static_cast<size_t>(n));
    double sum = 0.0;
    for (int i = 0; i < n; ++i)
        sum += (p[size_t(i)] = std::exp(logits[i] - mx));
    for (auto &x : p)
        x /= sum;
    return p;
}

double entropyNats(const std::vector<double> &p)
{
    double e = 0.0;
    for (double x : p)
        if (x > 0) e -= x * std::log(x);
    return e;
}

std::vector<int32_t> topkIndices(const std::vector<double> &p, int k)
{
    std::vector<int32_t> idx(p.size());
    std::iota(idx.begin(), idx.end(), 0);
    k = std::min<int>(k, int(p.size()));
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t x, int32_t y) {
        return p[size_t(x)] > p[size_t(y)] || (p[size_t(x)] == p[size_t(y)] && x < y);
    });
    idx.resize(size_t(k));
    return idx;
}

int32_t argmaxOf(const double *x, int n)
{
    int32_t best = 0;
    for (int i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return best;
}

std::vector<int32_t> naiveGreedy(const LlamaWeights &w, std::vector<int32_t> ids, int n)
{
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
        const NaiveForward f = naiveForward(w, ids);
        const int32_t next = argmaxOf(f.logitsAt(f.T - 1), f.V);
        out.push_back(next);
        ids.push_back(next);
    }
    return out;
}

} // namespace HeadLens::Test
