// The head-similarity panel on hand-built traces whose attention makes the answers known:
// in layer 0, heads 0 and 2 attend identically and heads 1 (the diagonal) and 3 (key 0) on
// disjoint keys; layer 1 differs; in layer 2 head 3's pattern does not vary (its correlation
// is NaN). Checks the cluster order, the values, clicks, layer changes, the project scope, the
// worker thread for a large layer, and SVG / PNG / CSV export.
#include "headlens/ui/export.h"
#include "headlens/ui/headsimilaritypanel.h"
#include "headlens/ui/headsimilarityview.h"
#include "uitestdata.h"

#include <QComboBox>
#include <QImage>
#include <QLabel>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace HeadLens;

namespace {

void setHead(Trace &t, int layer, int head, int mode)
{
    const int T = t.nTokens();
    for (int q = 0; q < T; ++q)
        for (int k = 0; k <= q; ++k) {
            float v = 0;
            if (mode == 0) v = k == q ? 1.0f : 0.0f; // the diagonal
            if (mode == 1) v = k == 0 ? 1.0f : 0.0f; // the first key
            if (mode == 2) v = 0.5f;                 // constant (not a distribution)
            t.attentionPattern.at({layer, head, q, k}) = v;
        }
}

// 3 layers, 8 tokens, 4 heads (see the top of the file); contribution similarity 0.25 between
// heads 0 and 1 of every layer, 1 on the diagonal, 0 elsewhere.
Trace similarityTrace(const std::string &name = "sim")
{
    Trace t = TestData::makeTrace(3, 8, 4);
    t.name = name;
    setHead(t, 0, 1, 0);
    setHead(t, 0, 3, 1);
    setHead(t, 1, 1, 0);
    setHead(t, 2, 3, 2);
    t.contribSimilarity.reset({3, 4, 4});
    for (int l = 0; l < 3; ++l)
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b)
                t.contribSimilarity.at({l, a, b}) =
                    a == b ? 1.0f : (std::min(a, b) == 0 && std::max(a, b) == 1 ? 0.25f : 0.0f);
    return t;
}

int rowOf(const HeadSimilarityView *v, int head)
{
    const auto &o = v->orderedHeads();
    return int(std::find(o.begin(), o.end(), head) - o.begin());
}

HeadSimilaritySource sourceOf(const std::shared_ptr<const Trace> &t)
{
    HeadSimilaritySource s;
    s.name = QString::fromStdString(t->name);
    s.trace = [t] { return t; };
    s.pattern = [t](int layer) {
        return std::make_shared<const FloatArray>(TestData::attentionLayer(*t, layer));
    };
    return s;
}

} // namespace

class TestHeadSimilarity : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void clusterOrderAndValues();
    void clickSelectsHead();
    void layerChangesMatrix();
    void kindsAndNaN();
    void thresholdRegroups();
    void projectScope();
    void largeLayerOnWorker();
    void noAttention();
    void exports();
    void toolTips();
};

void TestHeadSimilarity::clusterOrderAndValues()
{
    HeadSimilarityPanel panel;
    panel.resize(520, 560);
    panel.setTrace(similarityTrace());
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QVERIFY(!panel.isComputing());
    const HeadSimilarityView *v = panel.view();
    QCOMPARE(v->headCount(), 4);
    // Clusters at 0.9: {0, 2}, {1}, {3}, in the order of their first heads.
    QCOMPARE(v->orderedHeads(), (std::vector<int>{0, 2, 1, 3}));
    QCOMPARE(v->clusters()[0], v->clusters()[2]);
    QVERIFY(v->clusters()[1] != v->clusters()[0]);
    QVERIFY(v->clusters()[3] != v->clusters()[1]);
    QCOMPARE(std::abs(rowOf(v, 0) - rowOf(v, 2)), 1);
    // Identical patterns: 1; disjoint keys: 0.
    QVERIFY(std::abs(v->valueAt(rowOf(v, 0), rowOf(v, 2)) - 1.0) < 1e-9);
    QVERIFY(std::abs(v->valueAt(rowOf(v, 1), rowOf(v, 3))) < 1e-9);
    QVERIFY(std::abs(v->value(3, 1)) < 1e-9);
    for (int r = 0; r < 4; ++r)
        QCOMPARE(v->valueAt(r, r), 1.0);
    const double mid = v->value(0, 1);
    QVERIFY(mid > 0.05 && mid < 0.9);
    QCOMPARE(v->cellText(rowOf(v, 0), rowOf(v, 2)), QStringLiteral("H0 vs H2: 1.00"));
    QVERIFY(panel.statusText().contains(QStringLiteral("3 cluster"))); // "(s)" without a translator
    // Cells are square and inside the widget.
    const QRectF c = v->cellRect(0, 0);
    QVERIFY(c.width() > 10);
    QCOMPARE(c.width(), c.height());
    QVERIFY(QRectF(v->rect()).contains(v->cellRect(3, 3)));
    // Hovering a cell names the pair in the status line.
    QTest::mouseMove(const_cast<HeadSimilarityView *>(v), v->cellRect(0, 1).center().toPoint());
    auto *status = panel.findChild<QLabel *>(QStringLiteral("headSimilarityStatus"));
    QVERIFY(status);
    QTRY_COMPARE(status->text(), QStringLiteral("H0 vs H2: 1.00"));
}

void TestHeadSimilarity::clickSelectsHead()
{
    HeadSimilarityPanel panel;
    panel.resize(520, 560);
    panel.setTrace(similarityTrace());
    panel.setLayer(1);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QSignalSpy spy(&panel, &HeadSimilarityPanel::headSelected);
    HeadSimilarityView *v = panel.view();
    for (int row : {0, 3}) {
        const int head = v->orderedHeads()[size_t(row)];
        QTest::mouseClick(v, Qt::LeftButton, {}, v->cellRect(row, 1).center().toPoint());
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.takeFirst(), (QList<QVariant>{1, head}));
        QCOMPARE(v->selectedHead(), head);
    }
    // Outside the grid: nothing.
    QTest::mouseClick(v, Qt::LeftButton, {}, QPoint(2, 2));
    QCOMPARE(spy.count(), 0);
    // The workbench's selection shows without a signal.
    panel.setSelectedHead(2);
    QCOMPARE(v->selectedHead(), 2);
    QCOMPARE(spy.count(), 0);
}

void TestHeadSimilarity::layerChangesMatrix()
{
    HeadSimilarityPanel panel;
    panel.resize(520, 560);
    panel.setTrace(similarityTrace());
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QSignalSpy spy(&panel, &HeadSimilarityPanel::computed);
    HeadSimilarityView *v = panel.view();
    QVERIFY(std::abs(v->value(1, 3)) < 1e-9);
    const double layer0 = v->value(0, 3);
    panel.setLayer(1);
    QCOMPARE(panel.layer(), 1);
    QTRY_COMPARE(spy.count(), 1); // shown from the event loop, once it is seen to be visible
    QCOMPARE(spy.takeFirst().at(0).toInt(), 1);
    // Layer 1: head 3 attends like heads 0 and 2, head 1 still on the diagonal.
    QVERIFY(std::abs(v->value(0, 3) - 1.0) < 1e-9);
    QVERIFY(v->value(0, 3) != layer0);
    QVERIFY(v->value(1, 3) > 0.05);
    QCOMPARE(v->orderedHeads(), (std::vector<int>{0, 2, 3, 1}));
    // Through the spin box as well; out of range is ignored.
    auto *box = panel.findChild<QSpinBox *>(QStringLiteral("headSimilarityLayer"));
    QVERIFY(box);
    QCOMPARE(box->maximum(), 2);
    box->setValue(0);
    QCOMPARE(panel.layer(), 0);
    QTRY_COMPARE(spy.count(), 1);
    QVERIFY(std::abs(v->value(1, 3)) < 1e-9);
    panel.setLayer(7);
    QCOMPARE(panel.layer(), 0);
}

void TestHeadSimilarity::kindsAndNaN()
{
    HeadSimilarityPanel panel;
    panel.resize(520, 560);
    panel.setTrace(similarityTrace());
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    HeadSimilarityView *v = panel.view();
    QVERIFY(panel.hasContribution());
    panel.setKind(SimilarityKind::Contribution);
    QCOMPARE(panel.kind(), SimilarityKind::Contribution);
    QCOMPARE(v->value(0, 1), 0.25);
    QCOMPARE(v->value(2, 3), 0.0);

    panel.setKind(SimilarityKind::Correlation);
    panel.setLayer(2);
    QCoreApplication::processEvents(); // the new layer is computed from the event loop
    // Head 3's pattern does not vary: its correlations are not defined.
    QVERIFY(std::isnan(v->value(0, 3)));
    QVERIFY(std::abs(v->value(0, 1)) <= 1.0);
    QVERIFY(v->cellText(rowOf(v, 0), rowOf(v, 3)).endsWith(QStringLiteral("n/a")));
    const QStringList csv = panel.csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    const QStringList head0 = csv[1 + rowOf(v, 0)].split(QLatin1Char(','));
    QCOMPARE(head0[0], QStringLiteral("0"));
    QCOMPARE(head0[2 + rowOf(v, 3)], QString()); // NaN as an empty field

    // Without contribution similarity that kind is not offered.
    Trace plain = similarityTrace();
    plain.contribSimilarity = FloatArray();
    panel.setTrace(plain);
    QVERIFY(!panel.hasContribution());
    QCOMPARE(panel.kind(), SimilarityKind::Correlation);
    auto *box = panel.findChild<QComboBox *>(QStringLiteral("headSimilarityKind"));
    auto *model = qobject_cast<QStandardItemModel *>(box->model());
    QVERIFY(model && !model->item(int(SimilarityKind::Contribution))->isEnabled());
    panel.setKind(SimilarityKind::Contribution);
    QCOMPARE(panel.kind(), SimilarityKind::Jsd);
}

void TestHeadSimilarity::thresholdRegroups()
{
    HeadSimilarityPanel panel;
    panel.resize(520, 560);
    panel.setTrace(similarityTrace());
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    HeadSimilarityView *v = panel.view();
    panel.setThreshold(-1.0); // everything is one cluster
    for (int c : v->clusters())
        QCOMPARE(c, 0);
    panel.setThreshold(1.5); // clamped to 1: identical heads still merge
    QCOMPARE(panel.threshold(), 1.0);
    QCOMPARE(v->clusters()[0], v->clusters()[2]);
    QVERIFY(v->clusters()[0] != v->clusters()[1]);
}

void TestHeadSimilarity::projectScope()
{
    auto shown = std::make_shared<const Trace>(similarityTrace("shown"));
    Trace plain = TestData::makeTrace(3, 8, 4); // every head alike
    plain.name = "plain";
    auto other = std::make_shared<const Trace>(plain);
    Trace small = TestData::makeTrace(3, 8, 2); // another head count: left out
    small.name = "small";
    auto smaller = std::make_shared<const Trace>(small);

    HeadSimilarityPanel panel;
    panel.resize(520, 560);
    panel.setTraces({sourceOf(shown), sourceOf(other), sourceOf(smaller)});
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    HeadSimilarityView *v = panel.view();
    QVERIFY(std::abs(v->value(1, 3)) < 1e-9);
    QVERIFY(panel.hasContribution());
    panel.setScope(HeadSimilarityPanel::Scope::Project);
    QCOMPARE(panel.scope(), HeadSimilarityPanel::Scope::Project);
    QCoreApplication::processEvents();
    // Both traces have 7 query positions: the mean of 0 and 1.
    QVERIFY(std::abs(v->value(1, 3) - 0.5) < 1e-9);
    QVERIFY(panel.statusText().contains(QStringLiteral("2 trace")));
    QVERIFY(panel.statusText().contains(QStringLiteral("another shape")));
    // "plain" has no contribution similarity, so the mean has none either.
    QVERIFY(!panel.hasContribution());
    panel.setScope(HeadSimilarityPanel::Scope::Trace);
    QCoreApplication::processEvents();
    QVERIFY(std::abs(v->value(1, 3)) < 1e-9);

    // One trace: no project scope.
    panel.setTraces({sourceOf(shown)});
    panel.setScope(HeadSimilarityPanel::Scope::Project);
    QCOMPARE(panel.scope(), HeadSimilarityPanel::Scope::Trace);
}

void TestHeadSimilarity::largeLayerOnWorker()
{
    // 3 heads x 600 x 600: above the size computed on the GUI thread.
    Trace big = TestData::makeTrace(1, 600, 3, 2, 20);
    setHead(big, 0, 2, 0);
    HeadSimilarityPanel panel;
    panel.resize(400, 400);
    QSignalSpy spy(&panel, &HeadSimilarityPanel::computed);
    panel.setTrace(big);
    QCOMPARE(panel.view()->headCount(), 0); // hidden: nothing computed yet
    QVERIFY(!panel.isComputing());
    panel.show();
    QVERIFY(panel.isComputing());
    QVERIFY(panel.view()->message().contains(QStringLiteral("Computing")));
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isComputing(), 20000);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(panel.view()->headCount(), 3);
    QVERIFY(std::abs(panel.view()->value(0, 1) - 1.0) < 1e-9);
    QVERIFY(panel.view()->value(0, 2) < 0.9);

    // A wait for the export: done on return.
    HeadSimilarityPanel hidden;
    hidden.setTrace(big);
    hidden.ensureComputed(true);
    QVERIFY(!hidden.isComputing());
    QCOMPARE(hidden.view()->headCount(), 3);
}

void TestHeadSimilarity::noAttention()
{
    HeadSimilarityPanel panel;
    panel.resize(400, 400);
    panel.setTrace(TestData::makeTrace(2, 6, 3, 3, 50, false));
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QCOMPARE(panel.view()->headCount(), 0);
    QVERIFY(panel.view()->message().contains(QStringLiteral("no attention")));
    panel.clear();
    QCOMPARE(panel.layerCount(), 0);
    QCOMPARE(panel.csv().count(QLatin1Char('\n')), 1); // the header only
}

void TestHeadSimilarity::exports()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    HeadSimilarityPanel panel;
    panel.resize(520, 560);
    panel.setTrace(similarityTrace());
    panel.setSelectedHead(1);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    HeadSimilarityView *v = panel.view();

    const QString svg = dir.filePath(QStringLiteral("sim.svg"));
    QString error;
    QVERIFY2(exportSvg(&panel, svg, QSize(700, 760), &error), qPrintable(error));
    QSvgRenderer renderer(svg);
    QVERIFY(renderer.isValid());
    QFile f(svg);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&f);
    int elements = 0;
    while (!xml.atEnd())
        if (xml.readNext() == QXmlStreamReader::StartElement) ++elements;
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QVERIFY(elements > 16);

    const QString png = dir.filePath(QStringLiteral("sim.png"));
    QVERIFY2(exportPng(&panel, png, QSize(640, 700), &error), qPrintable(error));
    const QImage image(png);
    QCOMPARE(image.size(), QSize(640, 700));
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 5)
        for (int x = 0; x < image.width(); x += 5)
            colours.insert(image.pixel(x, y));
    QVERIFY2(colours.size() > 6, "the PNG is (nearly) blank");
    if (qEnvironmentVariableIsSet("HEADLENS_UI_SHOTS_DIR")) {
        const QString out = qEnvironmentVariable("HEADLENS_UI_SHOTS_DIR");
        QVERIFY(panel.grab().save(out + QStringLiteral("/headsimilarity-hand.png")));
        QVERIFY(image.save(out + QStringLiteral("/headsimilarity-hand-export.png")));
    }

    // CSV: a header and one line per head, both in display order.
    const QStringList lines = panel.csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4 + 1);
    QCOMPARE(lines[0], QStringLiteral("head,cluster,H0,H2,H1,H3"));
    for (int r = 0; r < 4; ++r) {
        const QStringList fields = lines[1 + r].split(QLatin1Char(','));
        QCOMPARE(fields.size(), 6);
        QCOMPARE(fields[0].toInt(), v->orderedHeads()[size_t(r)]);
        QCOMPARE(fields[1].toInt(), v->clusters()[size_t(v->orderedHeads()[size_t(r)])]);
        for (int k = 0; k < 4; ++k)
            QVERIFY(std::abs(fields[2 + k].toDouble() - v->valueAt(r, k)) < 1e-6);
    }
    QVERIFY(std::abs(lines[1].split(QLatin1Char(','))[3].toDouble() - 1.0) < 1e-6); // H0, H2
    QVERIFY(std::abs(lines[3].split(QLatin1Char(','))[5].toDouble()) < 1e-6);       // H1, H3
}

void TestHeadSimilarity::toolTips()
{
    HeadSimilarityPanel panel;
    QVERIFY(!panel.objectName().isEmpty());
    const auto widgets = panel.findChildren<QWidget *>();
    for (QWidget *w : widgets) {
        if (qobject_cast<QLabel *>(w) && !w->objectName().startsWith(QLatin1String("head")))
            continue; // buddies of the controls
        if (w->parentWidget() != &panel) continue;
        QVERIFY2(!w->toolTip().isEmpty(), qPrintable(w->objectName()));
    }
}

QTEST_MAIN(TestHeadSimilarity)
#include "tst_headsimilarity.moc"
