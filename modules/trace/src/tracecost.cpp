// Trace cost estimates and the machine's free disk and memory (tracecost.h).

#include "headlens/trace/tracecost.h"

#include "headlens/trace/numbertext.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/statvfs.h>

namespace HeadLens {

namespace fs = std::filesystem;

int64_t storeBytes(StoreType t)
{
    return t == StoreType::F32 ? 4 : t == StoreType::F16 ? 2 : 0;
}

bool attentionIsSparse(const ModelConfig &c, int64_t nTokens, StoreType attention,
                       int64_t budgetBytes)
{
    const int64_t bytes = storeBytes(attention);
    return bytes > 0 && bytes * c.nLayers * c.nHeads * nTokens * nTokens > budgetBytes;
}

TraceCost estimateTraceCost(const TraceShape &s)
{
    const ModelConfig &c = s.config;
    const int64_t L = c.nLayers, H = c.nHeads, T = s.nTokens, D = c.dModel, F = c.dFfn;
    const int64_t V = c.vocabSize, K = std::min<int64_t>(s.topk, V), dh = c.dHead;
    const int64_t kvd = int64_t(c.nKvHeads) * dh;
    const auto bytesOf = storeBytes;

    TraceCost cost;
    // The file: large data as stored, plus the small per-layer datasets (five lens sites,
    // nine [L, H, T] or [L, T] metric groups), tokens and vocabulary.
    // Sparse attention: at most 128 keys per row (int32 + the weight) and two per-row values.
    const int64_t attention =
        s.sparseAttention
            ? L * T * H * (std::min<int64_t>(T, 128) * (4 + bytesOf(s.attention)) + 12)
            : bytesOf(s.attention) * L * H * T * T;
    const int64_t large =
        attention + bytesOf(s.residuals) * kSiteCount * L * T * D + bytesOf(s.z) * L * T * H * dh;
    const int64_t small = kSiteCount * L * T * (8 * K + 4) + 9 * L * H * T * 4 + L * H * H * 4 +
                          2 * L * T * 4 + 5 * T * 4 + 4 * L * T * 4 + T * (8 * K + 64) +
                          (kSiteCount * L + 2) * T * K * 40;
    cost.diskBytes = large + small;

    // The engine's peak, per layer, with everything of one layer alive at once (a bound):
    // sites and q/k/v in f32, three float32 attention tensors (scores, masked, softmax) and
    // the pattern in the compute dtype, the MLP's four [T, F] tensors, the
    // head metrics (W_o in f32 when converted, per-head z, a block of the heads' vectors, pair
    // cosines),
    // the lens's logits block (256 MiB when the decoder is converted, else 32 MiB, and the
    // carried [T, V] logits when they fit in 256 MiB), converted weight tiles and the small
    // trace data held until the end. The engine asks when libtorch and the model are loaded,
    // so what they take is already gone from the available memory it compares with.
    const int64_t cb = s.computeBytes;
    int64_t m = 12 * T * D * 4 + 2 * T * kvd * 4;
    // Attention comes a block of query rows at a time (kDefaultAttentionBlockBytes for the three
    // float32 tensors of a block).
    const int64_t blockValues = std::min<int64_t>(H * T * T, kDefaultAttentionBlockBytes / 12);
    m += blockValues * (12 + cb);
    m += 4 * T * F * 4;
    m += (s.convertsWeights ? D * H * dh * 4 : 0) + 2 * H * T * dh * 4 + kDefaultHeadBlockBytes +
         T * H * H * 8 + 8 * H * T * 4;
    m += (int64_t(s.convertsWeights ? 256 : 32) << 20) * 2 +
         (T * V * 4 <= (int64_t(256) << 20) ? T * V * 4 : 0);
    m += s.convertsWeights ? (int64_t(48) << 20) : 0;
    // Direct logit attribution keeps every layer's z and mlp_out until the final logits.
    m += 2 * L * T * D * cb;
    m += small + (int64_t(64) << 20); // allocator slack; the engine itself is already counted
    if (s.streamed) {
        m += std::max<int64_t>(blockValues, T * D) * 2; // one block's slab as halves
    } else { // the whole trace's large data as f32 arrays, and the writer's copy of one
        const int64_t n = (s.attention != StoreType::None ? L * H * T * T : 0) +
                          (s.residuals != StoreType::None ? kSiteCount * L * T * D : 0) +
                          (s.z != StoreType::None ? L * T * H * dh : 0);
        m += n * 4 + n * 2;
    }
    cost.memoryBytes = m;
    return cost;
}

int64_t freeDiskBytes(const std::string &path)
{
    std::error_code ec;
    fs::path p = fs::absolute(path, ec);
    while (!p.empty() && !fs::exists(p, ec) && p != p.parent_path())
        p = p.parent_path();
    struct statvfs st {};
    if (p.empty() || ::statvfs(p.c_str(), &st) != 0) return -1;
    return int64_t(st.f_bavail) * int64_t(st.f_frsize);
}

namespace {

// The value of "key" in a file of "key value" or "key: value kB" lines; -1 if absent.
int64_t keyedValue(const std::string &file, const std::string &key, int64_t unit)
{
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string k;
        long long v = -1;
        if (ls >> k >> v && (k == key || k == key + ":")) return int64_t(v) * unit;
    }
    return -1;
}

int64_t numberIn(const std::string &file)
{
    std::ifstream in(file);
    std::string s;
    if (!(in >> s) || s == "max") return -1;
    return wholeNumberIn(s).value_or(-1);
}

// The memory cgroup of this process: its folder, and whether it is v2; empty if none.
std::pair<std::string, bool> memoryCgroup()
{
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        const size_t a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        if (controllers.empty() && fs::exists("/sys/fs/cgroup/cgroup.controllers"))
            return {"/sys/fs/cgroup" + path, true};
        std::istringstream cs(controllers);
        std::string one;
        while (std::getline(cs, one, ','))
            if (one == "memory") return {"/sys/fs/cgroup/memory" + path, false};
    }
    return {};
}

} // namespace

int64_t availableMemoryBytes()
{
    int64_t avail = keyedValue("/proc/meminfo", "MemAvailable", 1024);
    const auto [dir, v2] = memoryCgroup();
    if (dir.empty()) return avail;
    // Only anonymous memory is counted as taken: file pages (the mapped model among them)
    // are given back under pressure.
    const int64_t limit = numberIn(dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"));
    const int64_t anon = v2 ? keyedValue(dir + "/memory.stat", "anon", 1)
                            : keyedValue(dir + "/memory.stat", "total_rss", 1);
    // v1 reports "no limit" as a huge number.
    if (limit > 0 && limit < (int64_t(1) << 60)) {
        const int64_t left = limit - std::max<int64_t>(0, anon);
        avail = avail < 0 ? left : std::min(avail, left);
    }
    return avail;
}

std::string formatBytes(int64_t bytes)
{
    char buf[32];
    if (bytes >= 1000000000)
        std::snprintf(buf, sizeof buf, "%.1f GB", double(bytes) / 1e9);
    else if (bytes >= 1000000)
        std::snprintf(buf, sizeof buf, "%.0f MB", double(bytes) / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.0f kB", double(bytes) / 1e3);
    return buf;
}

} // namespace HeadLens
