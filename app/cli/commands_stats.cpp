// stats and correlate: distributions of the per-head metrics, and how attention goes with how
// much a token's meaning changes, over one trace or all. Project only: each stores its results
// (names in modules/project/SCHEMA-ADDITIONS.md) and prints a summary, or JSON with --json.

#include "analysisscope.h"
#include "args.h"
#include "commandtext.h"

#include "headlens/analysis/correlation.h"
#include "headlens/analysis/headstats.h"
#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>

namespace HeadLens::Cli {

using json = nlohmann::json;

namespace {

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
        q.push_back(jsonNumber(v));
    return {{"n", d.n},
            {"non_finite", d.nonFinite},
            {"mean", jsonNumber(d.mean)},
            {"std", jsonNumber(d.std)},
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
                               {"mean_contrib_norm", jsonNumber(r.meanContribNorm)}});
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
                                      {"pearson", jsonNumber(x.pearson)},
                                      {"spearman", jsonNumber(x.spearman)},
                                      {"n", x.n}});
                }
                const Correlation &all = c.pooled(s, m);
                rows.push_back({{"statistic", c.statistics[size_t(s)]},
                                {"measure", c.measures[size_t(m)]},
                                {"all_layers",
                                 {{"pearson", jsonNumber(all.pearson)},
                                  {"spearman", jsonNumber(all.spearman)},
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

} // namespace HeadLens::Cli
