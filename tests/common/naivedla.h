#pragma once
// An independent reference for direct logit attribution (SCHEMA-ADDITIONS.md): every part of
// a naive forward pass (naivellama.h, naivegpt2.h) put through the final norm with the final
// residual's scale, in double precision. Written from the definition, not from the engine:
// each part is normalised as a vector of its own (centred for LayerNorm), then dotted with the
// unembedding row.

#include "naivellama.h"

#include <cstdint>
#include <vector>

namespace HeadLens::Test {

struct NaiveDla {
    std::vector<double> heads;  // [L][H][T]
    std::vector<double> blocks; // [L][2][T] attn_out (with its bias), mlp_out
    std::vector<double> embed;  // [T]
    std::vector<double> rest;   // [T] <b_f, dir>
    std::vector<double> logit;  // [T] from f.logits
};

struct NaiveFinalNorm {
    const std::vector<float> *g = nullptr;       // [D]
    const std::vector<float> *b = nullptr;       // [D], LayerNorm only (null: none)
    const std::vector<float> *unembed = nullptr; // [V, D]
    double eps = 1e-5;
    bool layerNorm = false;
};

// The attribution of token[t] (minus minus[t] where minus is not empty) at every position.
NaiveDla naiveDla(const NaiveForward &f, const NaiveFinalNorm &n, const std::vector<int32_t> &token,
                  const std::vector<int32_t> &minus = {});

} // namespace HeadLens::Test
