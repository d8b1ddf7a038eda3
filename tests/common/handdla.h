#pragma once
// A hand-made direct logit attribution for tests of storage and views: every part a simple
// function of its indices, the attention blocks the sums of their heads, and the logit the sum
// of all parts, so the sum check holds exactly and a test can say what must be shown.

#include "headlens/trace/trace.h"

namespace HeadLens::Test {

inline float handDlaHead(int l, int h, int t)
{
    return 0.25f * float(h - 1) + 0.1f * float(l) - 0.02f * float(t);
}
inline float handDlaMlp(int l, int t)
{
    return 0.5f - 0.3f * float(l) + 0.05f * float(t);
}
inline float handDlaEmbed(int t)
{
    return 0.2f + 0.01f * float(t);
}

// Fills tr.dla for tr's layers, heads and tokens; the token is the model's top-1 when tr has
// its logits, else id t.
inline void addHandAttribution(Trace &tr, float rest = 0.0f)
{
    const int L = tr.config.nLayers, H = tr.config.nHeads, T = tr.nTokens();
    LogitAttribution &a = tr.dla;
    a = LogitAttribution();
    a.tokenIds.reset({T});
    a.heads.reset({L, H, T});
    a.blocks.reset({L, 2, T});
    a.embed.reset({T});
    a.rest.reset({T}, rest);
    a.logit.reset({T});
    for (int t = 0; t < T; ++t) {
        a.tokenIds.data[size_t(t)] =
            tr.logitsTopkIds.empty() ? t
                                     : tr.logitsTopkIds.data[size_t(t * tr.logitsTopkIds.dim(1))];
        a.embed.data[size_t(t)] = handDlaEmbed(t);
        double sum = double(handDlaEmbed(t)) + rest;
        for (int l = 0; l < L; ++l) {
            float attn = 0;
            for (int h = 0; h < H; ++h) {
                a.heads.data[size_t((l * H + h) * T + t)] = handDlaHead(l, h, t);
                attn += handDlaHead(l, h, t);
            }
            a.blocks.data[size_t((l * 2) * T + t)] = attn;
            a.blocks.data[size_t((l * 2 + 1) * T + t)] = handDlaMlp(l, t);
            sum += double(attn) + handDlaMlp(l, t);
        }
        a.logit.data[size_t(t)] = float(sum);
    }
}

} // namespace HeadLens::Test
