#pragma once
// Comparisons of engine output (float32) with the double-precision reference, returning an
// empty string on success and otherwise a message that names the quantity, the place and the
// numbers, so that a failing test says exactly what differs. No Qt: wrap in QVERIFY2.

#include "naivegpt2.h"
#include "naivellama.h"

#include "headlens/trace/trace.h"

#include <functional>
#include <string>
#include <vector>

namespace HeadLens::Test {

constexpr double kRefTol = 1e-5; // relative, engine (f32) against reference (f64)

// ||a - b|| / ||b|| (||a - b|| when b is zero).
double relErr(const float *a, const double *b, size_t n);
std::string fmt(double x);

// The whole tensor: ||a - b|| / ||b|| <= tol.
std::string compareTensor(const std::string &what, const FloatArray &a,
                          const std::vector<double> &b, double tol = kRefTol);
// Every element: |a - b| <= tol * (|b| + floorFrac * max|b|).
std::string compareElements(const std::string &what, const FloatArray &a,
                            const std::vector<double> &b, double tol = kRefTol,
                            double floorFrac = 1e-2);

bool closeProb(double a, double b);
bool closeEntropy(double a, double b);

// One lens row (k ids and probabilities, entropy) against the reference distribution. Ids may
// differ from the reference order only where probabilities tie to tolerance.
std::string checkLensRow(const std::string &where, const int32_t *ids, const float *probs,
                         float entropy, int k, const std::vector<double> &ref);

// The lens of all five sites of trace t against the reference forward pass f of weights w.
std::string checkLensSites(const Trace &t, const LlamaWeights &w, const NaiveForward &f,
                           LensNorm norm, LensDecoder decoder);
std::string checkLensSites(const Trace &t, const Gpt2Weights &w, const NaiveForward &f,
                           LensNorm norm, LensDecoder decoder);
// The same with any reference lens: lensProbs(v, depth) is the distribution of site vector v.
std::string checkLensSitesWith(
    const Trace &t, const NaiveForward &f, LensNorm norm, LensDecoder decoder,
    const std::function<std::vector<double>(const double *v, double depth)> &lensProbs);

// The model's own top-k prediction of t against the reference logits.
std::string checkLogitsTopk(const Trace &t, const NaiveForward &f);

} // namespace HeadLens::Test
