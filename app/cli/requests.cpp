// Running the engine's requests (requests.h) on a model; reading them is requestparse.cpp's.

#include "requests.h"

#include "headlens/model/tokenizer.h"
#include "headlens/project/patchstore.h"
#include "headlens/trace/error.h"
#include "headlens/trace/tracecost.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <limits>

namespace fs = std::filesystem;

namespace HeadLens::Cli {

using json = nlohmann::json;

namespace {

// ------------------------------------------------------------------ checks against the model

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

// ================================================================== prompts

std::vector<TokenInfo> PromptInput::tokens(const Model &model) const
{
    if (!byIds) return model.tokenize(text, true);
    model.checkIds(ids);
    return model.tokensFromIds(ids);
}

// ================================================================== trace

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
    // One row of the map: its value at every position.
    auto row = [&](const auto &valueAt) {
        json r = json::array();
        for (int t = 0; t < m.nPos; ++t)
            r.push_back(valueAt(t));
        return r;
    };
    json sites = json::object();
    for (Site s : allSites()) {
        json grid = json::array();
        for (int l = 0; l < m.nLayers; ++l)
            grid.push_back(row([&](int t) { return m.site(s, l, t); }));
        sites[siteName(s)] = grid;
    }
    json heads = nullptr;
    if (!m.heads.data.empty()) {
        heads = json::array();
        for (int l = 0; l < m.nLayers; ++l) {
            json layer = json::array();
            for (int h = 0; h < m.nHeads; ++h)
                layer.push_back(row([&](int t) { return m.head(l, h, t); }));
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
