#pragma once
// Head roles from attention patterns alone (the scores of headlens/trace/headroles.h), for any
// token sequence; the engine feeds it the patterns of its repeated random tokens, where the
// definitions below are the usual ones (TransformerLens, Olsson et al. 2022).
//
// For a pattern a [T, T] (a[i][j]: attention of query i to key j) over token ids tok:
//   previous_token(i) = a[i][i-1]        first_token(i) = a[i][0]        self(i) = a[i][i]
//   mean_distance(i)  = sum_j a[i][j] (i - j)                            (tokens back)
// averaged over the queries i = 1 .. T-1: query 0 can only attend to itself, so every score is
// fixed there and tells nothing about the head. (At i = 1 the previous and the first token are
// the same key, and count for both.)
//   duplicate_token(i) = sum over j < i with tok[j] == tok[i] of a[i][j]
//   induction(i)       = sum over j < i-1 with tok[j] == tok[i] of a[i][j+1]
// averaged over the queries whose token occurred before at some j < i-1 (so that the token
// after that copy lies before i). On [BOS, r_1..r_n, r_1..r_n] with distinct r and n >= 2
// these are exactly the second copy's positions i = n+1 .. 2n, with the earlier copy at i - n
// (duplicate) and the token after it at i - n + 1, n - 1 back (induction). Where no query
// qualifies a score is NaN.
// Over several sequences each score is the mean over all qualifying (sequence, query) pairs.

#include "headlens/trace/headroles.h"
#include "headlens/trace/trace.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace HeadLens {

using DoubleArray = Array<double>;

class HeadRoleAccumulator {
public:
    HeadRoleAccumulator(int nLayers, int nHeads);
    // One layer's attention of one sequence: pattern [H, T, T] row-major, T = ids.size().
    void add(int layer, const float *pattern, const std::vector<int32_t> &ids);
    void add(int layer, const FloatArray &pattern, const std::vector<int32_t> &ids);
    // The means (nQueries and nRepeatQueries from layer 0; every layer gets the same queries
    // when each sequence is added for every layer).
    HeadRoles result() const;

private:
    int m_layers, m_heads;
    std::vector<double> m_sum[kHeadRoleCount];       // [L * H]
    std::vector<double> m_distance;                  // [L * H]
    std::vector<int64_t> m_queries, m_repeatQueries; // [L]
};

// Scores of one trace's own pattern (layer -> [H, T, T]) over its token ids.
HeadRoles headRolesOfPattern(int nLayers, int nHeads, const std::vector<int32_t> &ids,
                             const std::function<FloatArray(int layer)> &pattern);

// The role a head serves most: the role with the highest score when that score is at least
// threshold (NaN scores do not count); nullopt when none reaches it.
struct RoleLabel {
    HeadRole role;
    double score;
};
std::optional<RoleLabel> strongestRole(const HeadRoles &r, int layer, int head,
                                       double threshold = 0.4);

} // namespace HeadLens
