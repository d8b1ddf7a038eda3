#pragma once
// Head statistics (TRACE.md "Head metrics"): distributions over positions, of one trace or of
// many, of each per-head metric, per head and per layer, so a user sees which heads do the
// work and how steadily. Also the norm-based attention of Kobayashi et al. (2020).
//
// Conventions every result keeps:
// - Only finite values enter a distribution; NaN and +-inf are counted in nonFinite and
//   nowhere else.
// - Quantiles interpolate linearly between order statistics (numpy's default, "linear"):
//   for n sorted values x and level p, h = (n - 1) p, q = x[floor h] + (h - floor h)
//   (x[floor h + 1] - x[floor h]).
// - std is the population standard deviation (divides by n, numpy's default ddof = 0).
// - Histograms have fixed bins: nBins equal bins over [lo, hi], each [edge_i, edge_i+1)
//   except the last, which includes hi (numpy.histogram's convention); values below lo are
//   counted in underflow, values above hi in overflow.

#include "headlens/analysis/poolshape.h"
#include "headlens/trace/trace.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace HeadLens {

// The per-(layer, head, pos) metrics whose distributions are summarised. The last two (weight
// on the residual, issue 8) are optional: traces from before them lack them.
enum class HeadMetricKind {
    AttnEntropy = 0,
    ContribNorm,
    ContribShare,
    ContribCosine,
    ContribProjection,
    ResidRatio,      // ||result_h|| / ||resid_pre||
    ResidProjection, // <result_h, resid_pre> / ||resid_pre||
};
constexpr int kHeadMetricKindCount = 7;
bool isOptionalHeadMetric(HeadMetricKind m);
const std::array<HeadMetricKind, kHeadMetricKindCount> &allHeadMetricKinds();
const char *headMetricName(HeadMetricKind m); // "attn_entropy", "contrib_norm", ...
std::optional<HeadMetricKind> headMetricFromName(const std::string &name);

// The quantile levels every Distribution reports, in this order.
constexpr int kQuantileCount = 7;
const std::array<double, kQuantileCount> &quantileLevels(); // 0, .05, .25, .5, .75, .95, 1

// Quantiles of values at the given levels (numpy "linear"); non-finite values are ignored;
// NaN for every level when no finite value is left. values is taken by copy and sorted.
std::vector<double> quantiles(std::vector<double> values, const std::vector<double> &levels);
// The same on values already sorted ascending and all finite.
double quantileSorted(const std::vector<double> &sorted, double level);

// A histogram with fixed bins over [lo, hi] (lo < hi, nBins >= 1).
struct Histogram {
    double lo = 0.0;
    double hi = 1.0;
    std::vector<int64_t> counts; // [nBins]
    int64_t underflow = 0;       // values < lo
    int64_t overflow = 0;        // values > hi

    Histogram() = default;
    Histogram(double lo, double hi, int nBins); // std::invalid_argument unless lo < hi, nBins >= 1
    int nBins() const { return int(counts.size()); }
    double edge(int i) const; // i in [0, nBins]: lo + i (hi - lo) / nBins
    // The bin of a finite value, -1 below lo, nBins above hi.
    int binOf(double v) const;
    void add(double v); // finite values only (the caller filters)
};

// The distribution of one metric over a set of positions.
struct Distribution {
    int64_t n = 0;         // finite values
    int64_t nonFinite = 0; // NaN/inf values left out
    double mean = 0.0;     // NaN when n == 0
    double std = 0.0;      // population standard deviation; NaN when n == 0
    std::array<double, kQuantileCount> quantiles{}; // at quantileLevels(); NaN when n == 0
    Histogram histogram;
};

// Summarises values (finite ones; the others are counted) with the given fixed bins.
Distribution summarize(const std::vector<double> &values, double lo, double hi, int nBins);

// One metric over all heads and layers.
struct MetricStats {
    HeadMetricKind metric = HeadMetricKind::ContribNorm;
    bool present = false;               // false: an optional metric some trace lacks; no data
    std::vector<Distribution> perHead;  // [layer * nHeads + head]
    std::vector<Distribution> perLayer; // [layer], all heads of the layer pooled
};

// A head and its mean contribution norm.
struct HeadRank {
    int layer = 0;
    int head = 0;
    double meanContribNorm = 0.0;
};

struct HeadStats {
    int nLayers = 0;
    int nHeads = 0;
    int nTraces = 0;
    int64_t nPositions = 0; // positions counted per head (over all traces)
    bool excludedFirstPosition = false;
    int nBins = 0;
    std::array<MetricStats, kHeadMetricKindCount> metrics; // index with int(HeadMetricKind)
    // All heads, by mean contrib_norm descending (ties: lower layer, then lower head first);
    // heads without a finite value come last.
    std::vector<HeadRank> ranking;

    const MetricStats &metric(HeadMetricKind m) const { return metrics[size_t(m)]; }
    const Distribution &head(HeadMetricKind m, int layer, int head) const
    {
        return metrics[size_t(m)].perHead[size_t(layer * nHeads + head)];
    }
};

struct HeadStatsOptions {
    int bins = 20;
    // Histogram range per metric; a metric without one gets defaultRange()'s.
    std::array<std::optional<std::pair<double, double>>, kHeadMetricKindCount> range;
    // Leave position 0 (BOS) out of every distribution.
    bool excludeFirstPosition = false;
};

// contrib_share [L, H, T] from contrib_norm [L, H, T]: norm / sum over the heads of the layer
// at that position (0 where the sum is 0).
FloatArray contribShare(const FloatArray &contribNorm);
// The same for the heads of one (layer, position): norm points at head 0's contrib_norm, the
// other heads' follow `stride` values apart ([L, H, T]: stride T).
std::vector<double> contribShares(const float *norm, int64_t nHeads, int64_t stride);

// [L, H] from a [L, H, T] head metric: each head's mean over positions of its finite values
// (Distribution::mean), NaN for a head that has none. std::invalid_argument unless rank 3.
FloatArray meanOverPositions(const FloatArray &metric);

// Norm-based attention of one layer (Kobayashi et al. 2020): [H, T, T] with
// out[h][t][k] = pattern[h][t][k] * valueNorm[h][k]. pattern is [H, T, T]; valueNorm is [H, T]
// (one layer), or [L, H, T] with `layer` choosing the layer. std::invalid_argument on shapes
// that do not fit.
FloatArray normBasedAttention(const FloatArray &pattern, const FloatArray &valueNorm,
                              int layer = -1);

// Collects the head metrics of traces of one model shape, then summarises them. Keeps every
// value (float32), which exact quantiles need: 4 bytes x 5 metrics x L x H x positions.
class HeadStatsBuilder {
public:
    explicit HeadStatsBuilder(HeadStatsOptions opts = {});
    // Adds the positions of a trace (its contribNorm, contribCosine, contribProjection,
    // attnEntropy and, when every trace has them, residRatio and residProjection [L, H, T]).
    // InputError when its layers/heads differ from the first trace's or a required metric is
    // missing/misshapen; the message names the trace.
    void add(const Trace &t);
    int nTraces() const { return m_nTraces; }
    // The default histogram range of a metric for what has been added: share [0, 1],
    // cosine [-1, 1], entropy [0, ln(longest trace's T)], norm and resid ratio [0, max],
    // projections [min(0, min), max(0, max)] (over all heads and layers, so every head shares
    // its bins);
    // [0, 1] when nothing finite was added, widened by 1 when lo == hi.
    std::pair<double, double> defaultRange(HeadMetricKind m) const;
    HeadStats result() const;

private:
    HeadStatsOptions m_opts;
    PoolShape m_shape;
    int m_nTraces = 0;
    int m_maxTokens = 0;
    int64_t m_nPositions = 0;
    // [metric][layer * H + head] -> values over positions
    std::array<std::vector<std::vector<float>>, kHeadMetricKindCount> m_values;
    std::array<bool, kHeadMetricKindCount> m_present{};
};

// One-call form over traces already in memory.
HeadStats headStatistics(const std::vector<const Trace *> &traces,
                         const HeadStatsOptions &opts = {});

} // namespace HeadLens
