#pragma once
// What a trace will cost, estimated from shapes alone before any heavy work, and what this
// machine has to give it, so that a trace that cannot fit is refused with figures instead of
// being killed by the kernel midway.

#include "headlens/trace/trace.h"

#include <cstdint>
#include <string>

namespace HeadLens {

// Working memory of one block of attention rows in the engine (LoadOptions), and the size over
// which a trace's attention is stored sparsely (TraceOptions, --attention-budget).
constexpr int64_t kDefaultAttentionBlockBytes = int64_t(512) << 20;
constexpr int64_t kDefaultAttentionBudgetBytes = int64_t(8000) * 1000 * 1000;
// Working memory of one block of the heads' vectors in the engine (LoadOptions): the head
// metrics take them a block of positions at a time.
constexpr int64_t kDefaultHeadBlockBytes = int64_t(128) << 20;

// Bytes per value stored: 4, 2, or 0 for None.
int64_t storeBytes(StoreType t);

// Whether a trace's attention is stored sparsely: when its dense form would take more than
// budgetBytes (TraceOptions::attentionBudgetBytes).
bool attentionIsSparse(const ModelConfig &c, int64_t nTokens, StoreType attention,
                       int64_t budgetBytes);

struct TraceShape {
    ModelConfig config;
    int64_t nTokens = 0; // prompt + generated
    int topk = 10;
    StoreType attention = StoreType::F16, residuals = StoreType::F16, z = StoreType::None;
    int computeBytes = 4;         // 4 for f32, 2 for bf16/f16
    bool convertsWeights = false; // stored dtype differs from the compute dtype
    bool streamed = true;         // large data go to the file layer by layer (TraceStreamWriter)
    bool sparseAttention = false; // see attentionIsSparse
};

struct TraceCost {
    int64_t diskBytes = 0;   // the trace in the project file, before compression (a bound)
    int64_t memoryBytes = 0; // peak anonymous memory of the engine; the memory-mapped weights
                             // are not counted: the kernel can evict and re-read their pages
};

TraceCost estimateTraceCost(const TraceShape &s);

// Bytes free to this user on the file system that holds path (or its folder); -1 if unknown.
int64_t freeDiskBytes(const std::string &path);
// Memory this process can still take: MemAvailable, lowered to what the limit of its memory
// cgroup (v1 or v2) leaves beside the anonymous memory already charged there; -1 if unknown.
int64_t availableMemoryBytes();
// "31.2 GB" (powers of 1000, as df -H and disk makers count).
std::string formatBytes(int64_t bytes);

} // namespace HeadLens
