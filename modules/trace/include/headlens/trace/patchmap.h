#pragma once
// The result of activation patching between a clean and a corrupted prompt of the same token
// count (SCHEMA-ADDITIONS.md "Activation patching"): how much of the clean answer's logit
// difference each patch restores. Plain data: the engine makes it (Model::patch), the project
// stores it with the clean prompt's trace, the workbench draws it over the block grid.

#include "headlens/trace/array.h"
#include "headlens/trace/trace.h"

#include <cstdint>
#include <string>
#include <vector>

namespace HeadLens {

// recovered = (LD_patched - LD_corrupted) / (LD_clean - LD_corrupted), where
// LD = logit(answer) - logit(wrong) at the last position: 0 as corrupted, 1 as clean.
struct PatchMap {
    int nLayers = 0, nHeads = 0, nPos = 0;
    int32_t answer = -1, wrong = -1;
    std::string answerText, wrongText;      // the tokens' readable texts
    std::string corruptedPrompt;            // as given (empty when given as ids)
    std::vector<int32_t> corruptedIds;      // [T]
    std::vector<std::string> corruptedText; // [T]
    double ldClean = 0, ldCorrupted = 0;
    FloatArray sites; // [site, layer, pos], sites in allSites() order
    FloatArray heads; // [layer, head, pos]; empty unless heads were patched

    bool empty() const { return sites.data.empty(); }
    float site(Site s, int layer, int pos) const
    {
        return sites
            .data[(size_t(s) * size_t(nLayers) + size_t(layer)) * size_t(nPos) + size_t(pos)];
    }
    float head(int layer, int h, int pos) const
    {
        return heads
            .data[(size_t(layer) * size_t(nHeads) + size_t(h)) * size_t(nPos) + size_t(pos)];
    }
};

} // namespace HeadLens
