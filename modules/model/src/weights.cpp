// Model files without torch: safetensors (single or sharded) with config.json, and llama2.c
// checkpoints. Everything read from a file is checked against the file before it is trusted,
// because a model is user input: a bad one must end in an InputError that says what and where,
// never in a crash or a read past a mapping.

#include "weights.h"

#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace HeadLens {

namespace fs = std::filesystem;
using json = nlohmann::json;

// ------------------------------------------------------------------------------------------
// dtypes

const char *dtypeName(DType t)
{
    switch (t) {
    case DType::F32:
        return "F32";
    case DType::F16:
        return "F16";
    case DType::BF16:
        return "BF16";
    case DType::F64:
        return "F64";
    case DType::I64:
        return "I64";
    case DType::I32:
        return "I32";
    case DType::I16:
        return "I16";
    case DType::I8:
        return "I8";
    case DType::U8:
        return "U8";
    case DType::BOOL:
        return "BOOL";
    }
    return "?";
}

size_t dtypeSize(DType t)
{
    switch (t) {
    case DType::F64:
    case DType::I64:
        return 8;
    case DType::F32:
    case DType::I32:
        return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
        return 2;
    case DType::I8:
    case DType::U8:
    case DType::BOOL:
        return 1;
    }
    return 0;
}

namespace {

std::optional<DType> dtypeFromName(const std::string &s)
{
    static const DType all[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64,
                                DType::I32, DType::I16, DType::I8,   DType::U8,  DType::BOOL};
    for (DType t : all)
        if (s == dtypeName(t)) return t;
    return std::nullopt;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; people need the rest.
std::string jsonMessage(const std::exception &e)
{
    std::string m = e.what();
    if (!m.empty() && m[0] == '[') {
        const auto close = m.find("] ");
        if (close != std::string::npos) m = m.substr(close + 2);
    }
    return m;
}

std::string readWholeFile(const std::string &path, const char *what)
{
    return readInputFile(path, what, kMaxTextInputBytes);
}

// An exact integer of a JSON value (no floats), or nothing.
std::optional<int64_t> jsonInt(const json &v)
{
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        if (u > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
        return int64_t(u);
    }
    if (v.is_number_integer()) return v.get<int64_t>();
    return std::nullopt;
}

std::string shapeOf(const std::vector<int64_t> &s)
{
    return shapeString(s);
}

bool mulOverflows(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

} // namespace

// ------------------------------------------------------------------------------------------
// MappedFile

MappedFile::MappedFile(const std::string &path) : m_path(path)
{
    // O_NONBLOCK: a FIFO named as a model would otherwise block here; fstat refuses it below.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw InputError("cannot open model file " + path + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw InputError("cannot open model file " + path + ": " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw InputError("cannot open model file " + path + ": " +
                         (S_ISDIR(st.st_mode) ? std::string(std::strerror(EISDIR))
                                              : "not a regular file (a pipe, socket or device)"));
    }
    m_size = size_t(st.st_size);
    if (m_size > 0) {
        void *p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw InputError("cannot map model file " + path + ": " + std::strerror(err));
        }
        m_data = static_cast<const uint8_t *>(p);
    }
    ::close(fd); // the mapping stays valid without the descriptor
}

MappedFile::~MappedFile()
{
    if (m_data) ::munmap(const_cast<uint8_t *>(m_data), m_size);
}

// ------------------------------------------------------------------------------------------
// WeightSet

namespace {

// Where the model came from, for messages: the folder of a Hugging Face model, or the file.
std::string modelPathOf(const WeightSet &ws)
{
    if (ws.files.empty()) return "(no files)";
    const std::string &first = ws.files.front()->path();
    if (ws.format == "hf-safetensors") return fs::path(first).parent_path().string();
    return first;
}

} // namespace

const TensorEntry *WeightSet::find(const std::string &name) const
{
    const auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
}

const TensorEntry &WeightSet::get(const std::string &name, const std::vector<int64_t> &shape) const
{
    const TensorEntry *t = find(name);
    if (!t)
        throw InputError("tensor " + name + " is missing (model at " + modelPathOf(*this) + ")");
    if (t->shape != shape)
        throw InputError("tensor " + name + " in " + t->file + " has shape " + shapeOf(t->shape) +
                         ", but the model's config needs " + shapeOf(shape));
    return *t;
}

// ------------------------------------------------------------------------------------------
// config.json

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

// ------------------------------------------------------------------------------------------
// safetensors

namespace {

// The safetensors format caps its header at 100 MB; anything bigger is not a real header.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

struct SafetensorsFile {
    std::shared_ptr<MappedFile> map;
    uint64_t headerBytes = 0; // 8 + N
    std::map<std::string, TensorEntry> tensors;
};

SafetensorsFile readSafetensors(const std::string &path)
{
    SafetensorsFile f;
    f.map = std::make_shared<MappedFile>(path);
    const MappedFile &m = *f.map;
    if (m.size() < 8)
        throw InputError(path + " is too short to be a safetensors file (" +
                         std::to_string(m.size()) + " bytes; truncated?)");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | m.data()[i];
    if (n > kMaxHeaderBytes || n > m.size() - 8)
        throw InputError(path + ": the header length " + std::to_string(n) +
                         " runs past the end of the file (" + std::to_string(m.size()) +
                         " bytes; truncated or not a safetensors file)");
    f.headerBytes = 8 + n;
    const uint64_t dataSize = m.size() - 8 - n;
    const uint8_t *dataBase = m.data() + 8 + n;

    json h;
    try {
        h = json::parse(m.data() + 8, m.data() + 8 + n);
    } catch (const json::exception &e) {
        throw InputError(path + ": the safetensors header is not valid JSON: " + jsonMessage(e));
    }
    if (!h.is_object()) throw InputError(path + ": the safetensors header is not a JSON object");

    struct Span {
        uint64_t begin, end;
        std::string name;
    };
    std::vector<Span> spans;
    for (const auto &[name, v] : h.items()) {
        if (name == "__metadata__") {
            bool ok = v.is_object();
            if (ok)
                for (const auto &kv : v.items())
                    ok = ok && kv.value().is_string();
            if (!ok) throw InputError(path + ": __metadata__ must map names to strings");
            continue;
        }
        const std::string what = path + ": tensor '" + name + "'";
        if (!v.is_object()) throw InputError(what + " is not described by an object");
        const auto dt = v.find("dtype");
        if (dt == v.end() || !dt->is_string()) throw InputError(what + " has no dtype");
        const std::optional<DType> dtype = dtypeFromName(dt->get<std::string>());
        if (!dtype) throw InputError(what + " has the unknown dtype " + dt->get<std::string>());

        const auto sh = v.find("shape");
        if (sh == v.end() || !sh->is_array()) throw InputError(what + " has no shape");
        TensorEntry t;
        t.dtype = *dtype;
        t.file = path;
        uint64_t need = dtypeSize(*dtype);
        bool overflow = false;
        for (const json &d : *sh) {
            const std::optional<int64_t> dim = jsonInt(d);
            if (!dim || *dim < 0)
                throw InputError(what +
                                 " has a shape that is not a list of non-negative "
                                 "integers: " +
                                 sh->dump());
            t.shape.push_back(*dim);
            overflow = overflow || mulOverflows(need, uint64_t(*dim), &need);
        }
        if (overflow) throw InputError(what + " has a shape too large to exist: " + sh->dump());

        const auto off = v.find("data_offsets");
        if (off == v.end() || !off->is_array() || off->size() != 2)
            throw InputError(what + " has no data_offsets [begin, end]");
        const std::optional<int64_t> b = jsonInt((*off)[0]), e = jsonInt((*off)[1]);
        if (!b || !e || *b < 0 || *e < 0 || *b > *e)
            throw InputError(what + " has invalid data_offsets " + off->dump());
        const uint64_t begin = uint64_t(*b), end = uint64_t(*e);
        if (end > dataSize)
            throw InputError(what + " has data_offsets " + off->dump() +
                             " beyond the end of the data (" + std::to_string(dataSize) +
                             " bytes; truncated?)");
        if (end - begin != need)
            throw InputError(what + " declares " + std::to_string(end - begin) +
                             " bytes, but its shape " + shapeOf(t.shape) + " of " +
                             dtypeName(*dtype) + " needs " + std::to_string(need));
        t.nbytes = size_t(need);
        t.data = dataBase + begin;
        spans.push_back({begin, end, name});
        f.tensors.emplace(name, std::move(t));
    }

    std::sort(spans.begin(), spans.end(), [](const Span &a, const Span &b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    for (size_t i = 1; i < spans.size(); ++i) {
        const Span &a = spans[i - 1], &b = spans[i];
        if (b.begin < a.end && b.begin != b.end && a.begin != a.end)
            throw InputError(path + ": tensors '" + a.name + "' and '" + b.name +
                             "' overlap (bytes " + std::to_string(a.begin) + ".." +
                             std::to_string(a.end) + " and " + std::to_string(b.begin) + ".." +
                             std::to_string(b.end) + ")");
    }
    // The format has no holes: the tensors tile the data from its first byte to its last. A
    // gap means a damaged or hand-edited header whose offsets cannot be trusted.
    uint64_t at = 0;
    for (const Span &sp : spans) {
        if (sp.begin != sp.end && sp.begin != at)
            throw InputError(path + ": the data has a gap of " + std::to_string(sp.begin - at) +
                             " bytes before tensor '" + sp.name + "' (at byte " +
                             std::to_string(at) + " of the data)");
        at = std::max(at, sp.end);
    }
    if (at != dataSize)
        throw InputError(path + ": " + std::to_string(dataSize - at) +
                         " bytes after the last tensor belong to none");
    return f;
}

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
                                 shapeOf(t.shape) + ", but GPT-2 ties it to " + kGpt2Prefix +
                                 "wte.weight " + shapeOf(want));
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

WeightSet openHfFolder(const fs::path &dir)
{
    const fs::path configPath = dir / "config.json";
    WeightSet ws;
    ws.format = "hf-safetensors";
    ws.config = parseHfConfig(configPath.string());

    std::vector<SafetensorsFile> shards;
    const fs::path indexPath = dir / "model.safetensors.index.json";
    const fs::path singlePath = dir / "model.safetensors";
    std::error_code ec;
    if (fs::exists(indexPath, ec)) {
        const std::string where = indexPath.string();
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
            const auto it = std::find_if(shards.begin(), shards.end(), [&](const auto &f) {
                return fs::path(f.map->path()).filename() == s;
            });
            if (it->tensors.find(name) == it->tensors.end())
                throw InputError("tensor '" + name + "' is missing in shard " + s + " (" +
                                 it->map->path() +
                                 "), where model.safetensors.index.json "
                                 "places it");
        }
    } else if (fs::exists(singlePath, ec)) {
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

// ------------------------------------------------------------------------------------------
// llama2.c

constexpr uint32_t kLlama2cMagic = 0x616b3432; // "ak42"
constexpr size_t kLlama2cV1Header = 256;
constexpr size_t kFingerprintEdge = 64 * 1024;

int32_t readI32(const uint8_t *p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

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

} // namespace

WeightSet openWeights(const std::string &path)
{
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (fs::is_directory(st)) {
        const fs::path dir(path);
        if (!fs::is_regular_file(dir / "config.json", ec))
            throw InputError(path + " is neither a model folder with config.json nor a llama2.c "
                                    "checkpoint file (the folder has no config.json)");
        return openHfFolder(dir);
    }
    return openLlama2c(path);
}

} // namespace HeadLens
