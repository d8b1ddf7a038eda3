#include "headlens/analysis/headstats.h"

#include "headlens/trace/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace HeadLens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The mean of the finite values in [first, last); NaN when there is none.
template <typename It> double finiteMean(It first, It last)
{
    double sum = 0.0;
    int64_t n = 0;
    for (; first != last; ++first)
        if (std::isfinite(double(*first))) {
            sum += double(*first);
            ++n;
        }
    return n ? sum / double(n) : kNaN;
}

// The quantile rule (headstats.h) on values sorted ascending, all finite.
template <typename V> double quantileOf(const std::vector<V> &sorted, double level)
{
    if (sorted.empty()) return kNaN;
    const double h = double(sorted.size() - 1) * std::clamp(level, 0.0, 1.0);
    const size_t k = size_t(std::floor(h));
    if (k + 1 >= sorted.size()) return double(sorted.back());
    return double(sorted[k]) + (h - double(k)) * (double(sorted[k + 1]) - double(sorted[k]));
}

// Mean, std, quantiles and histogram of finite values already sorted ascending. The histogram
// is counted by binary search for each edge, which the sorted order makes exact and cheap.
template <typename V>
Distribution summarizeSorted(const std::vector<V> &sorted, int64_t nonFinite, double lo, double hi,
                             int nBins)
{
    Distribution d;
    d.n = int64_t(sorted.size());
    d.nonFinite = nonFinite;
    d.histogram = Histogram(lo, hi, nBins);
    if (sorted.empty()) {
        d.mean = d.std = kNaN;
        d.quantiles.fill(kNaN);
        return d;
    }
    d.mean = finiteMean(sorted.begin(), sorted.end());
    double sq = 0.0;
    for (V v : sorted)
        sq += (double(v) - d.mean) * (double(v) - d.mean);
    d.std = std::sqrt(sq / double(sorted.size()));
    for (int i = 0; i < kQuantileCount; ++i)
        d.quantiles[size_t(i)] = quantileOf(sorted, quantileLevels()[size_t(i)]);
    // First index whose value is >= x (as a double, the type binOf compares in).
    auto firstAtLeast = [&](double x) {
        return size_t(std::lower_bound(sorted.begin(), sorted.end(), x,
                                       [](V v, double e) { return double(v) < e; }) -
                      sorted.begin());
    };
    Histogram &h = d.histogram;
    const size_t below = firstAtLeast(lo);
    const size_t aboveHi = size_t(std::upper_bound(sorted.begin(), sorted.end(), hi,
                                                   [](double e, V v) { return e < double(v); }) -
                                  sorted.begin());
    h.underflow = int64_t(below);
    h.overflow = int64_t(sorted.size() - aboveHi);
    size_t start = below;
    for (int b = 0; b < nBins; ++b) {
        const size_t end = b + 1 == nBins ? aboveHi : std::max(start, firstAtLeast(h.edge(b + 1)));
        h.counts[size_t(b)] = int64_t(end - start);
        start = end;
    }
    return d;
}

// Sorts finite floats ascending in O(n): LSD radix sort on the bits mapped to an unsigned
// order (flip all bits of negatives, the sign bit of the others), 11 bits per pass.
void radixSort(std::vector<float> &v, std::vector<uint32_t> &a, std::vector<uint32_t> &b)
{
    const size_t n = v.size();
    a.resize(n);
    b.resize(n);
    for (size_t i = 0; i < n; ++i) {
        uint32_t u;
        std::memcpy(&u, &v[i], 4);
        a[i] = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    }
    constexpr int kBits = 11;
    constexpr uint32_t kMask = (1u << kBits) - 1;
    std::vector<size_t> count(size_t(1) << kBits);
    for (int shift = 0; shift < 32; shift += kBits) {
        std::fill(count.begin(), count.end(), 0);
        for (size_t i = 0; i < n; ++i)
            ++count[(a[i] >> shift) & kMask];
        size_t total = 0;
        for (auto &c : count) {
            const size_t here = c;
            c = total;
            total += here;
        }
        for (size_t i = 0; i < n; ++i)
            b[count[(a[i] >> shift) & kMask]++] = a[i];
        a.swap(b);
    }
    for (size_t i = 0; i < n; ++i) {
        const uint32_t k = a[i];
        const uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
        std::memcpy(&v[i], &u, 4);
    }
}

const FloatArray &metricArray(const Trace &t, HeadMetricKind m)
{
    switch (m) {
    case HeadMetricKind::AttnEntropy:
        return t.attnEntropy;
    case HeadMetricKind::ContribCosine:
        return t.contribCosine;
    case HeadMetricKind::ContribProjection:
        return t.contribProjection;
    case HeadMetricKind::ResidRatio:
        return t.residRatio;
    case HeadMetricKind::ResidProjection:
        return t.residProjection;
    case HeadMetricKind::ContribNorm:
    case HeadMetricKind::ContribShare:
        break;
    }
    return t.contribNorm;
}

} // namespace

const std::array<HeadMetricKind, kHeadMetricKindCount> &allHeadMetricKinds()
{
    static const std::array<HeadMetricKind, kHeadMetricKindCount> all = {
        HeadMetricKind::AttnEntropy,       HeadMetricKind::ContribNorm,
        HeadMetricKind::ContribShare,      HeadMetricKind::ContribCosine,
        HeadMetricKind::ContribProjection, HeadMetricKind::ResidRatio,
        HeadMetricKind::ResidProjection};
    return all;
}

bool isOptionalHeadMetric(HeadMetricKind m)
{
    return m == HeadMetricKind::ResidRatio || m == HeadMetricKind::ResidProjection;
}

const char *headMetricName(HeadMetricKind m)
{
    switch (m) {
    case HeadMetricKind::AttnEntropy:
        return "attn_entropy";
    case HeadMetricKind::ContribNorm:
        return "contrib_norm";
    case HeadMetricKind::ContribShare:
        return "contrib_share";
    case HeadMetricKind::ContribCosine:
        return "contrib_cosine";
    case HeadMetricKind::ContribProjection:
        return "contrib_projection";
    case HeadMetricKind::ResidRatio:
        return "resid_ratio";
    case HeadMetricKind::ResidProjection:
        return "resid_projection";
    }
    return "?";
}

std::optional<HeadMetricKind> headMetricFromName(const std::string &name)
{
    for (HeadMetricKind m : allHeadMetricKinds())
        if (name == headMetricName(m)) return m;
    return std::nullopt;
}

const std::array<double, kQuantileCount> &quantileLevels()
{
    static const std::array<double, kQuantileCount> levels = {0.0,  0.05, 0.25, 0.5,
                                                              0.75, 0.95, 1.0};
    return levels;
}

double quantileSorted(const std::vector<double> &sorted, double level)
{
    return quantileOf(sorted, level);
}

std::vector<double> quantiles(std::vector<double> values, const std::vector<double> &levels)
{
    values.erase(
        std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
        values.end());
    std::sort(values.begin(), values.end());
    std::vector<double> out;
    out.reserve(levels.size());
    for (double p : levels)
        out.push_back(quantileSorted(values, p));
    return out;
}

Histogram::Histogram(double lo_, double hi_, int nBins) : lo(lo_), hi(hi_)
{
    if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi) || nBins < 1)
        throw std::invalid_argument("histogram: needs lo < hi and at least one bin");
    counts.assign(size_t(nBins), 0);
}

double Histogram::edge(int i) const
{
    return i >= nBins() ? hi : lo + (hi - lo) * double(i) / double(nBins());
}

int Histogram::binOf(double v) const
{
    const int n = nBins();
    if (v < lo) return -1;
    if (v > hi) return n;
    if (v == hi) return n - 1;
    int i = int(std::floor((v - lo) / (hi - lo) * double(n)));
    i = std::clamp(i, 0, n - 1);
    // The division may round across an edge; the edges themselves decide.
    while (i > 0 && v < edge(i))
        --i;
    while (i + 1 < n && v >= edge(i + 1))
        ++i;
    return i;
}

void Histogram::add(double v)
{
    const int i = binOf(v);
    if (i < 0)
        ++underflow;
    else if (i >= nBins())
        ++overflow;
    else
        ++counts[size_t(i)];
}

Distribution summarize(const std::vector<double> &values, double lo, double hi, int nBins)
{
    std::vector<double> finite;
    finite.reserve(values.size());
    for (double v : values)
        if (std::isfinite(v)) finite.push_back(v);
    std::sort(finite.begin(), finite.end());
    return summarizeSorted<double>(finite, int64_t(values.size() - finite.size()), lo, hi, nBins);
}

FloatArray contribShare(const FloatArray &norm)
{
    if (norm.rank() != 3)
        throw std::invalid_argument("contribShare: contrib_norm must be [L, H, T]");
    const int64_t L = norm.dim(0), H = norm.dim(1), T = norm.dim(2);
    FloatArray share(norm.shape, 0.0f);
    for (int64_t l = 0; l < L; ++l)
        for (int64_t t = 0; t < T; ++t) {
            const size_t first = size_t(l * H * T + t);
            const std::vector<double> s = contribShares(norm.data.data() + first, H, T);
            for (int64_t h = 0; h < H; ++h)
                share.data[first + size_t(h * T)] = float(s[size_t(h)]);
        }
    return share;
}

std::vector<double> contribShares(const float *norm, int64_t nHeads, int64_t stride)
{
    double sum = 0.0;
    for (int64_t h = 0; h < nHeads; ++h)
        sum += norm[h * stride];
    std::vector<double> share(size_t(std::max<int64_t>(nHeads, 0)), 0.0);
    if (sum > 0.0)
        for (int64_t h = 0; h < nHeads; ++h)
            share[size_t(h)] = norm[h * stride] / sum;
    return share;
}

FloatArray meanOverPositions(const FloatArray &metric)
{
    if (metric.rank() != 3)
        throw std::invalid_argument("meanOverPositions: the metric must be [L, H, T]");
    const int64_t L = metric.dim(0), H = metric.dim(1), T = metric.dim(2);
    FloatArray out({L, H});
    for (int64_t i = 0; i < L * H; ++i) {
        const auto first = metric.data.begin() + std::ptrdiff_t(i * T);
        out.data[size_t(i)] = float(finiteMean(first, first + std::ptrdiff_t(T)));
    }
    return out;
}

FloatArray normBasedAttention(const FloatArray &pattern, const FloatArray &valueNorm, int layer)
{
    if (pattern.rank() != 3 || pattern.dim(1) != pattern.dim(2))
        throw std::invalid_argument("normBasedAttention: pattern must be [H, T, T]");
    const int64_t H = pattern.dim(0), T = pattern.dim(1);
    const float *vn = nullptr;
    if (valueNorm.rank() == 2 && layer < 0) {
        if (valueNorm.dim(0) != H || valueNorm.dim(1) != T)
            throw std::invalid_argument("normBasedAttention: value_norm must be [H, T]");
        vn = valueNorm.data.data();
    } else if (valueNorm.rank() == 3) {
        if (layer < 0 || layer >= valueNorm.dim(0) || valueNorm.dim(1) != H ||
            valueNorm.dim(2) != T)
            throw std::invalid_argument("normBasedAttention: value_norm must be [L, H, T] with "
                                        "a layer in range");
        vn = valueNorm.data.data() + size_t(layer) * size_t(H * T);
    } else {
        throw std::invalid_argument("normBasedAttention: value_norm must be [H, T] or [L, H, T]");
    }
    FloatArray out(pattern.shape);
    for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t k = 0; k < T; ++k) {
                const size_t i = size_t((h * T + t) * T + k);
                out.data[i] = pattern.data[i] * vn[size_t(h * T + k)];
            }
    return out;
}

HeadStatsBuilder::HeadStatsBuilder(HeadStatsOptions opts) : m_opts(std::move(opts))
{
    if (m_opts.bins < 1) throw std::invalid_argument("head statistics need at least one bin");
}

void HeadStatsBuilder::add(const Trace &t)
{
    const int L = t.config.nLayers, H = t.config.nHeads, T = t.nTokens();
    const std::vector<int64_t> shape{L, H, T};
    auto fits = [&](HeadMetricKind m) {
        return metricArray(t, m).shape == shape && metricArray(t, m).size() == size_t(L) * H * T;
    };
    for (HeadMetricKind m : allHeadMetricKinds())
        if (!isOptionalHeadMetric(m) && !fits(m))
            throw InputError("trace '" + t.name + "': " + headMetricName(m) + " has shape " +
                             shapeString(metricArray(t, m).shape) + ", expected " +
                             shapeString(shape));
    if (m_shape.take(t, "statistics pool")) {
        for (auto &perHead : m_values)
            perHead.assign(size_t(L) * size_t(H), {});
        m_present.fill(true);
    }
    // An optional metric counts only when every trace has it.
    for (HeadMetricKind m : allHeadMetricKinds())
        if (isOptionalHeadMetric(m) && m_present[size_t(m)] && !fits(m)) {
            m_present[size_t(m)] = false;
            for (auto &v : m_values[size_t(m)])
                std::vector<float>().swap(v);
        }
    const int first = m_opts.excludeFirstPosition ? 1 : 0;
    if (T <= first) {
        ++m_nTraces;
        return;
    }
    const FloatArray share = contribShare(t.contribNorm);
    for (HeadMetricKind m : allHeadMetricKinds()) {
        if (!m_present[size_t(m)]) continue;
        const FloatArray &a = m == HeadMetricKind::ContribShare ? share : metricArray(t, m);
        auto &perHead = m_values[size_t(m)];
        for (int lh = 0; lh < L * H; ++lh) {
            const float *row = a.data.data() + size_t(lh) * size_t(T);
            perHead[size_t(lh)].insert(perHead[size_t(lh)].end(), row + first, row + T);
        }
    }
    ++m_nTraces;
    m_maxTokens = std::max(m_maxTokens, T);
    m_nPositions += T - first;
}

std::pair<double, double> HeadStatsBuilder::defaultRange(HeadMetricKind m) const
{
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto &vals : m_values[size_t(m)])
        for (float v : vals)
            if (std::isfinite(v)) {
                lo = std::min(lo, double(v));
                hi = std::max(hi, double(v));
            }
    std::pair<double, double> r{0.0, 1.0};
    switch (m) {
    case HeadMetricKind::ContribShare:
        return {0.0, 1.0};
    case HeadMetricKind::ContribCosine:
        return {-1.0, 1.0};
    case HeadMetricKind::AttnEntropy:
        r = {0.0, m_maxTokens > 1 ? std::log(double(m_maxTokens)) : 1.0};
        break;
    case HeadMetricKind::ContribNorm:
    case HeadMetricKind::ResidRatio:
        if (hi >= lo) r = {0.0, std::max(0.0, hi)};
        break;
    case HeadMetricKind::ContribProjection:
    case HeadMetricKind::ResidProjection:
        if (hi >= lo) r = {std::min(0.0, lo), std::max(0.0, hi)};
        break;
    }
    if (!(r.first < r.second)) r.second = r.first + 1.0;
    return r;
}

HeadStats HeadStatsBuilder::result() const
{
    HeadStats s;
    s.nLayers = m_shape.layers();
    s.nHeads = m_shape.heads();
    s.nTraces = m_nTraces;
    s.nPositions = m_nPositions;
    s.excludedFirstPosition = m_opts.excludeFirstPosition;
    s.nBins = m_opts.bins;
    const int L = s.nLayers, H = s.nHeads;
    std::vector<float> head, layer;
    std::vector<uint32_t> scratchA, scratchB;
    for (HeadMetricKind m : allHeadMetricKinds()) {
        const auto range = m_opts.range[size_t(m)] ? *m_opts.range[size_t(m)] : defaultRange(m);
        MetricStats &ms = s.metrics[size_t(m)];
        ms.metric = m;
        ms.present = !m_shape.empty() && m_present[size_t(m)];
        if (!ms.present) continue;
        ms.perHead.resize(size_t(L) * size_t(H));
        ms.perLayer.resize(size_t(L));
        for (int l = 0; l < L; ++l) {
            layer.clear();
            int64_t layerNonFinite = 0;
            for (int h = 0; h < H; ++h) {
                const auto &vals = m_values[size_t(m)][size_t(l * H + h)];
                head.clear();
                head.reserve(vals.size());
                for (float v : vals)
                    if (std::isfinite(v)) head.push_back(v);
                layer.insert(layer.end(), head.begin(), head.end());
                radixSort(head, scratchA, scratchB);
                const int64_t nonFinite = int64_t(vals.size() - head.size());
                ms.perHead[size_t(l * H + h)] =
                    summarizeSorted(head, nonFinite, range.first, range.second, m_opts.bins);
                layerNonFinite += nonFinite;
            }
            radixSort(layer, scratchA, scratchB);
            ms.perLayer[size_t(l)] =
                summarizeSorted(layer, layerNonFinite, range.first, range.second, m_opts.bins);
        }
    }
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h)
            s.ranking.push_back({l, h, s.head(HeadMetricKind::ContribNorm, l, h).mean});
    std::stable_sort(s.ranking.begin(), s.ranking.end(), [](const HeadRank &a, const HeadRank &b) {
        const bool fa = std::isfinite(a.meanContribNorm), fb = std::isfinite(b.meanContribNorm);
        if (fa != fb) return fa;
        return fa && a.meanContribNorm > b.meanContribNorm;
    });
    return s;
}

HeadStats headStatistics(const std::vector<const Trace *> &traces, const HeadStatsOptions &opts)
{
    HeadStatsBuilder b(opts);
    for (const Trace *t : traces)
        b.add(*t);
    return b.result();
}

} // namespace HeadLens
