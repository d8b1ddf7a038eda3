// The engine's per-row loops (modules/model/src/kernels.*) against plain float64 loops
// written here: dot products, the heads' sum and metrics (blocks of positions, a bias, a zero
// head), the mean pair cosine, the causal attention entropy (sharp rows included), the row
// comparisons of the change of meaning, exp, and the lens rows (top-k, ties, entropy,
// log-softmax) and their KL. Prints the loops' speed at a real layer's size.

#include "kernels.h"

#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace HeadLens;

namespace {

std::vector<float> randomVector(size_t n, std::mt19937 &rng, float scale = 1.0f)
{
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (float &x : v)
        x = d(rng);
    return v;
}

double dot64(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += double(a[i]) * double(b[i]);
    return s;
}

bool close(double got, double want, double tol, double floor = 0)
{
    return std::abs(got - want) <= tol * std::max(std::abs(want), floor);
}

// One layer's worth of heads' vectors r [H, T, D], resid_pre [T, D] and a bias [D].
struct Layer {
    int H = 0;
    int64_t T = 0, D = 0;
    std::vector<float> r, pre, bias;
    const float *head(int h, int64_t t) const { return r.data() + (h * T + t) * D; }
};

Layer randomLayer(int H, int64_t T, int64_t D, std::mt19937 &rng)
{
    Layer l;
    l.H = H;
    l.T = T;
    l.D = D;
    l.r = randomVector(size_t(H * T * D), rng);
    l.pre = randomVector(size_t(T * D), rng, 3.0f);
    l.bias = randomVector(size_t(D), rng, 0.5f);
    return l;
}

struct DotsBuffers {
    std::vector<float> norm, cosine, proj, residRatio, residProj, attnRatio, attnOut;
    std::vector<double> pair;
    Kernels::HeadDotsOut out;
    DotsBuffers(int H, int64_t T, int64_t D)
        : norm(static_cast<size_t>(H * T)), cosine(norm.size()), proj(norm.size()),
          residRatio(norm.size()), residProj(norm.size()), attnRatio(static_cast<size_t>(T)),
          attnOut(static_cast<size_t>(T * D)), pair(static_cast<size_t>(T * H * H))
    {
        out.T = T;
        out.contribNorm = norm.data();
        out.contribCosine = cosine.data();
        out.contribProjection = proj.data();
        out.residRatio = residRatio.data();
        out.residProjection = residProj.data();
        out.attnResidRatio = attnRatio.data();
        out.pairCosine = pair.data();
    }
};

// Runs sumHeads and headDots over the layer in blocks of `block` positions, each block copied
// into its own [H, c, D] buffer as the engine's product makes it.
void runBlocks(const Layer &l, int64_t block, bool withBias, DotsBuffers &b)
{
    for (int64_t t0 = 0; t0 < l.T; t0 += block) {
        const int64_t c = std::min(block, l.T - t0);
        std::vector<float> r(static_cast<size_t>(l.H * c * l.D));
        for (int h = 0; h < l.H; ++h)
            for (int64_t i = 0; i < c; ++i)
                std::copy(l.head(h, t0 + i), l.head(h, t0 + i) + l.D,
                          r.begin() + (h * c + i) * l.D);
        Kernels::HeadBlock hb;
        hb.r = r.data();
        hb.headStride = c * l.D;
        hb.attnOut = b.attnOut.data();
        hb.residPre = l.pre.data();
        hb.H = l.H;
        hb.D = l.D;
        hb.t0 = t0;
        // Two ranges, as two threads would take them.
        const int64_t mid = c / 2;
        for (auto [i0, i1] : {std::pair<int64_t, int64_t>{0, mid}, {mid, c}}) {
            Kernels::sumHeads(hb, withBias ? l.bias.data() : nullptr, i0, i1, b.attnOut.data());
            Kernels::headDots(hb, i0, i1, b.out);
        }
    }
}

} // namespace

class TestKernels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void dotMatchesFloat64();
    void headMetricsMatchFloat64_data();
    void headMetricsMatchFloat64();
    void zeroHeadHasZeroCosines();
    void meanPairCosineAverages();
    void entropyMatchesFloat64_data();
    void entropyMatchesFloat64();
    void rowCompareMatchesFloat64();
    void expMatchesLibm();
    void lensRowsMatchFloat64_data();
    void lensRowsMatchFloat64();
    void lensRowsOrderTiesById();
    void klRowsMatchFloat64();
    void speed();
    void lensSpeed();
};

void TestKernels::dotMatchesFloat64()
{
    std::mt19937 rng(1);
    for (int64_t n : {0, 1, 3, 15, 16, 17, 63, 64, 65, 100, 512, 4099}) {
        const std::vector<float> a = randomVector(size_t(n), rng), b = randomVector(size_t(n), rng);
        double mag = 0;
        for (int64_t i = 0; i < n; ++i)
            mag += std::abs(double(a[size_t(i)]) * double(b[size_t(i)]));
        const double got = Kernels::dot(a.data(), b.data(), n), want = dot64(a.data(), b.data(), n);
        // Float32 products and lanes: an error of a few ulp of the sum of |a_i b_i|.
        QVERIFY2(std::abs(got - want) <= 1e-6 * mag + 1e-30,
                 qPrintable(
                     QString("n %1: %2 vs %3").arg(n).arg(got, 0, 'g', 12).arg(want, 0, 'g', 12)));
    }
}

void TestKernels::headMetricsMatchFloat64_data()
{
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("positions");
    QTest::addColumn<int>("dModel");
    QTest::addColumn<int>("block");
    QTest::addColumn<bool>("bias");
    QTest::newRow("one block") << 4 << 9 << 64 << 9 << false;
    QTest::newRow("blocks of 4, bias") << 4 << 9 << 64 << 4 << true;
    QTest::newRow("odd width, blocks of 1") << 3 << 5 << 37 << 1 << true;
    QTest::newRow("8 heads, 512 wide") << 8 << 16 << 512 << 7 << false;
}

void TestKernels::headMetricsMatchFloat64()
{
    QFETCH(int, heads);
    QFETCH(int, positions);
    QFETCH(int, dModel);
    QFETCH(int, block);
    QFETCH(bool, bias);
    std::mt19937 rng(uint32_t(heads * 1000 + positions));
    const Layer l = randomLayer(heads, positions, dModel, rng);
    DotsBuffers b(heads, positions, dModel);
    runBlocks(l, block, bias, b);

    const int H = heads;
    const int64_t T = positions, D = dModel;
    constexpr double tol = 1e-5;
    for (int64_t t = 0; t < T; ++t) {
        std::vector<double> ao(size_t(D), 0.0);
        for (int h = 0; h < H; ++h)
            for (int64_t d = 0; d < D; ++d)
                ao[size_t(d)] += l.head(h, t)[d];
        for (int64_t d = 0; d < D; ++d) {
            if (bias) ao[size_t(d)] += l.bias[size_t(d)];
            QVERIFY2(close(b.attnOut[size_t(t * D + d)], ao[size_t(d)], tol, 1.0),
                     qPrintable(QString("attn_out [%1, %2]").arg(t).arg(d)));
        }
        std::vector<float> aoF(ao.begin(), ao.end());
        const float *pre = l.pre.data() + t * D;
        const double aoNorm = std::sqrt(dot64(aoF.data(), aoF.data(), D));
        const double preNorm = std::sqrt(dot64(pre, pre, D));
        QVERIFY(close(b.attnRatio[size_t(t)], aoNorm / preNorm, tol));
        for (int h = 0; h < H; ++h) {
            const float *rh = l.head(h, t);
            const double n = std::sqrt(dot64(rh, rh, D));
            const double dAo = dot64(rh, aoF.data(), D), dPre = dot64(rh, pre, D);
            const size_t at = size_t(h * T + t);
            const QString where = QString("head %1 position %2").arg(h).arg(t);
            QVERIFY2(close(b.norm[at], n, tol), qPrintable("norm, " + where));
            QVERIFY2(close(b.cosine[at], dAo / (n * aoNorm), tol, 1.0),
                     qPrintable("cosine, " + where));
            QVERIFY2(close(b.proj[at], dAo / aoNorm, tol, n), qPrintable("projection, " + where));
            QVERIFY2(close(b.residRatio[at], n / preNorm, tol),
                     qPrintable("resid ratio, " + where));
            QVERIFY2(close(b.residProj[at], dPre / preNorm, tol, n),
                     qPrintable("resid projection, " + where));
            for (int g = 0; g < H; ++g) {
                const float *rg = l.head(g, t);
                const double c = dot64(rh, rg, D) / (n * std::sqrt(dot64(rg, rg, D)));
                QVERIFY2(close(b.pair[size_t((t * H + h) * H + g)], c, tol, 1.0),
                         qPrintable(QString("pair cosine %1 %2, ").arg(h).arg(g) + where));
            }
        }
    }
}

void TestKernels::zeroHeadHasZeroCosines()
{
    std::mt19937 rng(5);
    Layer l = randomLayer(3, 4, 32, rng);
    for (int64_t t = 0; t < l.T; ++t)
        std::fill_n(l.r.begin() + (1 * l.T + t) * l.D, l.D, 0.0f); // head 1 writes nothing
    DotsBuffers b(3, 4, 32);
    runBlocks(l, 4, false, b);
    for (int64_t t = 0; t < l.T; ++t) {
        QCOMPARE(b.norm[size_t(1 * l.T + t)], 0.0f);
        QCOMPARE(b.cosine[size_t(1 * l.T + t)], 0.0f);
        QCOMPARE(b.proj[size_t(1 * l.T + t)], 0.0f);
        for (int g = 0; g < 3; ++g) {
            QCOMPARE(b.pair[size_t((t * 3 + 1) * 3 + g)], 0.0);
            QCOMPARE(b.pair[size_t((t * 3 + g) * 3 + 1)], 0.0);
        }
        QVERIFY(std::abs(b.pair[size_t((t * 3 + 0) * 3 + 0)] - 1.0) < 1e-6);
    }
}

void TestKernels::meanPairCosineAverages()
{
    const int H = 2;
    const std::vector<double> pair = {1, 0.5, 0.5, 1, /* t = 1 */ 1, -0.25, -0.25, 0};
    std::vector<float> sim(4);
    Kernels::meanPairCosine(pair.data(), 2, H, sim.data());
    QCOMPARE(sim, (std::vector<float>{1.0f, 0.125f, 0.125f, 0.5f}));
}

void TestKernels::entropyMatchesFloat64_data()
{
    QTest::addColumn<int>("past");
    QTest::addColumn<double>("sharpness");
    QTest::newRow("no cache") << 0 << 1.0;
    QTest::newRow("after 4 cached positions") << 4 << 1.0;
    QTest::newRow("sharp rows") << 0 << 60.0;
    QTest::newRow("nearly one-hot rows") << 2 << 400.0;
}

void TestKernels::entropyMatchesFloat64()
{
    QFETCH(int, past);
    QFETCH(double, sharpness);
    const int H = 3;
    const int64_t T = 7, cols = past + T;
    std::mt19937 rng(uint32_t(past * 31 + int(sharpness)));
    std::vector<float> s = randomVector(size_t(H * T * cols), rng, float(sharpness));
    std::vector<float> p(s.size());
    std::vector<double> want(static_cast<size_t>(H * T));
    for (int64_t r = 0; r < H * T; ++r) {
        const int64_t seen = past + r % T + 1;
        float *sr = s.data() + r * cols, *pr = p.data() + r * cols;
        for (int64_t c = seen; c < cols; ++c)
            sr[c] = -1e30f; // the engine's mask
        double m = sr[0], z = 0;
        for (int64_t c = 1; c < seen; ++c)
            m = std::max(m, double(sr[c]));
        for (int64_t c = 0; c < cols; ++c)
            z += std::exp(double(sr[c]) - m);
        double e = 0;
        for (int64_t c = 0; c < cols; ++c) {
            const double q = std::exp(double(sr[c]) - m) / z;
            pr[c] = float(q);
            if (q > 0) e -= q * std::log(q);
        }
        want[size_t(r)] = e;
    }
    std::vector<float> got(size_t(H * T), -1.0f);
    Kernels::softmaxEntropy(s.data(), p.data(), T, cols, past, 0, 5, got.data());
    Kernels::softmaxEntropy(s.data(), p.data(), T, cols, past, 5, H * T, got.data());
    for (int64_t r = 0; r < H * T; ++r) {
        // Relative to the entropy, with an absolute floor of float32 rounding of p_max.
        const double err = std::abs(got[size_t(r)] - want[size_t(r)]);
        QVERIFY2(err <= 1e-5 * want[size_t(r)] + 1e-7,
                 qPrintable(QString("row %1: %2 vs %3")
                                .arg(r)
                                .arg(got[size_t(r)], 0, 'g', 9)
                                .arg(want[size_t(r)], 0, 'g', 9)));
    }
}

void TestKernels::rowCompareMatchesFloat64()
{
    std::mt19937 rng(9);
    const int64_t rows = 6, n = 70;
    std::vector<float> a = randomVector(size_t(rows * n), rng),
                       b = randomVector(size_t(rows * n), rng);
    std::copy_n(a.begin() + n, n, b.begin() + n); // row 1: equal vectors
    std::fill_n(b.begin() + 2 * n, n, 0.0f);      // row 2: b is zero
    for (int64_t i = 0; i < n; ++i)               // row 3: opposite vectors
        b[size_t(3 * n + i)] = -2.0f * a[size_t(3 * n + i)];
    std::vector<float> cosd(static_cast<size_t>(rows)), ratio(static_cast<size_t>(rows));
    Kernels::rowCompare(a.data(), b.data(), n, 0, 2, cosd.data(), ratio.data());
    Kernels::rowCompare(a.data(), b.data(), n, 2, rows, cosd.data(), ratio.data());
    for (int64_t r = 0; r < rows; ++r) {
        const float *x = a.data() + r * n, *y = b.data() + r * n;
        const double nx = std::sqrt(dot64(x, x, n)), ny = std::sqrt(dot64(y, y, n));
        const double c = 1.0 - dot64(x, y, n) / std::max(nx * ny, 1e-300);
        QVERIFY2(std::abs(cosd[size_t(r)] - c) <= 1e-6, qPrintable(QString("row %1").arg(r)));
        if (ny > 0) QVERIFY(close(ratio[size_t(r)], nx / ny, 1e-6));
    }
    QVERIFY(std::abs(cosd[1]) <= 1e-6);
    QCOMPARE(cosd[2], 1.0f);
    QVERIFY(std::abs(cosd[3] - 2.0f) <= 1e-6);
    QVERIFY(std::abs(ratio[3] - 0.5f) <= 1e-6);
    QVERIFY(std::isinf(ratio[2])); // the floored denominator: too large for float32, not NaN
}

void TestKernels::expMatchesLibm()
{
    std::vector<float> x;
    for (double v = -90.0; v <= 0.0; v += 1.0 / 4099.0)
        x.push_back(float(v));
    x.push_back(0.0f);
    x.push_back(-0.0f);
    x.push_back(-std::numeric_limits<float>::infinity());
    std::vector<float> e(x.size());
    Kernels::expNonPositive(x.data(), int64_t(x.size()), e.data());
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        if (x[i] < -87.0f) {
            QVERIFY2(e[i] == 0.0f,
                     qPrintable(QString("e^%1 = %2, want 0 below e^-87").arg(x[i]).arg(e[i])));
            continue;
        }
        const double want = std::exp(double(x[i]));
        const double rel = std::abs(e[i] - want) / want;
        worst = std::max(worst, rel);
        QVERIFY2(rel <= 3e-7, qPrintable(QString("e^%1: %2 vs %3")
                                             .arg(x[i], 0, 'g', 9)
                                             .arg(e[i], 0, 'g', 9)
                                             .arg(want, 0, 'g', 9)));
    }
    QCOMPARE(e[x.size() - 3], 1.0f);
    QCOMPARE(e[x.size() - 2], 1.0f);
    qInfo("exp: worst relative error %.3g over %zu arguments", worst, x.size());
}

void TestKernels::lensRowsMatchFloat64_data()
{
    QTest::addColumn<int>("vocab");
    QTest::addColumn<int>("k");
    QTest::addColumn<double>("sharpness");
    QTest::newRow("32003 tokens, top 10") << 32003 << 10 << 3.0;
    QTest::newRow("sharp rows") << 4099 << 5 << 40.0;
    QTest::newRow("top 1") << 1000 << 1 << 1.0;
    QTest::newRow("top k = the vocabulary") << 37 << 37 << 2.0;
    QTest::newRow("top 300 of 5000") << 5000 << 300 << 1.0;
}

void TestKernels::lensRowsMatchFloat64()
{
    QFETCH(int, vocab);
    QFETCH(int, k);
    QFETCH(double, sharpness);
    const int64_t rows = 5, V = vocab;
    std::mt19937 rng(uint32_t(vocab + k));
    std::vector<float> x = randomVector(size_t(rows * V), rng, float(sharpness));
    x[size_t(3 * V + 17)] += float(60.0 + 20.0 * sharpness); // row 3: nearly one-hot
    std::vector<int32_t> ids(size_t(rows * k), -1);
    std::vector<float> probs(static_cast<size_t>(rows * k)), ent(static_cast<size_t>(rows)),
        mx(static_cast<size_t>(rows));
    std::vector<double> ls(static_cast<size_t>(rows));
    Kernels::lensRows(x.data(), V, k, 0, 2, ids.data(), probs.data(), ent.data(), mx.data(),
                      ls.data());
    Kernels::lensRows(x.data(), V, k, 2, rows, ids.data(), probs.data(), ent.data(), mx.data(),
                      ls.data());
    for (int64_t r = 0; r < rows; ++r) {
        const float *row = x.data() + r * V;
        double m = row[0];
        for (int64_t i = 1; i < V; ++i)
            m = std::max(m, double(row[i]));
        double z = 0;
        for (int64_t i = 0; i < V; ++i)
            z += std::exp(double(row[i]) - m);
        const double lse = m + std::log(z);
        double e = 0;
        std::vector<std::pair<double, int32_t>> order;
        for (int64_t i = 0; i < V; ++i) {
            const double lp = double(row[i]) - lse;
            e -= std::exp(lp) * lp;
            order.emplace_back(-double(row[i]), int32_t(i));
            // The row's log-softmax as the kernel describes it.
            const double got = (double(row[i]) - mx[size_t(r)]) - ls[size_t(r)];
            QVERIFY2(
                std::abs(got - lp) <= 2e-6 * std::max(1.0, std::abs(lp)),
                qPrintable(QString("row %1 log p[%2]: %3 vs %4").arg(r).arg(i).arg(got).arg(lp)));
        }
        std::sort(order.begin(), order.end());
        QVERIFY2(std::abs(ent[size_t(r)] - e) <= 1e-5 * e + 1e-6,
                 qPrintable(QString("row %1 entropy %2 vs %3")
                                .arg(r)
                                .arg(ent[size_t(r)], 0, 'g', 9)
                                .arg(e, 0, 'g', 9)));
        for (int j = 0; j < k; ++j) {
            const int32_t want = order[size_t(j)].second;
            QVERIFY2(ids[size_t(r * k + j)] == want,
                     qPrintable(QString("row %1 rank %2: id %3, want %4")
                                    .arg(r)
                                    .arg(j)
                                    .arg(ids[size_t(r * k + j)])
                                    .arg(want)));
            const double p = std::exp(double(row[want]) - lse);
            QVERIFY2(std::abs(probs[size_t(r * k + j)] - p) <= 1e-6 * p + 1e-12,
                     qPrintable(QString("row %1 rank %2: p %3 vs %4")
                                    .arg(r)
                                    .arg(j)
                                    .arg(probs[size_t(r * k + j)], 0, 'g', 9)
                                    .arg(p, 0, 'g', 9)));
        }
    }
    QVERIFY(ent[3] < 1e-3f); // the one-hot row
}

void TestKernels::lensRowsOrderTiesById()
{
    const std::vector<float> x = {1, 3, 2, 3, 0, 3, 2};
    std::vector<int32_t> ids(4);
    std::vector<float> probs(4), ent(1), mx(1);
    std::vector<double> ls(1);
    Kernels::lensRows(x.data(), int64_t(x.size()), 4, 0, 1, ids.data(), probs.data(), ent.data(),
                      mx.data(), ls.data());
    QCOMPARE(ids, (std::vector<int32_t>{1, 3, 5, 2}));
    QCOMPARE(probs[0], probs[2]);
}

void TestKernels::klRowsMatchFloat64()
{
    const int64_t rows = 4, V = 20011;
    std::mt19937 rng(17);
    std::vector<float> x = randomVector(size_t(rows * V), rng, 2.0f);
    std::vector<float> y = randomVector(size_t(rows * V), rng, 2.0f);
    std::copy_n(x.begin() + V, V, y.begin() + V); // row 1: the same logits
    const std::vector<float> noise = randomVector(size_t(V), rng, 1e-3f);
    for (int64_t i = 0; i < V; ++i) // row 2: nearly the same
        y[size_t(2 * V + i)] = x[size_t(2 * V + i)] + noise[size_t(i)] + 5.0f;
    std::vector<int32_t> ids(static_cast<size_t>(rows));
    const size_t n = static_cast<size_t>(rows);
    std::vector<float> probs(n), ent(n), xm(n), ym(n), kl(n, -1.0f);
    std::vector<double> xl(n), yl(n);
    Kernels::lensRows(x.data(), V, 1, 0, rows, ids.data(), probs.data(), ent.data(), xm.data(),
                      xl.data());
    Kernels::lensRows(y.data(), V, 1, 0, rows, ids.data(), probs.data(), ent.data(), ym.data(),
                      yl.data());
    Kernels::klRows(x.data(), xm.data(), xl.data(), y.data(), ym.data(), yl.data(), V, 0, rows,
                    kl.data());
    for (int64_t r = 0; r < rows; ++r) {
        const auto logSoftmax = [&](const float *v) {
            double m = v[0], z = 0;
            for (int64_t i = 1; i < V; ++i)
                m = std::max(m, double(v[i]));
            for (int64_t i = 0; i < V; ++i)
                z += std::exp(double(v[i]) - m);
            std::vector<double> lp(static_cast<size_t>(V));
            for (int64_t i = 0; i < V; ++i)
                lp[size_t(i)] = double(v[i]) - m - std::log(z);
            return lp;
        };
        const std::vector<double> a = logSoftmax(x.data() + r * V),
                                  b = logSoftmax(y.data() + r * V);
        double want = 0;
        for (int64_t i = 0; i < V; ++i)
            want += std::exp(a[size_t(i)]) * (a[size_t(i)] - b[size_t(i)]);
        // Relative, with a floor of 5e-8 nats: the rows' log-sums come from float32 terms.
        QVERIFY2(std::abs(kl[size_t(r)] - want) <= 1e-4 * want + 5e-8,
                 qPrintable(QString("row %1: KL %2 vs %3")
                                .arg(r)
                                .arg(kl[size_t(r)], 0, 'g', 9)
                                .arg(want, 0, 'g', 9)));
    }
    QCOMPARE(kl[1], 0.0f);
    QVERIFY(kl[2] > 0.0f && kl[2] < 1e-5f);
}

// Figures only (no timed assertion): the loops at the size of one layer of the 512-wide
// benchmark model and of a Llama-2-7B layer.
void TestKernels::speed()
{
    std::mt19937 rng(3);
    struct Shape {
        int H;
        int64_t T, D;
    };
    for (const Shape sh : {Shape{8, 128, 512}, Shape{32, 32, 4096}}) {
        const Layer l = randomLayer(sh.H, sh.T, sh.D, rng);
        DotsBuffers b(sh.H, sh.T, sh.D);
        Kernels::HeadBlock hb; // the whole layer as one block, as the engine's product lays it out
        hb.r = l.r.data();
        hb.headStride = sh.T * sh.D;
        hb.attnOut = b.attnOut.data();
        hb.residPre = l.pre.data();
        hb.H = sh.H;
        hb.D = sh.D;
        double best = 1e30;
        for (int i = 0; i < 20; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            Kernels::sumHeads(hb, l.bias.data(), 0, sh.T, b.attnOut.data());
            Kernels::headDots(hb, 0, sh.T, b.out);
            best = std::min(
                best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        const double macs = double(sh.T) * ((sh.H + 2) * (sh.H + 3) / 2) * double(sh.D);
        {
            // The attention entropy of this layer's causal pattern [H, T, T].
            std::vector<float> sc = randomVector(size_t(sh.H * sh.T * sh.T), rng, 2.0f);
            std::vector<float> p(sc.size(), 1.0f / float(sh.T)),
                e(static_cast<size_t>(sh.H * sh.T));
            double bestE = 1e30;
            for (int i = 0; i < 5; ++i) {
                const auto t0 = std::chrono::steady_clock::now();
                Kernels::softmaxEntropy(sc.data(), p.data(), sh.T, sh.T, 0, 0, sh.H * sh.T,
                                        e.data());
                bestE = std::min(
                    bestE,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            }
            qInfo("  attention entropy of %d x %lld x %lld weights: %.3f ms on one thread", sh.H,
                  static_cast<long long>(sh.T), static_cast<long long>(sh.T), bestE * 1e3);
        }
        qInfo("heads %d, positions %lld, d_model %lld: sum + metrics %.3f ms on one thread "
              "(%.2f G multiply-adds/s)",
              sh.H, static_cast<long long>(sh.T), static_cast<long long>(sh.D), best * 1e3,
              macs / best * 1e-9);
    }
}

// Figures only: the lens of one block of logits of a 32000-token vocabulary.
void TestKernels::lensSpeed()
{
    std::mt19937 rng(4);
    const int64_t rows = 64, V = 32000;
    const std::vector<float> x = randomVector(static_cast<size_t>(rows * V), rng, 3.0f);
    std::vector<int32_t> ids(static_cast<size_t>(rows * 10));
    std::vector<float> probs(ids.size()), ent(static_cast<size_t>(rows)), mx(ent.size()),
        kl(ent.size());
    std::vector<double> ls(ent.size());
    double best = 1e30, bestKl = 1e30;
    for (int i = 0; i < 5; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        Kernels::lensRows(x.data(), V, 10, 0, rows, ids.data(), probs.data(), ent.data(), mx.data(),
                          ls.data());
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        t0 = std::chrono::steady_clock::now();
        Kernels::klRows(x.data(), mx.data(), ls.data(), x.data(), mx.data(), ls.data(), V, 0, rows,
                        kl.data());
        bestKl = std::min(
            bestKl, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    qInfo("lens rows (top 10, entropy) of %lld x %lld logits: %.2f ms on one thread, %.2f ns per "
          "logit; "
          "KL %.2f ns per logit",
          static_cast<long long>(rows), static_cast<long long>(V), best * 1e3,
          best / double(rows * V) * 1e9, bestKl / double(rows * V) * 1e9);
}

QTEST_APPLESS_MAIN(TestKernels)
#include "tst_kernels.moc"
