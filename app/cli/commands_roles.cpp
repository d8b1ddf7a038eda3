// headlens-cli heads MODEL [PROJECT.hlproj] --roles: what each head selects (requests.h).

#include "args.h"
#include "commandtext.h"
#include "enginememory.h"
#include "requests.h"

#include "headlens/analysis/headroles.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace HeadLens::Cli {

int cmdHeadRoles(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(
        argv,
        {"--trace", "--length", "--sequences", "--seed", "--tokenizer", "--dtype", "--threads"},
        {"--roles", "--json"});
    if (a.positional.empty()) throw UsageError("heads --roles needs MODEL");
    const HeadRolesRequest r = headRolesRequest(a);
    if (!r.output.empty()) ProjectReader check(r.output); // a bad project before the model loads
    reportProgress("loading " + a.positional[0], 0, 1);
    std::unique_ptr<Model> model = loadModel(a.positional[0], loadOptions(a));
    endProgress();
    const HeadRolesResult res = runHeadRoles(*model, r, {}, [](int done, int total) {
        reportProgress("repeated sequences", done, total);
    });
    endProgress();
    if (a.has("--json")) {
        printJson(headRolesJson(res));
        return 0;
    }
    const HeadRoles &h = res.roles;
    std::cout << "head roles of " << model->name() << ": " << h.sequences
              << " repeated random sequences of 2 x " << h.sequenceLength << " tokens (seed "
              << h.seed << "); " << h.nQueries << " query positions (" << h.nRepeatQueries
              << " in the second copies for duplicate/induction)\n";
    std::cout << "  layer head  prev   first  self   dup    induct  distance  strongest\n";
    auto f = [](double v) {
        char b[32];
        if (!std::isfinite(v)) return std::string("-");
        std::snprintf(b, sizeof b, "%.3f", v);
        return std::string(b);
    };
    for (int l = 0; l < h.nLayers; ++l)
        for (int k = 0; k < h.nHeads; ++k) {
            const auto best = strongestRole(h, l, k);
            char line[256];
            std::snprintf(line, sizeof line, "  %-5d %-4d  %-5s  %-5s  %-5s  %-5s  %-6s  %-8s  %s",
                          l, k, f(h.at(HeadRole::PreviousToken, l, k)).c_str(),
                          f(h.at(HeadRole::FirstToken, l, k)).c_str(),
                          f(h.at(HeadRole::Self, l, k)).c_str(),
                          f(h.at(HeadRole::DuplicateToken, l, k)).c_str(),
                          f(h.at(HeadRole::Induction, l, k)).c_str(), f(h.distanceAt(l, k)).c_str(),
                          best ? headRoleName(best->role) : "-");
            std::string s = line;
            while (!s.empty() && s.back() == ' ')
                s.pop_back();
            std::cout << s << "\n";
        }
    if (!res.stored.empty()) {
        std::cout << "stored with " << res.stored.size() << " trace(s) of " << r.output << ":";
        for (const auto &t : res.stored)
            std::cout << " " << t;
        std::cout << "\n";
    }
    return 0;
}

} // namespace HeadLens::Cli
