// decompose and propagate: the commands that edit a trace's vector and need its model. Each
// writes into the project (decompose an analysis group, propagate a child trace) and prints a
// readable summary, or JSON with --json.

#include "args.h"
#include "commandtext.h"
#include "enginememory.h"
#include "requests.h"

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/model/tunedlens.h"
#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>

namespace HeadLens::Cli {

using json = nlohmann::json;

namespace {

// A trace of the project and a (site, layer, pos) in it, checked before any model is loaded.
struct TracePoint {
    Trace trace;
    Site site = Site::ResidPost;
    int layer = 0;
    int pos = 0;
};

TracePoint tracePoint(const ProjectReader &reader, const Args &a)
{
    const auto name = a.value("--trace");
    if (!name) throw UsageError("give --trace NAME");
    TracePoint p;
    p.site = a.requiredSite("--site");
    p.layer = a.requiredInt("--layer", 0, 1 << 20);
    p.pos = a.requiredInt("--pos", 0, 1 << 24);
    if (!reader.hasTrace(*name)) throw InputError("no trace '" + *name + "' in " + reader.path());
    p.trace = reader.readTrace(*name);
    if (p.layer >= p.trace.config.nLayers)
        throw InputError("layer " + std::to_string(p.layer) + " is out of range: trace '" + *name +
                         "' has " + std::to_string(p.trace.config.nLayers) + " layers (0.." +
                         std::to_string(p.trace.config.nLayers - 1) + ")");
    if (p.pos >= p.trace.nTokens())
        throw InputError("position " + std::to_string(p.pos) + " is out of range: trace '" + *name +
                         "' has " + std::to_string(p.trace.nTokens()) + " tokens (0.." +
                         std::to_string(p.trace.nTokens() - 1) + ")");
    return p;
}

// The model of a trace; InputError when it is not the one the trace was made with.
std::unique_ptr<Model> loadModelFor(const std::string &path, const Args &a, const Trace &t)
{
    reportProgress("loading " + path, 0, 1);
    std::unique_ptr<Model> model = loadModel(path, loadOptions(a));
    endProgress();
    if (!t.modelFingerprint.empty() && model->fingerprint() != t.modelFingerprint)
        throw InputError(path + " is not the model trace '" + t.name + "' was made with (" +
                         t.modelName + ", fingerprint " + t.modelFingerprint.substr(0, 16) +
                         "...)");
    if (!(model->config() == t.config))
        throw InputError(path + " does not have the architecture of trace '" + t.name + "'");
    return model;
}

LensOptions lensOf(const Trace &t)
{
    LensOptions lo;
    lo.topk = t.topk;
    lo.norm = t.lensNorm;
    lo.decoder = t.lensDecoder;
    if (t.lensDecoder == LensDecoder::Tuned) {
        // The very lens the trace was made with: its file, unchanged since.
        lo.tuned = loadTunedLens(t.tunedLensPath);
        if (!t.tunedLensSha256.empty() && lo.tuned->sha256 != t.tunedLensSha256)
            throw InputError("the tuned lens " + t.tunedLensPath + " has changed since trace '" +
                             t.name + "' was made with it (SHA-256 " + lo.tuned->sha256 +
                             ", recorded " + t.tunedLensSha256 + ")");
    }
    return lo;
}

// The text a model prints for ids after kept (so a leading space shows, and a character split
// over tokens is whole).
std::string continuation(const Model &model, const std::vector<int32_t> &kept,
                         const std::vector<int32_t> &more)
{
    std::vector<int32_t> all = kept;
    all.insert(all.end(), more.begin(), more.end());
    const std::string whole = model.decode(all), head = model.decode(kept);
    return whole.compare(0, head.size(), head) == 0 ? whole.substr(head.size())
                                                    : model.decode(more);
}

} // namespace

int cmdDecompose(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(
        argv,
        {"--trace", "--site", "--layer", "--pos", "-k", "--tokenizer", "--dtype", "--threads"},
        {"--json"});
    if (a.positional.size() != 2) throw UsageError("decompose needs MODEL and PROJECT.hlproj");
    const std::string modelPath = a.positional[0], project = a.positional[1];
    const int k = a.intValue("-k", 10, 1, kMaxDecodeSteps);
    TracePoint p = [&] {
        ProjectReader reader(project);
        return tracePoint(reader, a);
    }();
    const Trace &t = p.trace;
    const LensSite lens = ProjectReader(project).readLens(t.name, p.site);

    DecomposeRequest request;
    request.ids = t.tokenIds();
    request.site = p.site;
    request.layer = p.layer;
    request.pos = p.pos;
    request.lens = lensOf(t);
    request.steps = k;
    std::unique_ptr<Model> model = loadModelFor(modelPath, a, t);
    const std::vector<DecomposedStep> steps = runDecompose(*model, request);

    const std::string group =
        traceAnalysisGroup(t.name, std::string("decompose/") + siteName(p.site) + "-L" +
                                       std::to_string(p.layer) + "-P" + std::to_string(p.pos));
    AnalysisRecord r;
    r.text["site"] = siteName(p.site);
    r.integers["layer"] = p.layer;
    r.integers["pos"] = p.pos;
    r.integers["max_steps"] = k;
    r.text["lens_norm"] = lensNormName(t.lensNorm);
    r.text["lens_decoder"] = lensDecoderName(t.lensDecoder);
    IntArray idArr({int64_t(steps.size())});
    FloatArray probs({int64_t(steps.size())}), norms({int64_t(steps.size())});
    std::vector<std::string> texts;
    for (size_t i = 0; i < steps.size(); ++i) {
        idArr.data[i] = steps[i].step.id;
        probs.data[i] = steps[i].step.prob;
        norms.data[i] = steps[i].step.norm;
        texts.push_back(steps[i].text);
    }
    if (!steps.empty()) {
        r.ints["ids"] = idArr;
        r.floats["probs"] = probs;
        r.floats["norms"] = norms;
        r.strings["text"] = texts;
    }
    writeAnalysis(project, {{group}, {{group, r}}});

    int32_t lensTop = -1;
    float lensProb = 0;
    if (!lens.empty()) {
        const int64_t T = lens.topkIds.dim(1), K = lens.topkIds.dim(2);
        const size_t i = size_t((int64_t(p.layer) * T + p.pos) * K);
        lensTop = lens.topkIds.data[i];
        lensProb = lens.topkProbs.data[i];
    }
    if (a.has("--json")) {
        json js = stepsJson(steps);
        for (size_t i = 0; i < js.size(); ++i)
            js[i]["step"] = i + 1;
        printJson(
            {{"trace", t.name},
             {"site", siteName(p.site)},
             {"layer", p.layer},
             {"pos", p.pos},
             {"token", t.tokens[size_t(p.pos)].text},
             {"lens_top1",
              lensTop < 0 ? json(nullptr)
                          : json{{"id", lensTop}, {"text", t.idText(lensTop)}, {"prob", lensProb}}},
             {"steps", js},
             {"stored", group}});
        return 0;
    }
    std::cout << "decompose of trace '" << t.name << "', " << siteName(p.site) << " layer "
              << p.layer << " position " << p.pos << " (token "
              << quotedText(t.tokens[size_t(p.pos)].text) << "), lens " << lensNormName(t.lensNorm)
              << "/" << lensDecoderName(t.lensDecoder) << ": " << steps.size()
              << (steps.size() == 1 ? " step" : " steps") << "\n";
    if (lensTop >= 0)
        std::cout << "lens top-1 of this block: " << quotedText(t.idText(lensTop)) << " (id "
                  << lensTop << ", p " << fmt(lensProb) << ")\n";
    std::cout << "  step  id      token                 prob     norm\n";
    for (size_t i = 0; i < steps.size(); ++i) {
        char head[64];
        std::snprintf(head, sizeof head, "  %4zu  %-6d  ", i + 1, steps[i].step.id);
        std::cout << head << pad(quotedText(steps[i].text), 20) << "  " << fmt(steps[i].step.prob)
                  << "   " << fmt(steps[i].step.norm, 3) << "\n";
    }
    std::cout << "stored in " << group << " of " << project << "\n";
    return 0;
}

// ================================================================== propagate

int cmdPropagate(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv,
                             {"--trace", "--site", "--layer", "--pos", "--subtract", "--inject",
                              "--inject-id", "-n", "--name", "--tokenizer", "--dtype", "--threads"},
                             {"--unchanged", "--force", "--json"});
    if (a.positional.size() != 2) throw UsageError("propagate needs MODEL and PROJECT.hlproj");
    const std::string modelPath = a.positional[0], project = a.positional[1];
    const int kinds = int(a.has("--unchanged")) + int(a.has("--subtract")) +
                      int(a.has("--inject")) + int(a.has("--inject-id"));
    if (kinds != 1)
        throw UsageError(
            "give exactly one of --unchanged, --subtract K, --inject TOKEN, --inject-id ID");
    PropagateRequest r;
    r.output = project;
    r.name = a.value("--name", "");
    r.force = a.has("--force");
    r.edit.kind = a.has("--unchanged")  ? EditKind::Unchanged
                  : a.has("--subtract") ? EditKind::Subtract
                                        : EditKind::Inject;
    r.edit.subtractCount = a.intValue("--subtract", 1, 1, kMaxSubtract);
    r.edit.injectId = a.intValue("--inject-id", -1, 0, INT32_MAX);
    r.injectText = a.value("--inject", "");
    TracePoint p = [&] {
        ProjectReader reader(project);
        return tracePoint(reader, a);
    }();
    r.parent = std::move(p.trace);
    const Trace &parent = r.parent;
    r.edit.site = p.site;
    r.edit.layer = p.layer;
    r.edit.pos = p.pos;
    r.generate = a.intValue("-n", defaultChildLength(parent, p.pos), 0, kMaxGenerate);
    settleChildName(r);
    // The child is traced as its parent was.
    r.options.lens = lensOf(parent);
    r.options.attention = parent.attentionStore;
    r.options.residuals = parent.residualStore;
    r.options.z = parent.zStore;
    r.options.progress = reportProgress;

    std::unique_ptr<Model> model = loadModelFor(modelPath, a, parent);
    const Trace child = runPropagate(*model, r);
    endProgress();
    const std::string &name = r.name;
    std::string described = "the vector unchanged";
    if (r.edit.kind == EditKind::Subtract)
        described = "the top " + std::to_string(r.edit.subtractCount) +
                    (r.edit.subtractCount == 1 ? " token" : " tokens") + " subtracted";
    else if (r.edit.kind == EditKind::Inject)
        described = "inject " + quotedText(model->tokensFromIds({r.edit.injectId})[0].text) +
                    " (id " + std::to_string(r.edit.injectId) + ")";

    const std::vector<int32_t> parentIds = parent.tokenIds(), childIds = child.tokenIds();
    const std::vector<int32_t> kept(parentIds.begin(), parentIds.begin() + p.pos + 1);
    const std::vector<int32_t> parentMore(parentIds.begin() + p.pos + 1, parentIds.end());
    const std::vector<int32_t> childMore(childIds.begin() + p.pos + 1, childIds.end());
    const std::string parentText = continuation(*model, kept, parentMore);
    const std::string childText = continuation(*model, kept, childMore);
    if (a.has("--json")) {
        printJson({{"parent", parent.name},
                   {"child", name},
                   {"edit", json::parse(child.edit, nullptr, false)},
                   {"kept_tokens", p.pos + 1},
                   {"generated", int(childMore.size())},
                   {"parent_continuation", parentText},
                   {"child_continuation", childText},
                   {"parent_ids", parentMore},
                   {"child_ids", childMore},
                   {"same_as_parent", parentMore == childMore}});
        return 0;
    }
    std::cout << "propagated trace '" << parent.name << "' from " << siteName(p.site) << " layer "
              << p.layer << " position " << p.pos << " with " << described << " into '" << name
              << "' (" << p.pos + 1 << " tokens kept, " << childMore.size() << " generated)\n";
    std::cout << "  parent: " << quotedText(parentText) << "\n";
    std::cout << "  child:  " << quotedText(childText) << "\n";
    return 0;
}

} // namespace HeadLens::Cli
