#pragma once
// Where an answer is formed: TRACE.md's decision depth of every position.

#include "headlens/trace/trace.h"

#include <vector>

namespace HeadLens {

// Per position: the first layer l from which the lens top-1 of resid_post[l] equals the
// model's own top-1 and stays equal to the last layer; -1 when the resid_post lens is absent.
// (With the default lens the last layer always agrees, so a depth always exists then.)
std::vector<int> decisionDepth(const Trace &t);
std::vector<int> decisionDepth(const LensSite &residPost, const IntArray &logitsTopkIds);

} // namespace HeadLens
