// Head redundancy on hand-built attention patterns: identical heads come out with similarity 1
// and in one cluster, heads on disjoint keys with 0, and the numbers in between are worked out
// by hand.
#include "headlens/analysis/redundancy.h"
#include "headlens/trace/error.h"

#include <QtTest>

#include <cmath>

using namespace HeadLens;

namespace {

bool near(double a, double b, double tol = 1e-9)
{
    return std::abs(a - b) <= tol;
}

// Attention of one head over T tokens where every query q >= 1 attends fully to key `key(q)`.
void oneHot(FloatArray &p, int head, int T, const std::function<int(int)> &key)
{
    for (int q = 0; q < T; ++q)
        for (int k = 0; k < T; ++k)
            p.at({head, q, k}) = (q == 0 ? k == 0 : k == key(q)) ? 1.0f : 0.0f;
}

Trace makeTrace(int L, int H, int T, const std::string &name = "t")
{
    Trace t;
    t.name = name;
    t.config.nLayers = L;
    t.config.nHeads = H;
    t.tokens.resize(size_t(T));
    return t;
}

DoubleArray matrix(int n, const std::vector<double> &values)
{
    DoubleArray m({n, n});
    m.data = values;
    return m;
}

// 1 - JSD([.5, .5], [1, 0]) / ln 2: m = [.75, .25], H(m) = -(.75 ln .75 + .25 ln .25),
// H(p) = ln 2, H(q) = 0.
double halfVersusOne()
{
    const double hm = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
    return 1.0 - (hm - 0.5 * std::log(2.0)) / std::log(2.0);
}

} // namespace

class TestRedundancy : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void identicalAndDisjoint();
    void partialJsd();
    void correlationByHand();
    void firstQuery();
    void clustering();
    void averageLinkage();
    void builderWeightsTraces();
    void contribution();
    void errors();
};

void TestRedundancy::identicalAndDisjoint()
{
    // Heads 0 and 2 attend to key 0 (identical), head 1 to itself (disjoint from them).
    const int T = 4;
    FloatArray p({3, T, T}, 0.0f);
    oneHot(p, 0, T, [](int) { return 0; });
    oneHot(p, 1, T, [](int q) { return q; });
    oneHot(p, 2, T, [](int) { return 0; });
    const DoubleArray s = patternJsdSimilarity(p);
    QVERIFY(near(s.at({0, 2}), 1.0));
    QVERIFY(near(s.at({0, 1}), 0.0));
    QVERIFY(near(s.at({1, 2}), 0.0));
    QVERIFY(near(s.at({1, 1}), 1.0));
    QCOMPARE(s.at({1, 0}), s.at({0, 1}));

    Trace t = makeTrace(1, 3, T);
    t.attentionPattern = p;
    t.attentionPattern.shape = {1, 3, T, T};
    HeadSimilarityBuilder b;
    b.add(t);
    const HeadSimilarity r = b.result();
    QCOMPARE(r.nClusters, std::vector<int>{2});
    QCOMPARE(r.cluster.data, (std::vector<int32_t>{0, 1, 0}));
    QCOMPARE(r.order.data, (std::vector<int32_t>{0, 2, 1})); // the cluster {0, 2} together
    QCOMPARE(r.nQueries, int64_t(T - 1));
    QVERIFY(r.contribution.empty());
}

void TestRedundancy::partialJsd()
{
    FloatArray p({2, 2, 2}, 0.0f);
    p.at({0, 0, 0}) = p.at({1, 0, 0}) = 1;
    p.at({0, 1, 0}) = p.at({0, 1, 1}) = 0.5f;
    p.at({1, 1, 0}) = 1;
    const DoubleArray s = patternJsdSimilarity(p);
    QVERIFY2(near(s.at({0, 1}), halfVersusOne(), 1e-7), qPrintable(QString::number(s.at({0, 1}))));
    QVERIFY(near(halfVersusOne(), 0.688722, 1e-6));
}

void TestRedundancy::correlationByHand()
{
    // Flattened causal rows q = 1..3 (2 + 3 + 4 = 9 entries), three ones each, never in the same
    // place: mean 1/3, sxy = 3 (2/3)(-1/3) + 3 (-1/3)(2/3) + 3 (1/9) = -1, sxx = syy = 2 -> -.5
    const int T = 4;
    FloatArray p({3, T, T}, 0.0f);
    oneHot(p, 0, T, [](int) { return 0; });
    oneHot(p, 1, T, [](int q) { return q; });
    oneHot(p, 2, T, [](int) { return 0; });
    const DoubleArray c = patternCorrelation(p);
    QVERIFY(near(c.at({0, 1}), -0.5));
    QVERIFY(near(c.at({0, 2}), 1.0));
    QVERIFY(near(c.at({2, 2}), 1.0));
}

void TestRedundancy::firstQuery()
{
    // Only query 0 (T = 1): left out by default, nothing to average.
    FloatArray p({2, 1, 1}, 1.0f);
    QVERIFY(std::isnan(patternJsdSimilarity(p).at({0, 1})));
    QVERIFY(near(patternJsdSimilarity(p, true).at({0, 1}), 1.0));
    // Disjoint heads with query 0 included: (1 + 0 + 0 + 0) / 4.
    const int T = 4;
    FloatArray q({2, T, T}, 0.0f);
    oneHot(q, 0, T, [](int) { return 0; });
    oneHot(q, 1, T, [](int k) { return k; });
    QVERIFY(near(patternJsdSimilarity(q, true).at({0, 1}), 0.25));
}

void TestRedundancy::clustering()
{
    // 0~1 (.95), 2~3 (.92), 0~2 .5, the rest .1
    const DoubleArray s = matrix(4, {1, .95, .5, .1, //
                                     .95, 1, .1, .1, //
                                     .5, .1, 1, .92, //
                                     .1, .1, .92, 1});
    HeadClusters c = clusterBySimilarity(s, 0.9);
    QCOMPARE(c.nClusters, 2);
    QCOMPARE(c.cluster, (std::vector<int>{0, 0, 1, 1}));
    QCOMPARE(clusterBySimilarity(s, 0.96).nClusters, 4);
    // {0,1} against {2,3}: (.5 + .1 + .1 + .1) / 4 = .2
    QCOMPARE(clusterBySimilarity(s, 0.21).nClusters, 2);
    QCOMPARE(clusterBySimilarity(s, 0.19).nClusters, 1);

    // Order puts a cluster's members together: {0, 3}, {1}, {2}.
    const DoubleArray t = matrix(4, {1, 0, 0, .99, //
                                     0, 1, 0, 0,   //
                                     0, 0, 1, 0,   //
                                     .99, 0, 0, 1});
    c = clusterBySimilarity(t, 0.9);
    QCOMPARE(c.cluster, (std::vector<int>{0, 1, 2, 0}));
    QCOMPARE(c.order, (std::vector<int>{0, 3, 1, 2}));
}

void TestRedundancy::averageLinkage()
{
    // {0, 1} merge at .95; then 2 is (.9 + .8) / 2 = .85 from them: below .9, so it stays out
    // (single linkage would have taken it at .9).
    const DoubleArray s = matrix(3, {1, .95, .9, .95, 1, .8, .9, .8, 1});
    const HeadClusters c = clusterBySimilarity(s, 0.9);
    QCOMPARE(c.cluster, (std::vector<int>{0, 0, 1}));
    QCOMPARE(clusterBySimilarity(s, 0.85).nClusters, 1);
}

void TestRedundancy::builderWeightsTraces()
{
    // Trace a: 2 tokens (1 query), similarity halfVersusOne(); trace b: 4 tokens (3 queries),
    // identical heads, similarity 1. Mean weighted by queries: (s_a + 3) / 4.
    Trace a = makeTrace(1, 2, 2, "a");
    a.attentionPattern.reset({1, 2, 2, 2}, 0.0f);
    a.attentionPattern.at({0, 0, 0, 0}) = a.attentionPattern.at({0, 1, 0, 0}) = 1;
    a.attentionPattern.at({0, 0, 1, 0}) = a.attentionPattern.at({0, 0, 1, 1}) = 0.5f;
    a.attentionPattern.at({0, 1, 1, 0}) = 1;
    Trace b = makeTrace(1, 2, 4, "b");
    b.attentionPattern.reset({1, 2, 4, 4}, 0.0f);
    for (int h = 0; h < 2; ++h)
        for (int q = 0; q < 4; ++q)
            b.attentionPattern.at({0, h, q, q}) = 1;
    HeadSimilarityOptions o;
    o.threshold = 0.95;
    HeadSimilarityBuilder builder(o);
    builder.add(a);
    builder.add(b);
    const HeadSimilarity r = builder.result();
    QCOMPARE(r.nTraces, 2);
    QCOMPARE(r.nQueries, int64_t(4));
    const double want = (halfVersusOne() + 3.0) / 4.0; // .922...
    QVERIFY(near(r.jsd.at({0, 0, 1}), want, 1e-7));
    QCOMPARE(r.nClusters, std::vector<int>{2}); // below .95
    QCOMPARE(r.threshold, 0.95);
}

void TestRedundancy::contribution()
{
    // Contribution similarity from the engine, averaged weighted by tokens; clustered on it.
    Trace a = makeTrace(1, 2, 2, "a"), b = makeTrace(1, 2, 6, "b");
    for (Trace *t : {&a, &b}) {
        t->attentionPattern.reset({1, 2, t->nTokens(), t->nTokens()}, 0.0f);
        for (int h = 0; h < 2; ++h)
            for (int q = 0; q < t->nTokens(); ++q)
                t->attentionPattern.at({0, h, q, h == 0 ? 0 : q}) = 1;
    }
    FloatArray ca({1, 2, 2}), cb({1, 2, 2});
    ca.data = {1, 0, 0, 1};
    cb.data = {1, 1, 1, 1};
    HeadSimilarityOptions o;
    o.clusterOn = SimilarityKind::Contribution;
    HeadSimilarityBuilder builder(o);
    builder.add(a, &ca);
    builder.add(b, &cb);
    const HeadSimilarity r = builder.result();
    QVERIFY(!r.contribution.empty());
    QVERIFY(near(r.contribution.at({0, 0, 1}), (2 * 0.0 + 6 * 1.0) / 8)); // .75
    QCOMPARE(r.nClusters, std::vector<int>{2});                           // .75 < .9
    QVERIFY(near(r.jsd.at({0, 0, 1}), 0.0)); // the patterns are disjoint

    // Without contribution similarity from every trace, clustering on it is refused.
    HeadSimilarityBuilder partial(o);
    partial.add(a, &ca);
    partial.add(b);
    QVERIFY_EXCEPTION_THROWN(partial.result(), InputError);
}

void TestRedundancy::errors()
{
    Trace t = makeTrace(1, 2, 3);
    HeadSimilarityBuilder b;
    QVERIFY_EXCEPTION_THROWN(b.add(t), InputError); // no pattern
    QVERIFY_EXCEPTION_THROWN(b.add(t, [](int) { return FloatArray(); }), InputError);
    // A trace of another model shape is not pooled; the message names it and both shapes.
    HeadSimilarityBuilder pool;
    auto uniform = [](int H, int T) {
        return [H, T](int) { return FloatArray({H, T, T}, 1.0f / float(T)); };
    };
    pool.add(makeTrace(1, 2, 3, "first"), uniform(2, 3));
    try {
        pool.add(makeTrace(1, 4, 3, "wide"), uniform(4, 3));
        QFAIL("a trace of 4 heads was pooled with one of 2");
    } catch (const InputError &e) {
        const QString m = QString::fromStdString(e.what());
        QVERIFY2(m.contains("'wide'") && m.contains("1 layers x 4 heads") && m.contains("1 x 2"),
                 qPrintable(m));
    }
    QCOMPARE(pool.nTraces(), 1);
    QVERIFY_EXCEPTION_THROWN(patternJsdSimilarity(FloatArray({2, 3})), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(clusterBySimilarity(DoubleArray({2, 3}), 0.9), std::invalid_argument);
}

QTEST_APPLESS_MAIN(TestRedundancy)
#include "tst_redundancy.moc"
