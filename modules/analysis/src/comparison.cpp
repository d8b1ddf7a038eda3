#include "headlens/analysis/comparison.h"

#include "headlens/analysis/alignment.h"
#include "headlens/analysis/decision.h"
#include "headlens/trace/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace HeadLens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kFloor = 1e-12;
constexpr double kDepthEps = 1e-9;

// One side's probabilities on S (in S's order) and "other" (last).
std::vector<double> coarse(const std::vector<int32_t> &ids, const std::vector<float> &probs,
                           const std::vector<int32_t> &support)
{
    std::map<int32_t, double> known;
    double sum = 0.0, smallest = 1.0;
    for (size_t i = 0; i < ids.size(); ++i) {
        const double p = std::max(0.0f, probs[i]);
        known[ids[i]] = p;
        sum += p;
        smallest = std::min(smallest, p);
    }
    if (ids.empty()) smallest = 1.0;
    const double rest = std::max(0.0, 1.0 - sum);
    size_t missing = 0;
    for (int32_t id : support)
        missing += known.count(id) ? 0 : 1;
    const double share = std::min(smallest, rest / double(missing + 1));
    std::vector<double> out;
    out.reserve(support.size() + 1);
    for (int32_t id : support) {
        auto it = known.find(id);
        out.push_back(it != known.end() ? it->second : share);
    }
    out.push_back(std::max(0.0, rest - share * double(missing)));
    return out;
}

bool sameModel(const Trace &a, const Trace &b)
{
    if (!a.modelFingerprint.empty() && !b.modelFingerprint.empty())
        return a.modelFingerprint == b.modelFingerprint;
    return a.modelName == b.modelName && a.config == b.config;
}

bool sameVocabulary(const Trace &a, const Trace &b, bool modelsEqual)
{
    if (modelsEqual) return true;
    if (a.config.vocabSize != b.config.vocabSize || a.config.vocabSize <= 0) return false;
    int common = 0;
    for (const auto &[id, text] : a.vocab) {
        auto it = b.vocab.find(id);
        if (it == b.vocab.end()) continue;
        if (it->second != text) return false;
        ++common;
    }
    return common > 0;
}

void checkTrace(const Trace &t)
{
    const LensSite &post = t.lens[size_t(Site::ResidPost)];
    const int64_t L = t.config.nLayers, T = t.nTokens();
    if (post.empty() || post.entropy.shape != std::vector<int64_t>{L, T})
        throw InputError("trace '" + t.name +
                         "' has no resid_post lens loaded; a comparison "
                         "needs it");
    if (t.logitsTopkIds.shape.size() != 2 || t.logitsTopkIds.dim(0) != T ||
        t.logitsTopkProbs.shape != t.logitsTopkIds.shape ||
        t.logitsEntropy.shape != std::vector<int64_t>{T})
        throw InputError("trace '" + t.name + "' has no final logits; a comparison needs them");
}

} // namespace

double topkKl(const std::vector<int32_t> &pIds, const std::vector<float> &pProbs,
              const std::vector<int32_t> &qIds, const std::vector<float> &qProbs)
{
    std::set<int32_t> s(pIds.begin(), pIds.end());
    s.insert(qIds.begin(), qIds.end());
    const std::vector<int32_t> support(s.begin(), s.end());
    const std::vector<double> p = coarse(pIds, pProbs, support);
    const std::vector<double> q = coarse(qIds, qProbs, support);
    double kl = 0.0;
    for (size_t i = 0; i < p.size(); ++i)
        if (p[i] > 0.0) kl += p[i] * std::log(p[i] / std::max(q[i], kFloor));
    return std::max(0.0, kl);
}

std::vector<double> depthGrid(int nLayersLeft, int nLayersRight)
{
    std::vector<double> d;
    for (int l = 0; l < nLayersLeft; ++l)
        d.push_back(double(l + 1) / nLayersLeft);
    for (int l = 0; l < nLayersRight; ++l)
        d.push_back(double(l + 1) / nLayersRight);
    std::sort(d.begin(), d.end());
    std::vector<double> out;
    for (double v : d)
        if (out.empty() || v - out.back() > kDepthEps) out.push_back(v);
    return out;
}

int layerAtDepth(double d, int nLayers)
{
    int best = -1;
    for (int l = 0; l < nLayers; ++l)
        if (double(l + 1) / nLayers <= d + kDepthEps) best = l;
    return best;
}

TraceComparison compareTraces(const Trace &left, const Trace &right)
{
    checkTrace(left);
    checkTrace(right);
    TraceComparison c;
    c.left = left.name;
    c.right = right.name;
    const bool modelsEqual = sameModel(left, right);
    c.mode = modelsEqual ? "prompts" : "models";
    c.sameVocabulary = sameVocabulary(left, right, modelsEqual);
    c.pairs = alignTokens(left.tokens, right.tokens);
    const size_t P = c.pairs.size();

    const std::array<const Trace *, 2> traces{{&left, &right}};
    std::array<std::vector<int>, 2> depth{{decisionDepth(left), decisionDepth(right)}};
    for (int s = 0; s < 2; ++s) {
        const Trace &t = *traces[size_t(s)];
        TraceComparison::Side &side = c.side[size_t(s)];
        const int64_t K = t.logitsTopkIds.dim(1);
        for (const auto &pr : c.pairs) {
            const int i = s == 0 ? pr.first : pr.second;
            if (i < 0) {
                side.tokenText.emplace_back();
                side.top1.push_back(-1);
                side.top1Text.emplace_back();
                side.top1Prob.push_back(kNaN);
                side.entropy.push_back(kNaN);
                side.decisionLayer.push_back(-1);
                side.decisionDepth.push_back(kNaN);
                continue;
            }
            const int32_t top = t.logitsTopkIds.data[size_t(int64_t(i) * K)];
            const int dl = depth[size_t(s)].empty() ? -1 : depth[size_t(s)][size_t(i)];
            side.tokenText.push_back(t.tokens[size_t(i)].text);
            side.top1.push_back(top);
            side.top1Text.push_back(t.idText(top));
            side.top1Prob.push_back(t.logitsTopkProbs.data[size_t(int64_t(i) * K)]);
            side.entropy.push_back(t.logitsEntropy.data[size_t(i)]);
            side.decisionLayer.push_back(dl);
            side.decisionDepth.push_back(dl < 0 ? kNaN : double(dl + 1) / t.config.nLayers);
        }
    }

    c.kl.assign(P, kNaN);
    if (c.sameVocabulary) {
        auto row = [](const Trace &t, int pos, std::vector<int32_t> &ids,
                      std::vector<float> &probs) {
            const int64_t K = t.logitsTopkIds.dim(1);
            ids.assign(t.logitsTopkIds.data.begin() + std::ptrdiff_t(pos * K),
                       t.logitsTopkIds.data.begin() + std::ptrdiff_t((pos + 1) * K));
            probs.assign(t.logitsTopkProbs.data.begin() + std::ptrdiff_t(pos * K),
                         t.logitsTopkProbs.data.begin() + std::ptrdiff_t((pos + 1) * K));
        };
        std::vector<int32_t> pi, qi;
        std::vector<float> pp, qp;
        for (size_t k = 0; k < P; ++k) {
            if (c.pairs[k].first < 0 || c.pairs[k].second < 0) continue;
            row(left, c.pairs[k].first, pi, pp);
            row(right, c.pairs[k].second, qi, qp);
            c.kl[k] = topkKl(pi, pp, qi, qp);
        }
    }

    c.depths = depthGrid(left.config.nLayers, right.config.nLayers);
    for (int s = 0; s < 2; ++s) {
        const Trace &t = *traces[size_t(s)];
        const int T = t.nTokens(), L = t.config.nLayers;
        std::vector<char> aligned(size_t(T), 0);
        for (const auto &pr : c.pairs)
            if (pr.first >= 0 && pr.second >= 0) aligned[size_t(s == 0 ? pr.first : pr.second)] = 1;
        int n = int(std::count(aligned.begin(), aligned.end(), 1));
        c.nAlignedPositions[size_t(s)] = n;
        if (n == 0) { // nothing aligned: every position speaks for the trace
            std::fill(aligned.begin(), aligned.end(), 1);
            n = T;
        }
        const FloatArray &ent = t.lens[size_t(Site::ResidPost)].entropy;
        for (double d : c.depths) {
            const int l = layerAtDepth(d, L);
            c.depthLayer[size_t(s)].push_back(l);
            if (l < 0 || n == 0) {
                c.meanEntropy[size_t(s)].push_back(kNaN);
                continue;
            }
            double sum = 0.0;
            int count = 0;
            for (int p = 0; p < T; ++p)
                if (aligned[size_t(p)] && std::isfinite(ent.data[size_t(l * T + p)])) {
                    sum += ent.data[size_t(l * T + p)];
                    ++count;
                }
            c.meanEntropy[size_t(s)].push_back(count ? sum / count : kNaN);
        }
    }
    return c;
}

} // namespace HeadLens
