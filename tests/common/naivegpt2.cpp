#include "naivegpt2.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace HeadLens::Test {

namespace {

// y[o] = sum_i x[i] W[i, o] + b[o] for a Conv1D weight W [in, out], restricted to the output
// columns [o0, o0 + n) and the input rows [i0, i0 + in).
void conv1d(const std::vector<float> &W, int outTotal, const double *x, int i0, int in, int o0,
            int n, const float *b, double *y)
{
    for (int o = 0; o < n; ++o)
        y[o] = b ? double(b[o0 + o]) : 0.0;
    for (int i = 0; i < in; ++i) {
        const float *row = W.data() + size_t(i0 + i) * size_t(outTotal) + size_t(o0);
        const double xi = x[i];
        for (int o = 0; o < n; ++o)
            y[o] += xi * double(row[o]);
    }
}

double dot(const double *a, const double *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; ++i)
        s += a[i] * b[i];
    return s;
}

} // namespace

double naiveGelu(double x, const std::string &activation)
{
    if (activation == "gelu") return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    if (activation == "gelu_new")
        return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    throw std::invalid_argument("naiveGelu: unknown activation " + activation);
}

void naiveLayerNorm(const double *x, const float *g, const float *b, int n, double eps, double *y)
{
    double mean = 0.0;
    for (int i = 0; i < n; ++i)
        mean += x[i];
    mean /= n;
    double var = 0.0;
    for (int i = 0; i < n; ++i)
        var += (x[i] - mean) * (x[i] - mean);
    var /= n;
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int i = 0; i < n; ++i)
        y[i] = (x[i] - mean) * inv * (g ? double(g[i]) : 1.0) + (b ? double(b[i]) : 0.0);
}

NaiveForward naiveGpt2Forward(const Gpt2Weights &w, const std::vector<int32_t> &ids)
{
    const ModelConfig &c = w.config;
    NaiveForward f;
    f.L = c.nLayers;
    f.T = int(ids.size());
    f.H = c.nHeads;
    f.Hkv = c.nHeads;
    f.D = c.dModel;
    f.dh = c.dModel / c.nHeads;
    f.V = c.vocabSize;
    const int L = f.L, T = f.T, H = f.H, D = f.D, dh = f.dh, V = f.V, F = c.dFfn;
    if (T > c.maxSeqLen) throw std::out_of_range("naiveGpt2Forward: more tokens than positions");
    const size_t Tz = size_t(T), Dz = size_t(D);
    for (auto &s : f.sites)
        s.assign(size_t(L) * Tz * Dz, 0.0);
    f.pattern.assign(size_t(L) * size_t(H) * Tz * Tz, 0.0);
    f.z.assign(size_t(L) * Tz * Dz, 0.0);
    f.v.assign(size_t(L) * Tz * Dz, 0.0);
    f.result.assign(size_t(L) * size_t(H) * Tz * Dz, 0.0);
    f.logits.assign(Tz * size_t(V), 0.0);

    std::vector<double> x(Tz * Dz);
    for (int t = 0; t < T; ++t) {
        const int32_t id = ids[size_t(t)];
        if (id < 0 || id >= V) throw std::out_of_range("naiveGpt2Forward: id out of range");
        for (int d = 0; d < D; ++d)
            x[size_t(t) * Dz + size_t(d)] = double(w.wte[size_t(id) * Dz + size_t(d)]) +
                                            double(w.wpe[size_t(t) * Dz + size_t(d)]);
    }
    const double scale = 1.0 / std::sqrt(double(dh));
    std::vector<double> a(Dz), q(Tz * Dz), k(Tz * Dz), v(Tz * Dz), scores(Tz),
        hid(static_cast<size_t>(F));

    for (int l = 0; l < L; ++l) {
        const Gpt2Layer &ly = w.layers[size_t(l)];
        auto siteRow = [&](Site s, int t) {
            return f.sites[size_t(s)].data() + (size_t(l) * Tz + size_t(t)) * Dz;
        };
        for (int t = 0; t < T; ++t) {
            std::copy_n(&x[size_t(t) * Dz], D, siteRow(Site::ResidPre, t));
            naiveLayerNorm(&x[size_t(t) * Dz], ly.ln1W.data(), ly.ln1B.data(), D, c.normEps,
                           a.data());
            conv1d(ly.attnW, 3 * D, a.data(), 0, D, 0, D, ly.attnB.data(), &q[size_t(t) * Dz]);
            conv1d(ly.attnW, 3 * D, a.data(), 0, D, D, D, ly.attnB.data(), &k[size_t(t) * Dz]);
            conv1d(ly.attnW, 3 * D, a.data(), 0, D, 2 * D, D, ly.attnB.data(), &v[size_t(t) * Dz]);
            std::copy_n(&v[size_t(t) * Dz], D, &f.v[(size_t(l) * Tz + size_t(t)) * Dz]);
        }
        for (int h = 0; h < H; ++h) {
            for (int t = 0; t < T; ++t) {
                double mx = -INFINITY;
                for (int s = 0; s <= t; ++s) {
                    scores[size_t(s)] = dot(&q[size_t(t) * Dz + size_t(h * dh)],
                                            &k[size_t(s) * Dz + size_t(h * dh)], dh) *
                                        scale;
                    mx = std::max(mx, scores[size_t(s)]);
                }
                double sum = 0.0;
                for (int s = 0; s <= t; ++s) {
                    scores[size_t(s)] = std::exp(scores[size_t(s)] - mx);
                    sum += scores[size_t(s)];
                }
                double *prow =
                    &f.pattern[((size_t(l) * size_t(H) + size_t(h)) * Tz + size_t(t)) * Tz];
                double *zrow =
                    &f.z[((size_t(l) * Tz + size_t(t)) * size_t(H) + size_t(h)) * size_t(dh)];
                for (int s = 0; s <= t; ++s) {
                    prow[s] = scores[size_t(s)] / sum;
                    for (int j = 0; j < dh; ++j)
                        zrow[j] += prow[s] * v[size_t(s) * Dz + size_t(h * dh + j)];
                }
                // Head h reads the rows h*dh..(h+1)*dh of the [in, out] c_proj weight.
                double *res =
                    &f.result[((size_t(l) * size_t(H) + size_t(h)) * Tz + size_t(t)) * Dz];
                conv1d(ly.attnProjW, D, zrow, h * dh, dh, 0, D, nullptr, res);
            }
        }
        for (int t = 0; t < T; ++t) {
            double *ao = siteRow(Site::AttnOut, t);
            for (int d = 0; d < D; ++d) {
                double s = double(ly.attnProjB[size_t(d)]);
                for (int h = 0; h < H; ++h)
                    s += f.headResult(l, h, t)[d];
                ao[d] = s;
            }
            double *mid = siteRow(Site::ResidMid, t);
            for (int d = 0; d < D; ++d)
                mid[d] = x[size_t(t) * Dz + size_t(d)] + ao[d];
            naiveLayerNorm(mid, ly.ln2W.data(), ly.ln2B.data(), D, c.normEps, a.data());
            conv1d(ly.fcW, F, a.data(), 0, D, 0, F, ly.fcB.data(), hid.data());
            for (auto &e : hid)
                e = naiveGelu(e, c.activation);
            double *mo = siteRow(Site::MlpOut, t);
            conv1d(ly.mlpProjW, D, hid.data(), 0, F, 0, D, ly.mlpProjB.data(), mo);
            double *post = siteRow(Site::ResidPost, t);
            for (int d = 0; d < D; ++d) {
                post[d] = mid[d] + mo[d];
                x[size_t(t) * Dz + size_t(d)] = post[d];
            }
        }
    }
    for (int t = 0; t < T; ++t) {
        naiveLayerNorm(&x[size_t(t) * Dz], w.lnFW.data(), w.lnFB.data(), D, c.normEps, a.data());
        for (int j = 0; j < V; ++j) {
            double s = 0.0;
            const float *row = w.wte.data() + size_t(j) * Dz;
            for (int d = 0; d < D; ++d)
                s += double(row[d]) * a[size_t(d)];
            f.logits[size_t(t) * size_t(V) + size_t(j)] = s;
        }
    }
    return f;
}

NaiveHeadMetrics naiveGpt2HeadMetrics(const Gpt2Weights &w, const NaiveForward &f)
{
    const int L = f.L, H = f.H, T = f.T, D = f.D, dh = f.dh;
    const size_t n = size_t(L) * size_t(H) * size_t(T);
    NaiveHeadMetrics m;
    for (auto *v : {&m.contribNorm, &m.contribShare, &m.contribCosine, &m.contribProjection,
                    &m.attnEntropy, &m.valueNorm})
        v->assign(n, 0.0);
    std::vector<double> sent(static_cast<size_t>(D));
    for (int l = 0; l < L; ++l) {
        const Gpt2Layer &ly = w.layers[size_t(l)];
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
                // What source position t can send through head h: v_h[t] W_o,h.
                const double *vv =
                    &f.v[(size_t(l) * size_t(T) + size_t(t)) * size_t(D) + size_t(h * dh)];
                conv1d(ly.attnProjW, D, vv, h * dh, dh, 0, D, nullptr, sent.data());
                m.valueNorm[i] = std::sqrt(dot(sent.data(), sent.data(), D));
            }
            for (int h = 0; h < H; ++h) {
                const size_t i = (size_t(l) * size_t(H) + size_t(h)) * size_t(T) + size_t(t);
                m.contribShare[i] = normSum > 0 ? m.contribNorm[i] / normSum : 0.0;
            }
        }
    }
    return m;
}

std::vector<double> naiveGpt2LensProbs(const Gpt2Weights &w, const double *v, double /*depth*/,
                                       LensNorm norm, LensDecoder /*decoder*/)
{
    const ModelConfig &c = w.config;
    const int D = c.dModel, V = c.vocabSize;
    std::vector<double> e(static_cast<size_t>(D));
    switch (norm) {
    case LensNorm::Full:
        naiveLayerNorm(v, w.lnFW.data(), w.lnFB.data(), D, c.normEps, e.data());
        break;
    case LensNorm::Unit:
        naiveLayerNorm(v, nullptr, nullptr, D, c.normEps, e.data());
        break;
    case LensNorm::None:
        std::copy_n(v, D, e.data());
        break;
    }
    std::vector<double> logits(static_cast<size_t>(V));
    for (int j = 0; j < V; ++j) {
        const float *row = w.wte.data() + size_t(j) * size_t(D);
        double s = 0.0;
        for (int d = 0; d < D; ++d)
            s += double(row[d]) * e[size_t(d)];
        logits[size_t(j)] = s;
    }
    return softmaxOf(logits.data(), V);
}

std::vector<int32_t> naiveGpt2Greedy(const Gpt2Weights &w, std::vector<int32_t> ids, int n)
{
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
        const NaiveForward f = naiveGpt2Forward(w, ids);
        const int32_t next = argmaxOf(f.logitsAt(f.T - 1), f.V);
        out.push_back(next);
        ids.push_back(next);
    }
    return out;
}

} // namespace HeadLens::Test
