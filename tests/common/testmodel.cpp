#include "testmodel.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace HeadLens::Test {

// ---------------------------------------------------------------------------------------
// Random numbers

uint64_t Rng::next()
{
    uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double Rng::uniform()
{
    // 53 random bits, shifted by half a step so that 0 never comes out.
    return (double(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double Rng::normal()
{
    if (m_haveSpare) {
        m_haveSpare = false;
        return m_spare;
    }
    const double u1 = uniform(), u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 2.0 * M_PI * u2;
    m_spare = r * std::sin(a);
    m_haveSpare = true;
    return r * std::cos(a);
}

int Rng::below(int n)
{
    return int(next() % uint64_t(n));
}

// ---------------------------------------------------------------------------------------
// Random models

ModelConfig llamaConfig(int nLayers, int dModel, int nHeads, int nKvHeads, int dFfn, int vocabSize,
                        int maxSeqLen)
{
    ModelConfig c;
    c.architecture = "llama";
    c.nLayers = nLayers;
    c.dModel = dModel;
    c.nHeads = nHeads;
    c.nKvHeads = nKvHeads;
    c.dHead = dModel / nHeads;
    c.dFfn = dFfn;
    c.vocabSize = vocabSize;
    c.maxSeqLen = maxSeqLen;
    c.ropeTheta = 10000.0;
    c.ropeScaling = 1.0;
    c.normEps = 1e-5;
    c.bosId = 1;
    c.eosId = 2;
    return c;
}

namespace {
std::vector<float> gaussian(Rng &rng, size_t n, double stddev, double mean = 0.0)
{
    std::vector<float> v(n);
    for (auto &x : v)
        x = float(mean + stddev * rng.normal());
    return v;
}
} // namespace

LlamaWeights randomLlama(const ModelConfig &cfgIn, uint64_t seed)
{
    LlamaWeights w;
    w.config = cfgIn;
    ModelConfig &c = w.config;
    if (c.dHead == 0) c.dHead = c.dModel / c.nHeads;
    if (c.nKvHeads == 0) c.nKvHeads = c.nHeads;
    if (c.nHeads <= 0 || c.nHeads % c.nKvHeads != 0 || c.dHead % 2 != 0)
        throw std::invalid_argument("randomLlama: inconsistent head configuration");

    Rng rng(seed * 0x2545F4914F6CDD1Dull + 12345);
    const size_t D = size_t(c.dModel), V = size_t(c.vocabSize), F = size_t(c.dFfn);
    const size_t qDim = size_t(c.nHeads * c.dHead), kvDim = size_t(c.nKvHeads * c.dHead);
    const double sD = 1.0 / std::sqrt(double(D));

    // Logits have a standard deviation of about 2.5 (tied or not): peaked but not one-hot.
    w.embed = gaussian(rng, V * D, 2.5 * sD);
    w.layers.resize(size_t(c.nLayers));
    for (auto &ly : w.layers) {
        ly.attnNorm = gaussian(rng, D, 0.1, 1.0);
        ly.wq = gaussian(rng, qDim * D, 1.2 * sD);
        ly.wk = gaussian(rng, kvDim * D, 1.2 * sD);
        ly.wv = gaussian(rng, kvDim * D, sD);
        ly.wo = gaussian(rng, D * qDim, 0.5 / std::sqrt(double(qDim)));
        if (c.attnBias) {
            ly.bq = gaussian(rng, qDim, 0.1);
            ly.bk = gaussian(rng, kvDim, 0.1);
            ly.bv = gaussian(rng, kvDim, 0.1);
        }
        if (c.attnOutBias) ly.bo = gaussian(rng, D, 0.05);
        ly.ffnNorm = gaussian(rng, D, 0.1, 1.0);
        ly.wGate = gaussian(rng, F * D, sD);
        ly.wUp = gaussian(rng, F * D, sD);
        ly.wDown = gaussian(rng, D * F, 0.5 / std::sqrt(double(F)));
        if (c.mlpBias) {
            ly.bGate = gaussian(rng, F, 0.1);
            ly.bUp = gaussian(rng, F, 0.1);
            ly.bDown = gaussian(rng, D, 0.05);
        }
    }
    w.finalNorm = gaussian(rng, D, 0.1, 1.0);
    if (!c.tiedEmbeddings) w.lmHead = gaussian(rng, V * D, 2.5 * sD);
    return w;
}

// ---------------------------------------------------------------------------------------
// float16 / bfloat16

uint16_t floatToHalf(float f)
{
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) // NaN: keep it quiet
        return uint16_t(sign | 0x7e00u);
    if (ax >= 0x477ff000u) // >= 65520 rounds to infinity (and infinity itself)
        return uint16_t(sign | 0x7c00u);
    if (ax < 0x38800000u) { // below 2^-14: a subnormal half (or zero)
        float a;
        std::memcpy(&a, &ax, 4);
        const double units = std::nearbyint(double(a) * 16777216.0); // in units of 2^-24, RNE
        return uint16_t(sign | uint16_t(units));                     // 1024 is the least normal
    }
    const uint32_t exp = (ax >> 23) - 127 + 15;
    const uint32_t mant = ax & 0x7fffffu;
    uint32_t h = (exp << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
        ++h; // a carry into the exponent is the right answer
    return uint16_t(sign | h);
}

float halfToFloat(uint16_t h)
{
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: mant * 2^-24
            float v = float(std::ldexp(double(mant), -24));
            std::memcpy(&bits, &v, 4);
            bits |= sign;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t floatToBf16(float f)
{
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);
    const uint32_t lsb = (x >> 16) & 1u;
    x += 0x7fffu + lsb;
    return uint16_t(x >> 16);
}

float bf16ToFloat(uint16_t b)
{
    const uint32_t bits = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float roundTo(float f, const std::string &dtype)
{
    if (dtype == "F32") return f;
    if (dtype == "F16") return halfToFloat(floatToHalf(f));
    if (dtype == "BF16") return bf16ToFloat(floatToBf16(f));
    throw std::invalid_argument("unknown dtype " + dtype);
}

namespace {
void roundVec(std::vector<float> &v, const std::string &dtype)
{
    for (auto &x : v)
        x = roundTo(x, dtype);
}
} // namespace

LlamaWeights roundedTo(const LlamaWeights &in, const std::string &dtype)
{
    LlamaWeights w = in;
    roundVec(w.embed, dtype);
    for (auto &ly : w.layers) {
        for (auto *v :
             {&ly.attnNorm, &ly.wq, &ly.wk, &ly.wv, &ly.wo, &ly.bq, &ly.bk, &ly.bv, &ly.bo,
              &ly.ffnNorm, &ly.wGate, &ly.wUp, &ly.wDown, &ly.bGate, &ly.bUp, &ly.bDown})
            roundVec(*v, dtype);
    }
    roundVec(w.finalNorm, dtype);
    roundVec(w.lmHead, dtype);
    return w;
}

// ---------------------------------------------------------------------------------------
// Files

std::vector<uint8_t> readFileBytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void writeFileBytes(const std::string &path, const void *data, size_t n)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out.write(static_cast<const char *>(data), std::streamsize(n));
    if (!out) throw std::runtime_error("write failed: " + path);
}

void writeTextFile(const std::string &path, const std::string &text)
{
    writeFileBytes(path, text.data(), text.size());
}

// ---------------------------------------------------------------------------------------
// Hugging Face

std::vector<HfTensor> hfTensors(const LlamaWeights &w)
{
    const ModelConfig &c = w.config;
    const int64_t D = c.dModel, V = c.vocabSize, F = c.dFfn;
    const int64_t qDim = int64_t(c.nHeads) * c.dHead, kvDim = int64_t(c.nKvHeads) * c.dHead;
    std::vector<HfTensor> t;
    t.push_back({"model.embed_tokens.weight", {V, D}, &w.embed});
    for (size_t i = 0; i < w.layers.size(); ++i) {
        const LlamaLayer &ly = w.layers[i];
        const std::string p = "model.layers." + std::to_string(i) + ".";
        t.push_back({p + "input_layernorm.weight", {D}, &ly.attnNorm});
        t.push_back({p + "self_attn.q_proj.weight", {qDim, D}, &ly.wq});
        t.push_back({p + "self_attn.k_proj.weight", {kvDim, D}, &ly.wk});
        t.push_back({p + "self_attn.v_proj.weight", {kvDim, D}, &ly.wv});
        t.push_back({p + "self_attn.o_proj.weight", {D, qDim}, &ly.wo});
        if (c.attnBias) {
            t.push_back({p + "self_attn.q_proj.bias", {qDim}, &ly.bq});
            t.push_back({p + "self_attn.k_proj.bias", {kvDim}, &ly.bk});
            t.push_back({p + "self_attn.v_proj.bias", {kvDim}, &ly.bv});
        }
        if (c.attnOutBias) t.push_back({p + "self_attn.o_proj.bias", {D}, &ly.bo});
        t.push_back({p + "post_attention_layernorm.weight", {D}, &ly.ffnNorm});
        t.push_back({p + "mlp.gate_proj.weight", {F, D}, &ly.wGate});
        t.push_back({p + "mlp.up_proj.weight", {F, D}, &ly.wUp});
        t.push_back({p + "mlp.down_proj.weight", {D, F}, &ly.wDown});
        if (c.mlpBias) {
            t.push_back({p + "mlp.gate_proj.bias", {F}, &ly.bGate});
            t.push_back({p + "mlp.up_proj.bias", {F}, &ly.bUp});
            t.push_back({p + "mlp.down_proj.bias", {D}, &ly.bDown});
        }
    }
    t.push_back({"model.norm.weight", {D}, &w.finalNorm});
    if (!c.tiedEmbeddings) t.push_back({"lm_head.weight", {V, D}, &w.lmHead});
    for (const auto &x : t) {
        int64_t n = 1;
        for (auto s : x.shape)
            n *= s;
        if (int64_t(x.data->size()) != n)
            throw std::runtime_error("hfTensors: " + x.name + " holds " +
                                     std::to_string(x.data->size()) + " values, shape wants " +
                                     std::to_string(n));
    }
    return t;
}

std::string hfConfigJson(const ModelConfig &c, const std::string &torchDtype)
{
    nlohmann::ordered_json j;
    j["architectures"] = {"LlamaForCausalLM"};
    j["model_type"] = "llama";
    j["hidden_size"] = c.dModel;
    j["intermediate_size"] = c.dFfn;
    j["num_hidden_layers"] = c.nLayers;
    j["num_attention_heads"] = c.nHeads;
    j["num_key_value_heads"] = c.nKvHeads;
    j["head_dim"] = c.dHead;
    j["vocab_size"] = c.vocabSize;
    j["max_position_embeddings"] = c.maxSeqLen;
    j["rms_norm_eps"] = c.normEps;
    j["rope_theta"] = c.ropeTheta;
    if (c.ropeScaling != 1.0)
        j["rope_scaling"] = {
            {"type", "linear"}, {"rope_type", "linear"}, {"factor", c.ropeScaling}};
    else
        j["rope_scaling"] = nullptr;
    j["tie_word_embeddings"] = c.tiedEmbeddings;
    j["attention_bias"] = c.attnBias || c.attnOutBias;
    j["mlp_bias"] = c.mlpBias;
    j["hidden_act"] = "silu";
    if (c.bosId >= 0) j["bos_token_id"] = c.bosId;
    if (c.eosId >= 0) j["eos_token_id"] = c.eosId;
    j["torch_dtype"] = torchDtype;
    j["initializer_range"] = 0.02;
    j["use_cache"] = true;
    j["transformers_version"] = "4.44.0";
    return j.dump(2) + "\n";
}

namespace {
size_t dtypeBytes(const std::string &dtype)
{
    if (dtype == "F32") return 4;
    if (dtype == "F16" || dtype == "BF16") return 2;
    throw std::invalid_argument("unsupported safetensors dtype " + dtype);
}

void appendConverted(std::vector<uint8_t> &out, const std::vector<float> &v,
                     const std::string &dtype)
{
    const size_t at = out.size();
    out.resize(at + v.size() * dtypeBytes(dtype));
    uint8_t *p = out.data() + at;
    if (dtype == "F32") {
        std::memcpy(p, v.data(), v.size() * 4); // little-endian host
        return;
    }
    const bool half = dtype == "F16";
    for (size_t i = 0; i < v.size(); ++i) {
        const uint16_t h = half ? floatToHalf(v[i]) : floatToBf16(v[i]);
        std::memcpy(p + 2 * i, &h, 2);
    }
}
} // namespace

void writeSafetensors(const std::string &path, const std::vector<HfTensor> &tensors,
                      const std::string &dtype)
{
    std::vector<uint8_t> data;
    nlohmann::ordered_json header;
    header["__metadata__"] = {{"format", "pt"}};
    for (const auto &t : tensors) {
        const size_t begin = data.size();
        appendConverted(data, *t.data, dtype);
        header[t.name] = {
            {"dtype", dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
    }
    std::string h = header.dump();
    while (h.size() % 8 != 0)
        h.push_back(' ');
    const uint64_t n = h.size();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out.write(reinterpret_cast<const char *>(&n), 8);
    out.write(h.data(), std::streamsize(h.size()));
    out.write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
    if (!out) throw std::runtime_error("write failed: " + path);
}

void writeHfFolder(const std::string &dir, const LlamaWeights &w, const HfWriteOptions &opts)
{
    fs::create_directories(dir);
    const std::string torchDtype = opts.dtype == "F32"   ? "float32"
                                   : opts.dtype == "F16" ? "float16"
                                                         : "bfloat16";
    writeTextFile(dir + "/config.json", hfConfigJson(w.config, torchDtype));
    writeSafetensorsFolder(dir, hfTensors(w), opts.dtype, opts.shards);
    if (!opts.tokenizerBin.empty()) {
        const std::string to = dir + "/tokenizer.bin";
        fs::copy_file(opts.tokenizerBin, to, fs::copy_options::overwrite_existing);
        // The source may be read-only (shared/); the copy belongs to the test.
        fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
    }
}

void writeSafetensorsFolder(const std::string &dir, const std::vector<HfTensor> &all,
                            const std::string &dtype, int shards)
{
    if (shards <= 1) {
        writeSafetensors(dir + "/model.safetensors", all, dtype);
    } else {
        // Split in order, by bytes, into shards non-empty parts.
        const int n = std::min<int>(shards, int(all.size()));
        size_t total = 0;
        for (const auto &t : all)
            total += t.data->size();
        nlohmann::ordered_json index;
        index["metadata"] = {{"total_size", total * dtypeBytes(dtype)}};
        nlohmann::ordered_json map = nlohmann::ordered_json::object();
        size_t next = 0;
        for (int s = 0; s < n; ++s) {
            char name[64];
            std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, n);
            std::vector<HfTensor> part;
            const size_t target = total * size_t(s + 1) / size_t(n);
            size_t done = 0;
            for (size_t i = 0; i < next; ++i)
                done += all[i].data->size();
            // Leave at least one tensor for every later shard.
            const size_t lastAllowed = all.size() - size_t(n - s - 1);
            while (next < lastAllowed && (part.empty() || done < target || s == n - 1)) {
                part.push_back(all[next]);
                done += all[next].data->size();
                map[all[next].name] = name;
                ++next;
            }
            writeSafetensors(dir + "/" + name, part, dtype);
        }
        index["weight_map"] = map;
        writeTextFile(dir + "/model.safetensors.index.json", index.dump(2) + "\n");
    }
}

// ---------------------------------------------------------------------------------------
// llama2.c

int hfRowToLlama2c(int i, int dh)
{
    const int half = dh / 2;
    return i < half ? 2 * i : 2 * (i - half) + 1;
}

int llama2cRowToHf(int r, int dh)
{
    return (r % 2 == 0) ? r / 2 : r / 2 + dh / 2;
}

namespace {
// Rows of a [nHeads*dh, D] matrix permuted head by head; toLlama2c picks the direction.
std::vector<float> permuteRows(const std::vector<float> &m, int nHeads, int dh, int D,
                               bool toLlama2c)
{
    std::vector<float> out(m.size());
    for (int h = 0; h < nHeads; ++h)
        for (int i = 0; i < dh; ++i) {
            const int src = h * dh + i;
            const int dst = h * dh + (toLlama2c ? hfRowToLlama2c(i, dh) : llama2cRowToHf(i, dh));
            std::copy_n(m.begin() + ptrdiff_t(src) * D, D, out.begin() + ptrdiff_t(dst) * D);
        }
    return out;
}

class Writer {
public:
    void i32(int32_t v) { raw(&v, 4); }
    void u32(uint32_t v) { raw(&v, 4); }
    void u8(uint8_t v) { raw(&v, 1); }
    void floats(const std::vector<float> &v) { raw(v.data(), v.size() * 4); }
    void raw(const void *p, size_t n)
    {
        auto b = static_cast<const uint8_t *>(p);
        bytes.insert(bytes.end(), b, b + n);
    }
    std::vector<uint8_t> bytes;
};

class Reader {
public:
    Reader(std::vector<uint8_t> b, std::string path) : bytes(std::move(b)), path(std::move(path)) {}
    void need(size_t n) const
    {
        if (pos + n > bytes.size())
            throw std::runtime_error("readLlama2c: " + path + " is truncated");
    }
    int32_t i32()
    {
        need(4);
        int32_t v;
        std::memcpy(&v, bytes.data() + pos, 4);
        pos += 4;
        return v;
    }
    uint32_t u32() { return uint32_t(i32()); }
    uint8_t u8()
    {
        need(1);
        return bytes[pos++];
    }
    std::vector<float> floats(size_t n)
    {
        need(n * 4);
        std::vector<float> v(n);
        std::memcpy(v.data(), bytes.data() + pos, n * 4);
        pos += n * 4;
        return v;
    }
    std::vector<uint8_t> bytes;
    std::string path;
    size_t pos = 0;
};

constexpr uint32_t kLlama2cMagic = 0x616b3432u;
} // namespace

void writeLlama2c(const std::string &path, const LlamaWeights &w, int version)
{
    const ModelConfig &c = w.config;
    if (c.attnBias || c.attnOutBias || c.mlpBias)
        throw std::runtime_error("writeLlama2c: llama2.c has no biases");
    if (c.ropeScaling != 1.0 || c.ropeTheta != 10000.0 || c.normEps != 1e-5)
        throw std::runtime_error("writeLlama2c: llama2.c needs theta 1e4, eps 1e-5, no scaling");
    if (c.dHead * c.nHeads != c.dModel)
        throw std::runtime_error("writeLlama2c: llama2.c needs d_head = dim / n_heads");
    if (version != 0 && version != 1)
        throw std::runtime_error("writeLlama2c: version must be 0 or 1");
    const int L = c.nLayers, D = c.dModel, dh = c.dHead;

    std::vector<std::vector<float>> wq(static_cast<size_t>(L)), wk(static_cast<size_t>(L));
    for (int l = 0; l < L; ++l) {
        wq[size_t(l)] = permuteRows(w.layers[size_t(l)].wq, c.nHeads, dh, D, true);
        wk[size_t(l)] = permuteRows(w.layers[size_t(l)].wk, c.nKvHeads, dh, D, true);
    }
    auto each = [&](Writer &out, auto member) {
        for (const auto &ly : w.layers)
            out.floats(ly.*member);
    };

    Writer out;
    const int32_t header[7] = {D, c.dFfn, L, c.nHeads, c.nKvHeads, c.vocabSize, c.maxSeqLen};
    if (version == 0) {
        for (int i = 0; i < 7; ++i)
            out.i32(i == 5 && !c.tiedEmbeddings ? -header[i] : header[i]);
        out.floats(w.embed);
        each(out, &LlamaLayer::attnNorm);
        for (auto &m : wq)
            out.floats(m);
        for (auto &m : wk)
            out.floats(m);
        each(out, &LlamaLayer::wv);
        each(out, &LlamaLayer::wo);
        each(out, &LlamaLayer::ffnNorm);
        each(out, &LlamaLayer::wGate);
        each(out, &LlamaLayer::wDown);
        each(out, &LlamaLayer::wUp);
        out.floats(w.finalNorm);
        const size_t tableSize = 2 * size_t(c.maxSeqLen) * size_t(dh / 2);
        if (w.llama2cRopeTable.size() == tableSize) {
            out.floats(w.llama2cRopeTable);
        } else {
            std::vector<float> table(tableSize);
            const size_t half = size_t(dh / 2);
            for (size_t t = 0; t < size_t(c.maxSeqLen); ++t)
                for (size_t i = 0; i < half; ++i) {
                    const double a = double(t) * std::pow(10000.0, -2.0 * double(i) / dh);
                    table[t * half + i] = float(std::cos(a));
                    table[tableSize / 2 + t * half + i] = float(std::sin(a));
                }
            out.floats(table);
        }
        if (!c.tiedEmbeddings) out.floats(w.lmHead);
    } else {
        out.u32(kLlama2cMagic);
        out.i32(1);
        for (int v : header)
            out.i32(v);
        out.u8(c.tiedEmbeddings ? 1 : 0);
        while (out.bytes.size() < 256)
            out.u8(0);
        each(out, &LlamaLayer::attnNorm);
        each(out, &LlamaLayer::ffnNorm);
        out.floats(w.finalNorm);
        out.floats(w.embed);
        for (auto &m : wq)
            out.floats(m);
        for (auto &m : wk)
            out.floats(m);
        each(out, &LlamaLayer::wv);
        each(out, &LlamaLayer::wo);
        each(out, &LlamaLayer::wGate);
        each(out, &LlamaLayer::wDown);
        each(out, &LlamaLayer::wUp);
        if (!c.tiedEmbeddings) out.floats(w.lmHead);
    }
    writeFileBytes(path, out.bytes.data(), out.bytes.size());
}

LlamaWeights readLlama2c(const std::string &path)
{
    Reader in(readFileBytes(path), path);
    int version = 0;
    if (in.bytes.size() >= 8) {
        uint32_t magic;
        std::memcpy(&magic, in.bytes.data(), 4);
        if (magic == kLlama2cMagic) {
            in.pos = 4;
            version = in.i32();
            if (version != 1)
                throw std::runtime_error("readLlama2c: " + path + ": unsupported version " +
                                         std::to_string(version));
        }
    }
    int32_t h[7];
    for (auto &v : h)
        v = in.i32();
    bool tied = h[5] > 0;
    if (version == 1) {
        tied = in.u8() != 0;
        in.pos = 256;
    }
    const int D = h[0], F = h[1], L = h[2], H = h[3], Hkv = h[4], V = std::abs(h[5]), S = h[6];
    if (D <= 0 || F <= 0 || L <= 0 || H <= 0 || Hkv <= 0 || V <= 0 || S <= 0 || D % H != 0)
        throw std::runtime_error("readLlama2c: " + path + ": bad header");

    LlamaWeights w;
    w.config = llamaConfig(L, D, H, Hkv, F, V, S);
    w.config.tiedEmbeddings = tied;
    ModelConfig &c = w.config;
    const size_t dh = size_t(c.dHead), kvDim = size_t(Hkv) * dh, q = size_t(D);
    w.layers.resize(size_t(L));
    auto each = [&](auto member, size_t n) {
        for (auto &ly : w.layers)
            ly.*member = in.floats(n);
    };
    const size_t Dz = size_t(D), Fz = size_t(F), Vz = size_t(V);
    if (version == 0) {
        w.embed = in.floats(Vz * Dz);
        each(&LlamaLayer::attnNorm, Dz);
        each(&LlamaLayer::wq, q * Dz);
        each(&LlamaLayer::wk, kvDim * Dz);
        each(&LlamaLayer::wv, kvDim * Dz);
        each(&LlamaLayer::wo, Dz * q);
        each(&LlamaLayer::ffnNorm, Dz);
        each(&LlamaLayer::wGate, Fz * Dz);
        each(&LlamaLayer::wDown, Dz * Fz);
        each(&LlamaLayer::wUp, Fz * Dz);
        w.finalNorm = in.floats(Dz);
        w.llama2cRopeTable = in.floats(2 * size_t(S) * (dh / 2));
    } else {
        each(&LlamaLayer::attnNorm, Dz);
        each(&LlamaLayer::ffnNorm, Dz);
        w.finalNorm = in.floats(Dz);
        w.embed = in.floats(Vz * Dz);
        each(&LlamaLayer::wq, q * Dz);
        each(&LlamaLayer::wk, kvDim * Dz);
        each(&LlamaLayer::wv, kvDim * Dz);
        each(&LlamaLayer::wo, Dz * q);
        each(&LlamaLayer::wGate, Fz * Dz);
        each(&LlamaLayer::wDown, Dz * Fz);
        each(&LlamaLayer::wUp, Fz * Dz);
    }
    if (!tied) w.lmHead = in.floats(Vz * Dz);
    if (in.pos != in.bytes.size())
        throw std::runtime_error("readLlama2c: " + path + ": " +
                                 std::to_string(in.bytes.size() - in.pos) +
                                 " unexpected bytes at the end");
    for (auto &ly : w.layers) {
        ly.wq = permuteRows(ly.wq, H, int(dh), D, false);
        ly.wk = permuteRows(ly.wk, Hkv, int(dh), D, false);
    }
    return w;
}

} // namespace HeadLens::Test
