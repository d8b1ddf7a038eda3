// Comparison of two traces on hand-built traces: two tokenizations of "hello world" that split
// and merge tokens differently, two models of different depths, KL on top-k supports.
#include "headlens/analysis/comparison.h"
#include "headlens/trace/error.h"

#include <QtTest>

#include <cmath>

using namespace HeadLens;

namespace {

bool near(double a, double b, double tol = 1e-9)
{
    return std::abs(a - b) <= tol;
}

struct Tok {
    const char *text;
    int begin, end;
};

// A trace of L layers over the given tokens; resid_post lens entropies from `entropy`
// ([L][T]), lens top-1 = `lensTop1` ([L][T]), final top-2 from `top` ([T] of {id, p, id, p}).
Trace makeTrace(const std::string &name, const std::string &fingerprint, int L,
                const std::vector<Tok> &toks, const std::vector<std::vector<float>> &entropy,
                const std::vector<std::vector<int>> &lensTop1,
                const std::vector<std::array<float, 4>> &top)
{
    Trace t;
    t.name = name;
    t.prompt = "hello world";
    t.modelName = "model-" + fingerprint;
    t.modelFingerprint = fingerprint;
    t.config.nLayers = L;
    t.config.nHeads = 1;
    t.config.vocabSize = 32;
    t.topk = 2;
    for (const Tok &k : toks) {
        TokenInfo ti;
        ti.text = k.text;
        ti.begin = k.begin;
        ti.end = k.end;
        t.tokens.push_back(ti);
    }
    const int64_t T = t.nTokens();
    LensSite &post = t.lens[size_t(Site::ResidPost)];
    post.topkIds.reset({L, T, 2}, 31);
    post.topkProbs.reset({L, T, 2}, 0.1f);
    post.entropy.reset({L, T});
    for (int64_t l = 0; l < L; ++l)
        for (int64_t p = 0; p < T; ++p) {
            post.entropy.at({l, p}) = entropy[size_t(l)][size_t(p)];
            post.topkIds.at({l, p, 0}) = lensTop1[size_t(l)][size_t(p)];
        }
    t.logitsTopkIds.reset({T, 2});
    t.logitsTopkProbs.reset({T, 2});
    t.logitsEntropy.reset({T});
    for (int64_t p = 0; p < T; ++p) {
        const auto &r = top[size_t(p)];
        t.logitsTopkIds.at({p, 0}) = int32_t(r[0]);
        t.logitsTopkProbs.at({p, 0}) = r[1];
        t.logitsTopkIds.at({p, 1}) = int32_t(r[2]);
        t.logitsTopkProbs.at({p, 1}) = r[3];
        t.logitsEntropy.at({p}) = 0.25f * float(p + 1);
    }
    t.vocab = {{10, "x"}, {11, "y"}, {12, "z"}, {31, "?"}};
    return t;
}

// "hello world" as a two-layer model reads it: BOS, "hello", " world", and one generated token.
Trace leftTrace()
{
    return makeTrace(
        "left", "A", 2, {{"<s>", -1, -1}, {"hello", 0, 5}, {" world", 5, 11}, {"!", -1, -1}},
        {{1, 2, 3, 100}, {0.5f, 0.5f, 0.5f, 100}}, {{10, 12, 12, 12}, {10, 11, 10, 11}},
        {{{10, .5f, 11, .3f}}, {{11, .6f, 10, .2f}}, {{10, .9f, 11, .05f}}, {{11, .3f, 10, .3f}}});
}

// The same text as a three-layer model with another tokenizer reads it: BOS, "hel", "lo wor",
// "ld" — "hello" split in two, and a token that merges the end of "hello" with " wor".
Trace rightTrace()
{
    return makeTrace(
        "right", "B", 3, {{"<s>", -1, -1}, {"hel", 0, 3}, {"lo wor", 3, 9}, {"ld", 9, 11}},
        {{1, 1, 1, 1}, {2, 2, 2, 2}, {3, 3, 3, 5}},
        {{10, 12, 12, 12}, {12, 12, 12, 12}, {10, 12, 10, 10}},
        {{{10, .5f, 11, .3f}}, {{12, .7f, 10, .1f}}, {{10, .8f, 12, .1f}}, {{10, .95f, 11, .01f}}});
}

} // namespace

class TestComparison : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void klOnTopk();
    void depths();
    void twoTokenizations();
    void otherVocabulary();
    void samePrompt();
    void missingLens();
};

void TestComparison::klOnTopk()
{
    // Identical top-k: 0.
    QVERIFY(near(topkKl({1, 2}, {.6f, .3f}, {1, 2}, {.6f, .3f}), 0.0, 1e-7));
    // All mass in the top-k: the exact KL. .6 ln(.6/.5) + .4 ln(.4/.5)
    QVERIFY(near(topkKl({1, 2}, {.6f, .4f}, {2, 1}, {.5f, .5f}),
                 0.6 * std::log(1.2) + 0.4 * std::log(0.8), 1e-6));
    // Union {a, b, c} + other. p: a .5, b .3, rest .2 shared by c and other -> .1 each (cap .3);
    // q: c .6, a .2, rest .2 shared by b and other -> .1 each (cap .2).
    // KL = .5 ln(.5/.2) + .3 ln(.3/.1) + .1 ln(.1/.6) + .1 ln(.1/.1)
    const double want = 0.5 * std::log(2.5) + 0.3 * std::log(3.0) + 0.1 * std::log(0.1 / 0.6);
    QVERIFY2(near(topkKl({1, 2}, {.5f, .3f}, {3, 1}, {.6f, .2f}), want, 1e-6),
             qPrintable(QString::number(topkKl({1, 2}, {.5f, .3f}, {3, 1}, {.6f, .2f}))));
    // The cap: p's rest .5 over one missing id and other would give .25 each, but p's smallest
    // stored probability is .1, so the id gets .1 and other .4.
    // p = {1: .4, 2: .1, 3: .1, other .4}; q = {3: .5, 1: .5, 2: 0 -> floor, other 0}
    // q's rest is 0: the missing id 2 and other get 0, floored at 1e-12 in the denominator.
    const double capped = 0.4 * std::log(0.4 / 0.5) + 0.1 * std::log(0.1 / 1e-12) +
                          0.1 * std::log(0.1 / 0.5) + 0.4 * std::log(0.4 / 1e-12);
    QVERIFY(near(topkKl({1, 2}, {.4f, .1f}, {3, 1}, {.5f, .5f}), capped, 1e-5));
}

void TestComparison::depths()
{
    const std::vector<double> g = depthGrid(2, 3);
    QCOMPARE(g.size(), size_t(4)); // 1/3, 1/2, 2/3, 1 (1 = 2/2 = 3/3 once)
    QVERIFY(near(g[0], 1.0 / 3) && near(g[1], 0.5) && near(g[2], 2.0 / 3) && near(g[3], 1.0));
    QCOMPARE(layerAtDepth(1.0 / 3, 2), -1);
    QCOMPARE(layerAtDepth(0.5, 2), 0);
    QCOMPARE(layerAtDepth(2.0 / 3, 2), 0);
    QCOMPARE(layerAtDepth(1.0, 2), 1);
    QCOMPARE(layerAtDepth(1.0 / 3, 3), 0); // exactly at a layer's depth counts
    QCOMPARE(layerAtDepth(2.0 / 3, 3), 1);
    QCOMPARE(depthGrid(4, 2).size(), size_t(4)); // 1/4 1/2 3/4 1
}

void TestComparison::twoTokenizations()
{
    const Trace a = leftTrace(), b = rightTrace();
    const TraceComparison c = compareTraces(a, b);
    QCOMPARE(c.mode, std::string("models"));
    QVERIFY(c.sameVocabulary); // same size, ids both know read the same
    // BOS with BOS; "hello" with "hel" and with "lo wor"; " world" with "lo wor" and "ld";
    // the generated "!" has no partner.
    const std::vector<std::pair<int, int>> pairs{{0, 0}, {1, 1}, {1, 2}, {2, 2}, {2, 3}, {3, -1}};
    QCOMPARE(c.pairs, pairs);
    const auto &L = c.side[0], &R = c.side[1];
    QCOMPARE(L.tokenText[2], std::string("hello"));
    QCOMPARE(R.tokenText[2], std::string("lo wor"));
    QCOMPARE(L.top1[2], 11);
    QCOMPARE(L.top1Text[2], std::string("y"));
    QCOMPARE(R.top1[2], 10);
    QCOMPARE(R.top1Text[2], std::string("x"));
    QVERIFY(near(R.top1Prob[2], 0.8, 1e-6));
    QVERIFY(near(L.entropy[4], 0.75)); // left position 2
    // Decision depths. Left (2 layers): pos 0 decided at layer 0, the others at layer 1.
    QCOMPARE(L.decisionLayer[0], 0);
    QVERIFY(near(L.decisionDepth[0], 0.5));
    QCOMPARE(L.decisionLayer[1], 1);
    QVERIFY(near(L.decisionDepth[1], 1.0));
    // Right (3 layers): "hel" top-1 12 from layer 0 -> 0; "lo wor" 10 only at layer 2;
    // "ld" 10 only at layer 2; BOS 10 at 0, 12 at 1, 10 at 2 -> 2.
    QCOMPARE(R.decisionLayer[1], 0);
    QVERIFY(near(R.decisionDepth[1], 1.0 / 3));
    QCOMPARE(R.decisionLayer[2], 2);
    QCOMPARE(R.decisionLayer[0], 2);
    // The unpaired generated token: the right side is empty.
    QCOMPARE(R.top1[5], -1);
    QVERIFY(std::isnan(R.top1Prob[5]));
    QCOMPARE(R.decisionLayer[5], -1);
    QVERIFY(std::isnan(c.kl[5]));
    // KL: identical BOS distributions, and pair (1, 2) as topkKl computes it.
    QVERIFY(near(c.kl[0], 0.0, 1e-7));
    QVERIFY(near(c.kl[2], topkKl({11, 10}, {.6f, .2f}, {10, 12}, {.8f, .1f})));
    QVERIFY(c.kl[2] > 0.5);

    // Depths 1/3, 1/2, 2/3, 1; left layers -1 0 0 1, right 0 0 1 2.
    QCOMPARE(c.depthLayer[0], (std::vector<int>{-1, 0, 0, 1}));
    QCOMPARE(c.depthLayer[1], (std::vector<int>{0, 0, 1, 2}));
    // Mean entropy over aligned positions: left 0 1 2 (not the generated 3), right all four.
    QCOMPARE(c.nAlignedPositions[0], 3);
    QCOMPARE(c.nAlignedPositions[1], 4);
    QVERIFY(std::isnan(c.meanEntropy[0][0]));
    QVERIFY(near(c.meanEntropy[0][1], 2.0, 1e-6));
    QVERIFY(near(c.meanEntropy[0][3], 0.5, 1e-6));
    QVERIFY(near(c.meanEntropy[1][0], 1.0, 1e-6));
    QVERIFY(near(c.meanEntropy[1][2], 2.0, 1e-6));
    QVERIFY(near(c.meanEntropy[1][3], 3.5, 1e-6));
}

void TestComparison::otherVocabulary()
{
    Trace a = leftTrace(), b = rightTrace();
    b.vocab[11] = "not y"; // an id both know reads differently: other vocabularies
    const TraceComparison c = compareTraces(a, b);
    QVERIFY(!c.sameVocabulary);
    for (double kl : c.kl)
        QVERIFY(std::isnan(kl));
    b = rightTrace();
    b.config.vocabSize = 64;
    QVERIFY(!compareTraces(a, b).sameVocabulary);
}

void TestComparison::samePrompt()
{
    const Trace a = leftTrace();
    Trace b = leftTrace();
    b.name = "again";
    const TraceComparison c = compareTraces(a, b);
    QCOMPARE(c.mode, std::string("prompts"));
    QVERIFY(c.sameVocabulary);
    QCOMPARE(c.pairs.size(), size_t(5)); // 0-0 1-1 2-2, then the generated tokens unpaired
    for (size_t k = 0; k < 3; ++k) {
        QVERIFY(near(c.kl[k], 0.0, 1e-7));
        QCOMPARE(c.side[0].decisionLayer[k], c.side[1].decisionLayer[k]);
    }
    QCOMPARE(c.depths.size(), size_t(2));
    QCOMPARE(c.meanEntropy[0], c.meanEntropy[1]);
}

void TestComparison::missingLens()
{
    Trace a = leftTrace();
    a.lens[size_t(Site::ResidPost)] = LensSite();
    QVERIFY_EXCEPTION_THROWN(compareTraces(a, rightTrace()), InputError);
}

QTEST_APPLESS_MAIN(TestComparison)
#include "tst_comparison.moc"
