#pragma once
// An independent reference for shared/design/TRACE.md: the Llama forward pass, the head
// metrics and the lens, written as plain loops in double precision (no BLAS, no torch, nothing
// from modules/). Slow and obvious on purpose: tests compare the engine against it.

#include "testmodel.h"

#include <array>
#include <cstdint>
#include <vector>

namespace HeadLens::Test {

struct NaiveForward {
    int L = 0, T = 0, H = 0, Hkv = 0, D = 0, dh = 0, V = 0;
    std::array<std::vector<double>, kSiteCount> sites; // each [L][T][D], index with int(Site)
    std::vector<double> pattern;                       // [L][H][T][T]  (query, key)
    std::vector<double> z;                             // [L][T][H][dh]
    std::vector<double> v;                             // [L][T][Hkv][dh] value vectors
    std::vector<double> result; // [L][H][T][D]  per-head contribution (no bias)
    std::vector<double> logits; // [T][V]

    const double *site(Site s, int l, int t) const
    {
        return sites[size_t(s)].data() + (size_t(l) * size_t(T) + size_t(t)) * size_t(D);
    }
    double patternAt(int l, int h, int q, int k) const
    {
        return pattern[((size_t(l) * size_t(H) + size_t(h)) * size_t(T) + size_t(q)) * size_t(T) +
                       size_t(k)];
    }
    const double *headResult(int l, int h, int t) const
    {
        return result.data() +
               ((size_t(l) * size_t(H) + size_t(h)) * size_t(T) + size_t(t)) * size_t(D);
    }
    const double *logitsAt(int t) const { return logits.data() + size_t(t) * size_t(V); }
};

// Vectors replaced on the way through a forward pass (activation patching): whole site
// vectors, and single heads' z (before W_o).
struct NaivePatch {
    struct SiteVector {
        Site site;
        int layer, pos;
        std::vector<double> v; // [D]
    };
    struct HeadZ {
        int layer, head, pos;
        std::vector<double> z; // [dh]
    };
    std::vector<SiteVector> sites;
    std::vector<HeadZ> heads;
};

// The forward pass of w over ids (HF RoPE layout, GQA, causal attention, RMSNorm, SwiGLU,
// biases when present, positions divided by the linear rope scaling factor), with patch's
// vectors put in place of the computed ones when given.
NaiveForward naiveForward(const LlamaWeights &w, const std::vector<int32_t> &ids,
                          const NaivePatch *patch = nullptr);

// TRACE.md "Head metrics", each [L][H][T] (valueNorm indexed by key position), and the weight
// on the residual (SCHEMA-ADDITIONS.md): residRatio, residProjection [L][H][T];
// attnResidRatio, mlpResidRatio, changeCosine [L][T]; contribSimilarity [L][H][H].
struct NaiveHeadMetrics {
    std::vector<double> contribNorm, contribShare, contribCosine, contribProjection, attnEntropy,
        valueNorm;
    std::vector<double> residRatio, residProjection, attnResidRatio, mlpResidRatio, changeCosine,
        contribSimilarity;
};
NaiveHeadMetrics naiveHeadMetrics(const LlamaWeights &w, const NaiveForward &f);

// Relative depth of a site (TRACE.md "Lens"), written here independently of the engine.
double naiveSiteDepth(Site s, int layer, int nLayers);

// The lens distribution over the vocabulary of one site vector v [D].
std::vector<double> naiveLensProbs(const LlamaWeights &w, const double *v, double depth,
                                   LensNorm norm, LensDecoder decoder);

// The tuned lens's distribution of site vector v [D]: the translator y = W v + b (W [D*D]
// row-major; without b when linearOnly), then the full norm and the output matrix.
std::vector<double> naiveTunedLensProbs(const LlamaWeights &w, const double *v,
                                        const std::vector<float> &W, const std::vector<float> &b,
                                        bool linearOnly);
// KL(p || q) in nats.
double klNats(const std::vector<double> &p, const std::vector<double> &q);

std::vector<double> softmaxOf(const double *logits, int n);
double entropyNats(const std::vector<double> &p);
// Indices of the k largest values, largest first (ties: lower index first).
std::vector<int32_t> topkIndices(const std::vector<double> &p, int k);
int32_t argmaxOf(const double *x, int n);

// n greedily generated ids after ids, recomputing the whole forward pass each step.
std::vector<int32_t> naiveGreedy(const LlamaWeights &w, std::vector<int32_t> ids, int n);

} // namespace HeadLens::Test
