// Analysis commands: decompose and propagate (they need the model), stats, correlate, compare
// and heads (project only). Each writes its results into the project (analysisstore.h; names
// in modules/project/SCHEMA-ADDITIONS.md) and prints a readable summary, or JSON with --json.

#include "args.h"
#include "enginememory.h"
#include "requests.h"

#include "headlens/analysis/comparison.h"
#include "headlens/analysis/correlation.h"
#include "headlens/analysis/headstats.h"
#include "headlens/analysis/redundancy.h"
#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/model/tunedlens.h"
#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/trace/numbertext.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace HeadLens::Cli {

namespace {

using json = nlohmann::json;

// ------------------------------------------------------------------ small helpers

std::string fmt(double v, int decimals = 4)
{
    if (!std::isfinite(v)) return std::isnan(v) ? "-" : (v > 0 ? "inf" : "-inf");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string pad(std::string s, size_t width)
{
    // Pads by code points, so that UTF-8 token texts line up.
    size_t points = 0;
    for (unsigned char c : s)
        points += (c & 0xC0) != 0x80;
    if (points < width) s.append(width - points, ' ');
    return s;
}

// A token's text in quotes, with the characters that would break a line escaped.
std::string quotedText(const std::string &s)
{
    std::string q = "\"";
    for (char c : s) {
        if (c == '\n')
            q += "\\n";
        else if (c == '\t')
            q += "\\t";
        else if (c == '"')
            q += "\\\"";
        else
            q += c;
    }
    return q + "\"";
}

json number(double v)
{
    return std::isfinite(v) ? json(v) : json(nullptr);
}

// Writes one line of a table without the spaces that padding left at its end.
void printLine(std::string line)
{
    while (!line.empty() && (line.back() == ' ' || line.back() == '\n'))
        line.pop_back();
    std::cout << line << "\n";
}

void printJson(const json &j)
{
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

Site siteArg(const Args &a)
{
    const auto v = a.value("--site");
    if (!v) throw UsageError("give --site resid_pre|attn_out|resid_mid|mlp_out|resid_post");
    const auto s = siteFromName(*v);
    if (!s)
        throw UsageError(
            "--site must be one of resid_pre|attn_out|resid_mid|mlp_out|resid_post, not '" + *v +
            "'");
    return *s;
}

int requiredInt(const Args &a, const std::string &opt, int min, int max)
{
    if (!a.value(opt)) throw UsageError("give " + opt);
    return a.intValue(opt, 0, min, max);
}

double doubleArg(const Args &a, const std::string &opt, double fallback, double min, double max)
{
    const auto v = a.value(opt);
    if (!v) return fallback;
    const std::optional<double> d = decimalNumberIn(*v);
    if (!d) throw UsageError(opt + " needs a number, not '" + *v + "'");
    if (*d < min || *d > max)
        throw UsageError(opt + " must be between " + fmt(min, 2) + " and " + fmt(max, 2) +
                         ", not " + *v);
    return *d;
}

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
    p.site = siteArg(a);
    p.layer = requiredInt(a, "--layer", 0, 1 << 20);
    p.pos = requiredInt(a, "--pos", 0, 1 << 24);
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

// Which traces a project-only command covers: --trace NAME, --all, or the only trace there is.
struct Scope {
    std::vector<std::string> traces;
    bool all = false;
    std::string describe() const
    {
        return all ? std::to_string(traces.size()) + " traces of the project"
                   : "trace '" + traces.front() + "'";
    }
    std::string group(const std::string &kind) const
    {
        return all ? projectAnalysisGroup(kind) : traceAnalysisGroup(traces.front(), kind);
    }
};

Scope scopeOf(const ProjectReader &reader, const Args &a)
{
    const auto name = a.value("--trace");
    if (name && a.has("--all")) throw UsageError("give --trace NAME or --all, not both");
    Scope s;
    if (name) {
        if (!reader.hasTrace(*name))
            throw InputError("no trace '" + *name + "' in " + reader.path());
        s.traces = {*name};
        return s;
    }
    const auto &listing = reader.info().traces;
    if (listing.empty()) throw InputError(reader.path() + " has no traces");
    if (!a.has("--all") && listing.size() != 1)
        throw UsageError(reader.path() + " has " + std::to_string(listing.size()) +
                         " traces: give --trace NAME or --all");
    s.all = a.has("--all");
    for (const TraceListing &l : listing)
        s.traces.push_back(l.name);
    return s;
}

// ------------------------------------------------------------------ storage shapes

template <typename T> Array<T> array1(const std::vector<T> &v)
{
    Array<T> a({int64_t(v.size())});
    a.data = v;
    return a;
}

IntArray intArray(std::vector<int64_t> shape, const std::vector<int> &v)
{
    IntArray a(std::move(shape));
    for (size_t i = 0; i < v.size(); ++i)
        a.data[i] = int32_t(v[i]);
    return a;
}

void scopeRecord(AnalysisRecord &r, const Scope &s)
{
    r.text["scope"] = s.all ? "project" : "trace";
    r.integers["n_traces"] = int64_t(s.traces.size());
    r.strings["traces"] = s.traces;
}

// ------------------------------------------------------------------ stats

AnalysisUpdate statsUpdate(const HeadStats &st, const Scope &scope)
{
    const std::string g = scope.group("stats");
    AnalysisUpdate u;
    u.remove = {g};
    AnalysisRecord top;
    scopeRecord(top, scope);
    const int L = st.nLayers, H = st.nHeads;
    top.integers["n_layers"] = L;
    top.integers["n_heads"] = H;
    top.integers["n_positions"] = st.nPositions;
    top.integers["bins"] = st.nBins;
    top.integers["excluded_first_position"] = st.excludedFirstPosition ? 1 : 0;
    top.text["quantiles"] = "linear interpolation between order statistics (numpy's default); "
                            "std divides by n";
    top.doubles["quantile_levels"] =
        array1(std::vector<double>(quantileLevels().begin(), quantileLevels().end()));
    IntArray ranking({int64_t(st.ranking.size()), 2});
    DoubleArray rankMean({int64_t(st.ranking.size())});
    for (size_t i = 0; i < st.ranking.size(); ++i) {
        ranking.data[2 * i] = st.ranking[i].layer;
        ranking.data[2 * i + 1] = st.ranking[i].head;
        rankMean.data[i] = st.ranking[i].meanContribNorm;
    }
    if (!st.ranking.empty()) {
        top.ints["ranking"] = ranking;
        top.doubles["ranking_mean_contrib_norm"] = rankMean;
    }
    u.write.emplace_back(g, top);

    for (HeadMetricKind m : allHeadMetricKinds()) {
        const MetricStats &ms = st.metric(m);
        if (!ms.present || ms.perHead.empty()) continue;
        AnalysisRecord r;
        const Histogram &h0 = ms.perHead.front().histogram;
        r.numbers["range_lo"] = h0.lo;
        r.numbers["range_hi"] = h0.hi;
        const int B = h0.nBins();
        DoubleArray edges({B + 1});
        for (int i = 0; i <= B; ++i)
            edges.data[size_t(i)] = h0.edge(i);
        r.doubles["bin_edges"] = edges;
        auto fill = [&](const std::vector<Distribution> &ds, std::vector<int64_t> shape,
                        const std::string &prefix) {
            const int64_t n = int64_t(ds.size());
            IntArray cnt(shape), nonFinite(shape), under(shape), over(shape);
            DoubleArray mean(shape), sd(shape);
            std::vector<int64_t> qs = shape, hs = shape;
            qs.push_back(kQuantileCount);
            hs.push_back(B);
            DoubleArray q(qs);
            IntArray hist(hs);
            for (int64_t i = 0; i < n; ++i) {
                const Distribution &d = ds[size_t(i)];
                cnt.data[size_t(i)] = int32_t(d.n);
                nonFinite.data[size_t(i)] = int32_t(d.nonFinite);
                under.data[size_t(i)] = int32_t(d.histogram.underflow);
                over.data[size_t(i)] = int32_t(d.histogram.overflow);
                mean.data[size_t(i)] = d.mean;
                sd.data[size_t(i)] = d.std;
                for (int k = 0; k < kQuantileCount; ++k)
                    q.data[size_t(i * kQuantileCount + k)] = d.quantiles[size_t(k)];
                for (int b = 0; b < B; ++b)
                    hist.data[size_t(i * B + b)] = int32_t(d.histogram.counts[size_t(b)]);
            }
            r.ints[prefix + "_n"] = cnt;
            r.ints[prefix + "_non_finite"] = nonFinite;
            r.doubles[prefix + "_mean"] = mean;
            r.doubles[prefix + "_std"] = sd;
            r.doubles[prefix + "_quantiles"] = q;
            r.ints[prefix + "_histogram"] = hist;
            r.ints[prefix + "_underflow"] = under;
            r.ints[prefix + "_overflow"] = over;
        };
        fill(ms.perHead, {L, H}, "head");
        fill(ms.perLayer, {L}, "layer");
        u.write.emplace_back(g + "/" + headMetricName(m), r);
    }
    return u;
}

json distributionJson(const Distribution &d)
{
    json q = json::array();
    for (double v : d.quantiles)
        q.push_back(number(v));
    return {{"n", d.n},
            {"non_finite", d.nonFinite},
            {"mean", number(d.mean)},
            {"std", number(d.std)},
            {"quantiles", q},
            {"histogram", d.histogram.counts},
            {"underflow", d.histogram.underflow},
            {"overflow", d.histogram.overflow}};
}

// ------------------------------------------------------------------ correlate

AnalysisUpdate correlationUpdate(const AttentionChangeCorrelation &c, const Scope &scope,
                                 const FloatArray *values)
{
    const std::string g = scope.group("correlations");
    AnalysisUpdate u;
    u.remove = {g};
    AnalysisRecord r;
    scopeRecord(r, scope);
    const int S = int(c.statistics.size()), M = int(c.measures.size()), L = c.nLayers;
    r.integers["n_layers"] = L;
    r.integers["n_heads"] = c.nHeads;
    r.integers["included_first_position"] = c.includedFirstPosition ? 1 : 0;
    r.text["positions"] = c.includedFirstPosition ? "all positions" : "position 0 (BOS) excluded";
    r.strings["statistics"] = c.statistics;
    r.strings["measures"] = c.measures;
    DoubleArray lp({S, M, L}), ls({S, M, L}), op({S, M}), os({S, M});
    IntArray ln({S, M, L}), on({S, M});
    for (size_t i = 0; i < c.perLayer.size(); ++i) {
        lp.data[i] = c.perLayer[i].pearson;
        ls.data[i] = c.perLayer[i].spearman;
        ln.data[i] = int32_t(c.perLayer[i].n);
    }
    for (size_t i = 0; i < c.overall.size(); ++i) {
        op.data[i] = c.overall[i].pearson;
        os.data[i] = c.overall[i].spearman;
        on.data[i] = int32_t(c.overall[i].n);
    }
    r.doubles["per_layer_pearson"] = lp;
    r.doubles["per_layer_spearman"] = ls;
    r.ints["per_layer_n"] = ln;
    r.doubles["overall_pearson"] = op;
    r.doubles["overall_spearman"] = os;
    r.ints["overall_n"] = on;
    if (values) r.floats["values"] = *values;
    u.write.emplace_back(g, r);
    return u;
}

} // namespace

// ================================================================== decompose

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

// ================================================================== stats

int cmdStats(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"--trace", "--bins"}, {"--all", "--exclude-bos", "--json"});
    const std::string project = onePositional(a, "PROJECT.hlproj");
    HeadStatsOptions o;
    o.bins = a.intValue("--bins", 20, 1, 10000);
    o.excludeFirstPosition = a.has("--exclude-bos");
    HeadStats st;
    Scope scope;
    {
        ProjectReader reader(project);
        scope = scopeOf(reader, a);
        HeadStatsBuilder b(o);
        for (const std::string &name : scope.traces)
            b.add(reader.readTrace(name));
        st = b.result();
    }
    const AnalysisUpdate u = statsUpdate(st, scope);
    writeAnalysis(project, u);
    const std::string group = scope.group("stats");

    if (a.has("--json")) {
        json metrics = json::object();
        for (HeadMetricKind m : allHeadMetricKinds()) {
            const MetricStats &ms = st.metric(m);
            if (!ms.present || ms.perHead.empty()) continue;
            json layers = json::array(), heads = json::array();
            for (int l = 0; l < st.nLayers; ++l) {
                json d = distributionJson(ms.perLayer[size_t(l)]);
                d["layer"] = l;
                layers.push_back(d);
                for (int h = 0; h < st.nHeads; ++h) {
                    json e = distributionJson(st.head(m, l, h));
                    e["layer"] = l;
                    e["head"] = h;
                    heads.push_back(e);
                }
            }
            const Histogram &h0 = ms.perHead.front().histogram;
            metrics[headMetricName(m)] = {{"range", {h0.lo, h0.hi}},
                                          {"bins", h0.nBins()},
                                          {"layers", layers},
                                          {"heads", heads}};
        }
        json ranking = json::array();
        for (const HeadRank &r : st.ranking)
            ranking.push_back({{"layer", r.layer},
                               {"head", r.head},
                               {"mean_contrib_norm", number(r.meanContribNorm)}});
        printJson({{"traces", scope.traces},
                   {"n_positions", st.nPositions},
                   {"excluded_first_position", st.excludedFirstPosition},
                   {"quantile_levels", quantileLevels()},
                   {"metrics", metrics},
                   {"ranking", ranking},
                   {"stored", group}});
        return 0;
    }
    std::cout << "head statistics of " << scope.describe() << ": " << st.nLayers << " layers x "
              << st.nHeads << " heads, " << st.nPositions << " positions per head"
              << (st.excludedFirstPosition ? " (position 0 excluded)" : "") << "\n";
    std::cout << "per layer, all heads pooled (quantiles interpolate linearly, as numpy does):\n";
    std::cout << "  metric              layer  mean       std        p5         median     p95\n";
    for (HeadMetricKind m : allHeadMetricKinds()) {
        const MetricStats &ms = st.metric(m);
        if (!ms.present) continue;
        for (int l = 0; l < st.nLayers; ++l) {
            const Distribution &d = ms.perLayer[size_t(l)];
            char line[160];
            std::snprintf(line, sizeof line, "  %-18s  %5d  %-9s  %-9s  %-9s  %-9s  %-9s",
                          l == 0 ? headMetricName(m) : "", l, fmt(d.mean).c_str(),
                          fmt(d.std).c_str(), fmt(d.quantiles[1]).c_str(),
                          fmt(d.quantiles[3]).c_str(), fmt(d.quantiles[5]).c_str());
            printLine(line);
        }
    }
    const size_t top = std::min<size_t>(10, st.ranking.size());
    std::cout << "heads by mean contribution norm (top " << top << " of " << st.ranking.size()
              << "):\n";
    for (size_t i = 0; i < top; ++i) {
        const HeadRank &r = st.ranking[i];
        const Distribution &share = st.head(HeadMetricKind::ContribShare, r.layer, r.head);
        char line[120];
        std::snprintf(line, sizeof line, "  %2zu. layer %d head %d: norm %s, share %s\n", i + 1,
                      r.layer, r.head, fmt(r.meanContribNorm).c_str(), fmt(share.mean).c_str());
        std::cout << line;
    }
    std::cout << "stored in " << group << " of " << project << " (" << st.nBins
              << "-bin histograms per head and layer)\n";
    return 0;
}

// ================================================================== correlate

int cmdCorrelate(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"--trace"}, {"--all", "--include-bos", "--json"});
    const std::string project = onePositional(a, "PROJECT.hlproj");
    AttentionChangeOptions o;
    o.includeFirstPosition = a.has("--include-bos");
    AttentionChangeCorrelation c;
    Scope scope;
    FloatArray values; // [S, L, T] for one trace
    bool anyPattern = false, anyChange = false;
    {
        ProjectReader reader(project);
        scope = scopeOf(reader, a);
        AttentionChangeBuilder b(o);
        for (const std::string &name : scope.traces) {
            const Trace t = reader.readTrace(name);
            const bool have = t.attentionStore != StoreType::None;
            anyPattern = anyPattern || have;
            anyChange = anyChange || !t.changeCosine.empty() || !t.changeKl.empty();
            std::vector<FloatArray> layers;
            b.add(t, [&](int layer) {
                FloatArray p = have ? reader.readAttention(name, layer) : FloatArray();
                if (!scope.all) layers.push_back(attentionStatistics(t, layer, p));
                return p;
            });
            if (!scope.all && !layers.empty()) {
                const int64_t S = layers[0].dim(0), T = layers[0].dim(1),
                              L = int64_t(layers.size());
                values.reset({S, L, T});
                for (int64_t s = 0; s < S; ++s)
                    for (int64_t l = 0; l < L; ++l)
                        std::copy_n(layers[size_t(l)].data.begin() + std::ptrdiff_t(s * T),
                                    size_t(T),
                                    values.data.begin() + std::ptrdiff_t((s * L + l) * T));
            }
        }
        c = b.result();
    }
    if (!anyChange)
        throw InputError("no change measures (change/cosine_distance, change/kl) in " +
                         scope.describe() + " of " + project +
                         "; trace again with this version of headlens-cli");
    writeAnalysis(project, correlationUpdate(c, scope, values.empty() ? nullptr : &values));
    const std::string group = scope.group("correlations");
    const int H = c.nHeads;
    auto meanRow = [&](AttentionStat s) { return int(s) * (1 + H); };

    if (a.has("--json")) {
        json rows = json::array();
        for (int s = 0; s < int(c.statistics.size()); ++s)
            for (int m = 0; m < int(c.measures.size()); ++m) {
                json layers = json::array();
                for (int l = 0; l < c.nLayers; ++l) {
                    const Correlation &x = c.at(s, m, l);
                    layers.push_back({{"layer", l},
                                      {"pearson", number(x.pearson)},
                                      {"spearman", number(x.spearman)},
                                      {"n", x.n}});
                }
                const Correlation &all = c.pooled(s, m);
                rows.push_back({{"statistic", c.statistics[size_t(s)]},
                                {"measure", c.measures[size_t(m)]},
                                {"all_layers",
                                 {{"pearson", number(all.pearson)},
                                  {"spearman", number(all.spearman)},
                                  {"n", all.n}}},
                                {"layers", layers}});
            }
        printJson(
            {{"traces", scope.traces},
             {"included_first_position", c.includedFirstPosition},
             {"positions", c.includedFirstPosition ? "all positions" : "position 0 (BOS) excluded"},
             {"attention_stored", anyPattern},
             {"correlations", rows},
             {"stored", group}});
        return 0;
    }
    std::cout << "attention versus change of meaning, " << scope.describe() << ": " << c.nLayers
              << " layers x " << H << " heads; "
              << (c.includedFirstPosition
                      ? "all positions included (position 0 too)"
                      : "position 0 (BOS) excluded (--include-bos to include it)")
              << "\n";
    if (!anyPattern)
        std::cout << "no attention patterns are stored: only attention entropy is correlated\n";
    std::cout << "head means; pearson / spearman (n):\n";
    std::string header = "  statistic             measure        all layers";
    for (int l = 0; l < c.nLayers; ++l)
        header += "               layer " + std::to_string(l);
    printLine(header);
    for (AttentionStat s : allAttentionStats())
        for (int m = 0; m < int(c.measures.size()); ++m) {
            std::string line =
                "  " + pad(attentionStatName(s), 20) + "  " + pad(c.measures[size_t(m)], 13);
            auto cell = [&](const Correlation &x) {
                return pad(fmt(x.pearson, 3) + " / " + fmt(x.spearman, 3) + " (" +
                               std::to_string(x.n) + ")",
                           25);
            };
            line += "  " + cell(c.pooled(meanRow(s), m));
            for (int l = 0; l < c.nLayers; ++l)
                line += " " + cell(c.at(meanRow(s), m, l));
            printLine(line);
        }
    std::cout << "per-head correlations and the per-position values are stored in " << group
              << " of " << project << "\n";
    return 0;
}

// ================================================================== compare

int cmdCompare(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"--left", "--right", "--name"}, {"--json"});
    const std::string project = onePositional(a, "PROJECT.hlproj");
    const auto left = a.value("--left"), right = a.value("--right");
    if (!left || !right) throw UsageError("compare needs --left TRACE and --right TRACE");
    const std::string name = a.value("--name", *left + "-vs-" + *right);
    if (const std::string problem = traceNameProblem(name); !problem.empty())
        throw InputError("invalid comparison name '" + name + "' (" + problem + ")");
    TraceComparison c;
    {
        ProjectReader reader(project);
        for (const std::string *n : {&*left, &*right})
            if (!reader.hasTrace(*n)) throw InputError("no trace '" + *n + "' in " + project);
        Trace l = reader.readTrace(*left), r = reader.readTrace(*right);
        l.lens[size_t(Site::ResidPost)] = reader.readLens(*left, Site::ResidPost);
        r.lens[size_t(Site::ResidPost)] = reader.readLens(*right, Site::ResidPost);
        c = compareTraces(l, r);
    }
    const size_t P = c.pairs.size(), G = c.depths.size();
    const std::string group = comparisonGroup(name);
    const bool replaced = hasAnalysis(project, group);
    AnalysisRecord rec;
    rec.text["left"] = c.left;
    rec.text["right"] = c.right;
    rec.text["mode"] = c.mode;
    rec.integers["same_vocabulary"] = c.sameVocabulary ? 1 : 0;
    rec.text["kl"] = "KL(left || right) of the final distributions in nats, on the union of the "
                     "two top-k supports plus one 'other' bucket for the rest of the mass (a "
                     "side's mass outside its top-k is shared evenly by the union's ids it lacks "
                     "and 'other'); an estimate unless both top-k hold all the mass";
    IntArray pairs({int64_t(P), 2}), top1({int64_t(P), 2}), decision({int64_t(P), 2});
    DoubleArray prob({int64_t(P), 2}), entropy({int64_t(P), 2}), depth({int64_t(P), 2});
    for (size_t k = 0; k < P; ++k) {
        pairs.data[2 * k] = c.pairs[k].first;
        pairs.data[2 * k + 1] = c.pairs[k].second;
        for (size_t s = 0; s < 2; ++s) {
            top1.data[2 * k + s] = c.side[s].top1[k];
            decision.data[2 * k + s] = c.side[s].decisionLayer[k];
            prob.data[2 * k + s] = c.side[s].top1Prob[k];
            entropy.data[2 * k + s] = c.side[s].entropy[k];
            depth.data[2 * k + s] = c.side[s].decisionDepth[k];
        }
    }
    rec.ints["pairs"] = pairs;
    if (P > 0) {
        rec.ints["top1_ids"] = top1;
        rec.doubles["top1_prob"] = prob;
        rec.doubles["entropy"] = entropy;
        rec.ints["decision_layer"] = decision;
        rec.doubles["decision_depth"] = depth;
        rec.doubles["kl"] = array1(c.kl);
        rec.strings["token_text_left"] = c.side[0].tokenText;
        rec.strings["token_text_right"] = c.side[1].tokenText;
        rec.strings["top1_text_left"] = c.side[0].top1Text;
        rec.strings["top1_text_right"] = c.side[1].top1Text;
    }
    IntArray depthLayer({int64_t(G), 2});
    DoubleArray meanEntropy({int64_t(G), 2});
    for (size_t g = 0; g < G; ++g)
        for (size_t s = 0; s < 2; ++s) {
            depthLayer.data[2 * g + s] = c.depthLayer[s][g];
            meanEntropy.data[2 * g + s] = c.meanEntropy[s][g];
        }
    rec.doubles["depth_grid"] = array1(c.depths);
    rec.ints["depth_layer"] = depthLayer;
    rec.doubles["depth_mean_entropy"] = meanEntropy;
    writeAnalysis(project, {{group}, {{group, rec}}});

    if (a.has("--json")) {
        json rows = json::array();
        for (size_t k = 0; k < P; ++k) {
            json row = {
                {"left", c.pairs[k].first}, {"right", c.pairs[k].second}, {"kl", number(c.kl[k])}};
            for (size_t s = 0; s < 2; ++s) {
                const auto &d = c.side[s];
                const int idx = s == 0 ? c.pairs[k].first : c.pairs[k].second;
                row[s == 0 ? "left_side" : "right_side"] =
                    idx < 0 ? json(nullptr)
                            : json{{"token", d.tokenText[k]},
                                   {"top1_id", d.top1[k]},
                                   {"top1_text", d.top1Text[k]},
                                   {"top1_prob", number(d.top1Prob[k])},
                                   {"entropy", number(d.entropy[k])},
                                   {"decision_layer", d.decisionLayer[k]},
                                   {"decision_depth", number(d.decisionDepth[k])}};
            }
            rows.push_back(row);
        }
        json depths = json::array();
        for (size_t g = 0; g < G; ++g)
            depths.push_back({{"depth", c.depths[g]},
                              {"left_layer", c.depthLayer[0][g]},
                              {"right_layer", c.depthLayer[1][g]},
                              {"left_mean_entropy", number(c.meanEntropy[0][g])},
                              {"right_mean_entropy", number(c.meanEntropy[1][g])}});
        printJson({{"name", name},
                   {"left", c.left},
                   {"right", c.right},
                   {"mode", c.mode},
                   {"same_vocabulary", c.sameVocabulary},
                   {"pairs", rows},
                   {"depths", depths},
                   {"kl_note", rec.text["kl"]},
                   {"stored", group}});
        return 0;
    }
    std::cout << "comparison '" << name << "' of '" << c.left << "' and '" << c.right << "': mode "
              << c.mode << ", " << (c.sameVocabulary ? "same vocabulary" : "different vocabularies")
              << ", " << P << " aligned pairs\n";
    std::cout
        << "  left token      right token     top-1 left (p)          top-1 right (p)         "
           "H left  H right  decided L/R  KL\n";
    auto side = [&](size_t s, size_t k, bool token) {
        const auto &d = c.side[s];
        const int idx = s == 0 ? c.pairs[k].first : c.pairs[k].second;
        if (idx < 0) return std::string("-");
        return token ? quotedText(d.tokenText[k])
                     : quotedText(d.top1Text[k]) + " " + fmt(d.top1Prob[k], 3);
    };
    for (size_t k = 0; k < P; ++k) {
        auto layer = [&](size_t s) {
            const int l = c.side[s].decisionLayer[k];
            return l < 0 ? std::string("-") : std::to_string(l);
        };
        std::cout << "  " << pad(side(0, k, true), 14) << "  " << pad(side(1, k, true), 14) << "  "
                  << pad(side(0, k, false), 22) << "  " << pad(side(1, k, false), 22) << "  "
                  << pad(fmt(c.side[0].entropy[k], 3), 6) << "  "
                  << pad(fmt(c.side[1].entropy[k], 3), 7) << "  "
                  << pad(layer(0) + "/" + layer(1), 11) << "  " << fmt(c.kl[k], 4) << "\n";
    }
    std::cout << "per relative depth, mean resid_post lens entropy (nats) over aligned tokens:\n";
    std::cout << "  depth   layer L  layer R  entropy L  entropy R\n";
    for (size_t g = 0; g < G; ++g) {
        char line[120];
        auto l = [&](size_t s) {
            return c.depthLayer[s][g] < 0 ? std::string("-") : std::to_string(c.depthLayer[s][g]);
        };
        std::snprintf(line, sizeof line, "  %-6s  %-7s  %-7s  %-9s  %-9s",
                      fmt(c.depths[g], 3).c_str(), l(0).c_str(), l(1).c_str(),
                      fmt(c.meanEntropy[0][g], 3).c_str(), fmt(c.meanEntropy[1][g], 3).c_str());
        printLine(line);
    }
    if (c.sameVocabulary)
        std::cout << "KL(left || right) uses only the stored top-k: the union of both top-k plus "
                     "one 'other' bucket for the rest of the mass (an estimate)\n";
    else
        std::cout << "no KL: the vocabularies differ\n";
    std::cout << (replaced ? "replaced " : "stored in ") << group << " of " << project << "\n";
    return 0;
}

// ================================================================== heads

int cmdHeadRoles(const std::vector<std::string> &argv); // commands_roles.cpp

int cmdHeads(const std::vector<std::string> &argv)
{
    for (const std::string &arg : argv)
        if (arg == "--roles") return cmdHeadRoles(argv);
    const Args a = parseArgs(argv, {"--trace", "--threshold", "--cluster-on"},
                             {"--similarity", "--all", "--include-bos", "--json"});
    const std::string project = onePositional(a, "PROJECT.hlproj");
    if (!a.has("--similarity")) throw UsageError("heads needs --similarity or --roles");
    HeadSimilarityOptions o;
    o.threshold = doubleArg(a, "--threshold", 0.9, -1.0, 1.0);
    o.includeFirstQuery = a.has("--include-bos");
    const std::string on = a.value("--cluster-on", "jsd");
    if (on == "jsd")
        o.clusterOn = SimilarityKind::Jsd;
    else if (on == "correlation")
        o.clusterOn = SimilarityKind::Correlation;
    else if (on == "contribution")
        o.clusterOn = SimilarityKind::Contribution;
    else
        throw UsageError("--cluster-on must be one of jsd|correlation|contribution, not '" + on +
                         "'");
    HeadSimilarity r;
    Scope scope;
    {
        ProjectReader reader(project);
        scope = scopeOf(reader, a);
        HeadSimilarityBuilder b(o);
        for (const std::string &name : scope.traces) {
            const Trace t = reader.readTrace(name);
            if (t.attentionStore == StoreType::None)
                throw InputError("trace '" + name + "' in " + project +
                                 " stores no attention pattern (traced with --attention none); "
                                 "head similarity needs it");
            b.add(
                t, [&](int layer) { return reader.readAttention(name, layer); },
                t.contribSimilarity.empty() ? nullptr : &t.contribSimilarity);
        }
        r = b.result();
    }
    const std::string group = scope.group("head_similarity");
    AnalysisRecord rec;
    scopeRecord(rec, scope);
    rec.integers["n_layers"] = r.nLayers;
    rec.integers["n_heads"] = r.nHeads;
    rec.integers["n_queries"] = r.nQueries;
    rec.integers["included_first_query"] = r.includedFirstQuery ? 1 : 0;
    rec.numbers["threshold"] = r.threshold;
    rec.text["clustered_on"] = similarityKindName(r.clusterOn);
    rec.text["clustering"] = "average linkage on 1 - similarity; clusters merge while their "
                             "mean similarity is at least the threshold";
    rec.doubles["jsd_similarity"] = r.jsd;
    rec.doubles["pattern_correlation"] = r.correlation;
    if (!r.contribution.empty()) rec.doubles["contrib_similarity"] = r.contribution;
    rec.ints["cluster"] = r.cluster;
    rec.ints["order"] = r.order;
    rec.ints["n_clusters"] = intArray({int64_t(r.nClusters.size())}, r.nClusters);
    writeAnalysis(project, {{group}, {{group, rec}}});

    const DoubleArray &m = r.matrix(r.clusterOn);
    const int L = r.nLayers, H = r.nHeads;
    auto clustersOf = [&](int l) {
        std::vector<std::vector<int>> out(size_t(r.nClusters[size_t(l)]));
        for (int i = 0; i < H; ++i) {
            const int h = r.order.data[size_t(l * H + i)];
            out[size_t(r.cluster.data[size_t(l * H + h)])].push_back(h);
        }
        return out;
    };
    auto mostSimilar = [&](int l, int &ba, int &bb) {
        double best = -INFINITY;
        ba = bb = -1;
        for (int x = 0; x < H; ++x)
            for (int y = x + 1; y < H; ++y) {
                const double v = m.data[size_t((l * H + x) * H + y)];
                if (std::isfinite(v) && v > best) {
                    best = v;
                    ba = x;
                    bb = y;
                }
            }
        return best;
    };
    if (a.has("--json")) {
        json layers = json::array();
        for (int l = 0; l < L; ++l) {
            int x, y;
            const double best = mostSimilar(l, x, y);
            auto slice = [&](const DoubleArray &arr) {
                if (arr.empty()) return json(nullptr);
                json rows = json::array();
                for (int i = 0; i < H; ++i) {
                    json row = json::array();
                    for (int j = 0; j < H; ++j)
                        row.push_back(number(arr.data[size_t((l * H + i) * H + j)]));
                    rows.push_back(row);
                }
                return rows;
            };
            layers.push_back(
                {{"layer", l},
                 {"clusters", clustersOf(l)},
                 {"order", std::vector<int32_t>(r.order.data.begin() + l * H,
                                                r.order.data.begin() + (l + 1) * H)},
                 {"most_similar",
                  x < 0 ? json(nullptr) : json{{"heads", {x, y}}, {"similarity", number(best)}}},
                 {"jsd_similarity", slice(r.jsd)},
                 {"pattern_correlation", slice(r.correlation)},
                 {"contrib_similarity", slice(r.contribution)}});
        }
        printJson({{"traces", scope.traces},
                   {"threshold", r.threshold},
                   {"clustered_on", similarityKindName(r.clusterOn)},
                   {"included_first_query", r.includedFirstQuery},
                   {"layers", layers},
                   {"stored", group}});
        return 0;
    }
    std::cout << "head similarity of " << scope.describe() << ": " << L << " layers x " << H
              << " heads, " << r.nQueries << " query positions"
              << (r.includedFirstQuery ? "" : " (position 0 excluded)") << "; clusters on "
              << similarityKindName(r.clusterOn) << " similarity >= " << fmt(r.threshold, 2)
              << " (average linkage)"
              << (r.contribution.empty() ? "; no contribution similarity in the traces" : "")
              << "\n";
    for (int l = 0; l < L; ++l) {
        std::string clusters;
        for (const auto &c : clustersOf(l)) {
            clusters += clusters.empty() ? "{" : " {";
            for (size_t i = 0; i < c.size(); ++i)
                clusters += (i ? " " : "") + std::to_string(c[i]);
            clusters += "}";
        }
        int x, y;
        const double best = mostSimilar(l, x, y);
        std::cout << "  layer " << l << ": " << r.nClusters[size_t(l)] << " clusters " << clusters;
        if (x >= 0)
            std::cout << "; most alike: heads " << x << " and " << y << " (" << fmt(best, 3) << ")";
        std::cout << "\n";
    }
    std::cout << "stored in " << group << " of " << project << "\n";
    return 0;
}

} // namespace HeadLens::Cli
