#pragma once
// Loops over float32 rows that the engine runs per layer when it captures head metrics, the
// attention entropy, the change of meaning and the lens. They replace chains of small tensor
// operations (and one tiny matrix product per position, and for the lens seven passes over
// every [rows, V] block of logits), whose per-call overhead and memory traffic cost more than
// their arithmetic. No torch here: the engine splits the ranges across its threads
// (at::parallel_for), and tests/model/tst_kernels checks every loop against float64.

#include <cstdint>

namespace HeadLens::Kernels {

// <a, b> over n floats: float products in 16 lanes, the lanes summed in float64.
double dot(const float *a, const float *b, int64_t n);

// The heads' vectors of a block of positions, r[h * headStride + i * D + d] for position
// t0 + i of the block, with the layer's attn_out and resid_pre rows (row t at t * D).
struct HeadBlock {
    const float *r = nullptr;
    int64_t headStride = 0;
    const float *attnOut = nullptr;
    const float *residPre = nullptr;
    int H = 0;
    int64_t D = 0;
    int64_t t0 = 0; // the block's first position
};

// Per-position head metrics of TRACE.md, for T positions in all.
struct HeadDotsOut {
    int64_t T = 0;
    float *contribNorm = nullptr;       // [H, T] ||result_h||
    float *contribCosine = nullptr;     // [H, T] cos(result_h, attn_out), 0 for a zero vector
    float *contribProjection = nullptr; // [H, T] <result_h, attn_out> / ||attn_out||
    float *residRatio = nullptr;        // [H, T] ||result_h|| / ||resid_pre||
    float *residProjection = nullptr;   // [H, T] <result_h, resid_pre> / ||resid_pre||
    float *attnResidRatio = nullptr;    // [T] ||attn_out|| / ||resid_pre||
    double *pairCosine = nullptr;       // [T, H, H] cos(result_h, result_g), 0 for a zero vector
};

// attn_out rows [t0 + i0, t0 + i1) of a block: the sum of the heads' vectors (in head order)
// plus bias (may be null).
void sumHeads(const HeadBlock &b, const float *bias, int64_t i0, int64_t i1, float *attnOut);

// The metrics of positions [t0 + i0, t0 + i1) of a block, from their dot products.
void headDots(const HeadBlock &b, int64_t i0, int64_t i1, const HeadDotsOut &out);

// The metrics of position t from the dot products of its vectors, gram [(H + 2) x (H + 2)]
// row-major in float64: rows and columns 0..H-1 are the heads' vectors, H attn_out and H + 1
// resid_pre. Only the upper triangle (row <= column) is read.
void headMetricsAt(const double *gram, int H, int64_t t, const HeadDotsOut &out);

// Mean over the T positions of pairCosine [T, H, H] into sim [H, H].
void meanPairCosine(const double *pairCosine, int64_t T, int H, float *sim);

// sqrt(max(0, <y_r, x_r>)) for rows r in [r0, r1) of y [rows, n] (contiguous) and of x, whose
// row r = h * rowsPerHead + i starts at x + h * headStride + i * rowStride: the value norms
// ||Wo_h v|| = sqrt(v^T G_h v), with y = v G_h.
void quadraticNorms(const float *y, const float *x, int64_t headStride, int64_t rowStride,
                    int64_t rowsPerHead, int64_t n, int64_t r0, int64_t r1, float *out);

// Entropy (nats) of rows [r0, r1) of a causal softmax pattern p of scores s, both [rows, cols]
// with rows = heads x T queries: row r is the query at position past + r % T, which sees the
// keys [0, past + r % T]; later columns have weight 0 and are not read.
// -sum p ln p = sum_i p_i (m - s_i) - ln p_max, where m is the row's largest score and p_max
// = 1 / sum_i exp(s_i - m) its weight. Both parts are >= 0, so nothing cancels when a row is
// sharp, and no log of each weight is needed.
void softmaxEntropy(const float *scores, const float *pattern, int64_t T, int64_t cols,
                    int64_t past, int64_t r0, int64_t r1, float *entropy);

// For rows [r0, r1) of a and b [rows, n], in float64: 1 - <a, b> / (||a|| ||b||) (the
// product floored at 1e-300, so a zero vector gives 1) into cosDistance if given, and
// ||a|| / ||b|| (||b|| floored at 1e-300) into normRatio if given.
void rowCompare(const float *a, const float *b, int64_t n, int64_t r0, int64_t r1,
                float *cosDistance, float *normRatio);

// The lens of rows [r0, r1) of logits x [rows, V] (row r at x + r * V): the k largest (ids and
// probabilities, largest first; equal logits by id), the entropy, and the row's log-softmax
// as log p_i = (x_i - rowMax) - rowLogSum. Two passes over a row: its top k (a heap, which
// most entries skip after one comparison), then sum exp(x_i - m) and sum exp(x_i - m)(x_i - m),
// whose entropy ln S - A / S adds two terms >= 0 (nothing cancels for a sharp row). Row r's
// outputs are at ids + r * k, probs + r * k, entropy + r, rowMax + r, rowLogSum + r.
void lensRows(const float *x, int64_t V, int k, int64_t r0, int64_t r1, int32_t *ids, float *probs,
              float *entropy, float *rowMax, double *rowLogSum);

// KL(p || q) for rows [r0, r1) of two lenses of the same rows, p of logits x and q of logits
// y (as lensRows left them, with their rowMax and rowLogSum): sum p_i (log p_i - log q_i),
// with log p_i - log q_i = (x_i - y_i) - c, c = (xMax - yMax) + (xLogSum - yLogSum) taken in
// float64 and subtracted in two float parts: rows that nearly agree keep their small KL.
void klRows(const float *x, const float *xMax, const double *xLogSum, const float *y,
            const float *yMax, const double *yLogSum, int64_t V, int64_t r0, int64_t r1, float *kl);

// e^x of n floats x <= 0 (the lens's), to about 2e-7 relative; e^x below 1e-38 is 0.
void expNonPositive(const float *x, int64_t n, float *out);

} // namespace HeadLens::Kernels
