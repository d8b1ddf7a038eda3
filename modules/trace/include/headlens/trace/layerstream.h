#pragma once
// Where a trace's large per-layer data go while the engine computes them, so that memory holds
// one layer of them rather than the whole trace: the attention of a 34B model at 1024 tokens
// is 13 GB in f32, its five residual sites another 8.8 GB. The engine calls these in layer
// order, from one thread; the float32 data are valid only during the call. The project module
// implements it with a writer that puts each layer straight into the file (project.h).

#include "headlens/trace/trace.h"

namespace HeadLens {

class LayerStream {
public:
    virtual ~LayerStream() = default;
    // Once, before layer 0: the trace's metadata, tokens and StoreTypes (what will come).
    virtual void begin(const Trace &t) = 0;
    // Rows [q0, q0 + rows) of a layer's attention: [head, rows, key_pos]. A long prompt's
    // attention comes a block of query rows at a time.
    virtual void attention(int layer, int64_t q0, int64_t rows, const float *pattern) = 0;
    virtual void residual(Site site, int layer, const float *v) = 0; // [pos, d_model]
    virtual void z(int layer, const float *z) = 0;                   // [pos, head, d_head]
};

} // namespace HeadLens
