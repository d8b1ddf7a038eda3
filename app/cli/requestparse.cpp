// The engine's requests read from the command line or from a serve request (requests.h):
// fields, their limits and their choices. Torch-free, loads no model and writes nothing (a
// tuned lens a request names is read), so the serve request parser can be fuzzed on its own
// (tests/fuzz/fuzz_serve.cpp); running a request is requests.cpp's.

#include "requests.h"

#include "headlens/model/tunedlens.h"
#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"
#include "headlens/trace/numbertext.h"
#include "headlens/trace/tracecost.h"

#include <nlohmann/json.hpp>

#include <limits>

namespace HeadLens::Cli {

using json = nlohmann::json;

namespace {

// ------------------------------------------------------------------ reading the command line

// The tuned lens a request names (read once, here): needed by the tuned decoder and taken by
// no other.
std::shared_ptr<const TunedLens>
tunedLensOption(LensDecoder decoder, const std::optional<std::string> &file, const std::string &opt)
{
    if (decoder != LensDecoder::Tuned) {
        if (file) throw UsageError(opt + " goes with the tuned lens decoder only");
        return nullptr;
    }
    if (!file || file->empty())
        throw UsageError("the tuned lens decoder needs " + opt +
                         " FILE (made by headlens-cli fit-lens)");
    return loadTunedLens(*file);
}

std::string readTextFile(const std::string &path)
{
    std::string s = readInputFile(path, "prompt file", kMaxTextInputBytes);
    if (!s.empty() && s.back() == '\n')
        s.pop_back(); // the newline every editor adds is not part of the prompt
    return s;
}

// ------------------------------------------------------------------ reading a serve request

template <typename T>
T jsonChoice(const json &req, const char *key, std::optional<T> (*fromName)(const std::string &),
             T fallback)
{
    if (!req.contains(key)) return fallback;
    auto v = fromName(req.at(key).get<std::string>());
    if (!v) throw UsageError(std::string("bad value for ") + key);
    return *v;
}

Site jsonSite(const json &req)
{
    const auto site = siteFromName(req.value("site", "resid_post"));
    if (!site) throw UsageError("bad value for site");
    return *site;
}

const char *const kDtypes = "f32|bf16|f16";

void checkDtype(const std::string &dtype, const std::string &field)
{
    if (dtype != "f32" && dtype != "bf16" && dtype != "f16")
        throw UsageError(field + " must be one of " + kDtypes + ", not '" + dtype + "'");
}

int64_t seedValue(const std::string &s, const std::string &what)
{
    const std::optional<int64_t> v = wholeNumberIn(s);
    if (!v || *v < 0) throw UsageError(what + " needs a whole number from 0, not '" + s + "'");
    return *v;
}

} // namespace

// Any int: the field's own range is checked where it is used (an InputError naming the model's
// sizes); here only that it is a whole number that fits.
constexpr std::pair<int, int> kAnyInt{std::numeric_limits<int>::min(),
                                      std::numeric_limits<int>::max()};

int wholeNumber(const json &v, const std::string &what, int min, int max)
{
    // A float is refused, not converted: 1e300 as an int would be undefined. An unsigned
    // number past int64's range would read as a negative one.
    const bool whole = v.is_number_integer() &&
                       (!v.is_number_unsigned() ||
                        v.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()));
    if (!whole || v.get<int64_t>() < min || v.get<int64_t>() > max)
        throw UsageError(what + " must be a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max));
    return int(v.get<int64_t>());
}

int intField(const json &req, const char *key, int fallback, int min, int max)
{
    return req.contains(key) ? wholeNumber(req.at(key), key, min, max) : fallback;
}

int intField(const json &req, const char *key, int min, int max)
{
    return wholeNumber(req.at(key), key, min, max);
}

std::vector<int32_t> idsField(const json &req, const std::string &key)
{
    const json &v = req.at(key);
    if (!v.is_array()) throw UsageError(key + " must be a list of token ids");
    std::vector<int32_t> ids;
    for (const json &id : v)
        ids.push_back(wholeNumber(id, key, kAnyInt.first, kAnyInt.second));
    return ids;
}

// ================================================================== load

LoadOptions loadOptions(const Args &a)
{
    LoadOptions lo;
    lo.tokenizerPath = a.value("--tokenizer", "");
    lo.dtype = a.value("--dtype", "f32");
    checkDtype(lo.dtype, "--dtype");
    lo.threads = a.intValue("--threads", 0, 0, 1024);
    return lo;
}

LoadRequest loadRequest(const json &req)
{
    LoadRequest r;
    r.model = req.at("model").get<std::string>();
    r.options.tokenizerPath = req.value("tokenizer", "");
    r.options.dtype = req.value("dtype", "f32");
    checkDtype(r.options.dtype, "dtype");
    r.options.threads = intField(req, "threads", 0, 0, 1024);
    return r;
}

PromptInput promptInput(const Args &a)
{
    const int given =
        int(a.has("--prompt")) + int(a.has("--prompt-file")) + int(a.has("--token-ids"));
    if (given != 1) throw UsageError("give exactly one of --prompt, --prompt-file, --token-ids");
    PromptInput p;
    if (auto ids = a.value("--token-ids")) {
        p.ids = parseIdList(*ids);
        p.byIds = true;
        return p;
    }
    p.text = a.has("--prompt") ? *a.value("--prompt") : readTextFile(*a.value("--prompt-file"));
    return p;
}

PromptInput promptInput(const json &req)
{
    PromptInput p;
    if (req.contains("token_ids")) {
        p.ids = idsField(req, "token_ids");
        p.byIds = true;
        return p;
    }
    if (!req.contains("prompt")) throw UsageError("give prompt or token_ids");
    p.text = req.at("prompt").get<std::string>();
    return p;
}

// ================================================================== options

TraceOptions traceOptions(const Args &a)
{
    TraceOptions o;
    o.lens.topk = a.intValue("--topk", 10, 1, kMaxTopk);
    o.lens.norm =
        a.choice<LensNorm>("--lens-norm", lensNormFromName, LensNorm::Full, "full|unit|none");
    o.lens.decoder =
        a.choice<LensDecoder>("--lens-decoder", lensDecoderFromName, LensDecoder::Output,
                              "output|input|linear|quadratic|tuned");
    o.lens.tuned = tunedLensOption(o.lens.decoder, a.value("--lens"), "--lens");
    o.attention =
        a.choice<StoreType>("--attention", storeTypeFromName, StoreType::F16, "none|f16|f32");
    o.residuals =
        a.choice<StoreType>("--residuals", storeTypeFromName, StoreType::F16, "none|f16|f32");
    if (a.has("--store-z")) o.z = o.residuals == StoreType::F32 ? StoreType::F32 : StoreType::F16;
    o.generate = a.intValue("--generate", 0, 0, kMaxGenerate);
    if (auto b = a.value("--attention-budget")) {
        const std::optional<double> gb = decimalNumberIn(*b);
        if (!gb || !(*gb >= 0 && *gb <= 1e6))
            throw UsageError("--attention-budget takes gigabytes (e.g. 8 or 0.5), not '" + *b +
                             "'");
        o.attentionBudgetBytes = int64_t(*gb * 1e9);
    }
    return o;
}

LensOptions lensOptions(const json &req)
{
    LensOptions lens;
    lens.topk = intField(req, "topk", 10, 1, kMaxTopk);
    lens.norm = jsonChoice(req, "lens_norm", lensNormFromName, LensNorm::Full);
    lens.decoder = jsonChoice(req, "lens_decoder", lensDecoderFromName, LensDecoder::Output);
    std::optional<std::string> file;
    if (req.contains("lens")) file = req.at("lens").get<std::string>();
    lens.tuned = tunedLensOption(lens.decoder, file, "lens");
    return lens;
}

TraceOptions traceOptions(const json &req)
{
    TraceOptions o;
    o.lens = lensOptions(req);
    o.attention = jsonChoice(req, "attention", storeTypeFromName, StoreType::F16);
    o.residuals = jsonChoice(req, "residuals", storeTypeFromName, StoreType::F16);
    if (req.value("store_z", false))
        o.z = o.residuals == StoreType::F32 ? StoreType::F32 : StoreType::F16;
    o.generate = intField(req, "generate", 0, 0, kMaxGenerate);
    const double budget =
        req.value("attention_budget_gb", double(kDefaultAttentionBudgetBytes) / 1e9);
    if (!(budget >= 0 && budget <= 1e6)) throw UsageError("bad value for attention_budget_gb");
    o.attentionBudgetBytes = int64_t(budget * 1e9);
    return o;
}

// ================================================================== trace

namespace {

// What every command that writes a trace reads the same way: the project, the name, --force
// and the trace options; the prompt is the caller's.
TraceRequest traceTarget(const Args &a, const char *command)
{
    TraceRequest r;
    r.output = a.value("-o", a.value("--output", ""));
    if (r.output.empty()) throw UsageError(std::string(command) + " needs -o PROJECT.hlproj");
    r.name = a.value("--name", "");
    r.force = a.has("--force");
    r.options = traceOptions(a);
    return r;
}

TraceRequest traceTarget(const json &req)
{
    TraceRequest r;
    r.output = req.at("output").get<std::string>();
    r.name = req.value("name", "");
    r.force = req.value("force", false);
    r.options = traceOptions(req);
    return r;
}

} // namespace

TraceRequest traceRequest(const Args &a)
{
    TraceRequest r = traceTarget(a, "trace");
    r.prompt = promptInput(a);
    return r;
}

TraceRequest traceRequest(const json &req)
{
    TraceRequest r = traceTarget(req);
    r.prompt = promptInput(req);
    return r;
}

// ================================================================== decompose

DecomposeRequest decomposeRequest(const json &req)
{
    DecomposeRequest r;
    r.ids = idsField(req, "token_ids");
    r.site = jsonSite(req);
    r.layer = intField(req, "layer", kAnyInt.first, kAnyInt.second);
    r.pos = intField(req, "pos", kAnyInt.first, kAnyInt.second);
    r.lens = lensOptions(req);
    r.steps = intField(req, "steps", 10, 1, kMaxDecodeSteps);
    return r;
}

// ================================================================== propagate

int defaultChildLength(const Trace &parent, int pos)
{
    const int rest = parent.nTokens() - 1 - pos;
    return rest > 0 ? rest : 16;
}

PropagateRequest propagateRequest(const json &req)
{
    PropagateRequest r;
    r.output = req.at("output").get<std::string>();
    r.name = req.value("name", "");
    r.force = req.value("force", false);
    r.parent.name = req.at("parent").get<std::string>();
    r.parent.prompt = req.value("prompt", "");
    for (const json &tj : req.at("tokens")) {
        TokenInfo ti;
        ti.id = intField(tj, "id", kAnyInt.first, kAnyInt.second);
        ti.text = tj.value("text", "");
        ti.begin = intField(tj, "begin", -1, kAnyInt.first, kAnyInt.second);
        ti.end = intField(tj, "end", -1, kAnyInt.first, kAnyInt.second);
        r.parent.tokens.push_back(ti);
    }
    r.edit.site = jsonSite(req);
    r.edit.layer = intField(req, "layer", kAnyInt.first, kAnyInt.second);
    r.edit.pos = intField(req, "pos", kAnyInt.first, kAnyInt.second);
    const auto kind = editKindFromName(req.value("kind", editKindName(EditKind::Unchanged)));
    if (!kind) throw UsageError("kind must be unchanged, subtract or inject");
    r.edit.kind = *kind;
    if (r.edit.kind == EditKind::Subtract)
        r.edit.subtractCount = intField(req, "subtract", 1, 1, kMaxSubtract);
    if (r.edit.kind == EditKind::Inject) {
        if (req.contains("inject_id")) {
            r.edit.injectId = intField(req, "inject_id", std::numeric_limits<int32_t>::min(),
                                       std::numeric_limits<int32_t>::max());
            if (r.edit.injectId < 0)
                throw InputError("token id " + std::to_string(r.edit.injectId) +
                                 " is not in the vocabulary");
        } else {
            r.injectText = req.value("inject_text", "");
        }
    }
    r.options = traceOptions(req);
    r.generate =
        intField(req, "generate", defaultChildLength(r.parent, r.edit.pos), 0, kMaxGenerate);
    return r;
}

// ================================================================== patch

namespace {

// One of a text option and an id option (--answer TEXT | --answer-id N).
void tokenChoice(const Args &a, const std::string &opt, std::string &text, int32_t &id)
{
    const bool byText = a.has(opt), byId = a.has(opt + "-id");
    if (byText == byId) throw UsageError("give exactly one of " + opt + ", " + opt + "-id");
    if (byText)
        text = *a.value(opt);
    else
        id = a.intValue(opt + "-id", -1, 0, std::numeric_limits<int>::max());
}

// --clean TEXT | --clean-ids 1,2,3 (and the same for --corrupted).
PromptInput promptChoice(const Args &a, const std::string &opt)
{
    const bool byText = a.has(opt), byIds = a.has(opt + "-ids");
    if (byText == byIds) throw UsageError("give exactly one of " + opt + ", " + opt + "-ids");
    PromptInput p;
    if (byText) {
        p.text = *a.value(opt);
    } else {
        p.ids = parseIdList(*a.value(opt + "-ids"));
        p.byIds = true;
    }
    return p;
}

PromptInput jsonPrompt(const json &req, const std::string &key)
{
    PromptInput p;
    if (req.contains(key + "_ids")) {
        p.ids = idsField(req, key + "_ids");
        p.byIds = true;
    } else if (req.contains(key)) {
        p.text = req.at(key).get<std::string>();
    } else {
        throw UsageError("give " + key + " or " + key + "_ids");
    }
    return p;
}

void jsonToken(const json &req, const std::string &key, std::string &text, int32_t &id)
{
    if (req.contains(key + "_id"))
        id = intField(req, (key + "_id").c_str(), -1, 0, std::numeric_limits<int>::max());
    else if (req.contains(key))
        text = req.at(key).get<std::string>();
    else
        throw UsageError("give " + key + " or " + key + "_id");
}

} // namespace

PatchRequest patchRequest(const Args &a)
{
    PatchRequest r;
    r.clean = traceTarget(a, "patch");
    r.clean.prompt = promptChoice(a, "--clean");
    r.corrupted = promptChoice(a, "--corrupted");
    tokenChoice(a, "--answer", r.answerText, r.answerId);
    tokenChoice(a, "--wrong", r.wrongText, r.wrongId);
    r.heads = a.has("--heads");
    return r;
}

PatchRequest patchRequest(const json &req)
{
    PatchRequest r;
    r.clean = traceTarget(req);
    r.clean.prompt = jsonPrompt(req, "clean");
    r.corrupted = jsonPrompt(req, "corrupted");
    jsonToken(req, "answer", r.answerText, r.answerId);
    jsonToken(req, "wrong", r.wrongText, r.wrongId);
    r.heads = req.value("heads", false);
    return r;
}

// ================================================================== attribute

AttributeRequest attributeRequest(const Args &a)
{
    AttributeRequest r;
    r.prompt = promptInput(a);
    if (a.has("--token") && a.has("--token-id"))
        throw UsageError("give --token or --token-id, not both");
    if (a.has("--minus") && a.has("--minus-id"))
        throw UsageError("give --minus or --minus-id, not both");
    const bool chosen = a.has("--token") || a.has("--token-id");
    if ((a.has("--minus") || a.has("--minus-id")) && !chosen)
        throw UsageError("--minus needs the token it is subtracted from (--token or --token-id)");
    r.token = a.value("--token", "");
    r.minus = a.value("--minus", "");
    r.tokenId = a.intValue("--token-id", -1, 0, 1 << 30);
    r.minusId = a.intValue("--minus-id", -1, 0, 1 << 30);
    r.pos = a.intValue("--pos", -1, 0, 1 << 24);
    return r;
}

AttributeRequest attributeRequest(const json &req)
{
    AttributeRequest r;
    r.prompt = promptInput(req);
    r.token = req.value("token", "");
    r.minus = req.value("minus", "");
    r.tokenId = intField(req, "token_id", -1, 0, 1 << 30);
    r.minusId = intField(req, "minus_id", -1, 0, 1 << 30);
    r.pos = intField(req, "pos", -1, 0, 1 << 24);
    if ((!r.minus.empty() || r.minusId >= 0) && r.token.empty() && r.tokenId < 0)
        throw UsageError("minus needs the token it is subtracted from (token or token_id)");
    return r;
}

// ================================================================== head roles

HeadRolesRequest headRolesRequest(const Args &a)
{
    HeadRolesRequest r;
    r.probe.length = a.intValue("--length", 0, 2, 1 << 20);
    r.probe.sequences = a.intValue("--sequences", r.probe.sequences, 1, kMaxRepeatSequences);
    if (auto s = a.value("--seed")) r.probe.seed = seedValue(*s, "--seed");
    if (a.positional.size() > 2)
        throw UsageError("heads --roles takes MODEL and at most one PROJECT.hlproj");
    if (a.positional.size() == 2) r.output = a.positional[1];
    if (auto t = a.value("--trace")) {
        if (r.output.empty()) throw UsageError("--trace needs a PROJECT.hlproj to store into");
        r.traces.push_back(*t);
    }
    return r;
}

HeadRolesRequest headRolesRequest(const json &req)
{
    HeadRolesRequest r;
    r.probe.length = intField(req, "length", 0, 2, 1 << 20);
    r.probe.sequences = intField(req, "sequences", r.probe.sequences, 1, kMaxRepeatSequences);
    if (req.contains("seed")) {
        const json &s = req.at("seed");
        if (!s.is_number_integer() || s.get<int64_t>() < 0)
            throw UsageError("seed must be a whole number from 0");
        r.probe.seed = s.get<int64_t>();
    }
    r.output = req.value("output", "");
    if (req.contains("traces")) r.traces = req.at("traces").get<std::vector<std::string>>();
    if (req.contains("trace")) r.traces.push_back(req.at("trace").get<std::string>());
    if (!r.traces.empty() && r.output.empty())
        throw UsageError("trace needs output, the project to store into");
    return r;
}

} // namespace HeadLens::Cli
