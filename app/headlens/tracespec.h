#pragma once
// How to make a trace again like an existing one (its model, tokenizer, dtype and lens): the
// spec of a child trace (propagate) or of the same prompt under another lens.

#include "headlens/document/tracejob.h"

namespace HeadLens {

class EngineClient;
struct Trace;

TraceSpec specForTrace(const Trace &trace, const EngineClient &engine);

} // namespace HeadLens
