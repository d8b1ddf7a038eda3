#include "naivedla.h"

#include <cmath>

namespace HeadLens::Test {

namespace {

// The mean of x [n] for LayerNorm's centring; 0 for RMSNorm, which does not centre.
double centre(const double *x, int n, bool layerNorm)
{
    double m = 0;
    if (layerNorm) {
        for (int i = 0; i < n; ++i)
            m += x[i];
        m /= n;
    }
    return m;
}

} // namespace

NaiveDla naiveDla(const NaiveForward &f, const NaiveFinalNorm &n, const std::vector<int32_t> &token,
                  const std::vector<int32_t> &minus)
{
    const int L = f.L, H = f.H, T = f.T, D = f.D;
    NaiveDla r;
    r.heads.assign(size_t(L) * H * T, 0);
    r.blocks.assign(size_t(L) * 2 * T, 0);
    r.embed.assign(size_t(T), 0);
    r.rest.assign(size_t(T), 0);
    r.logit.assign(size_t(T), 0);
    for (int t = 0; t < T; ++t) {
        // The scale of the final residual, held fixed for every part.
        const double *x = f.site(Site::ResidPost, L - 1, t);
        const double mean = centre(x, D, n.layerNorm);
        double var = 0;
        for (int i = 0; i < D; ++i)
            var += (x[i] - mean) * (x[i] - mean);
        const double s = std::sqrt(var / D + n.eps);
        std::vector<double> dir(static_cast<size_t>(D), 0.0);
        for (int i = 0; i < D; ++i) {
            dir[size_t(i)] = (*n.unembed)[size_t(token[size_t(t)]) * D + i];
            if (!minus.empty()) dir[size_t(i)] -= (*n.unembed)[size_t(minus[size_t(t)]) * D + i];
        }
        auto read = [&](const double *c) { // <g * (c - mean c) / s, dir>
            const double m = centre(c, D, n.layerNorm);
            double sum = 0;
            for (int i = 0; i < D; ++i)
                sum += double((*n.g)[size_t(i)]) * (c[i] - m) / s * dir[size_t(i)];
            return sum;
        };
        r.embed[size_t(t)] = read(f.site(Site::ResidPre, 0, t));
        for (int l = 0; l < L; ++l) {
            for (int h = 0; h < H; ++h)
                r.heads[(size_t(l) * H + h) * T + t] = read(f.headResult(l, h, t));
            r.blocks[(size_t(l) * 2 + 0) * T + t] = read(f.site(Site::AttnOut, l, t));
            r.blocks[(size_t(l) * 2 + 1) * T + t] = read(f.site(Site::MlpOut, l, t));
        }
        if (n.b)
            for (int i = 0; i < D; ++i)
                r.rest[size_t(t)] += double((*n.b)[size_t(i)]) * dir[size_t(i)];
        r.logit[size_t(t)] = f.logitsAt(t)[token[size_t(t)]];
        if (!minus.empty()) r.logit[size_t(t)] -= f.logitsAt(t)[minus[size_t(t)]];
    }
    return r;
}

} // namespace HeadLens::Test
