#include "headlens/analysis/correlation.h"

#include "headlens/trace/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace HeadLens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const FloatArray &measureArray(const Trace &t, int m)
{
    return m == int(ChangeMeasure::Cosine) ? t.changeCosine : t.changeKl;
}

} // namespace

Correlation::Correlation() : pearson(kNaN), spearman(kNaN) {}

std::vector<double> averageRanks(const std::vector<double> &values)
{
    const size_t n = values.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return values[a] < values[b]; });
    std::vector<double> ranks(n, 0.0);
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && values[order[j]] == values[order[i]])
            ++j;
        // Ranks i+1 .. j (1-based) are tied: each gets their mean.
        const double r = (double(i + 1) + double(j)) / 2.0;
        for (size_t k = i; k < j; ++k)
            ranks[order[k]] = r;
        i = j;
    }
    return ranks;
}

double pearson(const std::vector<double> &x, const std::vector<double> &y)
{
    if (x.size() != y.size()) throw std::invalid_argument("pearson: vectors of different lengths");
    const size_t n = x.size();
    if (n < 2) return kNaN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= double(n);
    my /= double(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        const double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (!(sxx > 0) || !(syy > 0)) return kNaN;
    return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

double spearman(const std::vector<double> &x, const std::vector<double> &y)
{
    if (x.size() != y.size()) throw std::invalid_argument("spearman: vectors of different lengths");
    return pearson(averageRanks(x), averageRanks(y));
}

Correlation correlate(const std::vector<double> &x, const std::vector<double> &y)
{
    if (x.size() != y.size())
        throw std::invalid_argument("correlate: vectors of different lengths");
    std::vector<double> fx, fy;
    fx.reserve(x.size());
    fy.reserve(y.size());
    for (size_t i = 0; i < x.size(); ++i)
        if (std::isfinite(x[i]) && std::isfinite(y[i])) {
            fx.push_back(x[i]);
            fy.push_back(y[i]);
        }
    Correlation c;
    c.n = int64_t(fx.size());
    c.pearson = pearson(fx, fy);
    c.spearman = spearman(fx, fy);
    return c;
}

const char *attentionStatName(AttentionStat s)
{
    switch (s) {
    case AttentionStat::SelfAttention:
        return "self_attention";
    case AttentionStat::MaxOtherAttention:
        return "max_other_attention";
    case AttentionStat::Entropy:
        return "attn_entropy";
    case AttentionStat::NormSelfAttention:
        return "norm_self_attention";
    }
    return "?";
}

const std::array<AttentionStat, kAttentionStatCount> &allAttentionStats()
{
    static const std::array<AttentionStat, kAttentionStatCount> all = {
        AttentionStat::SelfAttention, AttentionStat::MaxOtherAttention, AttentionStat::Entropy,
        AttentionStat::NormSelfAttention};
    return all;
}

const char *changeMeasureName(ChangeMeasure m)
{
    return m == ChangeMeasure::Cosine ? "change_cosine" : "change_kl";
}

std::vector<std::string> attentionStatisticNames(int nHeads)
{
    std::vector<std::string> names;
    for (AttentionStat s : allAttentionStats()) {
        names.emplace_back(attentionStatName(s));
        for (int h = 0; h < nHeads; ++h)
            names.push_back(std::string(attentionStatName(s)) + "_h" + std::to_string(h));
    }
    return names;
}

FloatArray attentionStatistics(const Trace &t, int layer, const FloatArray &pattern)
{
    const int64_t L = t.config.nLayers, H = t.config.nHeads, T = t.nTokens();
    if (layer < 0 || layer >= L)
        throw std::invalid_argument("attentionStatistics: layer out of range");
    const std::vector<int64_t> lht{L, H, T};
    if (t.attnEntropy.shape != lht || t.valueNorm.shape != lht)
        throw std::invalid_argument(
            "attentionStatistics: attn_entropy/value_norm must be [L, H, T]");
    const bool havePattern = !pattern.empty();
    if (havePattern && pattern.shape != std::vector<int64_t>{H, T, T})
        throw std::invalid_argument("attentionStatistics: the pattern must be [H, T, T]");
    const int64_t S = kAttentionStatCount * (1 + H);
    FloatArray out({S, T}, float(kNaN));
    auto row = [&](AttentionStat s, int64_t head) -> float * { // head -1: the mean row
        return out.data.data() + size_t((int64_t(s) * (1 + H) + 1 + head) * T);
    };
    const float *entropy = t.attnEntropy.data.data() + size_t(layer) * size_t(H * T);
    const float *vnorm = t.valueNorm.data.data() + size_t(layer) * size_t(H * T);
    for (int64_t h = 0; h < H; ++h)
        for (int64_t q = 0; q < T; ++q) {
            row(AttentionStat::Entropy, h)[q] = entropy[h * T + q];
            if (!havePattern) continue;
            const float *p = pattern.data.data() + size_t((h * T + q) * T);
            row(AttentionStat::SelfAttention, h)[q] = p[q];
            row(AttentionStat::NormSelfAttention, h)[q] = p[q] * vnorm[h * T + q];
            if (q > 0) {
                float mx = -std::numeric_limits<float>::infinity();
                for (int64_t k = 0; k < T; ++k)
                    if (k != q) mx = std::max(mx, p[k]);
                row(AttentionStat::MaxOtherAttention, h)[q] = mx;
            }
        }
    for (AttentionStat s : allAttentionStats())
        for (int64_t q = 0; q < T; ++q) {
            double sum = 0;
            for (int64_t h = 0; h < H; ++h)
                sum += row(s, h)[q];
            // A NaN in any head (not stored, position 0) makes the mean NaN, as it should.
            row(s, -1)[q] = H > 0 ? float(sum / double(H)) : float(kNaN);
        }
    return out;
}

AttentionChangeBuilder::AttentionChangeBuilder(AttentionChangeOptions opts) : m_opts(opts) {}

void AttentionChangeBuilder::add(const Trace &t)
{
    const int64_t L = t.config.nLayers, H = t.config.nHeads, T = t.nTokens();
    const bool have = !t.attentionPattern.empty();
    if (have && t.attentionPattern.shape != std::vector<int64_t>{L, H, T, T})
        throw InputError("trace '" + t.name + "': attention pattern has shape " +
                         shapeString(t.attentionPattern.shape));
    add(t, [&](int layer) {
        if (!have) return FloatArray();
        FloatArray p({H, T, T});
        const size_t n = size_t(H * T * T);
        std::copy_n(t.attentionPattern.data.begin() + std::ptrdiff_t(size_t(layer) * n), n,
                    p.data.begin());
        return p;
    });
}

void AttentionChangeBuilder::add(const Trace &t, const PatternSource &patternOf)
{
    const int L = t.config.nLayers, H = t.config.nHeads, T = t.nTokens();
    const std::vector<int64_t> lht{L, H, T};
    if (t.attnEntropy.shape != lht || t.valueNorm.shape != lht)
        throw InputError("trace '" + t.name + "': head metrics do not have shape " +
                         shapeString(lht));
    if (m_shape.take(t, "correlations pool")) {
        m_points.assign(size_t(L), std::vector<std::vector<float>>(size_t(
                                       kAttentionStatCount * (1 + H) + kChangeMeasureCount)));
    }
    const int S = kAttentionStatCount * (1 + H);
    const int first = m_opts.includeFirstPosition ? 0 : 1;
    for (int l = 0; l < L; ++l) {
        const FloatArray pattern = patternOf(l);
        if (T <= first) continue;
        const FloatArray stats = attentionStatistics(t, l, pattern);
        auto &rows = m_points[size_t(l)];
        for (int s = 0; s < S; ++s) {
            const float *r = stats.data.data() + size_t(s) * size_t(T);
            rows[size_t(s)].insert(rows[size_t(s)].end(), r + first, r + T);
        }
        for (int m = 0; m < kChangeMeasureCount; ++m) {
            auto &dst = rows[size_t(S + m)];
            const FloatArray &a = measureArray(t, m);
            if (a.shape == std::vector<int64_t>{L, T}) {
                const float *r = a.data.data() + size_t(l) * size_t(T);
                dst.insert(dst.end(), r + first, r + T);
            } else { // an older trace without change measures: its points drop out
                dst.insert(dst.end(), size_t(T - first), float(kNaN));
            }
        }
    }
    ++m_nTraces;
}

AttentionChangeCorrelation AttentionChangeBuilder::result() const
{
    AttentionChangeCorrelation r;
    r.nLayers = m_shape.layers();
    r.nHeads = m_shape.heads();
    r.nTraces = m_nTraces;
    r.includedFirstPosition = m_opts.includeFirstPosition;
    r.statistics = attentionStatisticNames(r.nHeads);
    for (int m = 0; m < kChangeMeasureCount; ++m)
        r.measures.emplace_back(changeMeasureName(ChangeMeasure(m)));
    const int S = int(r.statistics.size()), M = kChangeMeasureCount, L = r.nLayers;
    r.perLayer.assign(size_t(S * M * L), Correlation());
    r.overall.assign(size_t(S * M), Correlation());
    auto toDouble = [](const std::vector<float> &v, std::vector<double> &out) {
        out.insert(out.end(), v.begin(), v.end());
    };
    std::vector<double> x, y, px, py;
    for (int s = 0; s < S; ++s)
        for (int m = 0; m < M; ++m) {
            px.clear();
            py.clear();
            for (int l = 0; l < L; ++l) {
                x.clear();
                y.clear();
                toDouble(m_points[size_t(l)][size_t(s)], x);
                toDouble(m_points[size_t(l)][size_t(S + m)], y);
                r.perLayer[size_t((s * M + m) * L + l)] = correlate(x, y);
                px.insert(px.end(), x.begin(), x.end());
                py.insert(py.end(), y.begin(), y.end());
            }
            r.overall[size_t(s * M + m)] = correlate(px, py);
        }
    return r;
}

} // namespace HeadLens
