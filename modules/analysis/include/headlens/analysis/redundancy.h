#pragma once
// Head redundancy: do several heads of a layer do the same job? Per layer, a heads x heads
// similarity of the attention patterns, clusters of heads that behave alike, and an order of
// the heads that puts each cluster together (for a heatmap).
//
// Similarities (1 = the same, per layer, symmetric, 1 on the diagonal):
// - jsd: 1 - JSD(p_a[t], p_b[t]) / ln 2 averaged over query positions t, where p[t] is the
//   attention row of query t (each row renormalised to sum 1) and JSD the Jensen-Shannon
//   divergence in nats; identical patterns give 1, patterns on disjoint keys 0.
// - correlation: Pearson's r of the two heads' causal patterns flattened (every (t, k) with
//   k <= t); NaN when a head's pattern does not vary.
// - contribution: the mean cosine over positions between the heads' contribution vectors,
//   which only the engine can compute (it needs the per-head vectors); passed in per trace.
// Query position 0 can only attend to itself, so every head agrees there; it is left out
// unless asked for. Over several traces each matrix is the mean of the traces' matrices
// weighted by their number of query positions (a trace whose value is NaN for a pair does not
// count for that pair).

#include "headlens/analysis/poolshape.h"
#include "headlens/trace/trace.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace HeadLens {

using DoubleArray = Array<double>;

// [H, H] JSD similarity of one layer's pattern [H, T, T] (see above).
DoubleArray patternJsdSimilarity(const FloatArray &pattern, bool includeFirstQuery = false);
// [H, H] Pearson correlation of one layer's flattened causal patterns.
DoubleArray patternCorrelation(const FloatArray &pattern, bool includeFirstQuery = false);

// Average-linkage agglomerative clustering of n items on distance 1 - similarity: the two
// clusters with the highest mean similarity between their members are merged while that mean
// is at least threshold (NaN similarities count as 0).
struct HeadClusters {
    std::vector<int> cluster; // [n] label of each item; labels 0, 1, ... in order of first member
    std::vector<int> order;   // [n] items cluster by cluster (clusters by label, members ascending)
    int nClusters = 0;
};
HeadClusters clusterBySimilarity(const DoubleArray &similarity, double threshold);

enum class SimilarityKind { Jsd = 0, Correlation, Contribution };
const char *similarityKindName(SimilarityKind k); // "jsd", "correlation", "contribution"
std::optional<SimilarityKind> similarityKindFromName(const std::string &name);

struct HeadSimilarityOptions {
    double threshold = 0.9; // clusters: mean similarity at least this
    SimilarityKind clusterOn = SimilarityKind::Jsd;
    bool includeFirstQuery = false; // query position 0 in the pattern similarities
};

struct HeadSimilarity {
    int nLayers = 0;
    int nHeads = 0;
    int nTraces = 0;
    int64_t nQueries = 0; // query positions averaged over (all traces)
    double threshold = 0.9;
    SimilarityKind clusterOn = SimilarityKind::Jsd;
    bool includedFirstQuery = false;
    DoubleArray jsd;            // [L, H, H]
    DoubleArray correlation;    // [L, H, H]
    DoubleArray contribution;   // [L, H, H]; empty unless every trace brought one
    IntArray cluster;           // [L, H]
    IntArray order;             // [L, H]
    std::vector<int> nClusters; // [L]

    const DoubleArray &matrix(SimilarityKind k) const
    {
        return k == SimilarityKind::Jsd           ? jsd
               : k == SimilarityKind::Correlation ? correlation
                                                  : contribution;
    }
};

class HeadSimilarityBuilder {
public:
    using PatternSource = std::function<FloatArray(int layer)>; // [H, T, T]

    explicit HeadSimilarityBuilder(HeadSimilarityOptions opts = {});
    // Adds a trace: patternOf(layer) must give every layer's pattern (InputError when one is
    // empty: the trace was made with --attention none). contribSimilarity, when given, is the
    // trace's [L, H, H] contribution similarity. InputError on a shape that differs from the
    // first trace's; messages name the trace.
    void add(const Trace &t, const PatternSource &patternOf,
             const FloatArray *contribSimilarity = nullptr);
    // The same with t.attentionPattern.
    void add(const Trace &t, const FloatArray *contribSimilarity = nullptr);
    int nTraces() const { return m_nTraces; }
    // InputError when clustering on contribution similarity that was not given.
    HeadSimilarity result() const;

private:
    HeadSimilarityOptions m_opts;
    PoolShape m_shape;
    int m_nTraces = 0, m_nContrib = 0;
    int64_t m_nQueries = 0;
    DoubleArray m_sum[3], m_weight[3]; // per SimilarityKind, [L, H, H]
};

} // namespace HeadLens
