#pragma once
// Activation patching between a clean and a corrupted prompt of the same token count: each
// (site, layer, position), and each head's z at a position, taken from the clean run into the
// corrupted run, one at a time, and how much of the clean answer's logit difference that
// restores at the last position (PatchMap; SCHEMA-ADDITIONS.md "Activation patching"). Free of
// torch.

#include "headlens/trace/patchmap.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace HeadLens {

struct PatchOptions {
    int32_t answer = -1; // the clean prompt's answer token
    int32_t wrong = -1;  // the token the corrupted prompt leads to
    bool heads = false;  // also patch each head's z at each position
    // Working memory of one batch of patched copies: the copies of one (site, layer) are run
    // in batches that stay within it.
    int64_t batchBytes = int64_t(256) << 20;
    std::function<bool()> cancelled; // asked between batches: true throws Cancelled
    std::function<void(int done, int total)> progress; // after each (site or head, layer)
};

} // namespace HeadLens
