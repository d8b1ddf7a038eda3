#pragma once
// The engine's probe for head roles: random token sequences repeated once,
// [BOS, r_1..r_n, r_1..r_n], run through the model with only the attention taken. A head that
// looks for the token after an earlier copy of the current one (an induction head) shows
// itself on the second copy; the scores are computed from the patterns by
// headlens/analysis/headroles.h. The sequences depend only on the seed, n, the vocabulary size
// and the model's BOS/EOS ids, so the same probe gives the same tokens on every machine.

#include "headlens/model/model.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace HeadLens {

struct RepeatProbeOptions {
    int length = 0;    // n, tokens of one copy; 0: min(50, (context - 1) / 2, usable vocabulary)
    int sequences = 4; // independent sequences, each drawn with its own stream of the seed
    int64_t seed = 0;
};
constexpr int kDefaultRepeatLength = 50;
constexpr int kMaxRepeatSequences = 1000;

// The probe's n for a model: opts.length, or the default when it is 0. InputError when the
// repeated sequence does not fit the model's context or its vocabulary has fewer than n tokens
// besides BOS and EOS (the r_k are distinct), or n < 2 (induction needs a token after a copy).
int repeatProbeLength(const ModelConfig &c, const RepeatProbeOptions &opts);

// The sequences: BOS (when the model has one) then r_1..r_n twice, r drawn without
// replacement from the vocabulary minus BOS and EOS by a partial Fisher-Yates shuffle driven by
// splitmix64 seeded with seed and the sequence's index.
std::vector<std::vector<int32_t>> repeatedRandomSequences(const ModelConfig &c,
                                                          const RepeatProbeOptions &opts);

// Runs model over each sequence and hands each layer's attention [H, T, T] to pattern, during
// the callback. cancelled is asked between layers (the forward pass then throws Cancelled);
// progress counts sequences done.
using RepeatPatternSink = std::function<void(int sequence, const std::vector<int32_t> &ids,
                                             int layer, const TensorView &pattern)>;
void runRepeatProbe(Model &model, const RepeatProbeOptions &opts, const RepeatPatternSink &pattern,
                    const std::function<bool()> &cancelled = {},
                    const std::function<void(int done, int total)> &progress = {});

} // namespace HeadLens
