#pragma once
// Attention versus change of meaning (TRACE.md): how what a layer's heads attend to relates to
// how much the layer changes a token's vector and its lens distribution. Per (layer, pos)
// attention statistics are set against the trace's change measures with Pearson and Spearman
// correlations, per layer and over all layers pooled, each with its number of points.
//
// Points where a statistic or a measure is not finite (NaN, inf: a measure the trace lacks,
// max attention to another position at position 0, ...) are left out of that pair's
// correlation only, and n says how many points were used. Position 0 (BOS: it can only attend
// to itself, so its attention to self is always 1) is left out unless asked for.

#include "headlens/analysis/poolshape.h"
#include "headlens/trace/trace.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace HeadLens {

// A correlation and the number of points it rests on. NaN when fewer than 2 points are left
// or a side does not vary.
struct Correlation {
    double pearson;
    double spearman;
    int64_t n = 0;
    Correlation();
};

// 1-based ranks; tied values share the average of the ranks they span (1, 2.5, 2.5, 4).
std::vector<double> averageRanks(const std::vector<double> &values);
// Pearson's r of two equally long vectors (no filtering); NaN when a side does not vary or
// fewer than 2 values.
double pearson(const std::vector<double> &x, const std::vector<double> &y);
// Spearman's rho: Pearson's r of the average ranks (no filtering).
double spearman(const std::vector<double> &x, const std::vector<double> &y);
// Both, over the pairs where x and y are both finite. std::invalid_argument on sizes that differ.
Correlation correlate(const std::vector<double> &x, const std::vector<double> &y);

// The attention statistics of a (layer, pos); each comes as the mean over the heads of the
// layer and per head.
enum class AttentionStat {
    SelfAttention = 0, // pattern[t, t]
    MaxOtherAttention, // max over k != t of pattern[t, k]; NaN at t = 0
    Entropy,           // attn_entropy (the trace's, no pattern needed)
    NormSelfAttention, // pattern[t, t] * value_norm[t] (norm-based attention to self)
};
constexpr int kAttentionStatCount = 4;
const char *attentionStatName(AttentionStat s); // "self_attention", "max_other_attention", ...
const std::array<AttentionStat, kAttentionStatCount> &allAttentionStats();

// The change measures of a (layer, pos), from the trace (Trace::changeCosine, changeKl).
enum class ChangeMeasure { Cosine = 0, Kl };
constexpr int kChangeMeasureCount = 2;
const char *changeMeasureName(ChangeMeasure m); // "change_cosine" (1 - cos), "change_kl"

// Names of the statistic rows, in the order of attentionStatistics: for each AttentionStat,
// its head mean ("self_attention") then each head ("self_attention_h0", ...).
std::vector<std::string> attentionStatisticNames(int nHeads);

// The attention statistics of one layer of a trace: [S, T] with S = 4 * (1 + H), rows as
// attentionStatisticNames says. pattern is that layer's [H, T, T]; when it is empty (not
// stored) only the entropy rows are filled and the others are NaN. std::invalid_argument
// when shapes do not fit the trace.
FloatArray attentionStatistics(const Trace &t, int layer, const FloatArray &pattern);

struct AttentionChangeOptions {
    bool includeFirstPosition = false; // position 0 (BOS) in the points
};

struct AttentionChangeCorrelation {
    int nLayers = 0;
    int nHeads = 0;
    int nTraces = 0;
    bool includedFirstPosition = false;
    std::vector<std::string> statistics; // [S]
    std::vector<std::string> measures;   // [M]
    std::vector<Correlation> perLayer;   // [S, M, L] flat: (s * M + m) * L + l
    std::vector<Correlation> overall;    // [S, M] flat: s * M + m, all layers pooled

    const Correlation &at(int s, int m, int layer) const
    {
        return perLayer[size_t((s * int(measures.size()) + m) * nLayers + layer)];
    }
    const Correlation &pooled(int s, int m) const
    {
        return overall[size_t(s * int(measures.size()) + m)];
    }
};

// Collects the points of traces of one model shape, then correlates.
class AttentionChangeBuilder {
public:
    using PatternSource = std::function<FloatArray(int layer)>; // [H, T, T] or empty

    explicit AttentionChangeBuilder(AttentionChangeOptions opts = {});
    // Adds every (layer, pos) of t; patternOf(layer) gives the layer's attention (called once
    // per layer, in order), or an empty array when it is not stored. InputError when the
    // trace's shape differs from the first one's (the message names the trace).
    void add(const Trace &t, const PatternSource &patternOf);
    // The same with t.attentionPattern ([L, H, T, T]) when it is filled.
    void add(const Trace &t);
    int nTraces() const { return m_nTraces; }
    AttentionChangeCorrelation result() const;

private:
    AttentionChangeOptions m_opts;
    PoolShape m_shape;
    int m_nTraces = 0;
    // [layer][row] -> values over the points of that layer; rows: S statistics then M measures
    std::vector<std::vector<std::vector<float>>> m_points;
};

} // namespace HeadLens
