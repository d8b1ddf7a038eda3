#include "headlens/analysis/headroles.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>

namespace HeadLens {

HeadRoleAccumulator::HeadRoleAccumulator(int nLayers, int nHeads)
    : m_layers(nLayers), m_heads(nHeads), m_distance(size_t(nLayers * nHeads), 0.0),
      m_queries(size_t(nLayers), 0), m_repeatQueries(size_t(nLayers), 0)
{
    if (nLayers <= 0 || nHeads <= 0)
        throw std::invalid_argument("HeadRoleAccumulator: no layers or no heads");
    for (auto &s : m_sum)
        s.assign(size_t(nLayers * nHeads), 0.0);
}

void HeadRoleAccumulator::add(int layer, const FloatArray &pattern, const std::vector<int32_t> &ids)
{
    const int64_t T = int64_t(ids.size());
    if (pattern.rank() != 3 || pattern.dim(0) != m_heads || pattern.dim(1) != T ||
        pattern.dim(2) != T)
        throw std::invalid_argument("HeadRoleAccumulator: the pattern is not [H, T, T]");
    add(layer, pattern.data.data(), ids);
}

void HeadRoleAccumulator::add(int layer, const float *pattern, const std::vector<int32_t> &ids)
{
    if (layer < 0 || layer >= m_layers)
        throw std::invalid_argument("HeadRoleAccumulator: layer out of range");
    const int T = int(ids.size());
    // For each query, the earlier positions j < i-1 holding its token (the copies whose next
    // token lies before i), and whether the token occurred at all before i.
    std::vector<std::vector<int>> copies(static_cast<size_t>(T));
    {
        std::unordered_map<int32_t, std::vector<int>> seen;
        for (int i = 0; i < T; ++i) {
            auto &pos = seen[ids[size_t(i)]];
            for (int j : pos)
                if (j < i - 1) copies[size_t(i)].push_back(j);
            pos.push_back(i);
        }
    }
    int64_t repeats = 0;
    for (int i = 1; i < T; ++i)
        repeats += copies[size_t(i)].empty() ? 0 : 1;
    m_queries[size_t(layer)] += T > 1 ? T - 1 : 0;
    m_repeatQueries[size_t(layer)] += repeats;
    for (int h = 0; h < m_heads; ++h) {
        const float *a = pattern + size_t(h) * size_t(T) * size_t(T);
        double prev = 0, first = 0, self = 0, dist = 0, dup = 0, ind = 0;
        for (int i = 1; i < T; ++i) {
            const float *row = a + size_t(i) * size_t(T);
            prev += row[i - 1];
            first += row[0];
            self += row[i];
            for (int j = 0; j < i; ++j)
                dist += double(row[j]) * double(i - j);
            const auto &c = copies[size_t(i)];
            if (c.empty()) continue;
            // Every earlier copy of the token (j < i), not only those before i-1.
            for (int j = 0; j < i; ++j)
                if (ids[size_t(j)] == ids[size_t(i)]) dup += row[j];
            for (int j : c)
                ind += row[j + 1];
        }
        const size_t k = size_t(layer * m_heads + h);
        m_sum[int(HeadRole::PreviousToken)][k] += prev;
        m_sum[int(HeadRole::FirstToken)][k] += first;
        m_sum[int(HeadRole::Self)][k] += self;
        m_sum[int(HeadRole::DuplicateToken)][k] += dup;
        m_sum[int(HeadRole::Induction)][k] += ind;
        m_distance[k] += dist;
    }
}

HeadRoles HeadRoleAccumulator::result() const
{
    HeadRoles r;
    r.nLayers = m_layers;
    r.nHeads = m_heads;
    r.nQueries = m_queries[0];
    r.nRepeatQueries = m_repeatQueries[0];
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto mean = [&](const std::vector<double> &sum, const std::vector<int64_t> &n) {
        DoubleArray out({m_layers, m_heads});
        for (int l = 0; l < m_layers; ++l)
            for (int h = 0; h < m_heads; ++h) {
                const size_t k = size_t(l * m_heads + h);
                out.data[k] = n[size_t(l)] > 0 ? sum[k] / double(n[size_t(l)]) : nan;
            }
        return out;
    };
    for (HeadRole role : allHeadRoles()) {
        const bool repeat = role == HeadRole::DuplicateToken || role == HeadRole::Induction;
        r.score[size_t(role)] = mean(m_sum[int(role)], repeat ? m_repeatQueries : m_queries);
    }
    r.meanDistance = mean(m_distance, m_queries);
    return r;
}

HeadRoles headRolesOfPattern(int nLayers, int nHeads, const std::vector<int32_t> &ids,
                             const std::function<FloatArray(int layer)> &pattern)
{
    HeadRoleAccumulator acc(nLayers, nHeads);
    for (int l = 0; l < nLayers; ++l)
        acc.add(l, pattern(l), ids);
    return acc.result();
}

std::optional<RoleLabel> strongestRole(const HeadRoles &r, int layer, int head, double threshold)
{
    if (r.empty() || layer < 0 || layer >= r.nLayers || head < 0 || head >= r.nHeads)
        return std::nullopt;
    std::optional<RoleLabel> best;
    for (HeadRole role : allHeadRoles()) {
        const double s = r.at(role, layer, head);
        if (std::isfinite(s) && s >= threshold && (!best || s > best->score)) best = {role, s};
    }
    return best;
}

} // namespace HeadLens
