#pragma once
// Test fixtures: random Llama-family models held as plain float vectors in Hugging Face
// layout, and writers for the checkpoint formats HeadLens reads (Hugging Face safetensors
// folders, llama2.c v0/v1 files). Everything here is written independently of the engine and
// of modules/model, so that the engine can be checked against it. No torch, no Qt.

#include "headlens/trace/trace.h"

#include <cstdint>
#include <string>
#include <vector>

namespace HeadLens::Test {

// Deterministic random numbers (splitmix64), identical on every machine.
class Rng {
public:
    explicit Rng(uint64_t seed) : m_state(seed) {}
    uint64_t next();
    double uniform(); // in (0, 1)
    double normal();  // N(0, 1), Box-Muller
    int below(int n); // in [0, n)

private:
    uint64_t m_state;
    bool m_haveSpare = false;
    double m_spare = 0.0;
};

// One transformer block, Hugging Face shapes ([out, in], row-major). Optional tensors are
// empty when the model has none.
struct LlamaLayer {
    std::vector<float> attnNorm;   // [D]
    std::vector<float> wq;         // [H*dh, D]   HF "rotate halves" RoPE layout
    std::vector<float> wk;         // [Hkv*dh, D] HF layout
    std::vector<float> wv;         // [Hkv*dh, D]
    std::vector<float> wo;         // [D, H*dh]
    std::vector<float> bq, bk, bv; // [H*dh], [Hkv*dh], [Hkv*dh] when config.attnBias
    std::vector<float> bo;         // [D] when config.attnOutBias
    std::vector<float> ffnNorm;    // [D]
    std::vector<float> wGate;      // [F, D]  (llama2.c w1)
    std::vector<float> wUp;        // [F, D]  (llama2.c w3)
    std::vector<float> wDown;      // [D, F]  (llama2.c w2)
    std::vector<float> bGate, bUp; // [F] when config.mlpBias
    std::vector<float> bDown;      // [D] when config.mlpBias
};

struct LlamaWeights {
    ModelConfig config;
    std::vector<float> embed;       // [V, D]
    std::vector<LlamaLayer> layers; // [L]
    std::vector<float> finalNorm;   // [D]
    std::vector<float> lmHead;      // [V, D]; empty when config.tiedEmbeddings
    // llama2.c v0 only: the old RoPE table (2 x seq_len x dh/2) as read, so that a file read
    // and written again is identical byte for byte. Empty: writeLlama2c computes one.
    std::vector<float> llama2cRopeTable;

    // The output matrix W_U: lm_head, or the embedding when tied.
    const std::vector<float> &unembed() const { return config.tiedEmbeddings ? embed : lmHead; }
};

// A config for randomLlama with the given sizes and otherwise Llama defaults
// (dHead = dModel / nHeads, theta 1e4, eps 1e-5, bos 1, eos 2).
ModelConfig llamaConfig(int nLayers, int dModel, int nHeads, int nKvHeads, int dFfn, int vocabSize,
                        int maxSeqLen = 128);

// Random weights for cfg (dHead is derived when 0). Scaled so that activations stay O(1),
// attention patterns are neither uniform nor one-hot, and lens distributions are
// non-trivial; norm weights are 1 +- ~0.1 so that a forgotten norm weight shows.
LlamaWeights randomLlama(const ModelConfig &cfg, uint64_t seed);

// --- float16 / bfloat16 (round to nearest, ties to even)
uint16_t floatToHalf(float f);
float halfToFloat(uint16_t h);
uint16_t floatToBf16(float f);
float bf16ToFloat(uint16_t b);
// The value a float becomes when stored as dtype ("F32", "F16", "BF16") and read back.
float roundTo(float f, const std::string &dtype);
// w with every weight replaced by what writing it as dtype stores, so that a reference
// computed on the result sees exactly what the engine reads.
LlamaWeights roundedTo(const LlamaWeights &w, const std::string &dtype);

// --- Hugging Face folder
struct HfWriteOptions {
    std::string dtype = "F32"; // F32, F16, BF16
    int shards = 1;            // 1: model.safetensors; >1: index + model-0000i-of-0000n
    std::string tokenizerBin;  // when set, this file is copied in as tokenizer.bin
};

// Named tensor as it appears in a Hugging Face checkpoint.
struct HfTensor {
    std::string name;
    std::vector<int64_t> shape;
    const std::vector<float> *data = nullptr;
};
std::vector<HfTensor> hfTensors(const LlamaWeights &w);

// The config.json text for w (LlamaForCausalLM).
std::string hfConfigJson(const ModelConfig &cfg, const std::string &torchDtype = "float32");

// Writes one safetensors file holding tensors (converted to dtype). Throws std::runtime_error.
void writeSafetensors(const std::string &path, const std::vector<HfTensor> &tensors,
                      const std::string &dtype);

// Writes tensors (converted to dtype) into the existing folder dir: model.safetensors when
// shards <= 1, else model.safetensors.index.json and model-0000i-of-0000n.safetensors, split
// in order into shards non-empty parts of about equal size.
void writeSafetensorsFolder(const std::string &dir, const std::vector<HfTensor> &tensors,
                            const std::string &dtype, int shards);

// Writes config.json and the safetensors file(s) of w into dir (created when missing).
// Weights are stored as opts.dtype; use roundedTo(w, opts.dtype) for the matching reference.
void writeHfFolder(const std::string &dir, const LlamaWeights &w, const HfWriteOptions &opts = {});

// --- llama2.c checkpoints
// Writes w as a llama2.c checkpoint, version 0 (legacy: tied when vocab > 0, old RoPE table,
// negative vocab and a classifier when untied) or 1 ("ak42", 256-byte header). q/k rows are
// converted from the HF halves layout to llama2.c's adjacent pairs. Throws std::runtime_error
// for what llama2.c cannot hold (biases, rope scaling, theta != 1e4, eps != 1e-5).
void writeLlama2c(const std::string &path, const LlamaWeights &w, int version);
// Reads a llama2.c checkpoint (v0 or v1) into HF layout; the inverse of writeLlama2c.
LlamaWeights readLlama2c(const std::string &path);

// The HF row of q/k that llama2.c row r of one head holds (head dim dh), and the inverse.
int llama2cRowToHf(int r, int dh);
int hfRowToLlama2c(int i, int dh);

// Small file helpers (throw std::runtime_error).
std::vector<uint8_t> readFileBytes(const std::string &path);
void writeFileBytes(const std::string &path, const void *data, size_t n);
void writeTextFile(const std::string &path, const std::string &text);

} // namespace HeadLens::Test
