#include "headlens/analysis/decision.h"

namespace HeadLens {

std::vector<int> decisionDepth(const LensSite &post, const IntArray &logitsIds)
{
    if (post.empty() || logitsIds.empty()) return {};
    const int64_t L = post.topkIds.dim(0), T = post.topkIds.dim(1), K = post.topkIds.dim(2);
    const int64_t KL = logitsIds.dim(1);
    std::vector<int> depth(size_t(T), -1);
    for (int64_t t = 0; t < T; ++t) {
        const int32_t final = logitsIds.data[size_t(t * KL)];
        int first = -1;
        for (int64_t l = L - 1; l >= 0; --l) {
            if (post.topkIds.data[size_t((l * T + t) * K)] != final) break;
            first = int(l);
        }
        depth[size_t(t)] = first;
    }
    return depth;
}

std::vector<int> decisionDepth(const Trace &t)
{
    return decisionDepth(t.lens[size_t(Site::ResidPost)], t.logitsTopkIds);
}

} // namespace HeadLens
