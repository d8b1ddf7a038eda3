#include "testgpt2.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace HeadLens::Test {

ModelConfig gpt2Config(int nLayers, int dModel, int nHeads, int dFfn, int vocabSize, int maxSeqLen)
{
    ModelConfig c;
    c.architecture = "gpt2";
    c.nLayers = nLayers;
    c.dModel = dModel;
    c.nHeads = nHeads;
    c.nKvHeads = nHeads;
    c.dHead = dModel / nHeads;
    c.dFfn = dFfn;
    c.vocabSize = vocabSize;
    c.maxSeqLen = maxSeqLen;
    c.normEps = 1e-5;
    c.tiedEmbeddings = true;
    c.attnBias = c.attnOutBias = c.mlpBias = true;
    c.activation = "gelu_new";
    c.bosId = vocabSize - 1;
    c.eosId = vocabSize - 1;
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

Gpt2Weights randomGpt2(const ModelConfig &cfgIn, uint64_t seed)
{
    Gpt2Weights w;
    w.config = cfgIn;
    ModelConfig &c = w.config;
    if (c.nHeads <= 0 || c.dModel % c.nHeads != 0)
        throw std::invalid_argument("randomGpt2: d_model must divide by n_heads");
    c.architecture = "gpt2";
    c.dHead = c.dModel / c.nHeads;
    c.nKvHeads = c.nHeads;
    c.tiedEmbeddings = true;
    c.attnBias = c.attnOutBias = c.mlpBias = true;

    Rng rng(seed * 0x9E3779B97F4A7C15ull + 777);
    const size_t D = size_t(c.dModel), V = size_t(c.vocabSize), F = size_t(c.dFfn),
                 P = size_t(c.maxSeqLen);
    const double sD = 1.0 / std::sqrt(double(D));

    w.wte = gaussian(rng, V * D, 2.5 * sD);
    w.wpe = gaussian(rng, P * D, 1.0 * sD);
    w.layers.resize(size_t(c.nLayers));
    for (auto &ly : w.layers) {
        ly.ln1W = gaussian(rng, D, 0.1, 1.0);
        ly.ln1B = gaussian(rng, D, 0.1);
        // c_attn [D, 3D]: column j < D feeds q, D <= j < 2D k, 2D <= j v.
        ly.attnW.resize(D * 3 * D);
        for (size_t i = 0; i < D; ++i)
            for (size_t j = 0; j < 3 * D; ++j)
                ly.attnW[i * 3 * D + j] = float((j < 2 * D ? 1.2 : 1.0) * sD * rng.normal());
        ly.attnB = gaussian(rng, 3 * D, 0.1);
        ly.attnProjW = gaussian(rng, D * D, 0.5 * sD);
        ly.attnProjB = gaussian(rng, D, 0.05);
        ly.ln2W = gaussian(rng, D, 0.1, 1.0);
        ly.ln2B = gaussian(rng, D, 0.1);
        ly.fcW = gaussian(rng, D * F, sD);
        ly.fcB = gaussian(rng, F, 0.1);
        ly.mlpProjW = gaussian(rng, F * D, 0.5 / std::sqrt(double(F)));
        ly.mlpProjB = gaussian(rng, D, 0.05);
    }
    w.lnFW = gaussian(rng, D, 0.1, 1.0);
    w.lnFB = gaussian(rng, D, 0.1);
    return w;
}

Gpt2Weights roundedTo(const Gpt2Weights &in, const std::string &dtype)
{
    Gpt2Weights w = in;
    auto round = [&dtype](std::vector<float> &v) {
        for (auto &x : v)
            x = roundTo(x, dtype);
    };
    round(w.wte);
    round(w.wpe);
    for (auto &ly : w.layers)
        for (auto *v : {&ly.ln1W, &ly.ln1B, &ly.attnW, &ly.attnB, &ly.attnProjW, &ly.attnProjB,
                        &ly.ln2W, &ly.ln2B, &ly.fcW, &ly.fcB, &ly.mlpProjW, &ly.mlpProjB})
            round(*v);
    round(w.lnFW);
    round(w.lnFB);
    return w;
}

std::vector<HfTensor> gpt2Tensors(const Gpt2Weights &w, const Gpt2WriteOptions &opts,
                                  std::vector<std::vector<float>> &storage)
{
    const ModelConfig &c = w.config;
    const int64_t D = c.dModel, V = c.vocabSize, F = c.dFfn, P = c.maxSeqLen;
    const std::string t = opts.prefix ? "transformer." : "";
    storage.clear();
    if (opts.maskBuffers) {
        // What old GPT-2 exports hold: the lower-triangular mask and the fill value -1e4.
        storage.emplace_back(size_t(P * P), 0.0f);
        for (int64_t i = 0; i < P; ++i)
            for (int64_t j = 0; j <= i; ++j)
                storage.back()[size_t(i * P + j)] = 1.0f;
        storage.emplace_back(1, -1e4f);
    }
    std::vector<HfTensor> out;
    out.push_back({t + "wte.weight", {V, D}, &w.wte});
    out.push_back({t + "wpe.weight", {P, D}, &w.wpe});
    for (size_t i = 0; i < w.layers.size(); ++i) {
        const Gpt2Layer &ly = w.layers[i];
        const std::string p = t + "h." + std::to_string(i) + ".";
        out.push_back({p + "ln_1.weight", {D}, &ly.ln1W});
        out.push_back({p + "ln_1.bias", {D}, &ly.ln1B});
        if (opts.maskBuffers) {
            out.push_back({p + "attn.bias", {1, 1, P, P}, &storage[0]});
            out.push_back({p + "attn.masked_bias", {}, &storage[1]});
        }
        out.push_back({p + "attn.c_attn.weight", {D, 3 * D}, &ly.attnW});
        out.push_back({p + "attn.c_attn.bias", {3 * D}, &ly.attnB});
        out.push_back({p + "attn.c_proj.weight", {D, D}, &ly.attnProjW});
        out.push_back({p + "attn.c_proj.bias", {D}, &ly.attnProjB});
        out.push_back({p + "ln_2.weight", {D}, &ly.ln2W});
        out.push_back({p + "ln_2.bias", {D}, &ly.ln2B});
        out.push_back({p + "mlp.c_fc.weight", {D, F}, &ly.fcW});
        out.push_back({p + "mlp.c_fc.bias", {F}, &ly.fcB});
        out.push_back({p + "mlp.c_proj.weight", {F, D}, &ly.mlpProjW});
        out.push_back({p + "mlp.c_proj.bias", {D}, &ly.mlpProjB});
    }
    out.push_back({t + "ln_f.weight", {D}, &w.lnFW});
    out.push_back({t + "ln_f.bias", {D}, &w.lnFB});
    if (opts.lmHead) out.push_back({"lm_head.weight", {V, D}, &w.wte});
    for (const auto &x : out) {
        int64_t n = 1;
        for (auto s : x.shape)
            n *= s;
        if (int64_t(x.data->size()) != n)
            throw std::runtime_error("gpt2Tensors: " + x.name + " holds " +
                                     std::to_string(x.data->size()) + " values, shape wants " +
                                     std::to_string(n));
    }
    return out;
}

std::string gpt2ConfigJson(const ModelConfig &c, const std::string &torchDtype)
{
    nlohmann::ordered_json j;
    j["activation_function"] = c.activation;
    j["architectures"] = {"GPT2LMHeadModel"};
    j["attn_pdrop"] = 0.1;
    if (c.bosId >= 0) j["bos_token_id"] = c.bosId;
    j["embd_pdrop"] = 0.1;
    if (c.eosId >= 0) j["eos_token_id"] = c.eosId;
    j["initializer_range"] = 0.02;
    j["layer_norm_epsilon"] = c.normEps;
    j["model_type"] = "gpt2";
    j["n_ctx"] = c.maxSeqLen;
    j["n_embd"] = c.dModel;
    j["n_head"] = c.nHeads;
    if (c.dFfn == 4 * c.dModel)
        j["n_inner"] = nullptr;
    else
        j["n_inner"] = c.dFfn;
    j["n_layer"] = c.nLayers;
    j["n_positions"] = c.maxSeqLen;
    j["reorder_and_upcast_attn"] = false;
    j["resid_pdrop"] = 0.1;
    j["scale_attn_by_inverse_layer_idx"] = false;
    j["scale_attn_weights"] = true;
    j["summary_activation"] = nullptr;
    j["summary_first_dropout"] = 0.1;
    j["summary_proj_to_labels"] = true;
    j["summary_type"] = "cls_index";
    j["summary_use_proj"] = true;
    j["torch_dtype"] = torchDtype;
    j["transformers_version"] = "4.44.0";
    j["use_cache"] = true;
    j["vocab_size"] = c.vocabSize;
    return j.dump(2) + "\n";
}

void writeGpt2Folder(const std::string &dir, const Gpt2Weights &w, const Gpt2WriteOptions &opts)
{
    fs::create_directories(dir);
    const std::string torchDtype = opts.dtype == "F32"   ? "float32"
                                   : opts.dtype == "F16" ? "float16"
                                                         : "bfloat16";
    writeTextFile(dir + "/config.json", gpt2ConfigJson(w.config, torchDtype));
    std::vector<std::vector<float>> storage;
    writeSafetensorsFolder(dir, gpt2Tensors(w, opts, storage), opts.dtype, opts.shards);
}

} // namespace HeadLens::Test
