// compare: two traces of a project side by side (same or different tokenizers), stored under
// /comparisons and printed as a table, or JSON with --json.

#include "analysisscope.h"
#include "args.h"
#include "commandtext.h"

#include "headlens/analysis/comparison.h"
#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>

namespace HeadLens::Cli {

using json = nlohmann::json;

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
            json row = {{"left", c.pairs[k].first},
                        {"right", c.pairs[k].second},
                        {"kl", jsonNumber(c.kl[k])}};
            for (size_t s = 0; s < 2; ++s) {
                const auto &d = c.side[s];
                const int idx = s == 0 ? c.pairs[k].first : c.pairs[k].second;
                row[s == 0 ? "left_side" : "right_side"] =
                    idx < 0 ? json(nullptr)
                            : json{{"token", d.tokenText[k]},
                                   {"top1_id", d.top1[k]},
                                   {"top1_text", d.top1Text[k]},
                                   {"top1_prob", jsonNumber(d.top1Prob[k])},
                                   {"entropy", jsonNumber(d.entropy[k])},
                                   {"decision_layer", d.decisionLayer[k]},
                                   {"decision_depth", jsonNumber(d.decisionDepth[k])}};
            }
            rows.push_back(row);
        }
        json depths = json::array();
        for (size_t g = 0; g < G; ++g)
            depths.push_back({{"depth", c.depths[g]},
                              {"left_layer", c.depthLayer[0][g]},
                              {"right_layer", c.depthLayer[1][g]},
                              {"left_mean_entropy", jsonNumber(c.meanEntropy[0][g])},
                              {"right_mean_entropy", jsonNumber(c.meanEntropy[1][g])}});
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

} // namespace HeadLens::Cli
