#include "headlens/analysis/dla.h"

#include <algorithm>
#include <cmath>

namespace HeadLens {

std::vector<double> dlaParts(const LogitAttribution &a, int pos)
{
    const int64_t L = a.blocks.dim(0), T = a.blocks.dim(2);
    std::vector<double> parts;
    parts.reserve(size_t(2 * L + 2));
    parts.push_back(a.embed.data[size_t(pos)]);
    for (int64_t l = 0; l < L; ++l)
        for (int64_t b = 0; b < 2; ++b)
            parts.push_back(a.blocks.data[size_t((l * 2 + b) * T + pos)]);
    parts.push_back(a.rest.data[size_t(pos)]);
    return parts;
}

DlaSumCheck dlaSumCheck(const LogitAttribution &a)
{
    DlaSumCheck c;
    if (a.empty()) return c;
    const int T = int(a.logit.size());
    c.error.resize(size_t(T));
    c.scale.resize(size_t(T));
    for (int t = 0; t < T; ++t) {
        double sum = 0, mag = std::abs(double(a.logit.data[size_t(t)]));
        for (double p : dlaParts(a, t)) {
            sum += p;
            mag += std::abs(p);
        }
        const double e = sum - a.logit.data[size_t(t)];
        c.error[size_t(t)] = e;
        c.scale[size_t(t)] = mag;
        c.maxAbsError = std::max(c.maxAbsError, std::abs(e));
        const double rel = mag > 0 ? std::abs(e) / mag : std::abs(e);
        if (c.worstPos < 0 || rel > c.maxRelError) {
            c.maxRelError = rel;
            c.worstPos = t;
        }
    }
    return c;
}

} // namespace HeadLens
