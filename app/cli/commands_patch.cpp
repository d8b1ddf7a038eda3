// headlens-cli patch: activation patching between a clean and a corrupted prompt.

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

// The map of one site as a layers x positions table, the last layer on top (as the workbench
// draws the block grid).
void printSite(const PatchMap &m, Site s, const std::vector<TokenInfo> &tokens)
{
    std::printf("%s\n        ", siteName(s));
    for (int t = 0; t < m.nPos; ++t) {
        std::string text = tokens[size_t(t)].text.substr(0, 7);
        std::printf(" %7s", text.c_str());
    }
    std::printf("\n");
    for (int l = m.nLayers - 1; l >= 0; --l) {
        std::printf("  L%-4d", l);
        for (int t = 0; t < m.nPos; ++t)
            std::printf(" %7.3f", m.site(s, l, t));
        std::printf("\n");
    }
}

} // namespace

int cmdPatch(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv,
                             {"--clean", "--clean-ids", "--corrupted", "--corrupted-ids",
                              "--answer", "--answer-id", "--wrong", "--wrong-id", "-o", "--output",
                              "--name", "--tokenizer", "--dtype", "--threads", "--topk",
                              "--lens-norm", "--lens-decoder", "--attention", "--residuals"},
                             {"--heads", "--force", "--json"});
    const std::string modelPath = onePositional(a, "MODEL");
    PatchRequest r = patchRequest(a);
    r.clean.options.progress = reportProgress;
    reportProgress("loading " + modelPath, 0, 1);
    std::unique_ptr<Model> model = loadModel(modelPath, loadOptions(a));
    const PatchResult p = runPatch(*model, r);
    endProgress();
    if (a.has("--json")) {
        printJson(patchJson(r, p));
        return 0;
    }
    const PatchMap &m = p.map;
    std::printf("patched %d positions x %d layers of %s (%.2f s): clean '%s' vs corrupted '%s'\n",
                m.nPos, m.nLayers, model->name().c_str(), p.seconds, r.clean.prompt.text.c_str(),
                m.corruptedPrompt.c_str());
    std::printf("logit(%s) - logit(%s) at the last position: clean %.4f, corrupted %.4f\n",
                m.answerText.c_str(), m.wrongText.c_str(), m.ldClean, m.ldCorrupted);
    std::printf("fraction of the clean logit difference recovered (0 corrupted, 1 clean):\n");
    for (Site s : allSites())
        printSite(m, s, p.clean);
    if (!m.heads.data.empty()) {
        struct Entry {
            float v;
            int l, h, t;
        };
        std::vector<Entry> all;
        for (int l = 0; l < m.nLayers; ++l)
            for (int h = 0; h < m.nHeads; ++h)
                for (int t = 0; t < m.nPos; ++t)
                    all.push_back({m.head(l, h, t), l, h, t});
        std::sort(all.begin(), all.end(),
                  [](const Entry &x, const Entry &y) { return std::abs(x.v) > std::abs(y.v); });
        std::printf("heads (z at one position) that recover most:\n");
        for (size_t i = 0; i < std::min<size_t>(all.size(), 8); ++i)
            std::printf("  L%dH%d at %d (%s): %.3f\n", all[i].l, all[i].h, all[i].t,
                        p.clean[size_t(all[i].t)].text.c_str(), all[i].v);
    }
    std::printf("stored with trace '%s' of %s\n", p.name.c_str(), r.clean.output.c_str());
    return 0;
}

} // namespace HeadLens::Cli
