#include "headlens/project/project.h"

#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>

namespace HeadLens {

std::string modelConfigToJson(const ModelConfig &c)
{
    nlohmann::ordered_json j;
    j["architecture"] = c.architecture;
    j["n_layers"] = c.nLayers;
    j["n_heads"] = c.nHeads;
    j["n_kv_heads"] = c.nKvHeads;
    j["d_model"] = c.dModel;
    j["d_head"] = c.dHead;
    j["d_ffn"] = c.dFfn;
    j["vocab_size"] = c.vocabSize;
    j["max_seq_len"] = c.maxSeqLen;
    j["rope_theta"] = c.ropeTheta;
    j["rope_scaling"] = c.ropeScaling;
    j["norm_eps"] = c.normEps;
    j["tied_embeddings"] = c.tiedEmbeddings;
    j["attn_bias"] = c.attnBias;
    j["attn_out_bias"] = c.attnOutBias;
    j["mlp_bias"] = c.mlpBias;
    j["bos_id"] = c.bosId;
    j["eos_id"] = c.eosId;
    j["activation"] = c.activation;
    return j.dump();
}

namespace {

using Json = nlohmann::json;

const Json *member(const Json &j, const char *key)
{
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    return &*it;
}

[[noreturn]] void badKey(const char *key, const char *what)
{
    throw InputError(std::string("model_config: '") + key + "' must be " + what);
}

void getInt(const Json &j, const char *key, int &out, bool required, int minimum)
{
    const Json *v = member(j, key);
    if (!v) {
        if (required) throw InputError(std::string("model_config: '") + key + "' is missing");
        return;
    }
    if (!v->is_number_integer()) badKey(key, "an integer");
    const auto x = v->get<int64_t>();
    if (x < minimum || x > std::numeric_limits<int>::max())
        badKey(key, minimum > 0 ? "a positive integer" : "an integer in range");
    out = int(x);
}

void getDouble(const Json &j, const char *key, double &out)
{
    if (const Json *v = member(j, key)) {
        if (!v->is_number()) badKey(key, "a number");
        out = v->get<double>();
    }
}

void getBool(const Json &j, const char *key, bool &out)
{
    if (const Json *v = member(j, key)) {
        if (!v->is_boolean()) badKey(key, "true or false");
        out = v->get<bool>();
    }
}

} // namespace

ModelConfig modelConfigFromJson(const std::string &json)
{
    Json j;
    try {
        j = Json::parse(json);
    } catch (const Json::parse_error &e) {
        throw InputError(std::string("model_config is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw InputError("model_config is not a JSON object");

    ModelConfig c;
    if (const Json *v = member(j, "architecture")) {
        if (!v->is_string()) badKey("architecture", "a string");
        c.architecture = v->get<std::string>();
    }
    getInt(j, "n_layers", c.nLayers, true, 1);
    getInt(j, "n_heads", c.nHeads, true, 1);
    getInt(j, "d_model", c.dModel, true, 1);
    c.nKvHeads = c.nHeads;
    c.dHead = c.dModel / c.nHeads;
    getInt(j, "n_kv_heads", c.nKvHeads, false, 1);
    getInt(j, "d_head", c.dHead, false, 1);
    getInt(j, "d_ffn", c.dFfn, false, 0);
    getInt(j, "vocab_size", c.vocabSize, false, 0);
    getInt(j, "max_seq_len", c.maxSeqLen, false, 0);
    getDouble(j, "rope_theta", c.ropeTheta);
    getDouble(j, "rope_scaling", c.ropeScaling);
    getDouble(j, "norm_eps", c.normEps);
    getBool(j, "tied_embeddings", c.tiedEmbeddings);
    getBool(j, "attn_bias", c.attnBias);
    getBool(j, "attn_out_bias", c.attnOutBias);
    getBool(j, "mlp_bias", c.mlpBias);
    getInt(j, "bos_id", c.bosId, false, -1);
    getInt(j, "eos_id", c.eosId, false, -1);
    if (const Json *v = member(j, "activation")) {
        if (!v->is_string()) badKey("activation", "a string");
        c.activation = v->get<std::string>();
    }
    return c;
}

std::string traceNameProblem(const std::string &name)
{
    if (name.empty()) return "a trace name must not be empty";
    if (name.find('/') != std::string::npos) return "a trace name must not contain '/'";
    if (name == "." || name == "..") return "a trace name must not be '.' or '..'";
    for (unsigned char ch : name)
        if (ch < 0x20 || ch == 0x7f) return "a trace name must not contain control characters";
    return {};
}

void readProjectStructure(const std::string &path)
{
    const ProjectReader reader(path);
    (void)reader.info();
    (void)readProjectExtras(path);
    reader.visitMetadata();
}

std::string nextFreeTraceName(const std::string &path)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return "trace-1";
    ProjectReader reader(path);
    for (int n = 1;; ++n) {
        std::string name = "trace-" + std::to_string(n);
        if (!reader.hasTrace(name)) return name;
    }
}

} // namespace HeadLens
