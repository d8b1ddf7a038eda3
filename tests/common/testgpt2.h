#pragma once
// Test fixtures for GPT-2 (Hugging Face GPT2LMHeadModel): random models held as plain float
// vectors in the layout of the checkpoint files (Conv1D weights [in, out]), and a writer of
// Hugging Face folders with or without the "transformer." prefix, in any dtype, sharded or
// not. Written independently of the engine and of modules/model. No torch, no Qt.

#include "testmodel.h"

#include <cstdint>
#include <string>
#include <vector>

namespace HeadLens::Test {

// One GPT-2 block, shapes as stored by Hugging Face (Conv1D: [in, out], row-major).
struct Gpt2Layer {
    std::vector<float> ln1W, ln1B; // [D]
    std::vector<float> attnW;      // c_attn.weight [D, 3D]: columns q | k | v
    std::vector<float> attnB;      // c_attn.bias [3D]
    std::vector<float> attnProjW;  // attn.c_proj.weight [D, D]: rows h*dh..(h+1)*dh = head h
    std::vector<float> attnProjB;  // [D]
    std::vector<float> ln2W, ln2B; // [D]
    std::vector<float> fcW;        // mlp.c_fc.weight [D, F]
    std::vector<float> fcB;        // [F]
    std::vector<float> mlpProjW;   // mlp.c_proj.weight [F, D]
    std::vector<float> mlpProjB;   // [D]
};

struct Gpt2Weights {
    ModelConfig config;            // architecture "gpt2", tied, all biases on
    std::vector<float> wte;        // [V, D]  token embedding, also the output matrix
    std::vector<float> wpe;        // [P, D]  learned positions, P = config.maxSeqLen
    std::vector<Gpt2Layer> layers; // [L]
    std::vector<float> lnFW, lnFB; // [D]
};

// A GPT-2 config with the given sizes (dHead = dModel / nHeads, eps 1e-5, gelu_new, bos = eos =
// vocabSize - 1 like GPT-2's 50256).
ModelConfig gpt2Config(int nLayers, int dModel, int nHeads, int dFfn, int vocabSize,
                       int maxSeqLen = 64);

// Random weights for cfg, scaled like randomLlama's: activations O(1), attention neither
// uniform nor one-hot, logits with a standard deviation of about 2.5; LayerNorm weights
// 1 +- ~0.1 and biases ~0.1, so that a forgotten weight or bias shows.
Gpt2Weights randomGpt2(const ModelConfig &cfg, uint64_t seed);

// w with every weight replaced by what writing it as dtype ("F32", "F16", "BF16") stores.
Gpt2Weights roundedTo(const Gpt2Weights &w, const std::string &dtype);

struct Gpt2WriteOptions {
    std::string dtype = "F32"; // F32, F16, BF16
    bool prefix = true;        // "transformer.wte.weight" (GPT2LMHeadModel) or "wte.weight"
    int shards = 1;            // 1: model.safetensors; >1: index + model-0000i-of-0000n
    bool maskBuffers = false;  // also write the causal-mask buffers h.N.attn.bias/.masked_bias
    bool lmHead = false;       // also write lm_head.weight (a copy of wte)
};

// The tensors of w as they appear in a checkpoint written with opts (names, shapes, data).
// Buffers written for opts.maskBuffers live in storage, which must outlive the result.
std::vector<HfTensor> gpt2Tensors(const Gpt2Weights &w, const Gpt2WriteOptions &opts,
                                  std::vector<std::vector<float>> &storage);

// config.json of a GPT2LMHeadModel with cfg (GPT-2's own field names; n_inner is null when
// dFfn = 4 * dModel, as in GPT-2's own files).
std::string gpt2ConfigJson(const ModelConfig &cfg, const std::string &torchDtype = "float32");

// Writes config.json and the safetensors file(s) of w into dir (created when missing). Use
// roundedTo(w, opts.dtype) for the matching reference.
void writeGpt2Folder(const std::string &dir, const Gpt2Weights &w,
                     const Gpt2WriteOptions &opts = {});

} // namespace HeadLens::Test
