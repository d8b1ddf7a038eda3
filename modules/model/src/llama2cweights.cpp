// llama2.c checkpoints (legacy v0 and "ak42" v1): a header of sizes and then float32 arrays,
// presented under Hugging Face Llama names. The file size must match the header exactly.

#include "weightformats.h"

#include "headlens/trace/error.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace HeadLens {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kLlama2cMagic = 0x616b3432; // "ak42"
constexpr size_t kLlama2cV1Header = 256;
constexpr size_t kFingerprintEdge = 64 * 1024;

int32_t readI32(const uint8_t *p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

} // namespace

WeightSet openLlama2c(const std::string &path)
{
    auto map = std::make_shared<MappedFile>(path);
    const size_t size = map->size();
    const uint8_t *d = map->data();
    const std::string notModel =
        path + " is neither a model folder with config.json nor a llama2.c checkpoint file";

    if (size >= 4 && std::memcmp(d, "PK\x03\x04", 4) == 0)
        throw InputError(path + " is a PyTorch pickle (a zip archive, which can carry code and "
                                "is never loaded); convert it to safetensors and give the folder "
                                "with config.json");
    if (fs::path(path).extension() == ".safetensors")
        throw InputError(path + " is a safetensors file; give the folder that holds it with its "
                                "config.json");

    bool v1 = false;
    size_t header = 28;
    if (size >= 8 && uint32_t(readI32(d)) == kLlama2cMagic) {
        const int32_t version = readI32(d + 4);
        if (version != 1)
            throw InputError("llama2.c checkpoint " + path + " has version " +
                             std::to_string(version) + "; only versions 0 and 1 can be read");
        v1 = true;
        header = kLlama2cV1Header;
    }
    if (size < header)
        throw InputError(notModel + " (it has only " + std::to_string(size) +
                         " bytes, less than a llama2.c header)");
    const uint8_t *h = d + (v1 ? 8 : 0);
    const int64_t dim = readI32(h), hidden = readI32(h + 4), layers = readI32(h + 8),
                  heads = readI32(h + 12), kvHeads = readI32(h + 16), seqLen = readI32(h + 24);
    int64_t vocab = readI32(h + 20);
    bool shared = true;
    if (v1) {
        shared = d[36] != 0;
    } else {
        shared = vocab > 0;
        vocab = std::abs(vocab);
    }
    std::ostringstream values;
    values << "dim=" << dim << ", hidden_dim=" << hidden << ", n_layers=" << layers
           << ", n_heads=" << heads << ", n_kv_heads=" << kvHeads
           << ", vocab_size=" << readI32(h + 20) << ", seq_len=" << seqLen;
    // Generous limits that keep every size below 2^64 and reject garbage read as a header.
    const bool sane = dim > 0 && dim <= (1 << 20) && hidden > 0 && hidden <= (1 << 22) &&
                      layers > 0 && layers <= 4096 && heads > 0 && kvHeads > 0 && heads <= dim &&
                      vocab > 0 && vocab <= (1 << 24) && seqLen > 0 && seqLen <= (1 << 24);
    if (!sane) throw InputError(notModel + ": read as one, its header says " + values.str());
    std::string why;
    if (heads % kvHeads != 0)
        why = "n_heads must divide by n_kv_heads";
    else if (dim % heads != 0)
        why = "dim must divide by n_heads";
    else if ((dim / heads) % 2 != 0)
        why = "the head size dim/n_heads must be even";
    if (!why.empty())
        throw InputError(notModel + ": read as one, its header says " + values.str() + ", but " +
                         why);

    const int64_t headSize = dim / heads, kvDim = kvHeads * headSize;
    const int64_t L = layers;
    // Each array of the file: the HF name of one slice ('%' stands for the layer), the shape
    // of one slice, and whether the array holds one slice per layer. No name: skipped.
    struct Block {
        std::string name;
        std::vector<int64_t> shape;
        bool perLayer;
    };
    const std::string lp = "model.layers.%.";
    const Block embed{"model.embed_tokens.weight", {vocab, dim}, false};
    const Block rmsAtt{lp + "input_layernorm.weight", {dim}, true};
    const Block rmsFfn{lp + "post_attention_layernorm.weight", {dim}, true};
    const Block rmsFinal{"model.norm.weight", {dim}, false};
    const Block wq{lp + "self_attn.q_proj.weight", {dim, dim}, true};
    const Block wk{lp + "self_attn.k_proj.weight", {kvDim, dim}, true};
    const Block wv{lp + "self_attn.v_proj.weight", {kvDim, dim}, true};
    const Block wo{lp + "self_attn.o_proj.weight", {dim, dim}, true};
    const Block w1{lp + "mlp.gate_proj.weight", {hidden, dim}, true};
    const Block w2{lp + "mlp.down_proj.weight", {dim, hidden}, true};
    const Block w3{lp + "mlp.up_proj.weight", {hidden, dim}, true};
    const Block ropeTable{"", {seqLen * headSize}, false}; // legacy freq_cis, skipped
    const Block classifier{"lm_head.weight", {vocab, dim}, false};

    std::vector<Block> order;
    if (v1)
        order = {rmsAtt, rmsFfn, rmsFinal, embed, wq, wk, wv, wo, w1, w2, w3};
    else
        order = {embed, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, ropeTable};
    if (!shared) order.push_back(classifier);

    uint64_t expected = header;
    for (const Block &b : order)
        expected += uint64_t(Array<float>::count(b.shape)) * (b.perLayer ? uint64_t(L) : 1u) * 4;
    if (size < expected)
        throw InputError("llama2.c checkpoint " + path + " is truncated: expected " +
                         std::to_string(expected) + " bytes, file has " + std::to_string(size));
    if (size > expected)
        throw InputError("llama2.c checkpoint " + path + " has " + std::to_string(size) +
                         " bytes, but its header (" + values.str() + ") needs exactly " +
                         std::to_string(expected) + "; it is damaged or not a llama2.c file");

    WeightSet ws;
    ws.format = v1 ? "llama2c-v1" : "llama2c-v0";
    ws.ropeAdjacentPairs = true;
    ModelConfig &c = ws.config;
    c.architecture = "llama";
    c.nLayers = int(layers);
    c.nHeads = int(heads);
    c.nKvHeads = int(kvHeads);
    c.dModel = int(dim);
    c.dHead = int(headSize);
    c.dFfn = int(hidden);
    c.vocabSize = int(vocab);
    c.maxSeqLen = int(seqLen);
    c.ropeTheta = 10000.0;
    c.normEps = 1e-5;
    c.tiedEmbeddings = shared;
    c.bosId = 1;
    c.eosId = 2;

    uint64_t off = header;
    for (const Block &b : order) {
        const uint64_t n = uint64_t(Array<float>::count(b.shape)) * 4;
        const int reps = b.perLayer ? int(L) : 1;
        for (int l = 0; l < reps; ++l, off += n) {
            if (b.name.empty()) continue;
            std::string name = b.name;
            const auto pct = name.find('%');
            if (pct != std::string::npos) name.replace(pct, 1, std::to_string(l));
            TensorEntry t;
            t.dtype = DType::F32;
            t.shape = b.shape;
            t.data = d + off;
            t.nbytes = size_t(n);
            t.file = path;
            ws.totalBytes += int64_t(n);
            ws.tensors.emplace(std::move(name), std::move(t));
        }
    }

    // Fingerprint: the header, then the first and last 64 KiB of the weights.
    Sha256 fp;
    fp.update(d, header);
    const size_t dataSize = size - header;
    const size_t edge = std::min(kFingerprintEdge, dataSize);
    fp.update(d + header, edge);
    fp.update(d + size - edge, edge);
    ws.fingerprint = fp.hexDigest();
    ws.files.push_back(std::move(map));
    return ws;
}

} // namespace HeadLens
