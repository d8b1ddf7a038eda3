// Correlations of known vectors (ties for Spearman, NaN pairs left out) and attention versus
// change of meaning on hand-built traces, with answers worked out by hand.
#include "headlens/analysis/correlation.h"
#include "headlens/trace/error.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace HeadLens;

Q_DECLARE_METATYPE(std::vector<double>)

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

bool near(double a, double b, double tol = 1e-9)
{
    return std::abs(a - b) <= tol;
}

// L layers, H heads, T tokens; every metric 0, change measures 0.
Trace makeTrace(int L, int H, int T, const std::string &name = "t")
{
    Trace t;
    t.name = name;
    t.config.nLayers = L;
    t.config.nHeads = H;
    t.tokens.resize(size_t(T));
    for (FloatArray *a :
         {&t.contribNorm, &t.contribCosine, &t.contribProjection, &t.attnEntropy, &t.valueNorm})
        a->reset({L, H, T}, 0.0f);
    t.changeCosine.reset({L, T}, 0.0f);
    t.changeKl.reset({L, T}, 0.0f);
    return t;
}

int statRow(AttentionStat s, int H, int head = -1)
{
    return int(s) * (1 + H) + 1 + head;
}

} // namespace

class TestCorrelation : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void ranks_data();
    void ranks();
    void correlations_data();
    void correlations();
    void skipsNonFinite();
    void attentionStatisticsByHand();
    void builderByHand();
    void firstPosition();
    void pooledOverLayers();
    void withoutPattern();
    void shapeMismatch();
};

void TestCorrelation::ranks_data()
{
    QTest::addColumn<std::vector<double>>("values");
    QTest::addColumn<std::vector<double>>("expected");
    QTest::newRow("distinct") << std::vector<double>{3, 1, 2} << std::vector<double>{3, 1, 2};
    QTest::newRow("one tie") << std::vector<double>{10, 20, 20, 30}
                             << std::vector<double>{1, 2.5, 2.5, 4};
    QTest::newRow("three tied") << std::vector<double>{5, 5, 1, 5}
                                << std::vector<double>{3, 3, 1, 3};
}

void TestCorrelation::ranks()
{
    QFETCH(std::vector<double>, values);
    QFETCH(std::vector<double>, expected);
    QCOMPARE(averageRanks(values), expected);
}

void TestCorrelation::correlations_data()
{
    QTest::addColumn<std::vector<double>>("x");
    QTest::addColumn<std::vector<double>>("y");
    QTest::addColumn<double>("r");   // Pearson
    QTest::addColumn<double>("rho"); // Spearman
    QTest::newRow("linear") << std::vector<double>{1, 2, 3} << std::vector<double>{2, 4, 6} << 1.0
                            << 1.0;
    QTest::newRow("reversed") << std::vector<double>{1, 2, 3} << std::vector<double>{3, 2, 1}
                              << -1.0 << -1.0;
    // dx = dy up to a swap: sxy = 2.25 - .25 - .25 + 2.25 = 4, sxx = syy = 5 -> .8
    QTest::newRow("one swap") << std::vector<double>{1, 2, 3, 4} << std::vector<double>{1, 3, 2, 4}
                              << 0.8 << 0.8;
    // Spearman: ranks x = 1 2.5 2.5 4, y = 1 2 3 4: sxy = 4.5, sxx = 4.5, syy = 5 ->
    // 4.5 / sqrt(22.5) (scipy.stats.spearmanr: 0.9486832980505138). Pearson on the raw values:
    // sxy = 3, sxx = 2, syy = 5 -> 3 / sqrt(10), the same number.
    QTest::newRow("tie in x") << std::vector<double>{1, 2, 2, 3} << std::vector<double>{1, 2, 3, 4}
                              << 3.0 / std::sqrt(10.0) << 4.5 / std::sqrt(22.5);
    // Ties on both sides: x ranks 1.5 1.5 3 4, y ranks 1 2.5 2.5 4 -> dx -1 -1 .5 1.5,
    // dy -1.5 0 0 1.5: sxy = 3.75, sxx = 4.5, syy = 4.5 -> 3.75 / 4.5
    QTest::newRow("ties on both sides")
        << std::vector<double>{7, 7, 8, 9} << std::vector<double>{1, 5, 5, 6} << kNaN << 3.75 / 4.5;
    QTest::newRow("monotone, not linear")
        << std::vector<double>{1, 2, 3, 4} << std::vector<double>{1, 4, 9, 100} << kNaN << 1.0;
    QTest::newRow("constant side")
        << std::vector<double>{1, 1, 1} << std::vector<double>{1, 2, 3} << kNaN << kNaN;
}

void TestCorrelation::correlations()
{
    QFETCH(std::vector<double>, x);
    QFETCH(std::vector<double>, y);
    QFETCH(double, r);
    QFETCH(double, rho);
    const Correlation c = correlate(x, y);
    QCOMPARE(c.n, int64_t(x.size()));
    const QByteArray tag = QTest::currentDataTag();
    if (tag == "monotone, not linear" || tag == "ties on both sides") {
        QVERIFY(c.pearson < 0.95 && c.pearson > 0.5);
    } else if (std::isnan(r)) {
        QVERIFY(std::isnan(c.pearson));
    } else {
        QVERIFY2(near(c.pearson, r), qPrintable(QString::number(c.pearson, 'g', 17)));
    }
    if (std::isnan(rho))
        QVERIFY(std::isnan(c.spearman));
    else
        QVERIFY2(near(c.spearman, rho), qPrintable(QString::number(c.spearman, 'g', 17)));
}

void TestCorrelation::skipsNonFinite()
{
    // Pairs 3 (NaN x) and 4 (inf y) drop out; (1,2) (2,4) (4,8) are left: r = 1, n = 3.
    const Correlation c = correlate({1, 2, kNaN, 3, 4}, {2, 4, 5, kInf, 8});
    QCOMPARE(c.n, int64_t(3));
    QVERIFY(near(c.pearson, 1.0));
    QVERIFY(near(c.spearman, 1.0));
    const Correlation one = correlate({1, kNaN}, {1, 2});
    QCOMPARE(one.n, int64_t(1));
    QVERIFY(std::isnan(one.pearson));
    QVERIFY_EXCEPTION_THROWN(correlate({1, 2}, {1}), std::invalid_argument);
}

void TestCorrelation::attentionStatisticsByHand()
{
    // One layer, two heads, three tokens.
    Trace t = makeTrace(1, 2, 3);
    FloatArray p({2, 3, 3}, 0.0f);
    const float h0[3][3] = {{1, 0, 0}, {.5f, .5f, 0}, {.2f, .3f, .5f}};
    const float h1[3][3] = {{1, 0, 0}, {.9f, .1f, 0}, {.6f, .3f, .1f}};
    for (int q = 0; q < 3; ++q)
        for (int k = 0; k < 3; ++k) {
            p.at({0, q, k}) = h0[q][k];
            p.at({1, q, k}) = h1[q][k];
        }
    const float vn0[3] = {1, 2, 4}, ent0[3] = {0, .7f, 1};
    for (int k = 0; k < 3; ++k) {
        t.valueNorm.at({0, 0, k}) = vn0[k];
        t.valueNorm.at({0, 1, k}) = 2;
        t.attnEntropy.at({0, 0, k}) = ent0[k];
        t.attnEntropy.at({0, 1, k}) = 0.1f;
    }
    const FloatArray s = attentionStatistics(t, 0, p);
    const int H = 2;
    QCOMPARE(s.shape, (std::vector<int64_t>{4 * 3, 3}));
    QCOMPARE(attentionStatisticNames(H)[size_t(statRow(AttentionStat::MaxOtherAttention, H, 1))],
             std::string("max_other_attention_h1"));
    auto at = [&](AttentionStat st, int head, int pos) {
        return double(s.at({statRow(st, H, head), pos}));
    };
    // self: h0 1 .5 .5, h1 1 .1 .1, mean 1 .3 .3
    QVERIFY(near(at(AttentionStat::SelfAttention, 0, 2), 0.5, 1e-6));
    QVERIFY(near(at(AttentionStat::SelfAttention, -1, 1), 0.3, 1e-6));
    // max other: NaN at 0; h0 .5 .3, h1 .9 .6, mean .7 .45
    QVERIFY(std::isnan(at(AttentionStat::MaxOtherAttention, -1, 0)));
    QVERIFY(near(at(AttentionStat::MaxOtherAttention, 1, 1), 0.9, 1e-6));
    QVERIFY(near(at(AttentionStat::MaxOtherAttention, -1, 2), 0.45, 1e-6));
    // norm-based self: h0 1 1 2, h1 2 .2 .2, mean 1.5 .6 1.1
    QVERIFY(near(at(AttentionStat::NormSelfAttention, 0, 2), 2.0, 1e-6));
    QVERIFY(near(at(AttentionStat::NormSelfAttention, -1, 0), 1.5, 1e-6));
    QVERIFY(near(at(AttentionStat::NormSelfAttention, -1, 2), 1.1, 1e-6));
    // entropy from the trace: mean of .7 and .1 at pos 1
    QVERIFY(near(at(AttentionStat::Entropy, -1, 1), 0.4, 1e-6));
}

void TestCorrelation::builderByHand()
{
    // One head; self-attention .2 .5 .9 at positions 1..3, against change_cosine .1 .3 .2:
    // r = .03 / sqrt(.246667 * .02) = .427121...; ranks 1 2 3 against 1 3 2: rho = .5.
    // change_kl 1 2 NaN: only two points, r = rho = 1, n = 2.
    Trace t = makeTrace(1, 1, 4);
    FloatArray p({1, 4, 4}, 0.0f);
    p.at({0, 0, 0}) = 1;
    const float self[4] = {1, .2f, .5f, .9f};
    for (int q = 1; q < 4; ++q) {
        p.at({0, q, q}) = self[q];
        p.at({0, q, 0}) = 1 - self[q];
    }
    t.changeCosine.data = {0.05f, .1f, .3f, .2f};
    t.changeKl.data = {0.0f, 1.0f, 2.0f, float(kNaN)};
    AttentionChangeBuilder b;
    b.add(t, [&](int) { return p; });
    const AttentionChangeCorrelation r = b.result();
    QVERIFY(!r.includedFirstPosition);
    QCOMPARE(r.nTraces, 1);
    QCOMPARE(r.measures, (std::vector<std::string>{"change_cosine", "change_kl"}));
    const int self0 = statRow(AttentionStat::SelfAttention, 1, -1);
    const Correlation &c = r.at(self0, 0, 0);
    QCOMPARE(c.n, int64_t(3));
    const double mx = (0.2 + 0.5 + 0.9) / 3, my = 0.2;
    const double sxy = (0.2 - mx) * (0.1 - my) + (0.5 - mx) * (0.3 - my) + (0.9 - mx) * (0.2 - my);
    const double sxx = (0.2 - mx) * (0.2 - mx) + (0.5 - mx) * (0.5 - mx) + (0.9 - mx) * (0.9 - mx);
    const double syy = 0.01 + 0.01 + 0.0;
    QVERIFY(near(c.pearson, sxy / std::sqrt(sxx * syy), 1e-5));
    QVERIFY(near(c.pearson, 0.42712, 1e-4));
    QVERIFY(near(c.spearman, 0.5, 1e-9));
    const Correlation &kl = r.at(self0, 1, 0);
    QCOMPARE(kl.n, int64_t(2));
    QVERIFY(near(kl.pearson, 1.0));
    QVERIFY(near(kl.spearman, 1.0));
    // One layer: pooled over layers is the same.
    QCOMPARE(r.pooled(self0, 0).n, int64_t(3));
    QVERIFY(near(r.pooled(self0, 0).pearson, c.pearson));
    // Max attention to another position = 1 - self here: r = -.427..., rho = -.5.
    const Correlation &mo = r.at(statRow(AttentionStat::MaxOtherAttention, 1, -1), 0, 0);
    QVERIFY(near(mo.pearson, -c.pearson, 1e-5));
    QVERIFY(near(mo.spearman, -0.5));
}

void TestCorrelation::firstPosition()
{
    Trace t = makeTrace(1, 1, 4);
    FloatArray p({1, 4, 4}, 0.0f);
    for (int q = 0; q < 4; ++q)
        p.at({0, q, q}) = 1;
    t.changeCosine.data = {0.5f, .1f, .3f, .2f};
    AttentionChangeOptions o;
    o.includeFirstPosition = true;
    AttentionChangeBuilder b(o);
    b.add(t, [&](int) { return p; });
    const AttentionChangeCorrelation r = b.result();
    QVERIFY(r.includedFirstPosition);
    const int self0 = statRow(AttentionStat::SelfAttention, 1, -1);
    QCOMPARE(r.at(self0, 0, 0).n, int64_t(4));
    QVERIFY(std::isnan(r.at(self0, 0, 0).pearson)); // self-attention 1 everywhere: no variance
    // max-other is NaN at position 0 even when it is included.
    QCOMPARE(r.at(statRow(AttentionStat::MaxOtherAttention, 1, -1), 0, 0).n, int64_t(3));
}

void TestCorrelation::pooledOverLayers()
{
    // Two layers, two traces: pooled = correlate over every point of every layer.
    std::vector<double> allX, allY;
    AttentionChangeBuilder b;
    for (int tr = 0; tr < 2; ++tr) {
        Trace t = makeTrace(2, 1, 5, "t" + std::to_string(tr));
        for (int l = 0; l < 2; ++l)
            for (int q = 0; q < 5; ++q) {
                t.attnEntropy.at({l, 0, q}) = float(q * (l + 1) + tr);
                t.changeKl.at({l, q}) = float((q * 7 + l * 3 + tr) % 5);
                if (q > 0) {
                    allX.push_back(t.attnEntropy.at({l, 0, q}));
                    allY.push_back(t.changeKl.at({l, q}));
                }
            }
        b.add(t, [](int) { return FloatArray(); });
    }
    const AttentionChangeCorrelation r = b.result();
    QCOMPARE(r.nTraces, 2);
    const int e = statRow(AttentionStat::Entropy, 1, -1);
    const Correlation want = correlate(allX, allY);
    QCOMPARE(r.pooled(e, 1).n, int64_t(16));
    QCOMPARE(r.at(e, 1, 0).n + r.at(e, 1, 1).n, int64_t(16));
    QVERIFY(near(r.pooled(e, 1).pearson, want.pearson, 1e-12));
    QVERIFY(near(r.pooled(e, 1).spearman, want.spearman, 1e-12));
}

void TestCorrelation::withoutPattern()
{
    // No attention stored: only the entropy rows have points.
    Trace t = makeTrace(1, 1, 4);
    t.attnEntropy.data = {0, 1, 2, 3};
    t.changeCosine.data = {0, 2, 4, 7};
    AttentionChangeBuilder b;
    b.add(t);
    const AttentionChangeCorrelation r = b.result();
    QCOMPARE(r.at(statRow(AttentionStat::SelfAttention, 1, -1), 0, 0).n, int64_t(0));
    const Correlation &c = r.at(statRow(AttentionStat::Entropy, 1, 0), 0, 0);
    QCOMPARE(c.n, int64_t(3));
    QVERIFY(near(c.spearman, 1.0));
    // A trace from before the change measures: its points drop out of those correlations.
    Trace old = makeTrace(1, 1, 4, "old");
    old.changeCosine.clear();
    old.changeKl.clear();
    b.add(old);
    QCOMPARE(b.result().at(statRow(AttentionStat::Entropy, 1, 0), 0, 0).n, int64_t(3));
}

void TestCorrelation::shapeMismatch()
{
    AttentionChangeBuilder b;
    b.add(makeTrace(2, 2, 3, "a"));
    QVERIFY_EXCEPTION_THROWN(b.add(makeTrace(3, 2, 3, "b")), InputError);
}

QTEST_APPLESS_MAIN(TestCorrelation)
#include "tst_correlation.moc"
