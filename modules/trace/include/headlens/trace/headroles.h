#pragma once
// What each attention head selects ("head roles"): per (layer, head), how much of a query's
// attention goes to the previous token, to the first token, to itself, to an earlier copy of
// its own token (duplicate token) and to the token after such a copy (induction), and how far
// back the head reads on average. Plain data shared by the analysis that computes the scores
// (headlens/analysis/headroles.h, where the exact definitions are), the engine that measures
// them on repeated random tokens, the project that stores them and the views.

#include "headlens/trace/array.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace HeadLens {

enum class HeadRole { PreviousToken = 0, FirstToken, Self, DuplicateToken, Induction };
constexpr int kHeadRoleCount = 5;
const std::array<HeadRole, kHeadRoleCount> &allHeadRoles();
// "previous_token", "first_token", "self", "duplicate_token", "induction": the names of the
// CLI's --json, serve and the project's datasets.
const char *headRoleName(HeadRole r);
std::optional<HeadRole> headRoleFromName(const std::string &name);

struct HeadRoles {
    int nLayers = 0;
    int nHeads = 0;
    std::array<Array<double>, kHeadRoleCount> score; // each [layer, head], index int(HeadRole)
    Array<double> meanDistance; // [layer, head] tokens back, sum_j a_ij (i - j)
    int64_t nQueries = 0;       // query positions averaged for previous/first/self/distance
    int64_t nRepeatQueries = 0; // query positions averaged for duplicate/induction

    // How they were measured: on `sequences` random sequences [BOS, r_1..r_n, r_1..r_n] of
    // n = sequenceLength distinct tokens drawn with `seed` (the engine's probe).
    int sequenceLength = 0;
    int sequences = 0;
    int64_t seed = 0;
    Array<int32_t> tokens;        // [sequences, tokens per sequence] the probe's ids
    std::string modelFingerprint; // the model measured

    bool empty() const { return nLayers == 0; }
    double at(HeadRole r, int layer, int head) const
    {
        return score[size_t(r)].data[size_t(layer * nHeads + head)];
    }
    double distanceAt(int layer, int head) const
    {
        return meanDistance.data[size_t(layer * nHeads + head)];
    }
};

} // namespace HeadLens
