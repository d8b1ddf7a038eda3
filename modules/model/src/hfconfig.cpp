// Hugging Face config.json of Llama-family models and of GPT-2, checked field by field: a
// complaint names the file and the field.

#include "weightformats.h"

#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <optional>

namespace HeadLens {

using json = nlohmann::json;

namespace {

// Reads the fields of one config.json; every complaint starts with the file.
class ConfigReader {
public:
    ConfigReader(const json &j, std::string where) : m_j(j), m_where(std::move(where)) {}

    [[noreturn]] void fail(const std::string &msg) const { throw InputError(m_where + ": " + msg); }

    const json *get(const char *key) const
    {
        const auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return nullptr;
        return &*it;
    }

    int positiveInt(const char *key, std::optional<int> fallback = std::nullopt) const
    {
        const json *v = get(key);
        if (!v) {
            if (fallback) return *fallback;
            fail(std::string(key) + " is missing");
        }
        std::optional<int64_t> i = jsonInt(*v);
        if (!i && v->is_number_float()) {
            // Some exporters write 4096.0; accept a float only when it is a whole number.
            const double d = v->get<double>();
            if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) i = int64_t(d);
        }
        if (!i || *i <= 0 || *i > std::numeric_limits<int32_t>::max())
            fail(std::string(key) + " must be a positive integer (got " + v->dump() + ")");
        return int(*i);
    }

    double positiveNumber(const char *key, double fallback) const
    {
        const json *v = get(key);
        if (!v) return fallback;
        if (!v->is_number() || !(v->get<double>() > 0) || !std::isfinite(v->get<double>()))
            fail(std::string(key) + " must be a positive number (got " + v->dump() + ")");
        return v->get<double>();
    }

    bool boolean(const char *key, bool fallback) const
    {
        const json *v = get(key);
        if (!v) return fallback;
        if (!v->is_boolean())
            fail(std::string(key) + " must be true or false (got " + v->dump() + ")");
        return v->get<bool>();
    }

    // bos_token_id / eos_token_id: an id, a list of ids (the first counts), or absent (-1).
    int tokenId(const char *key) const
    {
        const json *v = get(key);
        if (!v) return -1;
        const json *one = v;
        if (v->is_array()) {
            if (v->empty()) return -1;
            one = &(*v)[0];
        }
        const std::optional<int64_t> i = jsonInt(*one);
        if (!i || *i < 0 || *i > std::numeric_limits<int32_t>::max())
            fail(std::string(key) + " must be a token id or a list of them (got " + v->dump() +
                 ")");
        return int(*i);
    }

    std::string string(const char *key) const
    {
        const json *v = get(key);
        if (!v) return {};
        if (!v->is_string()) fail(std::string(key) + " must be a string (got " + v->dump() + ")");
        return v->get<std::string>();
    }

private:
    const json &m_j;
    std::string m_where;
};

const char *const kSupportedArchitectures = "LlamaForCausalLM, MistralForCausalLM, GPT2LMHeadModel";

// GPT-2 (GPT2LMHeadModel). Its config.json uses GPT-2's own field names (n_layer, n_embd, ...);
// Hugging Face's GPT2Config also answers to the generic ones (num_hidden_layers, hidden_size,
// ...), so a file written with those is read too. Options that change the computation in ways
// the engine does not implement are refused by name rather than silently ignored.
ModelConfig parseGpt2Config(const ConfigReader &r)
{
    // GPT-2's own name unless only the generic alias is there.
    auto key = [&r](const char *own, const char *alias) {
        return (r.get(own) || !r.get(alias)) ? own : alias;
    };
    ModelConfig c;
    c.architecture = "gpt2";
    c.nLayers = r.positiveInt(key("n_layer", "num_hidden_layers"));
    const char *headsKey = key("n_head", "num_attention_heads");
    const char *embdKey = key("n_embd", "hidden_size");
    c.nHeads = r.positiveInt(headsKey);
    c.nKvHeads = c.nHeads;
    c.dModel = r.positiveInt(embdKey);
    if (c.dModel % c.nHeads != 0)
        r.fail(std::string(embdKey) + " (" + std::to_string(c.dModel) + ") must divide by " +
               headsKey + " (" + std::to_string(c.nHeads) + ")");
    c.dHead = c.dModel / c.nHeads;
    if (r.get("n_inner")) {
        c.dFfn = r.positiveInt("n_inner");
    } else {
        if (c.dModel > std::numeric_limits<int32_t>::max() / 4)
            r.fail(std::string(embdKey) + " (" + std::to_string(c.dModel) +
                   ") is too large for the default n_inner of 4 * " + embdKey);
        c.dFfn = 4 * c.dModel; // GPT-2's default when n_inner is null
    }
    c.vocabSize = r.positiveInt("vocab_size");
    c.maxSeqLen = r.positiveInt(key("n_positions", "max_position_embeddings"), 1024);
    c.normEps = r.positiveNumber("layer_norm_epsilon", 1e-5);

    std::string act = "gelu_new";
    if (const json *a = r.get("activation_function")) {
        if (!a->is_string()) r.fail("activation_function must be a string (got " + a->dump() + ")");
        act = a->get<std::string>();
    }
    if (act == "gelu_new" || act == "gelu_pytorch_tanh")
        c.activation = "gelu_new"; // both are the tanh approximation
    else if (act == "gelu")
        c.activation = "gelu"; // exact, with erf
    else
        r.fail("activation_function " + act +
               " is not supported (supported: gelu_new, gelu_pytorch_tanh, gelu)");

    // GPT2LMHeadModel computes its logits with the token embedding.
    if (!r.boolean("tie_word_embeddings", true))
        r.fail("tie_word_embeddings false is not supported for GPT-2 (GPT2LMHeadModel ties "
               "lm_head to wte)");
    if (r.boolean("reorder_and_upcast_attn", false))
        r.fail("reorder_and_upcast_attn true is not supported");
    if (r.boolean("scale_attn_by_inverse_layer_idx", false))
        r.fail("scale_attn_by_inverse_layer_idx true is not supported");
    if (!r.boolean("scale_attn_weights", true))
        r.fail("scale_attn_weights false is not supported (attention scores are always divided "
               "by sqrt(head size))");
    if (r.boolean("add_cross_attention", false))
        r.fail("add_cross_attention true is not supported (a decoder-only model is needed)");

    c.tiedEmbeddings = true;
    c.attnBias = c.attnOutBias = c.mlpBias = true; // Conv1D layers always carry a bias
    c.bosId = r.tokenId("bos_token_id");
    c.eosId = r.tokenId("eos_token_id");
    return c;
}

} // namespace

ModelConfig parseHfConfig(const std::string &configPath)
{
    const std::string where = "config.json at " + configPath;
    const std::string text = readWholeFile(configPath, "config.json");
    // nlohmann's parser ends at a NUL byte: garbage after one would pass unseen.
    if (const size_t nul = text.find('\0'); nul != std::string::npos)
        throw InputError(where + " has a NUL byte at offset " + std::to_string(nul) +
                         " (a damaged file?)");
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception &e) {
        throw InputError(where + " is not valid JSON: " + jsonMessage(e));
    }
    if (!j.is_object()) throw InputError(where + " is not a JSON object");
    const ConfigReader r(j, where);

    // Which model this is. Mistral and Yi are Llama for the engine.
    bool supported = false, gpt2 = false;
    std::string named;
    if (const json *arch = r.get("architectures"); arch && !(arch->is_array() && arch->empty())) {
        if (!arch->is_array()) r.fail("architectures must be a list (got " + arch->dump() + ")");
        for (const json &a : *arch) {
            if (!a.is_string())
                r.fail("architectures must be a list of names (got " + arch->dump() + ")");
            const std::string s = a.get<std::string>();
            if (named.empty()) named = s;
            if (supported) continue; // the first supported name decides
            if (s == "LlamaForCausalLM" || s == "MistralForCausalLM") supported = true;
            if (s == "GPT2LMHeadModel") supported = gpt2 = true;
        }
    } else {
        named = r.string("model_type");
        if (named.empty())
            r.fail(std::string("neither architectures nor model_type says what model this is "
                               "(supported: ") +
                   kSupportedArchitectures + ")");
        gpt2 = named == "gpt2";
        supported = (named == "llama" || named == "mistral" || gpt2);
    }
    if (!supported)
        r.fail("model type " + named + " is not supported (supported: " + kSupportedArchitectures +
               ")");
    if (gpt2) return parseGpt2Config(r);

    if (const json *act = r.get("hidden_act")) {
        const std::string a = act->is_string() ? act->get<std::string>() : act->dump();
        if (a != "silu" && a != "swish")
            r.fail("hidden_act " + a + " is not supported (Llama models use silu)");
    }

    ModelConfig c;
    c.architecture = "llama";
    c.nLayers = r.positiveInt("num_hidden_layers");
    c.nHeads = r.positiveInt("num_attention_heads");
    c.nKvHeads = r.positiveInt("num_key_value_heads", c.nHeads);
    c.dModel = r.positiveInt("hidden_size");
    if (r.get("head_dim")) {
        c.dHead = r.positiveInt("head_dim");
    } else {
        if (c.dModel % c.nHeads != 0)
            r.fail("hidden_size (" + std::to_string(c.dModel) +
                   ") must divide by num_attention_heads (" + std::to_string(c.nHeads) +
                   ") when head_dim is not given");
        c.dHead = c.dModel / c.nHeads;
    }
    c.dFfn = r.positiveInt("intermediate_size");
    c.vocabSize = r.positiveInt("vocab_size");
    c.maxSeqLen = r.positiveInt("max_position_embeddings", 2048);
    c.ropeTheta = r.positiveNumber("rope_theta", 10000.0);
    c.normEps = r.positiveNumber("rms_norm_eps", 1e-6);
    c.tiedEmbeddings = r.boolean("tie_word_embeddings", false);
    c.attnBias = r.boolean("attention_bias", false);
    c.attnOutBias = c.attnBias; // Llama's attention_bias puts biases on q, k, v and o alike
    c.mlpBias = r.boolean("mlp_bias", false);
    c.bosId = r.tokenId("bos_token_id");
    c.eosId = r.tokenId("eos_token_id");

    if (const json *rs = r.get("rope_scaling")) {
        if (!rs->is_object())
            r.fail("rope_scaling must be an object or null (got " + rs->dump() + ")");
        const ConfigReader sr(*rs, where + ": rope_scaling");
        std::string type = sr.string("type");
        if (type.empty()) type = sr.string("rope_type");
        if (type == "linear") {
            if (!sr.get("factor")) r.fail("rope_scaling of type linear needs a factor");
            c.ropeScaling = sr.positiveNumber("factor", 1.0);
        } else if (type != "default") {
            r.fail("rope_scaling type " + (type.empty() ? std::string("(none given)") : type) +
                   " is not supported (supported: linear)");
        }
    }

    if (c.nHeads % c.nKvHeads != 0)
        r.fail("num_attention_heads (" + std::to_string(c.nHeads) +
               ") must divide by num_key_value_heads (" + std::to_string(c.nKvHeads) + ")");
    if (c.dHead % 2 != 0)
        r.fail("head_dim (" + std::to_string(c.dHead) + ") must be even for rotary embeddings");
    return c;
}

} // namespace HeadLens
