#include "rolemodel.h"

namespace HeadLens::Test {

Gpt2Weights roleGpt2()
{
    constexpr int L = 2, D = 96, H = 3, dh = 32, F = 4, V = 24, P = 32;
    // Residual dimensions: one-hot positions [0, 32), tokens [32, 56), the previous token as
    // layer 0's head 0 writes it [64, 88).
    constexpr int kPos = 0, kTok = 32, kPrev = 64;
    // After LayerNorm each one-hot feature reads about 6.8 (two features) or 5.5 (three), the
    // rest about -0.14: with s = 3 a matching key scores 40-75 above the others (after the
    // 1/sqrt(dh) scale), so the attention is one-hot to float precision.
    constexpr float A = 7.0f, s = 3.0f, kSinkQuery = 10.0f, kRecency = 1.6f;

    Gpt2Weights w;
    w.config = gpt2Config(L, D, H, F, V, P);
    const ModelConfig &c = w.config;
    w.wte.assign(size_t(V * D), 0.0f);
    for (int t = 0; t < V; ++t)
        w.wte[size_t(t * D + kTok + t)] = A;
    w.wpe.assign(size_t(P * D), 0.0f);
    for (int p = 0; p < P; ++p)
        w.wpe[size_t(p * D + kPos + p)] = A;
    w.layers.resize(size_t(L));
    for (auto &ly : w.layers) {
        ly.ln1W.assign(D, 1.0f);
        ly.ln1B.assign(D, 0.0f);
        ly.attnW.assign(size_t(D * 3 * D), 0.0f);
        ly.attnB.assign(size_t(3 * D), 0.0f);
        ly.attnProjW.assign(size_t(D * D), 0.0f);
        ly.attnProjB.assign(D, 0.0f);
        ly.ln2W.assign(D, 1.0f);
        ly.ln2B.assign(D, 0.0f);
        ly.fcW.assign(size_t(D * F), 0.0f);
        ly.fcB.assign(F, 0.0f);
        ly.mlpProjW.assign(size_t(F * D), 0.0f);
        ly.mlpProjB.assign(D, 0.0f);
    }
    // c_attn [D, 3D] (x W): column h*dh + a is q[a] of head h, D + h*dh + a its k, 2D + ... v.
    auto q = [&](Gpt2Layer &ly, int h, int a, int in, float v) {
        ly.attnW[size_t(in * 3 * D + h * dh + a)] = v;
    };
    auto k = [&](Gpt2Layer &ly, int h, int a, int in, float v) {
        ly.attnW[size_t(in * 3 * D + D + h * dh + a)] = v;
    };
    auto val = [&](Gpt2Layer &ly, int h, int a, int in, float v) {
        ly.attnW[size_t(in * 3 * D + 2 * D + h * dh + a)] = v;
    };
    Gpt2Layer &l0 = w.layers[0];
    // Head 0: query i carries position i-1, keys their own position: only key i-1 matches.
    for (int a = 0; a + 1 < P; ++a)
        q(l0, 0, a, kPos + a + 1, s);
    for (int a = 0; a < P; ++a)
        k(l0, 0, a, kPos + a, s);
    // ...and it moves that key's token into the previous-token subspace.
    for (int a = 0; a < V; ++a) {
        val(l0, 0, a, kTok + a, 1.0f);
        l0.attnProjW[size_t((0 * dh + a) * D + kPrev + a)] = 1.0f;
    }
    // Head 1: a constant query against the keys' position-0 feature.
    l0.attnB[size_t(1 * dh + 0)] = kSinkQuery;
    k(l0, 1, 0, kPos + 0, s);
    // Head 2: query and key both carry the own position.
    for (int a = 0; a < P; ++a) {
        q(l0, 2, a, kPos + a, s);
        k(l0, 2, a, kPos + a, s);
    }
    Gpt2Layer &l1 = w.layers[1];
    // Head 0: the current token against the keys' previous token.
    for (int a = 0; a < V; ++a) {
        q(l1, 0, a, kTok + a, s);
        k(l1, 0, a, kPrev + a, s);
    }
    // Head 1: the current token against the keys' token, minus about 1.6 per key position, so
    // that an earlier copy (n >= 8 back) beats the query itself by more than 12.
    for (int a = 0; a < V; ++a) {
        q(l1, 1, a, kTok + a, s);
        k(l1, 1, a, kTok + a, s);
    }
    l1.attnB[size_t(1 * dh + V)] = 1.0f;
    for (int p = 0; p < P; ++p)
        k(l1, 1, V, kPos + p, -kRecency * float(p));
    w.lnFW.assign(D, 1.0f);
    w.lnFB.assign(D, 0.0f);
    (void)c;
    return w;
}

} // namespace HeadLens::Test
