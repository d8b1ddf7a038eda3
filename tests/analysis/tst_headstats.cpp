// Head statistics on hand-built traces whose answers are worked out by hand, and the
// benchmark of issue 4 (100 traces x 64 tokens of a 12 x 12 model), which prints its figure.
#include "headlens/analysis/headstats.h"
#include "headlens/trace/error.h"

#include <QElapsedTimer>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace HeadLens;

Q_DECLARE_METATYPE(std::vector<double>)

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// A trace of L layers, H heads, T tokens whose head metrics are all `fill`.
Trace makeTrace(int L, int H, int T, float fill = 0.0f, const std::string &name = "t")
{
    Trace t;
    t.name = name;
    t.config.nLayers = L;
    t.config.nHeads = H;
    t.tokens.resize(size_t(T));
    for (FloatArray *a :
         {&t.contribNorm, &t.contribCosine, &t.contribProjection, &t.attnEntropy, &t.valueNorm})
        a->reset({L, H, T}, fill);
    return t;
}

void setRow(FloatArray &a, int l, int h, const std::vector<float> &values)
{
    for (size_t p = 0; p < values.size(); ++p)
        a.at({l, h, int64_t(p)}) = values[p];
}

} // namespace

class TestHeadStats : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void quantiles_data();
    void quantiles();
    void histogram();
    void summary();
    void share();
    void normBased();
    void builder();
    void optionalMetrics();
    void excludeFirstPosition();
    void shapeMismatch();
    void benchmark();
};

void TestHeadStats::quantiles_data()
{
    // Expected values are numpy.quantile(values, [0, .05, .25, .5, .75, .95, 1]) (linear).
    QTest::addColumn<std::vector<double>>("values");
    QTest::addColumn<std::vector<double>>("expected");
    QTest::newRow("1..5") << std::vector<double>{1, 2, 3, 4, 5}
                          << std::vector<double>{1, 1.2, 2, 3, 4, 4.8, 5};
    // sorted 1 2 4 8: h = 3p; p=.05 -> 1 + .15*1; .25 -> h=.75 -> 1.75; .5 -> h=1.5 -> 3;
    // .75 -> h=2.25 -> 4 + .25*4 = 5; .95 -> h=2.85 -> 4 + .85*4 = 7.4
    QTest::newRow("unsorted 8 1 4 2")
        << std::vector<double>{8, 1, 4, 2} << std::vector<double>{1, 1.15, 1.75, 3, 5, 7.4, 8};
    QTest::newRow("one value") << std::vector<double>{7} << std::vector<double>(7, 7.0);
    QTest::newRow("NaN and inf ignored")
        << std::vector<double>{kNaN, 2, std::numeric_limits<double>::infinity(), 0}
        << std::vector<double>{0, 0.1, 0.5, 1, 1.5, 1.9, 2};
    QTest::newRow("nothing finite") << std::vector<double>{kNaN} << std::vector<double>(7, kNaN);
}

void TestHeadStats::quantiles()
{
    QFETCH(std::vector<double>, values);
    QFETCH(std::vector<double>, expected);
    const std::vector<double> levels(quantileLevels().begin(), quantileLevels().end());
    const std::vector<double> q = HeadLens::quantiles(values, levels);
    QCOMPARE(q.size(), expected.size());
    for (size_t i = 0; i < q.size(); ++i) {
        if (std::isnan(expected[i]))
            QVERIFY(std::isnan(q[i]));
        else
            QVERIFY2(std::abs(q[i] - expected[i]) < 1e-12,
                     qPrintable(
                         QString("level %1: %2 != %3").arg(levels[i]).arg(q[i]).arg(expected[i])));
    }
}

void TestHeadStats::histogram()
{
    // Four bins over [0, 1]: [0, .25) [.25, .5) [.5, .75) [.75, 1]
    Histogram h(0.0, 1.0, 4);
    QCOMPARE(h.edge(0), 0.0);
    QCOMPARE(h.edge(2), 0.5);
    QCOMPARE(h.edge(4), 1.0);
    for (double v : {-0.5, 0.0, 0.1, 0.25, 0.49, 0.5, 0.75, 0.999, 1.0, 1.5})
        h.add(v);
    QCOMPARE(h.counts, (std::vector<int64_t>{2, 2, 1, 3}));
    QCOMPARE(h.underflow, int64_t(1));
    QCOMPARE(h.overflow, int64_t(1));
    QVERIFY_EXCEPTION_THROWN(Histogram(1.0, 1.0, 3), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(Histogram(0.0, 1.0, 0), std::invalid_argument);

    // Edges that are not exact in binary: 0.3 lies in [0.3, 0.4), not below it.
    Histogram tenths(0.0, 1.0, 10);
    tenths.add(0.3);
    tenths.add(0.7);
    QCOMPARE(tenths.counts[3], int64_t(1));
    QCOMPARE(tenths.counts[7], int64_t(1));
}

void TestHeadStats::summary()
{
    const Distribution d = summarize({1, 2, 3, 4, kNaN}, 0.0, 4.0, 2);
    QCOMPARE(d.n, int64_t(4));
    QCOMPARE(d.nonFinite, int64_t(1));
    QCOMPARE(d.mean, 2.5);
    QVERIFY(std::abs(d.std - std::sqrt(1.25)) < 1e-12);         // population std
    QCOMPARE(d.quantiles[3], 2.5);                              // median
    QCOMPARE(d.histogram.counts, (std::vector<int64_t>{1, 3})); // [0,2): 1; [2,4]: 2 3 4
    const Distribution empty = summarize({}, 0.0, 1.0, 3);
    QCOMPARE(empty.n, int64_t(0));
    QVERIFY(std::isnan(empty.mean));
    QCOMPARE(empty.histogram.counts.size(), size_t(3));
}

void TestHeadStats::share()
{
    FloatArray norm({1, 2, 3});
    // pos 0: 1 and 3 -> .25 .75; pos 1: 2 and 2 -> .5 .5; pos 2: 0 and 0 -> 0 0
    setRow(norm, 0, 0, {1, 2, 0});
    setRow(norm, 0, 1, {3, 2, 0});
    const FloatArray s = contribShare(norm);
    QCOMPARE(s.shape, norm.shape);
    QCOMPARE(s.at({0, 0, 0}), 0.25f);
    QCOMPARE(s.at({0, 1, 0}), 0.75f);
    QCOMPARE(s.at({0, 0, 1}), 0.5f);
    QCOMPARE(s.at({0, 1, 2}), 0.0f);
}

void TestHeadStats::normBased()
{
    FloatArray pattern({1, 2, 2}, 0.0f);
    pattern.at({0, 0, 0}) = 1.0f;
    pattern.at({0, 1, 0}) = 0.25f;
    pattern.at({0, 1, 1}) = 0.75f;
    FloatArray vn({1, 2});
    vn.data = {2.0f, 4.0f};
    const FloatArray a = normBasedAttention(pattern, vn);
    QCOMPARE(a.data, (std::vector<float>{2.0f, 0.0f, 0.5f, 3.0f}));
    // From an [L, H, T] value_norm, choosing the layer.
    FloatArray vn3({2, 1, 2});
    vn3.data = {9.0f, 9.0f, 2.0f, 4.0f};
    QCOMPARE(normBasedAttention(pattern, vn3, 1).data, a.data);
    QVERIFY_EXCEPTION_THROWN(normBasedAttention(pattern, vn3, 2), std::invalid_argument);
}

void TestHeadStats::builder()
{
    // One layer, two heads, three positions.
    Trace t = makeTrace(1, 2, 3);
    setRow(t.contribNorm, 0, 0, {1, 2, 3});
    setRow(t.contribNorm, 0, 1, {3, 3, 3});
    setRow(t.attnEntropy, 0, 0, {0, 0.5f, 1});
    setRow(t.contribCosine, 0, 1, {1, -1, kNaN});
    HeadStatsOptions o;
    o.bins = 3;
    o.range[size_t(HeadMetricKind::ContribNorm)] = std::make_pair(0.0, 3.0);
    HeadStatsBuilder b(o);
    b.add(t);
    const HeadStats s = b.result();
    QCOMPARE(s.nLayers, 1);
    QCOMPARE(s.nHeads, 2);
    QCOMPARE(s.nTraces, 1);
    QCOMPARE(s.nPositions, int64_t(3));

    const Distribution &n0 = s.head(HeadMetricKind::ContribNorm, 0, 0);
    QCOMPARE(n0.mean, 2.0);
    QCOMPARE(n0.quantiles[3], 2.0);
    QCOMPARE(n0.histogram.counts, (std::vector<int64_t>{0, 1, 2})); // [0,1) [1,2) [2,3]
    // The layer pools both heads: 1 2 3 3 3 3.
    const Distribution &layer = s.metric(HeadMetricKind::ContribNorm).perLayer[0];
    QCOMPARE(layer.n, int64_t(6));
    QCOMPARE(layer.mean, 2.5);
    QCOMPARE(layer.quantiles[3], 3.0);
    QCOMPARE(layer.quantiles[1], 1.25); // h = 5 * .05 = .25 -> 1 + .25 * (2 - 1)

    // Shares: pos 0 1/4, pos 1 2/5, pos 2 3/6.
    const Distribution &sh0 = s.head(HeadMetricKind::ContribShare, 0, 0);
    QVERIFY(std::abs(sh0.mean - (0.25 + 0.4 + 0.5) / 3) < 1e-6);
    // Default ranges: share [0, 1], cosine [-1, 1], entropy [0, ln 3].
    QCOMPARE(sh0.histogram.lo, 0.0);
    QCOMPARE(sh0.histogram.hi, 1.0);
    const Distribution &e0 = s.head(HeadMetricKind::AttnEntropy, 0, 0);
    QVERIFY(std::abs(e0.histogram.hi - std::log(3.0)) < 1e-12);
    const Distribution &c1 = s.head(HeadMetricKind::ContribCosine, 0, 1);
    QCOMPARE(c1.n, int64_t(2));
    QCOMPARE(c1.nonFinite, int64_t(1));
    QCOMPARE(c1.mean, 0.0);
    QCOMPARE(c1.histogram.counts.front() + c1.histogram.counts.back(), int64_t(2));

    // Ranked by mean contrib_norm: head 1 (3) before head 0 (2).
    QCOMPARE(s.ranking.size(), size_t(2));
    QCOMPARE(s.ranking[0].head, 1);
    QCOMPARE(s.ranking[0].meanContribNorm, 3.0);
    QCOMPARE(s.ranking[1].head, 0);

    // A second trace pools with the first.
    Trace t2 = makeTrace(1, 2, 2, 0.0f, "t2");
    setRow(t2.contribNorm, 0, 0, {5, 5});
    b.add(t2);
    const HeadStats s2 = b.result();
    QCOMPARE(s2.nTraces, 2);
    QCOMPARE(s2.nPositions, int64_t(5));
    QCOMPARE(s2.head(HeadMetricKind::ContribNorm, 0, 0).mean, (1.0 + 2 + 3 + 5 + 5) / 5);
    QCOMPARE(s2.head(HeadMetricKind::ContribNorm, 0, 0).histogram.overflow, int64_t(2));
    QCOMPARE(s2.ranking[0].head, 0); // 3.2 now beats (3 3 3 0 0) / 5 = 1.8
}

void TestHeadStats::optionalMetrics()
{
    Trace a = makeTrace(1, 1, 2, 1.0f, "a");
    a.residRatio.reset({1, 1, 2}, 0.5f);
    a.residProjection.reset({1, 1, 2}, -0.25f);
    HeadStatsBuilder b;
    b.add(a);
    HeadStats s = b.result();
    QVERIFY(s.metric(HeadMetricKind::ResidRatio).present);
    QCOMPARE(s.head(HeadMetricKind::ResidRatio, 0, 0).mean, 0.5);
    QCOMPARE(s.head(HeadMetricKind::ResidProjection, 0, 0).mean, -0.25);
    // A trace from before issue 8 has no ratios: the optional metrics drop out, the others stay.
    b.add(makeTrace(1, 1, 2, 1.0f, "old"));
    s = b.result();
    QVERIFY(!s.metric(HeadMetricKind::ResidRatio).present);
    QVERIFY(s.metric(HeadMetricKind::ContribNorm).present);
    QCOMPARE(s.head(HeadMetricKind::ContribNorm, 0, 0).n, int64_t(4));
}

void TestHeadStats::excludeFirstPosition()
{
    Trace t = makeTrace(1, 1, 3);
    setRow(t.contribNorm, 0, 0, {100, 1, 3});
    HeadStatsOptions o;
    o.excludeFirstPosition = true;
    const HeadStats s = headStatistics({&t}, o);
    QVERIFY(s.excludedFirstPosition);
    QCOMPARE(s.head(HeadMetricKind::ContribNorm, 0, 0).n, int64_t(2));
    QCOMPARE(s.head(HeadMetricKind::ContribNorm, 0, 0).mean, 2.0);
}

void TestHeadStats::shapeMismatch()
{
    Trace a = makeTrace(2, 2, 3, 1.0f, "a"), b = makeTrace(2, 3, 3, 1.0f, "b");
    HeadStatsBuilder builder;
    builder.add(a);
    QVERIFY_EXCEPTION_THROWN(builder.add(b), InputError);
    Trace broken = makeTrace(2, 2, 3, 1.0f, "broken");
    broken.attnEntropy.clear();
    QVERIFY_EXCEPTION_THROWN(builder.add(broken), InputError);
}

void TestHeadStats::benchmark()
{
    // Issue 4: statistics over a project of 100 traces of 64 tokens in under a second.
    // Printed, not asserted (machines differ); tst_analysisstore times the same with the
    // project file read from disk.
    const int nTraces = 100, L = 12, H = 12, T = 64;
    std::vector<Trace> traces;
    uint32_t x = 12345;
    auto next = [&] {
        x = x * 1664525u + 1013904223u;
        return float(x >> 8) / float(1 << 24);
    };
    for (int i = 0; i < nTraces; ++i) {
        Trace t = makeTrace(L, H, T, 0.0f, "t" + std::to_string(i));
        t.residRatio.reset({L, H, T});
        t.residProjection.reset({L, H, T});
        for (FloatArray *a : {&t.contribNorm, &t.contribCosine, &t.contribProjection,
                              &t.attnEntropy, &t.residRatio, &t.residProjection})
            for (float &v : a->data)
                v = next() * 4.0f;
        traces.push_back(std::move(t));
    }
    QElapsedTimer timer;
    timer.start();
    HeadStatsBuilder b;
    for (const Trace &t : traces)
        b.add(t);
    const HeadStats s = b.result();
    const qint64 ms = timer.elapsed();
    QCOMPARE(s.nPositions, int64_t(nTraces) * T);
    qInfo("BENCHMARK head statistics: %d traces x %d tokens, %d layers x %d heads, %d metrics: "
          "%lld ms",
          nTraces, T, L, H, kHeadMetricKindCount, ms);
}

QTEST_APPLESS_MAIN(TestHeadStats)
#include "tst_headstats.moc"
