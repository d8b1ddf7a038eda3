// heads --similarity: which heads of a layer attend alike (pattern JSD and correlation, and
// contribution similarity), clustered; heads --roles is commands_roles.cpp's. Stores its
// matrices and clusters in the project and prints them, or JSON with --json.

#include "analysisscope.h"
#include "args.h"
#include "commandtext.h"

#include "headlens/analysis/redundancy.h"
#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <iostream>

namespace HeadLens::Cli {

using json = nlohmann::json;

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
    o.threshold = a.decimalValue("--threshold", 0.9, -1.0, 1.0);
    o.includeFirstQuery = a.has("--include-bos");
    o.clusterOn = a.choice("--cluster-on", similarityKindFromName, SimilarityKind::Jsd,
                           "jsd|correlation|contribution");
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
                        row.push_back(jsonNumber(arr.data[size_t((l * H + i) * H + j)]));
                    rows.push_back(row);
                }
                return rows;
            };
            layers.push_back({{"layer", l},
                              {"clusters", clustersOf(l)},
                              {"order", std::vector<int32_t>(r.order.data.begin() + l * H,
                                                             r.order.data.begin() + (l + 1) * H)},
                              {"most_similar",
                               x < 0 ? json(nullptr)
                                     : json{{"heads", {x, y}}, {"similarity", jsonNumber(best)}}},
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
