#include "compare.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace HeadLens::Test {

// ||a - b|| / ||b||
double relErr(const float *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double d = double(a[i]) - b[i];
        num += d * d;
        den += b[i] * b[i];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

std::string fmt(double x)
{
    std::ostringstream os;
    os.precision(9);
    os << x;
    return os.str();
}

// Empty when a (engine, float) matches b (reference) to tol relative as a whole tensor.
std::string compareTensor(const std::string &what, const FloatArray &a,
                          const std::vector<double> &b, double tol)
{
    if (a.size() != b.size())
        return what + ": engine has " + std::to_string(a.size()) + " values " +
               shapeString(a.shape) + ", reference " + std::to_string(b.size());
    const double e = relErr(a.data.data(), b.data(), b.size());
    if (!(e <= tol)) {
        size_t worst = 0;
        double wd = -1;
        for (size_t i = 0; i < b.size(); ++i) {
            const double d = std::abs(double(a.data[i]) - b[i]);
            if (!(d <= wd)) // NaN counts as worst
                wd = d, worst = i;
        }
        return what + ": ||engine - ref|| / ||ref|| = " + fmt(e) + " > " + fmt(tol) +
               "; worst flat index " + std::to_string(worst) + " of shape " + shapeString(a.shape) +
               ": engine " + fmt(a.data[worst]) + ", ref " + fmt(b[worst]);
    }
    return {};
}

// Empty when every element matches: |a - b| <= tol * (|b| + floorFrac * max|b|).
std::string compareElements(const std::string &what, const FloatArray &a,
                            const std::vector<double> &b, double tol, double floorFrac)
{
    if (a.size() != b.size())
        return what + ": engine has " + std::to_string(a.size()) + " values " +
               shapeString(a.shape) + ", reference " + std::to_string(b.size());
    double mx = 0;
    for (double x : b)
        mx = std::max(mx, std::abs(x));
    for (size_t i = 0; i < b.size(); ++i) {
        const double d = std::abs(double(a.data[i]) - b[i]);
        if (!(d <= tol * (std::abs(b[i]) + floorFrac * mx)))
            return what + ": flat index " + std::to_string(i) + " of shape " +
                   shapeString(a.shape) + ": engine " + fmt(a.data[i]) + ", ref " + fmt(b[i]) +
                   " (|diff| " + fmt(d) + ")";
    }
    return {};
}

bool closeProb(double a, double b)
{
    return std::abs(a - b) <= kRefTol * std::abs(b) + 1e-7;
}
bool closeEntropy(double a, double b)
{
    return std::abs(a - b) <= kRefTol * std::abs(b) + 1e-6;
}

// Checks one lens row (k ids and probabilities, entropy) against the reference distribution.
// Ids may differ from the reference order only where probabilities tie to tolerance.
std::string checkLensRow(const std::string &where, const int32_t *ids, const float *probs,
                         float entropy, int k, const std::vector<double> &ref)
{
    const std::vector<int32_t> top = topkIndices(ref, k);
    for (int r = 0; r < k; ++r) {
        const double want = ref[size_t(top[size_t(r)])];
        if (!closeProb(probs[r], want))
            return where + ": rank " + std::to_string(r) + " probability " + fmt(probs[r]) +
                   ", reference " + fmt(want) + " (reference id " + std::to_string(top[size_t(r)]) +
                   ", engine id " + std::to_string(ids[r]) + ")";
        if (ids[r] < 0 || size_t(ids[r]) >= ref.size())
            return where + ": rank " + std::to_string(r) + " id " + std::to_string(ids[r]) +
                   " is outside the vocabulary";
        if (ids[r] != top[size_t(r)] && !closeProb(probs[r], ref[size_t(ids[r])]))
            return where + ": rank " + std::to_string(r) + " id " + std::to_string(ids[r]) +
                   " (p " + fmt(probs[r]) + "), reference id " + std::to_string(top[size_t(r)]) +
                   " (p " + fmt(want) + "; reference p of engine id " + fmt(ref[size_t(ids[r])]) +
                   ")";
    }
    const double e = entropyNats(ref);
    if (!closeEntropy(entropy, e))
        return where + ": entropy " + fmt(entropy) + ", reference " + fmt(e);
    return {};
}

std::string checkLensSites(const Trace &t, const LlamaWeights &w, const NaiveForward &f,
                           LensNorm norm, LensDecoder dec)
{
    return checkLensSitesWith(t, f, norm, dec, [&](const double *v, double depth) {
        return naiveLensProbs(w, v, depth, norm, dec);
    });
}

std::string checkLensSites(const Trace &t, const Gpt2Weights &w, const NaiveForward &f,
                           LensNorm norm, LensDecoder dec)
{
    return checkLensSitesWith(t, f, norm, dec, [&](const double *v, double depth) {
        return naiveGpt2LensProbs(w, v, depth, norm, dec);
    });
}

std::string checkLensSitesWith(
    const Trace &t, const NaiveForward &f, LensNorm norm, LensDecoder dec,
    const std::function<std::vector<double>(const double *v, double depth)> &lensProbs)
{
    const int L = f.L, T = f.T;
    const int64_t K = t.topk;
    for (Site s : allSites()) {
        const LensSite &ls = t.lens[size_t(s)];
        if (ls.topkIds.shape != std::vector<int64_t>{L, T, K} ||
            ls.topkProbs.shape != std::vector<int64_t>{L, T, K} ||
            ls.entropy.shape != std::vector<int64_t>{L, T})
            return std::string("lens ") + siteName(s) + ": shapes " +
                   shapeString(ls.topkIds.shape) + " " + shapeString(ls.topkProbs.shape) + " " +
                   shapeString(ls.entropy.shape);
        for (int l = 0; l < L; ++l)
            for (int p = 0; p < T; ++p) {
                const auto ref = lensProbs(f.site(s, l, p), naiveSiteDepth(s, l, L));
                const size_t off = (size_t(l) * size_t(T) + size_t(p)) * size_t(K);
                const std::string err =
                    checkLensRow(std::string("lens ") + siteName(s) + " [" + lensNormName(norm) +
                                     "/" + lensDecoderName(dec) + "] layer " + std::to_string(l) +
                                     " pos " + std::to_string(p),
                                 ls.topkIds.data.data() + off, ls.topkProbs.data.data() + off,
                                 ls.entropy.data[size_t(l) * size_t(T) + size_t(p)], int(K), ref);
                if (!err.empty()) return err;
            }
    }
    return {};
}

std::string checkLogitsTopk(const Trace &t, const NaiveForward &f)
{
    const int64_t K = t.topk;
    if (t.logitsTopkIds.shape != std::vector<int64_t>{f.T, K} ||
        t.logitsTopkProbs.shape != std::vector<int64_t>{f.T, K} ||
        t.logitsEntropy.shape != std::vector<int64_t>{f.T})
        return "logits top-k: shapes " + shapeString(t.logitsTopkIds.shape) + " " +
               shapeString(t.logitsTopkProbs.shape) + " " + shapeString(t.logitsEntropy.shape);
    for (int p = 0; p < f.T; ++p) {
        const size_t off = size_t(p) * size_t(K);
        const std::string err =
            checkLensRow("logits pos " + std::to_string(p), t.logitsTopkIds.data.data() + off,
                         t.logitsTopkProbs.data.data() + off, t.logitsEntropy.data[size_t(p)],
                         int(K), softmaxOf(f.logitsAt(p), f.V));
        if (!err.empty()) return err;
    }
    return {};
}

} // namespace HeadLens::Test
