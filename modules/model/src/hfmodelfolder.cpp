// A Hugging Face model folder: config.json with model.safetensors or the shards of
// model.safetensors.index.json, for Llama-family models and for GPT-2 (whose tensors get
// canonical names). Every tensor the config implies must be there with its shape.

#include "folderfiles.h"
#include "weightformats.h"

#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

namespace HeadLens {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A pickle checkpoint in the folder, if there is one (for the refusal message).
std::string findPickle(const fs::path &dir)
{
    std::vector<std::string> found;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        const std::string ext = it->path().extension().string();
        const bool shardedBin = name.rfind("pytorch_model-", 0) == 0 && ext == ".bin";
        if (name == "pytorch_model.bin" || shardedBin || ext == ".pt" || ext == ".pth")
            found.push_back(name);
    }
    std::sort(found.begin(), found.end());
    return found.empty() ? std::string() : found.front();
}

void addTensors(WeightSet &ws, SafetensorsFile &&f)
{
    for (auto &[name, t] : f.tensors) {
        const auto it = ws.tensors.find(name);
        if (it != ws.tensors.end())
            throw InputError("tensor '" + name + "' is stored twice, in " + it->second.file +
                             " and in " + t.file);
        ws.tensors.emplace(name, std::move(t));
    }
    ws.files.push_back(std::move(f.map));
}

// Throws for a tensor of want that is missing or misshapen, or has a dtype the engine cannot
// compute with.
void checkWanted(const WeightSet &ws,
                 const std::vector<std::pair<std::string, std::vector<int64_t>>> &want)
{
    for (const auto &[name, shape] : want) {
        const TensorEntry &t = ws.get(name, shape);
        if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16)
            throw InputError("tensor " + name + " in " + t.file + " has dtype " +
                             dtypeName(t.dtype) + ", which is not supported (F32, F16, BF16)");
    }
}

// A config that counts fewer layers than the weights hold describes another model (or was cut
// short by hand): refused, naming both sides, instead of tracing the first layers only.
void checkNoExtraLayers(const WeightSet &ws, const std::string &prefix)
{
    for (const auto &[name, t] : ws.tensors) {
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        const size_t dot = name.find('.', prefix.size());
        const std::string digits = name.substr(prefix.size(), dot - prefix.size());
        if (digits.empty() || digits.size() > 6 ||
            digits.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const int layer = std::stoi(digits);
        if (layer >= ws.config.nLayers)
            throw InputError("config.json gives " + std::to_string(ws.config.nLayers) +
                             " layers (num_hidden_layers / n_layer), but the weights hold " + name +
                             " (in " + t.file + "): the config and the weights disagree");
    }
}

// Every tensor the config implies, with its shape; throws for a missing or misshapen one and
// for a dtype the engine cannot compute with.
void checkHfTensors(const WeightSet &ws, const fs::path &dir)
{
    const ModelConfig &c = ws.config;
    const int64_t D = c.dModel, F = c.dFfn, V = c.vocabSize;
    const int64_t q = int64_t(c.nHeads) * c.dHead, kv = int64_t(c.nKvHeads) * c.dHead;
    std::vector<std::pair<std::string, std::vector<int64_t>>> want;
    want.push_back({"model.embed_tokens.weight", {V, D}});
    want.push_back({"model.norm.weight", {D}});
    if (!c.tiedEmbeddings) {
        if (!ws.find("lm_head.weight"))
            throw InputError("tensor lm_head.weight is missing (model at " + dir.string() +
                             "; config.json says tie_word_embeddings is false)");
        want.push_back({"lm_head.weight", {V, D}});
    }
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        want.push_back({p + "input_layernorm.weight", {D}});
        want.push_back({p + "post_attention_layernorm.weight", {D}});
        want.push_back({p + "self_attn.q_proj.weight", {q, D}});
        want.push_back({p + "self_attn.k_proj.weight", {kv, D}});
        want.push_back({p + "self_attn.v_proj.weight", {kv, D}});
        want.push_back({p + "self_attn.o_proj.weight", {D, q}});
        want.push_back({p + "mlp.gate_proj.weight", {F, D}});
        want.push_back({p + "mlp.up_proj.weight", {F, D}});
        want.push_back({p + "mlp.down_proj.weight", {D, F}});
        if (c.attnBias) {
            want.push_back({p + "self_attn.q_proj.bias", {q}});
            want.push_back({p + "self_attn.k_proj.bias", {kv}});
            want.push_back({p + "self_attn.v_proj.bias", {kv}});
        }
        if (c.attnOutBias) want.push_back({p + "self_attn.o_proj.bias", {D}});
        if (c.mlpBias) {
            want.push_back({p + "mlp.gate_proj.bias", {F}});
            want.push_back({p + "mlp.up_proj.bias", {F}});
            want.push_back({p + "mlp.down_proj.bias", {D}});
        }
    }
    checkWanted(ws, want);
    checkNoExtraLayers(ws, "model.layers.");
}

// --- GPT-2

const char *const kGpt2Prefix = "transformer.";

// Whether name (without the prefix) is one of GPT-2's body tensors: wte, wpe, h.N..., ln_f.
bool isGpt2BodyName(const std::string &name)
{
    for (const char *p : {"wte.", "wpe.", "h.", "ln_f."})
        if (name.rfind(p, 0) == 0) return true;
    return false;
}

// The causal-mask buffers old exports carry: transformer.h.N.attn.bias (the [1, 1, P, P] mask,
// not c_attn.bias) and transformer.h.N.attn.masked_bias. Not weights; dropped.
bool isGpt2MaskBuffer(const std::string &canonical)
{
    const std::string h = std::string(kGpt2Prefix) + "h.";
    if (canonical.rfind(h, 0) != 0) return false;
    size_t i = h.size();
    const size_t digits = i;
    while (i < canonical.size() && canonical[i] >= '0' && canonical[i] <= '9')
        ++i;
    if (i == digits) return false;
    const std::string rest = canonical.substr(i);
    return rest == ".attn.bias" || rest == ".attn.masked_bias";
}

// Puts every GPT-2 tensor under its canonical name ("transformer." + the name GPT2Model uses;
// GPT2LMHeadModel.save_pretrained writes the prefix, GPT2Model and many conversions do not),
// drops the causal-mask buffers, and drops an lm_head.weight of the shape of wte: GPT2LMHeadModel
// ties it to wte, so it is either a copy or unused.
void canonicalizeGpt2(WeightSet &ws)
{
    const ModelConfig &c = ws.config;
    std::map<std::string, TensorEntry> out;
    std::map<std::string, std::string> storedAs; // canonical -> name in the file
    for (auto &[name, t] : ws.tensors) {
        const bool prefixed = name.rfind(kGpt2Prefix, 0) == 0;
        const std::string canon = !prefixed && isGpt2BodyName(name) ? kGpt2Prefix + name : name;
        if (isGpt2MaskBuffer(canon)) continue;
        if (canon == "lm_head.weight") {
            const std::vector<int64_t> want{c.vocabSize, c.dModel};
            if (t.shape != want)
                throw InputError("tensor lm_head.weight in " + t.file + " has shape " +
                                 shapeString(t.shape) + ", but GPT-2 ties it to " + kGpt2Prefix +
                                 "wte.weight " + shapeString(want));
            continue;
        }
        const auto it = out.find(canon);
        if (it != out.end())
            throw InputError("tensor " + canon + " is stored twice, as '" + storedAs[canon] +
                             "' in " + it->second.file + " and as '" + name + "' in " + t.file);
        storedAs[canon] = name;
        out.emplace(canon, std::move(t));
    }
    ws.tensors = std::move(out);
}

// Every tensor of a GPT2LMHeadModel, under canonical names, shapes as stored: Conv1D weights
// are [in, out].
void checkGpt2Tensors(const WeightSet &ws)
{
    const ModelConfig &c = ws.config;
    const int64_t D = c.dModel, F = c.dFfn, V = c.vocabSize, P = c.maxSeqLen;
    const std::string t = kGpt2Prefix;
    std::vector<std::pair<std::string, std::vector<int64_t>>> want;
    want.push_back({t + "wte.weight", {V, D}});
    want.push_back({t + "wpe.weight", {P, D}});
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string p = t + "h." + std::to_string(l) + ".";
        want.push_back({p + "ln_1.weight", {D}});
        want.push_back({p + "ln_1.bias", {D}});
        want.push_back({p + "attn.c_attn.weight", {D, 3 * D}});
        want.push_back({p + "attn.c_attn.bias", {3 * D}});
        want.push_back({p + "attn.c_proj.weight", {D, D}});
        want.push_back({p + "attn.c_proj.bias", {D}});
        want.push_back({p + "ln_2.weight", {D}});
        want.push_back({p + "ln_2.bias", {D}});
        want.push_back({p + "mlp.c_fc.weight", {D, F}});
        want.push_back({p + "mlp.c_fc.bias", {F}});
        want.push_back({p + "mlp.c_proj.weight", {F, D}});
        want.push_back({p + "mlp.c_proj.bias", {D}});
    }
    want.push_back({t + "ln_f.weight", {D}});
    want.push_back({t + "ln_f.bias", {D}});
    checkWanted(ws, want);
    checkNoExtraLayers(ws, t + "h.");
}

} // namespace

WeightSet openHfFolder(const fs::path &dir)
{
    const fs::path configPath = dir / "config.json";
    checkInsideModelFolder(dir, configPath, "the model's config");
    WeightSet ws;
    ws.format = "hf-safetensors";
    ws.config = parseHfConfig(configPath.string());

    std::vector<SafetensorsFile> shards;
    const fs::path indexPath = dir / "model.safetensors.index.json";
    const fs::path singlePath = dir / "model.safetensors";
    std::error_code ec;
    if (fs::exists(indexPath, ec)) {
        const std::string where = indexPath.string();
        checkInsideModelFolder(dir, indexPath, "the shard index");
        json idx;
        try {
            const std::string text = readWholeFile(where, "shard index");
            if (text.find('\0') != std::string::npos)
                throw InputError(where + " has a NUL byte (a damaged file?)");
            idx = json::parse(text);
        } catch (const json::exception &e) {
            throw InputError(where + " is not valid JSON: " + jsonMessage(e));
        }
        const auto wm = idx.is_object() ? idx.find("weight_map") : idx.end();
        if (wm == idx.end() || !wm->is_object())
            throw InputError(where + " has no weight_map object");
        std::map<std::string, std::string> tensorShard;
        std::set<std::string> shardNames;
        for (const auto &[name, v] : wm->items()) {
            if (!v.is_string())
                throw InputError(where + ": weight_map entry '" + name + "' is not a file name");
            const std::string shard = v.get<std::string>();
            // Shards live beside the index; a path that climbs out of the folder is refused.
            if (shard.empty() || shard.find('/') != std::string::npos || shard == "." ||
                shard == "..")
                throw InputError(where + ": weight_map entry '" + name + "' names the shard '" +
                                 shard + "', which is not a file name in the folder");
            tensorShard[name] = shard;
            shardNames.insert(shard);
        }
        for (const std::string &s : shardNames) {
            const fs::path sp = dir / s;
            checkInsideModelFolder(dir, sp, "a shard named by the index");
            if (!fs::is_regular_file(sp, ec))
                throw InputError("shard " + s +
                                 " named by model.safetensors.index.json is "
                                 "missing in " +
                                 dir.string());
            shards.push_back(readSafetensors(sp.string()));
        }
        // Every tensor of every shard is where the index says, and the index lists it.
        for (const SafetensorsFile &f : shards) {
            const std::string file = fs::path(f.map->path()).filename().string();
            for (const auto &[name, t] : f.tensors) {
                const auto listed = tensorShard.find(name);
                if (listed == tensorShard.end())
                    throw InputError("tensor '" + name + "' of shard " + file +
                                     " is missing from the weight_map of " + where);
                if (listed->second != file)
                    throw InputError("tensor '" + name + "' is in shard " + file + " but " + where +
                                     " places it in " + listed->second);
            }
        }
        for (const auto &[name, s] : tensorShard) {
            const auto it = std::find_if(shards.begin(), shards.end(), [&shard = s](const auto &f) {
                return fs::path(f.map->path()).filename() == shard;
            });
            if (it->tensors.find(name) == it->tensors.end())
                throw InputError("tensor '" + name + "' is missing in shard " + s + " (" +
                                 it->map->path() +
                                 "), where model.safetensors.index.json "
                                 "places it");
        }
    } else if (fs::exists(singlePath, ec)) {
        checkInsideModelFolder(dir, singlePath, "the model's weights");
        shards.push_back(readSafetensors(singlePath.string()));
    } else {
        const std::string pickle = findPickle(dir);
        if (!pickle.empty())
            throw InputError(dir.string() + " holds only " + pickle +
                             " (a pickle, which can carry code and is never loaded); convert it "
                             "to model.safetensors");
        throw InputError(dir.string() +
                         " holds neither model.safetensors nor model.safetensors.index.json");
    }

    // Fingerprint: config.json, then every file's header, in file-name order.
    std::sort(shards.begin(), shards.end(), [](const SafetensorsFile &a, const SafetensorsFile &b) {
        return fs::path(a.map->path()).filename() < fs::path(b.map->path()).filename();
    });
    Sha256 fp;
    const std::string configText = readWholeFile(configPath.string(), "config.json");
    fp.update(configText.data(), configText.size());
    for (SafetensorsFile &s : shards) {
        fp.update(s.map->data(), size_t(s.headerBytes));
        addTensors(ws, std::move(s));
    }
    ws.fingerprint = fp.hexDigest();

    if (ws.config.architecture == "gpt2") {
        canonicalizeGpt2(ws);
        checkGpt2Tensors(ws);
    } else {
        checkHfTensors(ws, dir);
    }
    for (const auto &kv : ws.tensors)
        ws.totalBytes += int64_t(kv.second.nbytes);
    return ws;
}

} // namespace HeadLens
