// No torch here: the probe drives the forward pass through Model::run and a CaptureSink.
#include "headlens/model/repeatprobe.h"

#include "headlens/trace/error.h"

#include <algorithm>
#include <numeric>

namespace HeadLens {

namespace {

uint64_t splitmix64(uint64_t &state)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Uniform in [0, n) without modulo bias (rejection of the incomplete last block).
uint64_t below(uint64_t &state, uint64_t n)
{
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        const uint64_t x = splitmix64(state);
        if (x < limit) return x % n;
    }
}

std::vector<int32_t> candidates(const ModelConfig &c)
{
    std::vector<int32_t> ids;
    for (int32_t id = 0; id < c.vocabSize; ++id)
        if (id != c.bosId && id != c.eosId) ids.push_back(id);
    return ids;
}

class PatternOnly : public CaptureSink {
public:
    PatternOnly(const std::function<void(int, const TensorView &)> &pattern,
                const std::function<bool()> &cancelled)
        : m_pattern(pattern), m_cancelled(cancelled)
    {
    }
    bool wants(Tap tap, int) override { return tap == Tap::Pattern; }
    bool wantsLens(Site, int) override { return false; }
    bool wantsLogits() override { return false; }
    void tensor(Tap tap, int layer, const TensorView &v) override
    {
        if (tap == Tap::Pattern) m_pattern(layer, v);
    }
    void heads(int, const HeadMetricsView &) override {}
    void lens(Site, int, const LensView &) override {}
    void logits(const LensView &) override {}
    bool cancelled() override { return m_cancelled && m_cancelled(); }

private:
    const std::function<void(int, const TensorView &)> &m_pattern;
    const std::function<bool()> &m_cancelled;
};

} // namespace

int repeatProbeLength(const ModelConfig &c, const RepeatProbeOptions &opts)
{
    const int bos = c.bosId >= 0 ? 1 : 0;
    const int fit = c.maxSeqLen > 0 ? (c.maxSeqLen - bos) / 2 : kDefaultRepeatLength;
    const int64_t vocab = int64_t(candidates(c).size());
    const int n = opts.length > 0
                      ? opts.length
                      : int(std::min<int64_t>(std::min(kDefaultRepeatLength, fit), vocab));
    if (n < 2)
        throw InputError("the repeated sequence needs at least 2 tokens per copy (the model's "
                         "context of " +
                         std::to_string(c.maxSeqLen) + " tokens is too short)");
    if (n > fit)
        throw InputError("a repeated sequence of 2 x " + std::to_string(n) +
                         (bos ? " tokens and BOS" : " tokens") +
                         " does not fit the model's context of " + std::to_string(c.maxSeqLen) +
                         " tokens");
    if (n > vocab)
        throw InputError("the repeated sequence needs " + std::to_string(n) +
                         " distinct tokens; the vocabulary has " + std::to_string(vocab) +
                         " besides BOS and EOS");
    if (opts.sequences < 1 || opts.sequences > kMaxRepeatSequences)
        throw InputError("the probe needs 1 to " + std::to_string(kMaxRepeatSequences) +
                         " sequences, not " + std::to_string(opts.sequences));
    return n;
}

std::vector<std::vector<int32_t>> repeatedRandomSequences(const ModelConfig &c,
                                                          const RepeatProbeOptions &opts)
{
    const int n = repeatProbeLength(c, opts);
    const std::vector<int32_t> pool0 = candidates(c);
    std::vector<std::vector<int32_t>> out;
    for (int s = 0; s < opts.sequences; ++s) {
        uint64_t state = uint64_t(opts.seed) * 0x9E3779B97F4A7C15ull + uint64_t(s) + 1;
        std::vector<int32_t> pool = pool0;
        std::vector<int32_t> ids;
        if (c.bosId >= 0) ids.push_back(c.bosId);
        for (int k = 0; k < n; ++k) {
            const size_t pick = size_t(k) + size_t(below(state, uint64_t(pool.size() - size_t(k))));
            std::swap(pool[size_t(k)], pool[pick]);
            ids.push_back(pool[size_t(k)]);
        }
        const size_t start = c.bosId >= 0 ? 1 : 0;
        for (int k = 0; k < n; ++k)
            ids.push_back(ids[start + size_t(k)]);
        out.push_back(std::move(ids));
    }
    return out;
}

void runRepeatProbe(Model &model, const RepeatProbeOptions &opts, const RepeatPatternSink &pattern,
                    const std::function<bool()> &cancelled,
                    const std::function<void(int, int)> &progress)
{
    const auto sequences = repeatedRandomSequences(model.config(), opts);
    const int total = int(sequences.size());
    for (int s = 0; s < total; ++s) {
        if (progress) progress(s, total);
        const std::vector<int32_t> &ids = sequences[size_t(s)];
        const std::function<void(int, const TensorView &)> each =
            [&](int layer, const TensorView &v) { pattern(s, ids, layer, v); };
        PatternOnly sink(each, cancelled);
        model.run(ids, &sink);
    }
    if (progress) progress(total, total);
}

} // namespace HeadLens
