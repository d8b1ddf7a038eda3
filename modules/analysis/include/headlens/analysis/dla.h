#pragma once
// The sum check of a direct logit attribution (TRACE.md, SCHEMA-ADDITIONS.md): its parts add up
// to the model's logit, and each layer's heads to its attention block, up to float rounding.

#include "headlens/trace/trace.h"

#include <vector>

namespace HeadLens {

struct DlaSumCheck {
    std::vector<double> error; // [pos] embed + sum of blocks + rest - logit
    std::vector<double> scale; // [pos] the sum of the parts' magnitudes, which rounding scales with
    double maxAbsError = 0;    // over positions
    double maxRelError = 0;    // max |error| / scale
    int worstPos = -1;         // where |error| / scale is largest
};
DlaSumCheck dlaSumCheck(const LogitAttribution &a);

// The parts of one position in the order they enter the residual stream: the embedding, then
// each layer's attention and MLP blocks, then the rest; their running sum ends at the logit
// (up to the sum check's error). [1 + 2L + 1]
std::vector<double> dlaParts(const LogitAttribution &a, int pos);

} // namespace HeadLens
