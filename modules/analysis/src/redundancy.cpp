#include "headlens/analysis/redundancy.h"

#include "headlens/analysis/correlation.h"
#include "headlens/trace/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace HeadLens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void checkPattern(const FloatArray &p, const char *what)
{
    if (p.rank() != 3 || p.dim(1) != p.dim(2))
        throw std::invalid_argument(std::string(what) + ": the pattern must be [H, T, T]");
}

double xlogx(double x)
{
    return x > 0.0 ? x * std::log(x) : 0.0;
}

} // namespace

DoubleArray patternJsdSimilarity(const FloatArray &pattern, bool includeFirstQuery)
{
    checkPattern(pattern, "patternJsdSimilarity");
    const int64_t H = pattern.dim(0), T = pattern.dim(1);
    const int64_t first = includeFirstQuery ? 0 : 1;
    DoubleArray sim({H, H}, kNaN);
    if (T <= first) return sim;
    // Rows renormalised (a float16 pattern does not sum to 1 exactly), and their entropies.
    std::vector<double> rows(size_t(H * T * T), 0.0), entropy(size_t(H * T), 0.0);
    for (int64_t h = 0; h < H; ++h)
        for (int64_t q = first; q < T; ++q) {
            const float *src = pattern.data.data() + size_t((h * T + q) * T);
            double *dst = rows.data() + size_t((h * T + q) * T);
            double sum = 0.0;
            for (int64_t k = 0; k <= q; ++k)
                sum += std::max(0.0f, src[k]);
            for (int64_t k = 0; k <= q; ++k)
                dst[k] = sum > 0.0 ? std::max(0.0f, src[k]) / sum : 0.0;
            double e = 0.0;
            for (int64_t k = 0; k <= q; ++k)
                e -= xlogx(dst[k]);
            entropy[size_t(h * T + q)] = e;
        }
    const double ln2 = std::log(2.0);
    const double nq = double(T - first);
    for (int64_t a = 0; a < H; ++a) {
        sim.data[size_t(a * H + a)] = 1.0;
        for (int64_t b = a + 1; b < H; ++b) {
            double total = 0.0;
            for (int64_t q = first; q < T; ++q) {
                const double *pa = rows.data() + size_t((a * T + q) * T);
                const double *pb = rows.data() + size_t((b * T + q) * T);
                // JSD = H(m) - (H(p) + H(q)) / 2 with m the mixture.
                double hm = 0.0;
                for (int64_t k = 0; k <= q; ++k)
                    hm -= xlogx(0.5 * (pa[k] + pb[k]));
                const double jsd =
                    hm - 0.5 * (entropy[size_t(a * T + q)] + entropy[size_t(b * T + q)]);
                total += std::clamp(jsd / ln2, 0.0, 1.0);
            }
            const double s = 1.0 - total / nq;
            sim.data[size_t(a * H + b)] = sim.data[size_t(b * H + a)] = s;
        }
    }
    return sim;
}

DoubleArray patternCorrelation(const FloatArray &pattern, bool includeFirstQuery)
{
    checkPattern(pattern, "patternCorrelation");
    const int64_t H = pattern.dim(0), T = pattern.dim(1);
    const int64_t first = includeFirstQuery ? 0 : 1;
    DoubleArray sim({H, H}, kNaN);
    std::vector<std::vector<double>> flat;
    flat.resize(size_t(H));
    for (int64_t h = 0; h < H; ++h)
        for (int64_t q = first; q < T; ++q) {
            const float *src = pattern.data.data() + size_t((h * T + q) * T);
            flat[size_t(h)].insert(flat[size_t(h)].end(), src, src + q + 1);
        }
    for (int64_t a = 0; a < H; ++a) {
        // A head correlates perfectly with itself, even when its pattern does not vary.
        sim.data[size_t(a * H + a)] = 1.0;
        for (int64_t b = a + 1; b < H; ++b)
            sim.data[size_t(a * H + b)] = sim.data[size_t(b * H + a)] =
                pearson(flat[size_t(a)], flat[size_t(b)]);
    }
    return sim;
}

HeadClusters clusterBySimilarity(const DoubleArray &similarity, double threshold)
{
    if (similarity.rank() != 2 || similarity.dim(0) != similarity.dim(1))
        throw std::invalid_argument("clusterBySimilarity: the similarity must be [n, n]");
    const int n = int(similarity.dim(0));
    auto sim = [&](int a, int b) {
        const double s =
            0.5 * (similarity.data[size_t(a * n + b)] + similarity.data[size_t(b * n + a)]);
        return std::isfinite(s) ? s : 0.0;
    };
    std::vector<std::vector<int>> clusters;
    for (int i = 0; i < n; ++i)
        clusters.push_back({i});
    for (;;) {
        int bestA = -1, bestB = -1;
        double best = -std::numeric_limits<double>::infinity();
        for (size_t a = 0; a < clusters.size(); ++a)
            for (size_t b = a + 1; b < clusters.size(); ++b) {
                double sum = 0.0;
                for (int x : clusters[a])
                    for (int y : clusters[b])
                        sum += sim(x, y);
                const double mean = sum / double(clusters[a].size() * clusters[b].size());
                if (mean > best) {
                    best = mean;
                    bestA = int(a);
                    bestB = int(b);
                }
            }
        if (bestA < 0 || best < threshold) break;
        auto &into = clusters[size_t(bestA)];
        into.insert(into.end(), clusters[size_t(bestB)].begin(), clusters[size_t(bestB)].end());
        clusters.erase(clusters.begin() + bestB);
    }
    for (auto &c : clusters)
        std::sort(c.begin(), c.end());
    std::sort(clusters.begin(), clusters.end(),
              [](const std::vector<int> &x, const std::vector<int> &y) { return x[0] < y[0]; });
    HeadClusters out;
    out.nClusters = int(clusters.size());
    out.cluster.assign(size_t(n), 0);
    for (size_t c = 0; c < clusters.size(); ++c)
        for (int i : clusters[c]) {
            out.cluster[size_t(i)] = int(c);
            out.order.push_back(i);
        }
    return out;
}

const char *similarityKindName(SimilarityKind k)
{
    switch (k) {
    case SimilarityKind::Jsd:
        return "jsd";
    case SimilarityKind::Correlation:
        return "correlation";
    case SimilarityKind::Contribution:
        return "contribution";
    }
    return "?";
}

std::optional<SimilarityKind> similarityKindFromName(const std::string &name)
{
    for (SimilarityKind k :
         {SimilarityKind::Jsd, SimilarityKind::Correlation, SimilarityKind::Contribution})
        if (name == similarityKindName(k)) return k;
    return std::nullopt;
}

HeadSimilarityBuilder::HeadSimilarityBuilder(HeadSimilarityOptions opts) : m_opts(opts) {}

void HeadSimilarityBuilder::add(const Trace &t, const FloatArray *contribSimilarity)
{
    const int64_t L = t.config.nLayers, H = t.config.nHeads, T = t.nTokens();
    if (t.attentionPattern.shape != std::vector<int64_t>{L, H, T, T})
        throw InputError("trace '" + t.name + "' has no attention pattern loaded (" +
                         shapeString(t.attentionPattern.shape) + "); head similarity needs it");
    add(
        t,
        [&](int layer) {
            FloatArray p({H, T, T});
            const size_t n = size_t(H * T * T);
            std::copy_n(t.attentionPattern.data.begin() + std::ptrdiff_t(size_t(layer) * n), n,
                        p.data.begin());
            return p;
        },
        contribSimilarity);
}

void HeadSimilarityBuilder::add(const Trace &t, const PatternSource &patternOf,
                                const FloatArray *contribSimilarity)
{
    const int L = t.config.nLayers, H = t.config.nHeads, T = t.nTokens();
    if (m_shape.take(t, "head similarity pools")) {
        for (int k = 0; k < 3; ++k) {
            m_sum[k].reset({L, H, H}, 0.0);
            m_weight[k].reset({L, H, H}, 0.0);
        }
    }
    if (contribSimilarity && contribSimilarity->shape != std::vector<int64_t>{L, H, H})
        throw InputError("trace '" + t.name + "': contribution similarity has shape " +
                         shapeString(contribSimilarity->shape) + ", expected " +
                         shapeString({L, H, H}));
    const int first = m_opts.includeFirstQuery ? 0 : 1;
    const double w = double(std::max(0, T - first));
    auto accumulate = [&](int kind, int layer, const double *values, double weight) {
        for (int i = 0; i < H * H; ++i) {
            const size_t at = size_t(layer) * size_t(H * H) + size_t(i);
            if (std::isfinite(values[i]) && weight > 0) {
                m_sum[kind].data[at] += weight * values[i];
                m_weight[kind].data[at] += weight;
            }
        }
    };
    for (int l = 0; l < L; ++l) {
        const FloatArray p = patternOf(l);
        if (p.empty())
            throw InputError("trace '" + t.name +
                             "' stores no attention pattern (traced with "
                             "--attention none); head similarity needs it");
        if (p.shape != std::vector<int64_t>{H, T, T})
            throw InputError("trace '" + t.name + "': the attention of layer " + std::to_string(l) +
                             " has shape " + shapeString(p.shape));
        accumulate(int(SimilarityKind::Jsd), l,
                   patternJsdSimilarity(p, m_opts.includeFirstQuery).data.data(), w);
        accumulate(int(SimilarityKind::Correlation), l,
                   patternCorrelation(p, m_opts.includeFirstQuery).data.data(), w);
        if (contribSimilarity) {
            std::vector<double> c(contribSimilarity->data.begin() + std::ptrdiff_t(l * H * H),
                                  contribSimilarity->data.begin() +
                                      std::ptrdiff_t((l + 1) * H * H));
            // The engine's cosine is over every position: weight the trace by all of them.
            accumulate(int(SimilarityKind::Contribution), l, c.data(), double(T));
        }
    }
    if (contribSimilarity) ++m_nContrib;
    ++m_nTraces;
    m_nQueries += int64_t(w);
}

HeadSimilarity HeadSimilarityBuilder::result() const
{
    HeadSimilarity r;
    r.nLayers = m_shape.layers();
    r.nHeads = m_shape.heads();
    r.nTraces = m_nTraces;
    r.nQueries = m_nQueries;
    r.threshold = m_opts.threshold;
    r.clusterOn = m_opts.clusterOn;
    r.includedFirstQuery = m_opts.includeFirstQuery;
    const int L = r.nLayers, H = r.nHeads;
    auto mean = [&](int kind) {
        DoubleArray m({L, H, H}, kNaN);
        for (size_t i = 0; i < m.size(); ++i)
            if (m_weight[kind].data[i] > 0)
                m.data[i] = m_sum[kind].data[i] / m_weight[kind].data[i];
        return m;
    };
    r.jsd = mean(int(SimilarityKind::Jsd));
    r.correlation = mean(int(SimilarityKind::Correlation));
    if (m_nContrib > 0 && m_nContrib == m_nTraces)
        r.contribution = mean(int(SimilarityKind::Contribution));
    const DoubleArray &on = r.matrix(m_opts.clusterOn);
    if (on.empty() && L > 0)
        throw InputError(std::string("cannot cluster on ") + similarityKindName(m_opts.clusterOn) +
                         " similarity: not every trace has it");
    r.cluster.reset({L, H}, 0);
    r.order.reset({L, H}, 0);
    for (int l = 0; l < L; ++l) {
        DoubleArray layer({H, H});
        std::copy_n(on.data.begin() + std::ptrdiff_t(l * H * H), size_t(H * H), layer.data.begin());
        const HeadClusters c = clusterBySimilarity(layer, m_opts.threshold);
        std::copy(c.cluster.begin(), c.cluster.end(),
                  r.cluster.data.begin() + std::ptrdiff_t(l * H));
        std::copy(c.order.begin(), c.order.end(), r.order.data.begin() + std::ptrdiff_t(l * H));
        r.nClusters.push_back(c.nClusters);
    }
    return r;
}

} // namespace HeadLens
