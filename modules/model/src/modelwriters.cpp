// Writers of a Hugging Face Llama folder and of the files beside it (trainer.h): safetensors,
// config.json and the tokenizers, without torch (headlens_modelio), so that the tuned lens's
// file and the tests' checkpoints are written by the same code.

#include "headlens/model/model.h"
#include "headlens/model/trainer.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace HeadLens {

// ---------------------------------------------------------------------------------------------
// Files

namespace {

// Writes a file beside the target through write(out), flushes, and renames it over the target
// (ARCHITECTURE.md, "Saving").
void writeBeside(const std::string &path, const std::function<void(std::ostream &)> &write)
{
    const std::string tmp = path + ".part";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw InputError("cannot write " + tmp + ": " + std::strerror(errno));
        write(out);
        out.flush();
        if (!out) throw InputError("cannot write " + tmp + ": " + std::strerror(errno));
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw InputError("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

void writeBeside(const std::string &path, const std::string &bytes)
{
    writeBeside(path,
                [&](std::ostream &out) { out.write(bytes.data(), std::streamsize(bytes.size())); });
}

void appendLe32(std::string &s, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        s.push_back(char((v >> (8 * i)) & 0xffu));
}

} // namespace

void writeTextFile(const std::string &path, const std::string &text)
{
    writeBeside(path, text);
}

void writeSafetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata)
{
    static_assert(sizeof(float) == 4, "safetensors F32 needs 4-byte floats");
    json header = json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const NamedTensor &t : tensors) {
        int64_t n = 1;
        for (int64_t d : t.shape)
            n *= d;
        if (n != int64_t(t.count) || (n > 0 && !t.values))
            throw InputError("tensor " + t.name + " has " + std::to_string(t.count) +
                             " values but its shape holds " + std::to_string(n));
        const uint64_t bytes = uint64_t(n) * 4;
        header[t.name] = {
            {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string h = header.dump();
    while ((8 + h.size()) % 8 != 0)
        h.push_back(' '); // the format allows trailing spaces; keeps the data 8-byte aligned
    writeBeside(path, [&](std::ostream &out) {
        std::string block;
        const uint64_t hn = h.size();
        for (int i = 0; i < 8; ++i)
            block.push_back(char((hn >> (8 * i)) & 0xffu));
        block += h;
        constexpr size_t kBlock = size_t(4) << 20;
        block.reserve(kBlock + 4);
        for (const NamedTensor &t : tensors) {
            for (size_t i = 0; i < t.count; ++i) { // little-endian, whatever the host
                uint32_t u;
                std::memcpy(&u, t.values + i, 4);
                appendLe32(block, u);
                if (block.size() >= kBlock) {
                    out.write(block.data(), std::streamsize(block.size()));
                    block.clear();
                }
            }
        }
        out.write(block.data(), std::streamsize(block.size()));
    });
}

void writeLlamaConfig(const std::string &path, const ModelConfig &c)
{
    json j;
    j["architectures"] = {"LlamaForCausalLM"};
    j["model_type"] = "llama";
    j["hidden_act"] = "silu";
    j["hidden_size"] = c.dModel;
    j["intermediate_size"] = c.dFfn;
    j["num_hidden_layers"] = c.nLayers;
    j["num_attention_heads"] = c.nHeads;
    j["num_key_value_heads"] = c.nKvHeads;
    j["head_dim"] = c.dHead;
    j["vocab_size"] = c.vocabSize;
    j["max_position_embeddings"] = c.maxSeqLen;
    j["rope_theta"] = c.ropeTheta;
    j["rope_scaling"] = nullptr;
    j["rms_norm_eps"] = c.normEps;
    j["tie_word_embeddings"] = c.tiedEmbeddings;
    j["attention_bias"] = c.attnBias;
    j["mlp_bias"] = c.mlpBias;
    j["bos_token_id"] = c.bosId;
    j["eos_token_id"] = c.eosId;
    j["torch_dtype"] = "float32";
    writeBeside(path, j.dump(2) + "\n");
}

void writeLlama2cTokenizer(const std::string &path, const std::vector<std::string> &pieces,
                           const std::vector<float> &scores)
{
    if (pieces.size() != scores.size())
        throw InputError("tokenizer " + path + ": pieces and scores differ in number");
    size_t maxLen = 1;
    for (const std::string &p : pieces)
        maxLen = std::max(maxLen, p.size());
    std::string out;
    appendLe32(out, uint32_t(maxLen));
    for (size_t i = 0; i < pieces.size(); ++i) {
        uint32_t u;
        std::memcpy(&u, &scores[i], 4);
        appendLe32(out, u);
        appendLe32(out, uint32_t(pieces[i].size()));
        out += pieces[i];
    }
    writeBeside(path, out);
}

void writeCharTokenizerJson(const std::string &path, const std::vector<std::string> &pieces,
                            int unkId, int bosId, int eosId)
{
    json vocab = json::object();
    for (size_t i = 0; i < pieces.size(); ++i)
        vocab[pieces[i]] = i;
    json added = json::array();
    for (int id : {unkId, bosId, eosId})
        added.push_back({{"id", id},
                         {"content", pieces.at(size_t(id))},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    const std::string bos = pieces.at(size_t(bosId));
    json j;
    j["version"] = "1.0";
    j["truncation"] = nullptr;
    j["padding"] = nullptr;
    j["added_tokens"] = added;
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = nullptr;
    j["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair",
         {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens", {{bos, {{"id", bos}, {"ids", {bosId}}, {"tokens", {bos}}}}}}};
    j["decoder"] = {{"type", "Fuse"}}; // without a decoder, tokens are joined with spaces
    j["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", pieces.at(size_t(unkId))},
                  {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"vocab", vocab},
                  {"merges", json::array()}};
    writeBeside(path, j.dump(2) + "\n");
}

} // namespace HeadLens
