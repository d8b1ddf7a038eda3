#pragma once
// Hand-built traces for the view tests: every number is a simple function of its indices, so
// a test can say what a view must show without reading a file.

#include "headlens/trace/headroles.h"
#include "headlens/trace/trace.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace HeadLens::TestData {

// Top-1 probability of block (l, t): 0.1 .. 0.9 in steps, varied over layers and positions.
inline float top1Prob(int l, int t)
{
    return 0.1f + 0.8f * float((l * 7 + t * 3) % 10) / 9.0f;
}
// Entropy of block (l, t), nats.
inline float entropy(int l, int t)
{
    return 0.25f * float((l + 2 * t) % 12);
}
// Lens top-k id of block (l, t).
inline int32_t topkId(int l, int t, int k, int vocab)
{
    return (l + t + k) % vocab;
}

// A trace of L layers, T tokens (all prompt), H heads, with the resid_post lens filled in and
// causal attention where query q puts weight on key k in proportion to (k + 1).
inline Trace makeTrace(int L, int T, int H, int K = 3, int V = 50, bool attention = true)
{
    Trace tr;
    tr.name = "hand";
    tr.prompt.clear();
    tr.modelName = "hand-model";
    tr.config.nLayers = L;
    tr.config.nHeads = H;
    tr.config.nKvHeads = H;
    tr.config.dModel = 8 * H;
    tr.config.dHead = 8;
    tr.config.vocabSize = V;
    tr.topk = K;
    for (int i = 0; i < V; ++i)
        tr.vocab[i] = (i % 2 ? " w" : "v") + std::to_string(i);
    int offset = 0;
    for (int t = 0; t < T; ++t) {
        TokenInfo tok;
        tok.id = (t * 3) % V;
        tok.text = tr.vocab[tok.id];
        tok.begin = offset;
        tok.end = offset + int(tok.text.size());
        offset = tok.end;
        tr.prompt += tok.text;
        tr.tokens.push_back(tok);
    }
    tr.nPromptTokens = T;

    LensSite &post = tr.lens[size_t(Site::ResidPost)];
    post.topkIds.reset({L, T, K});
    post.topkProbs.reset({L, T, K});
    post.entropy.reset({L, T});
    for (int l = 0; l < L; ++l)
        for (int t = 0; t < T; ++t) {
            float rest = 1.0f - top1Prob(l, t);
            for (int k = 0; k < K; ++k) {
                post.topkIds.at({l, t, k}) = topkId(l, t, k, V);
                post.topkProbs.at({l, t, k}) = k == 0 ? top1Prob(l, t) : (rest /= 2);
            }
            post.entropy.at({l, t}) = entropy(l, t);
        }
    tr.logitsTopkIds.reset({T, K});
    tr.logitsTopkProbs.reset({T, K});
    tr.logitsEntropy.reset({T});
    for (int t = 0; t < T; ++t) {
        for (int k = 0; k < K; ++k) {
            tr.logitsTopkIds.at({t, k}) = topkId(L - 1, t, k, V);
            tr.logitsTopkProbs.at({t, k}) = post.topkProbs.at({L - 1, t, k});
        }
        tr.logitsEntropy.at({t}) = entropy(L - 1, t);
    }

    tr.contribNorm.reset({L, H, T});
    tr.contribCosine.reset({L, H, T});
    tr.contribProjection.reset({L, H, T});
    tr.attnEntropy.reset({L, H, T});
    tr.valueNorm.reset({L, H, T});
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h)
            for (int t = 0; t < T; ++t) {
                tr.contribNorm.at({l, h, t}) = float(1 + h + l) + 0.1f * float(t);
                tr.contribCosine.at({l, h, t}) = float(h % 3) * 0.4f - 0.3f;
                tr.contribProjection.at({l, h, t}) = 0.5f * float(h + 1) + 0.01f * float(t + l);
                tr.attnEntropy.at({l, h, t}) = 0.1f * float((h + t + l) % 20);
                tr.valueNorm.at({l, h, t}) = 1.0f;
            }
    if (attention) {
        tr.attentionPattern.reset({L, H, T, T});
        tr.attentionStore = StoreType::F32;
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h)
                for (int q = 0; q < T; ++q) {
                    const float sum = float((q + 1) * (q + 2)) / 2.0f;
                    for (int k = 0; k <= q; ++k)
                        tr.attentionPattern.at({l, h, q, k}) = float(k + 1) / sum;
                }
    }
    return tr;
}

// One layer of a trace's attention, [H, T, T].
// Head roles of L layers x H heads in which every head scores `score` on `role` and 0 on the
// others, and reads 1 token back on average.
inline HeadRoles everyHeadIs(HeadRole role, int L, int H, double score = 0.9)
{
    HeadRoles r;
    r.nLayers = L;
    r.nHeads = H;
    for (auto &s : r.score)
        s = Array<double>({L, H}, 0.0);
    r.meanDistance = Array<double>({L, H}, 1.0);
    std::fill(r.score[int(role)].data.begin(), r.score[int(role)].data.end(), score);
    return r;
}

inline FloatArray attentionLayer(const Trace &tr, int layer)
{
    const int64_t H = tr.attentionPattern.dim(1), T = tr.attentionPattern.dim(2);
    FloatArray out({H, T, T});
    std::copy_n(tr.attentionPattern.data.begin() + layer * H * T * T, H * T * T, out.data.begin());
    return out;
}

// The words of a short story, as a tokenizer splits them (a space before a word belongs to it).
inline std::vector<std::string> storyWords()
{
    const char *text =
        "Once| upon| a| time|,| there| was| a| little| girl| named| Lily|.| She| loved| to| play|"
        " outside| in| the| park| with| her| friends|.| One| day|,| she| saw| a| big| red| ball|"
        " under| a| tree|.| Lily| wanted| to| play| with| the| ball|,| so| she| ran| to| get| it|."
        "| But| the| ball| was| stuck| in| the| branches| and| she| could| not| reach| it|.";
    std::vector<std::string> words;
    std::string word;
    for (const char *c = text; *c; ++c) {
        if (*c == '|') {
            words.push_back(word);
            word.clear();
        } else {
            word += *c;
        }
    }
    words.push_back(word);
    return words;
}

// A trace that reads like a real one: T tokens of the story, L layers, K lens candidates per
// block. Low layers predict the input token itself, middle layers a word of the story, high
// layers the story's next word with a probability that rises with the layer (the shape a logit
// lens shows on a small model). Attention is as in makeTrace.
inline Trace makeStoryTrace(int L, int T, int H = 4, int K = 5)
{
    const std::vector<std::string> words = storyWords();
    std::vector<std::string> vocab;
    for (const std::string &w : words)
        if (std::find(vocab.begin(), vocab.end(), w) == vocab.end()) vocab.push_back(w);
    const int V = int(vocab.size());
    Trace tr = makeTrace(L, T, H, K, V, true);
    tr.name = "story";
    tr.prompt.clear();
    for (int i = 0; i < V; ++i)
        tr.vocab[i] = vocab[size_t(i)];
    auto idOf = [&](int t) {
        const std::string &w = words[size_t(t) % words.size()];
        return int32_t(std::find(vocab.begin(), vocab.end(), w) - vocab.begin());
    };
    int offset = 0;
    for (int t = 0; t < T; ++t) {
        TokenInfo &tok = tr.tokens[size_t(t)];
        tok.id = idOf(t);
        tok.text = tr.vocab[tok.id];
        tok.begin = offset;
        tok.end = offset += int(tok.text.size());
        tr.prompt += tok.text;
    }
    LensSite &post = tr.lens[size_t(Site::ResidPost)];
    for (int l = 0; l < L; ++l)
        for (int t = 0; t < T; ++t) {
            const double f = L > 1 ? double(l) / double(L - 1) : 1.0;
            const int32_t top = f > 0.55 ? idOf(t + 1) : f < 0.2 ? idOf(t) : idOf(t * 7 + l);
            const float p1 = float(f > 0.55 ? 0.25 + 0.7 * f : 0.08 + 0.3 * f);
            float rest = 1.0f - p1;
            std::vector<int32_t> used{top};
            for (int k = 0; k < K; ++k) {
                // Distinct candidates: probe onwards from a spot that varies with the block.
                int32_t id = k == 0 ? top : (top + 3 * k + l) % V;
                while (k > 0 && std::find(used.begin(), used.end(), id) != used.end())
                    id = (id + 1) % V;
                if (k > 0) used.push_back(id);
                post.topkIds.at({l, t, k}) = id;
                post.topkProbs.at({l, t, k}) = k == 0 ? p1 : (rest *= 0.45f);
            }
            post.entropy.at({l, t}) = float(0.2 + 4.0 * (1.0 - f) + 0.3 * ((l + t) % 3));
        }
    return tr;
}

} // namespace HeadLens::TestData
