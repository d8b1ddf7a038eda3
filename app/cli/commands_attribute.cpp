// headlens-cli attribute: direct logit attribution of a prompt's forward pass, for the model's
// top-1 token, a chosen token or the difference of two, as a table of one position or as JSON.

#include "args.h"
#include "commandtext.h"
#include "enginememory.h"
#include "requests.h"

#include "headlens/model/model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace HeadLens::Cli {

namespace {

using json = nlohmann::json;

std::string quoted(const std::string &s)
{
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

void printRow(const std::string &label, double v)
{
    std::printf("  %-14s %12.4f\n", label.c_str(), v);
}

// The table of one position: its parts in the order they enter the stream, the sum check,
// and the heads that add or take away the most.
void printPosition(const json &p, int top)
{
    const json &target = p["target"];
    std::string what = quoted(target["text"].get<std::string>()) + " (id " +
                       std::to_string(target["id"].get<int>()) + ")";
    if (!p["minus"].is_null())
        what += " minus " + quoted(p["minus"]["text"].get<std::string>()) + " (id " +
                std::to_string(p["minus"]["id"].get<int>()) + ")";
    std::cout << "direct logit attribution of " << what << " at position " << p["pos"].get<int>()
              << " (token " << quoted(p["token"]["text"].get<std::string>()) << ")\n";
    double sum = p["embed"].get<double>();
    printRow("embedding", sum);
    const json &blocks = p["blocks"];
    for (size_t l = 0; l < blocks.size(); ++l) {
        printRow("L" + std::to_string(l) + " attention", blocks[l][0].get<double>());
        printRow("L" + std::to_string(l) + " MLP", blocks[l][1].get<double>());
        sum += blocks[l][0].get<double>() + blocks[l][1].get<double>();
    }
    printRow("rest", p["rest"].get<double>());
    sum += p["rest"].get<double>();
    printRow("sum of parts", sum);
    printRow("final logit", p["logit"].get<double>());
    std::printf("  sum check error %.3g\n", p["sum_error"].get<double>());

    std::vector<std::tuple<double, size_t, size_t>> heads;
    const json &hs = p["heads"];
    for (size_t l = 0; l < hs.size(); ++l)
        for (size_t h = 0; h < hs[l].size(); ++h)
            heads.emplace_back(hs[l][h].get<double>(), l, h);
    std::sort(heads.begin(), heads.end(), [](const auto &a, const auto &b) {
        return std::abs(std::get<0>(a)) > std::abs(std::get<0>(b));
    });
    if (heads.size() > size_t(top)) heads.resize(size_t(top));
    std::cout << "heads with the largest parts:\n";
    for (const auto &[v, l, h] : heads)
        printRow("L" + std::to_string(l) + "H" + std::to_string(h), v);
}

} // namespace

int cmdAttribute(const std::vector<std::string> &argv)
{
    const Args a =
        parseArgs(argv,
                  {"--prompt", "--prompt-file", "--token-ids", "--token", "--token-id", "--minus",
                   "--minus-id", "--pos", "--top", "--tokenizer", "--dtype", "--threads"},
                  {"--json"});
    const std::string modelPath = onePositional(a, "MODEL");
    const AttributeRequest request = attributeRequest(a);
    const int top = a.intValue("--top", 10, 1, 1 << 20);
    reportProgress("loading " + modelPath, 0, 1);
    std::unique_ptr<Model> model = loadModel(modelPath, loadOptions(a));
    endProgress();
    const AttributeResult result = runAttribute(*model, request);
    if (a.has("--json")) {
        printJson(attributionJson(result, request.pos));
        return 0;
    }
    const int pos = request.pos >= 0 ? request.pos : int(result.tokens.size()) - 1;
    printPosition(attributionJson(result, pos)["positions"][0], top);
    return 0;
}

} // namespace HeadLens::Cli
