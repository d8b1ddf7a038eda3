#include "requests.h"

#include "headlens/model/tokenizer.h"
#include "headlens/model/tunedlens.h"
#include "headlens/project/patchstore.h"
#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"
#include "headlens/trace/tracecost.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <limits>

namespace fs = std::filesystem;

namespace HeadLens::Cli {

using json = nlohmann::json;

namespace {

// ------------------------------------------------------------------ reading the command line

template <typename T>
T parseChoice(const Args &a, const std::string &opt,
              std::optional<T> (*fromName)(const std::string &), T fallback, const char *choices)
{
    auto v = a.value(opt);
    if (!v) return fallback;
    auto r = fromName(*v);
    if (!r) throw UsageError(opt + " must be one of " + choices + ", not '" + *v + "'");
    return *r;
}

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

// ------------------------------------------------------------------ running

const char *const kDtypes = "f32|bf16|f16";

void checkDtype(const std::string &dtype, const std::string &field)
{
    if (dtype != "f32" && dtype != "bf16" && dtype != "f16")
        throw UsageError(field + " must be one of " + kDtypes + ", not '" + dtype + "'");
}

// InputError unless (layer, pos) is a block of the model's forward pass over nTokens tokens.
void checkPoint(const Model &model, int layer, int pos, int nTokens)
{
    const int L = model.config().nLayers;
    if (layer < 0 || layer >= L)
        throw InputError("layer " + std::to_string(layer) + " is outside the model (" +
                         std::to_string(L) + " layers)");
    if (pos < 0 || pos >= nTokens)
        throw InputError("position " + std::to_string(pos) + " is outside the " +
                         std::to_string(nTokens) + " tokens");
}

// The token of the model a text names (tokenIdOfText over the model's tokenizer).
int32_t injectedToken(const Model &model, const std::string &text)
{
    const Tokenizer *tok = model.tokenizer();
    if (!tok)
        throw InputError("the model has no tokenizer to find \"" + text +
                         "\" in; give the token's id");
    TokenVocabulary v;
    v.size = tok->vocabSize();
    v.piece = [tok](int32_t id) { return tok->piece(id); };
    v.readable = [tok](int32_t id) { return tok->displayText(id); };
    v.encode = [&model](const std::string &s) {
        std::vector<int32_t> ids;
        for (const TokenInfo &t : model.tokenize(s, false))
            ids.push_back(t.id);
        return ids;
    };
    return tokenIdOfText(text, v);
}

} // namespace

int32_t modelTokenOfText(const Model &model, const std::string &text)
{
    return injectedToken(model, text);
}

// Any int: the field's own range is checked where it is used (an InputError naming the model's
// sizes); here only that it is a whole number that fits.
constexpr std::pair<int, int> kAnyInt{std::numeric_limits<int>::min(),
                                      std::numeric_limits<int>::max()};

int wholeNumber(const json &v, const std::string &what, int min, int max)
{
    // A float is refused, not converted: 1e300 as an int would be undefined.
    if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max)
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

// ================================================================== prompts

std::vector<TokenInfo> PromptInput::tokens(const Model &model) const
{
    if (!byIds) return model.tokenize(text, true);
    model.checkIds(ids);
    return model.tokensFromIds(ids);
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
        parseChoice<LensNorm>(a, "--lens-norm", lensNormFromName, LensNorm::Full, "full|unit|none");
    o.lens.decoder =
        parseChoice<LensDecoder>(a, "--lens-decoder", lensDecoderFromName, LensDecoder::Output,
                                 "output|input|linear|quadratic|tuned");
    o.lens.tuned = tunedLensOption(o.lens.decoder, a.value("--lens"), "--lens");
    o.attention =
        parseChoice<StoreType>(a, "--attention", storeTypeFromName, StoreType::F16, "none|f16|f32");
    o.residuals =
        parseChoice<StoreType>(a, "--residuals", storeTypeFromName, StoreType::F16, "none|f16|f32");
    if (a.has("--store-z")) o.z = o.residuals == StoreType::F32 ? StoreType::F32 : StoreType::F16;
    o.generate = a.intValue("--generate", 0, 0, kMaxGenerate);
    if (auto b = a.value("--attention-budget")) {
        size_t used = 0;
        double gb = -1;
        try {
            gb = std::stod(*b, &used);
        } catch (const std::exception &) {
            used = 0;
        }
        if (used != b->size() || !(gb >= 0 && gb <= 1e6))
            throw UsageError("--attention-budget takes gigabytes (e.g. 8 or 0.5), not '" + *b +
                             "'");
        o.attentionBudgetBytes = int64_t(gb * 1e9);
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

TraceRun::TraceRun(TraceRequest request) : m_request(std::move(request))
{
    if (m_request.name.empty()) m_request.name = nextFreeTraceName(m_request.output);
    m_writer =
        std::make_unique<TraceStreamWriter>(m_request.output, m_request.name, m_request.force);
}

Trace TraceRun::run(Model &model)
{
    std::vector<TokenInfo> tokens = m_request.prompt.tokens(model);
    TraceOptions o = m_request.options;
    checkTraceFits(model, m_request.output, int64_t(tokens.size()) + o.generate, o);
    // The large data go to the project layer by layer as they are computed.
    o.stream = m_writer.get();
    Trace t = traceTokens(model, std::move(tokens), m_request.prompt.text, o);
    t.name = m_request.name;
    m_writer->commit(t);
    return t;
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

std::vector<DecomposedStep> runDecompose(Model &model, const DecomposeRequest &r)
{
    model.checkIds(r.ids);
    checkPoint(model, r.layer, r.pos, int(r.ids.size()));
    const std::vector<DecodeStep> steps =
        model.decompose(r.ids, r.site, r.layer, r.pos, r.lens, r.steps);
    std::vector<int32_t> ids;
    for (const DecodeStep &s : steps)
        ids.push_back(s.id);
    const std::vector<TokenInfo> texts = model.tokensFromIds(ids);
    std::vector<DecomposedStep> out;
    for (size_t i = 0; i < steps.size(); ++i)
        out.push_back({steps[i], texts[i].text});
    return out;
}

json stepsJson(const std::vector<DecomposedStep> &steps)
{
    json out = json::array();
    for (const DecomposedStep &s : steps)
        out.push_back(
            {{"id", s.step.id}, {"text", s.text}, {"prob", s.step.prob}, {"norm", s.step.norm}});
    return out;
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

void settleChildName(PropagateRequest &r)
{
    std::unique_ptr<ProjectReader> reader;
    std::error_code ec;
    if (fs::exists(r.output, ec)) reader = std::make_unique<ProjectReader>(r.output);
    auto taken = [&](const std::string &name) { return reader && reader->hasTrace(name); };
    if (r.name.empty())
        r.name = freeTraceName(r.parent.name + "-" + editKindName(r.edit.kind), taken);
    else if (taken(r.name) && !r.force)
        throw InputError("trace '" + r.name + "' already exists in " + r.output +
                         "; use --force to replace it");
    if (r.name == r.parent.name && taken(r.name))
        throw InputError("the new trace cannot replace its parent '" + r.parent.name + "'");
    if (const std::string problem = traceNameProblem(r.name); !problem.empty())
        throw InputError("invalid trace name '" + r.name + "': " + problem);
}

Trace runPropagate(Model &model, PropagateRequest &r)
{
    model.checkIds(r.parent.tokenIds());
    checkPoint(model, r.edit.layer, r.edit.pos, r.parent.nTokens());
    if (r.edit.kind == EditKind::Inject) {
        if (r.edit.injectId < 0) r.edit.injectId = injectedToken(model, r.injectText);
        const int V = model.config().vocabSize;
        if (r.edit.injectId >= V)
            throw InputError("token id " + std::to_string(r.edit.injectId) +
                             " is not in the vocabulary (" + std::to_string(V) + " tokens)");
    }
    settleChildName(r);
    Trace child = propagate(model, r.parent, r.edit, r.generate, r.options);
    child.name = r.name;
    addTrace(r.output, child, r.force);
    return child;
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

PatchResult runPatch(Model &model, PatchRequest &r)
{
    PatchResult p;
    p.clean = r.clean.prompt.tokens(model);
    const std::vector<TokenInfo> corrupted = r.corrupted.tokens(model);
    if (p.clean.size() != corrupted.size())
        throw InputError("the clean prompt has " + std::to_string(p.clean.size()) +
                         " tokens and the corrupted prompt " + std::to_string(corrupted.size()) +
                         ": patching needs prompts of the same token count");
    TraceOptions &options = r.clean.options;
    options.generate = 0; // the map is of the prompt's tokens: the trace holds those only
    PatchOptions o;
    o.answer = r.answerId >= 0 ? r.answerId : injectedToken(model, r.answerText);
    o.wrong = r.wrongId >= 0 ? r.wrongId : injectedToken(model, r.wrongText);
    o.heads = r.heads;
    o.cancelled = options.cancelled;
    if (options.progress)
        o.progress = [&options](int done, int total) { options.progress("patch", done, total); };
    // The project and the name are checked before the sweep; the trace is written after it.
    TraceRun run(r.clean);
    r.clean.name = run.name();

    std::vector<int32_t> cleanIds, corruptedIds;
    for (const TokenInfo &t : p.clean)
        cleanIds.push_back(t.id);
    for (const TokenInfo &t : corrupted)
        corruptedIds.push_back(t.id);
    const auto t0 = std::chrono::steady_clock::now();
    p.map = model.patch(cleanIds, corruptedIds, o);
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    p.map.corruptedPrompt = r.corrupted.text;
    run.run(model);
    writePatchMap(r.clean.output, r.clean.name, p.map);
    p.name = r.clean.name;
    return p;
}

json patchJson(const PatchRequest &r, const PatchResult &p)
{
    const PatchMap &m = p.map;
    json sites = json::object();
    for (Site s : allSites()) {
        json grid = json::array();
        for (int l = 0; l < m.nLayers; ++l) {
            json row = json::array();
            for (int t = 0; t < m.nPos; ++t)
                row.push_back(m.site(s, l, t));
            grid.push_back(row);
        }
        sites[siteName(s)] = grid;
    }
    json heads = nullptr;
    if (!m.heads.data.empty()) {
        heads = json::array();
        for (int l = 0; l < m.nLayers; ++l) {
            json layer = json::array();
            for (int h = 0; h < m.nHeads; ++h) {
                json row = json::array();
                for (int t = 0; t < m.nPos; ++t)
                    row.push_back(m.head(l, h, t));
                layer.push_back(row);
            }
            heads.push_back(layer);
        }
    }
    json clean = json::array();
    for (const TokenInfo &t : p.clean)
        clean.push_back(t.text);
    return {{"output", r.clean.output},
            {"name", p.name},
            {"stored", patchMapGroup(p.name)},
            {"n_tokens", m.nPos},
            {"clean_tokens", clean},
            {"corrupted_tokens", m.corruptedText},
            {"answer", {{"id", m.answer}, {"text", m.answerText}}},
            {"wrong", {{"id", m.wrong}, {"text", m.wrongText}}},
            {"ld_clean", m.ldClean},
            {"ld_corrupted", m.ldCorrupted},
            {"sites", sites},
            {"heads", heads},
            {"seconds", p.seconds}};
}

} // namespace HeadLens::Cli
