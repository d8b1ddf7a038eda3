#pragma once
// Model files without torch: memory-mapped safetensors (single or sharded), Hugging Face
// (Llama family and GPT-2; GPT-2 tensors are named transformer.* as stored, Conv1D [in, out]),
// config.json, and llama2.c checkpoints (legacy v0 and "ak42" v1), all presented as one set of
// tensors under Hugging Face Llama names. Every header field is validated against the file;
// anything unusable throws InputError saying what and where. Module-private.

#include "headlens/trace/trace.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace HeadLens {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };
const char *dtypeName(DType t); // safetensors spelling: "F32", "BF16", ...
size_t dtypeSize(DType t);

// A read-only memory mapping of a whole file (RAII).
class MappedFile {
public:
    explicit MappedFile(const std::string &path); // InputError when it cannot be opened
    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;
    const uint8_t *data() const { return m_data; }
    size_t size() const { return m_size; }
    const std::string &path() const { return m_path; }

private:
    std::string m_path;
    const uint8_t *m_data = nullptr;
    size_t m_size = 0;
};

struct TensorEntry {
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void *data = nullptr; // inside a mapping held by the WeightSet
    size_t nbytes = 0;
    std::string file; // where it lives, for messages
};

// Names used (Hugging Face Llama):
//   model.embed_tokens.weight [V, D], lm_head.weight [V, D] (absent when tied),
//   model.norm.weight [D], and per layer i, prefix model.layers.i.:
//   input_layernorm.weight, post_attention_layernorm.weight [D],
//   self_attn.{q,k,v,o}_proj.weight (+ .bias when present), mlp.{gate,up,down}_proj.weight
//   (+ .bias). llama2.c: w1 = gate_proj, w3 = up_proj, w2 = down_proj.
struct WeightSet {
    ModelConfig config;
    std::string format;             // "hf-safetensors", "llama2c-v0", "llama2c-v1"
    bool ropeAdjacentPairs = false; // true for llama2.c: q/k rows rotate (2i, 2i+1) pairs
    std::string fingerprint;        // sha256 hex over config and weight-file headers
    std::map<std::string, TensorEntry> tensors;
    std::vector<std::shared_ptr<MappedFile>> files; // keep the mappings alive
    int64_t totalBytes = 0;

    const TensorEntry *find(const std::string &name) const;
    // InputError "tensor NAME is missing (model at PATH)" when absent, or shape differs.
    const TensorEntry &get(const std::string &name, const std::vector<int64_t> &shape) const;
};

// Opens a Hugging Face folder (config.json + model.safetensors or
// model.safetensors.index.json) or a llama2.c checkpoint file. Checks that all tensors the
// config implies are present with the right shapes. Refuses pytorch_model.bin by name.
WeightSet openWeights(const std::string &path);

// Parses a Hugging Face config.json of a Llama-family model (LlamaForCausalLM,
// MistralForCausalLM; Yi uses Llama's). InputError naming the file and the field.
ModelConfig parseHfConfig(const std::string &configPath);

// SHA-256 of bytes, lowercase hex.
std::string sha256Hex(const void *data, size_t n);
class Sha256 {
public:
    Sha256();
    void update(const void *data, size_t n);
    std::string hexDigest(); // finishes
private:
    void block(const uint8_t *p);
    uint32_t m_h[8];
    uint8_t m_buf[64];
    size_t m_bufLen = 0;
    uint64_t m_total = 0;
};

} // namespace HeadLens
