// The numbers the panels show come from modules/analysis: the comparison maps a relative depth
// to a layer as `compare` does, the entropy panel bins and takes quantiles as headstats does,
// and the head contribution panel shows analysis' share and mean norm.

#include "uitestdata.h"

#include "headlens/analysis/comparison.h"
#include "headlens/analysis/headstats.h"
#include "headlens/project/project.h"
#include "headlens/ui/comparisongrid.h"
#include "headlens/ui/comparisonpanel.h"
#include "headlens/ui/entropypanel.h"
#include "headlens/ui/headcontributionpanel.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace HeadLens;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// The entropies an EntropyPanel shows for one trace with all layers (and heads) selected.
std::vector<double> allValues(const FloatArray &a)
{
    return std::vector<double>(a.data.begin(), a.data.end());
}

std::vector<int64_t> countsOf(const std::vector<int> &v)
{
    return std::vector<int64_t>(v.begin(), v.end());
}

} // namespace

class TestPanelStats : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void layerAtDepthIsAnalysisRule();
    void compareAndWorkbenchMapDepthsAlike();
    void entropyHistogramIsAnalysisHistogram();
    void entropyBoxesAreAnalysisQuantiles();
    void headContributionFromAnalysis();
};

// Over many layer counts and depths (every layer depth of every other model, and a fine grid
// between), the workbench's side maps a depth to the layer analysis' layerAtDepth gives: the
// deepest layer at or below it, none when the depth is shallower than the first layer.
void TestPanelStats::layerAtDepthIsAnalysisRule()
{
    std::vector<double> depths;
    for (int n = 1; n <= 48; ++n)
        for (int l = 0; l < n; ++l)
            depths.push_back(double(l + 1) / n);
    for (int i = 0; i <= 2000; ++i)
        depths.push_back(i / 2000.0);
    for (int L = 1; L <= 48; ++L) {
        ComparisonSideData side;
        side.layers = L;
        for (double d : depths) {
            const int l = side.layerAtDepth(d);
            QCOMPARE(l, layerAtDepth(d, L));
            // The rule itself: at or below d, and the next layer deeper than d.
            if (l >= 0) QVERIFY(side.depthOfLayer(l) <= d + 1e-9);
            if (l + 1 < L) QVERIFY(side.depthOfLayer(l + 1) > d + 1e-9);
        }
    }
}

// `headlens-cli compare` and the workbench's comparison panel, given the same two traces of 4
// and 6 layers (and of 5 and 3), use the same layer of each side at every depth of the grid.
void TestPanelStats::compareAndWorkbenchMapDepthsAlike()
{
#ifndef HEADLENS_CLI
    QSKIP("the engine (headlens-cli) is not built");
#else
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string project = dir.filePath(QStringLiteral("p.hlproj")).toStdString();
    const std::vector<std::pair<int, int>> shapes = {{4, 6}, {5, 3}};
    for (const auto &[La, Lb] : shapes) {
        Trace left = TestData::makeTrace(La, 5, 2, 3, 50, false);
        Trace right = TestData::makeTrace(Lb, 5, 2, 3, 50, false);
        left.name = "left-" + std::to_string(La);
        right.name = "right-" + std::to_string(Lb);
        addTrace(project, left, true);
        addTrace(project, right, true);

        QProcess cli;
        cli.start(QStringLiteral(HEADLENS_CLI),
                  {QStringLiteral("compare"), QString::fromStdString(project),
                   QStringLiteral("--left"), QString::fromStdString(left.name),
                   QStringLiteral("--right"), QString::fromStdString(right.name),
                   QStringLiteral("--json")});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const QJsonArray grid =
            QJsonDocument::fromJson(cli.readAllStandardOutput()).object()["depths"].toArray();
        QCOMPARE(grid.size(), qsizetype(depthGrid(La, Lb).size()));

        ComparisonPanel panel;
        panel.setTraces(left, left.lens[size_t(Site::ResidPost)], right,
                        right.lens[size_t(Site::ResidPost)]);
        for (const QJsonValue &v : grid) {
            const QJsonObject row = v.toObject();
            const double d = row["depth"].toDouble();
            QCOMPARE(panel.side(0).layerAtDepth(d), row["left_layer"].toInt());
            QCOMPARE(panel.side(1).layerAtDepth(d), row["right_layer"].toInt());
        }
    }
#endif
}

// The panel's bins are analysis' Histogram over [0, rangeUpper()], with non-finite values left
// out, for the lens and the attention entropy, all layers or one.
void TestPanelStats::entropyHistogramIsAnalysisHistogram()
{
    Trace t = TestData::makeTrace(4, 10, 3);
    LensSite &lens = t.lens[size_t(Site::ResidPost)];
    lens.entropy.at({1, 2}) = kNaN;
    lens.entropy.at({2, 3}) = kInf;
    t.attnEntropy.at({0, 1, 4}) = kNaN;
    EntropyPanel panel;
    panel.setBinCount(7);
    panel.setTrace(t, lens);

    const double hi = panel.rangeUpper();
    QVERIFY(hi >= 2.75); // the largest finite entropy, 0.25 * 11
    const Distribution lensAll = summarize(allValues(lens.entropy), 0.0, hi, 7);
    QCOMPARE(countsOf(panel.binCounts()), lensAll.histogram.counts);
    const Histogram h = panel.valueHistogram();
    QCOMPARE(h.counts, lensAll.histogram.counts);
    for (int i = 0; i <= 7; ++i)
        QCOMPARE(panel.binEdges()[size_t(i)], lensAll.histogram.edge(i));
    // Non-finite values are in no bin: 40 values, 2 of them not finite.
    int64_t total = 0;
    for (int64_t c : lensAll.histogram.counts)
        total += c;
    QCOMPARE(total, int64_t(38));

    panel.setLayer(2);
    const auto layer2 =
        std::vector<double>(lens.entropy.data.begin() + 20, lens.entropy.data.begin() + 30);
    QCOMPARE(countsOf(panel.binCounts()), summarize(layer2, 0.0, hi, 7).histogram.counts);

    panel.setLayer(-1);
    panel.setQuantity(EntropyPanel::Quantity::Attention);
    const double hiAttention = panel.rangeUpper();
    QCOMPARE(countsOf(panel.binCounts()),
             summarize(allValues(t.attnEntropy), 0.0, hiAttention, 7).histogram.counts);
}

// The boxes are analysis' quantiles (numpy "linear") of the finite values.
void TestPanelStats::entropyBoxesAreAnalysisQuantiles()
{
    Trace t = TestData::makeTrace(3, 9, 2);
    LensSite &lens = t.lens[size_t(Site::ResidPost)];
    lens.entropy.at({1, 4}) = kInf;
    EntropyPanel panel;
    panel.setTrace(t, lens);
    const auto boxes = panel.boxes();
    QCOMPARE(int(boxes.size()), 3);
    for (int l = 0; l < 3; ++l) {
        const std::vector<double> values(lens.entropy.data.begin() + l * 9,
                                         lens.entropy.data.begin() + (l + 1) * 9);
        const Distribution d = summarize(values, 0.0, 10.0, 1);
        const EntropyPanel::BoxStats &b = boxes[size_t(l)];
        QCOMPARE(int64_t(b.count), d.n);
        QCOMPARE(b.min, d.quantiles[0]);
        QCOMPARE(b.q1, d.quantiles[2]);
        QCOMPARE(b.median, d.quantiles[3]);
        QCOMPARE(b.q3, d.quantiles[4]);
        QCOMPARE(b.max, d.quantiles[6]);
    }
    QCOMPARE(boxes[1].count, 8); // the infinite value is left out
}

// Share and mean norm are analysis' contribShares and meanOverPositions (a head's mean over
// its finite values).
void TestPanelStats::headContributionFromAnalysis()
{
    Trace t = TestData::makeTrace(3, 6, 4);
    t.contribNorm.at({1, 2, 3}) = kNaN;
    HeadContributionPanel panel;
    panel.setTrace(t);

    const FloatArray mean = meanOverPositions(t.contribNorm);
    const FloatArray shown = panel.meanNorms();
    QCOMPARE(shown.shape, mean.shape);
    QCOMPARE(shown.data, mean.data);
    QVERIFY(std::isfinite(shown.at({1, 2}))); // the NaN position is left out of the mean

    const FloatArray stored = contribShare(t.contribNorm); // as `stats` computes it
    for (int l = 0; l < 3; ++l)
        for (int pos = 0; pos < 6; ++pos) {
            panel.setSelection(l, pos);
            const std::vector<double> v = panel.values(HeadContributionPanel::Metric::Share);
            const std::vector<double> share =
                contribShares(t.contribNorm.data.data() + (l * 4 * 6 + pos), 4, 6);
            QCOMPARE(v, share);
            for (int h = 0; h < 4; ++h)
                QVERIFY(std::abs(v[size_t(h)] - double(stored.at({l, h, pos}))) < 1e-6);
        }
    // A NaN norm leaves no share to give: every head of that position shows 0.
    panel.setSelection(1, 3);
    QCOMPARE(panel.values(HeadContributionPanel::Metric::Share), std::vector<double>(4, 0.0));
}

QTEST_MAIN(TestPanelStats)
#include "tst_panelstats.moc"
