#pragma once
// An independent reference for shared/design/TRACE.md on GPT-2: the forward pass, the head
// metrics and the lens, as plain loops in double precision over the weights exactly as the
// checkpoint stores them (Conv1D [in, out]). Results use naivellama.h's structures, so the same
// comparisons apply to both architectures. Nothing from modules/, no BLAS, no torch.

#include "naivellama.h"
#include "testgpt2.h"

#include <cstdint>
#include <vector>

namespace HeadLens::Test {

// GELU as config.activation names it: "gelu_new" (tanh approximation) or "gelu" (erf).
double naiveGelu(double x, const std::string &activation);

// LayerNorm of x [n]: (x - mean) / sqrt(var + eps) * g + b; g and b null mean 1 and 0.
void naiveLayerNorm(const double *x, const float *g, const float *b, int n, double eps, double *y);

// The forward pass of w over ids: x = wte[ids] + wpe[pos]; per layer LayerNorm, fused
// c_attn, causal softmax attention without RoPE, per-head results from rows of c_proj, the GELU
// MLP. result holds the heads without the c_proj bias; attn_out includes it. v is [L][T][H][dh].
NaiveForward naiveGpt2Forward(const Gpt2Weights &w, const std::vector<int32_t> &ids);

// TRACE.md "Head metrics", each [L][H][T]; value_norm[l,h][k] = ||v_h[k] W_o,h|| with W_o,h the
// rows h*dh..(h+1)*dh of attn.c_proj.weight.
NaiveHeadMetrics naiveGpt2HeadMetrics(const Gpt2Weights &w, const NaiveForward &f);

// The lens distribution of one site vector v [D]: full = ln_f LayerNorm (weight and bias),
// unit = LayerNorm without weight and bias, none = v; every decoder is wte (tied), so depth and
// decoder do not change the result.
std::vector<double> naiveGpt2LensProbs(const Gpt2Weights &w, const double *v, double depth,
                                       LensNorm norm, LensDecoder decoder);

// n greedily generated ids after ids, recomputing the whole forward pass each step.
std::vector<int32_t> naiveGpt2Greedy(const Gpt2Weights &w, std::vector<int32_t> ids, int n);

} // namespace HeadLens::Test
