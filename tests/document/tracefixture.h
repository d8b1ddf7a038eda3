#pragma once
// Small hand-made traces for the document and GUI tests: every required dataset filled with
// plausible values (probabilities in [0, 1], ids below the vocabulary size), attention on
// request. Values depend on `seed`, so two traces can be told apart after a round trip.

#include "headlens/trace/trace.h"

#include <cmath>
#include <string>

namespace HeadLens::Test {

struct FixtureSize {
    int layers = 3;
    int heads = 2;
    int tokens = 5;
    int topk = 3;
    int dModel = 8;
};

inline Trace makeFixtureTrace(const std::string &name, float seed = 0.0f, FixtureSize n = {},
                              bool attention = true)
{
    const int64_t L = n.layers, H = n.heads, T = n.tokens, K = n.topk;
    Trace t;
    t.name = name;
    t.prompt = "The cat sat on";
    t.modelName = "fixture-model";
    t.modelPath = "/models/fixture";
    t.modelFingerprint = "0123";
    t.config.nLayers = int(L);
    t.config.nHeads = int(H);
    t.config.nKvHeads = int(H);
    t.config.dModel = n.dModel;
    t.config.dHead = n.dModel / int(H);
    t.config.vocabSize = 100;
    t.topk = int(K);
    t.created = "2026-01-02T03:04:05Z";
    t.nPromptTokens = int(T) - 1;
    const char *words[] = {"<s>", "The", " cat", " sat", " on", " the", " mat", "."};
    for (int64_t i = 0; i < T; ++i)
        t.tokens.push_back({int32_t(10 + i % 8), words[i % 8], -1, -1});
    for (int i = 0; i < 8; ++i)
        t.vocab[10 + i] = words[i];
    for (Site s : allSites()) {
        LensSite &l = t.lens[size_t(s)];
        l.topkIds.reset({L, T, K});
        l.topkProbs.reset({L, T, K});
        l.entropy.reset({L, T});
        for (int64_t li = 0; li < L; ++li)
            for (int64_t p = 0; p < T; ++p) {
                float rest = 1.0f;
                for (int64_t k = 0; k < K; ++k) {
                    l.topkIds.at({li, p, k}) = int32_t(10 + (li + p + k + int(s)) % 8);
                    const float pr =
                        rest * (0.3f + 0.5f * float(li + 1) / float(L + 1)) * (1.0f - seed);
                    l.topkProbs.at({li, p, k}) = pr;
                    rest -= pr;
                }
                l.entropy.at({li, p}) = 0.5f + 0.1f * float(li + p) + seed;
            }
    }
    t.logitsTopkIds.reset({T, K});
    t.logitsTopkProbs.reset({T, K}, 0.2f);
    t.logitsEntropy.reset({T}, 1.0f);
    for (int64_t i = 0; i < T * K; ++i)
        t.logitsTopkIds.data[size_t(i)] = int32_t(10 + i % 8);
    for (FloatArray *m :
         {&t.contribNorm, &t.contribCosine, &t.contribProjection, &t.attnEntropy, &t.valueNorm}) {
        m->reset({L, H, T});
        for (size_t i = 0; i < m->size(); ++i)
            m->data[i] = 0.1f + 0.01f * float(i) + seed;
    }
    if (attention) {
        t.attentionStore = StoreType::F32;
        t.attentionPattern.reset({L, H, T, T});
        for (int64_t li = 0; li < L; ++li)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t q = 0; q < T; ++q)
                    for (int64_t k = 0; k <= q; ++k)
                        t.attentionPattern.at({li, h, q, k}) = 1.0f / float(q + 1);
    }
    return t;
}

} // namespace HeadLens::Test
