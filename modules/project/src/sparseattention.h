#pragma once
// Attention stored sparsely (SCHEMA-ADDITIONS.md "attention/sparse"), for traces whose dense
// [L, H, T, T] patterns would pass the attention budget (34 GB in f16 for Llama-2-7B at 4096
// tokens). Per row (layer, query, head): the keys that together hold 99% of the row's weight,
// at most 128 of them, heaviest first, their weights, and the weight left out. Rows are
// stored in the order layer, query, head, so a block of query rows from the engine is one
// contiguous append and one position's heads are one contiguous read. Module-private.

#include "h5util.h"

#include "headlens/trace/trace.h"

#include <cstdint>

namespace HeadLens::SparseAttention {

constexpr double kMass = 0.99; // each row keeps keys until they hold this much weight...
constexpr int kMaxKeys = 128;  // ...or this many keys

// Writes a trace's attention rows as the engine hands them over: layers in order, and within
// a layer, blocks of query rows in order. weights: F16 or F32.
class Writer {
public:
    Writer(hid_t traceGroup, int64_t L, int64_t H, int64_t T, StoreType weights);
    // Rows [q0, q0 + rows) of layer `layer`, p [H, rows, T] (row q's keys beyond q are 0).
    void rows(int layer, int64_t q0, int64_t rows, const float *p);
    void close();

private:
    int64_t m_L, m_H, m_T;
    hid_t m_weightType;
    H5::Type m_f16;
    H5::Dataset m_rowEnd, m_remainder, m_keys, m_weights;
    int64_t m_total = 0;                    // entries written
    int64_t m_nextLayer = 0, m_nextRow = 0; // the next block expected
};

// Whether the trace group holds sparse attention, and in which precision its weights are.
bool present(hid_t traceGroup);
StoreType weightsType(hid_t traceGroup);
// The weights of layer `layer`, dense [H, T, T] (keys left out are 0); checks the layout
// against L, H, T and throws H5::H5Error on anything inconsistent.
FloatArray readLayer(hid_t traceGroup, int64_t L, int64_t H, int64_t T, int layer);
// One query row of a layer for every head, [H, T].
FloatArray readRow(hid_t traceGroup, int64_t L, int64_t H, int64_t T, int layer, int64_t query);

} // namespace HeadLens::SparseAttention
