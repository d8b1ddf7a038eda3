// The panels on hand-built traces: inspector, head contributions (the sum check), entropy
// distributions (bin counts on known values), comparison (alignment, differences, synchronised
// selection and scrolling).
#include "headlens/ui/blockview.h"
#include "headlens/ui/comparisonpanel.h"
#include "headlens/ui/elidinglabel.h"
#include "headlens/ui/entropypanel.h"
#include "headlens/ui/followtokenpanel.h"
#include "headlens/ui/headcontributionpanel.h"
#include "headlens/ui/headheatmap.h"
#include "headlens/ui/headrolespanel.h"
#include "headlens/ui/headsimilaritypanel.h"
#include "headlens/ui/inspectorpanel.h"
#include "headlens/ui/logitattributionpanel.h"
#include "uitestdata.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QFileInfo>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTranslator>
#include <QTreeWidget>
#include <QtTest>

#include <cmath>

using namespace HeadLens;
using Blocks = QVector<QPair<int, int>>;

class TestPanels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // inspector
    void inspectorShowsBlock();
    void inspectorDecompose();
    void inspectorDecodingTokensFitANarrowDock();
    void inspectorPropagateForm();
    void inspectorInjectNeedsText();
    void inspectorActionsDisabled();
    // head contributions
    void headValues();
    void headSumCheck();
    void headHeatmap();
    void headAxisTitleIsWholeOrAbsent();
    void headRowsDoNotOverlapInAShortDock();
    void headTitleWrapsItsControls();
    // entropy
    void histogramHelper();
    void boxStatsHelper();
    void entropyLensBins();
    void entropyAttentionBins();
    void entropyBinSelection();
    void entropySeveralTraces();
    void entropyBinOutlinesItsBlocks();
    // comparison
    void comparisonAlignment();
    void comparisonDifferences();
    void comparisonSelectionIsShared();
    void comparisonScrollIsShared();
    void comparisonCsv();
    // every panel
    void objectNamesAndToolTips();
    void emptyInputs();
    void panelsFollowALanguageChange();
    void panelsFitTheirControlsAtTheirMinimumSize();

private:
    static void comparisonTraces(Trace &left, Trace &right);
};

// ------------------------------------------------------------------------------ inspector

void TestPanels::inspectorShowsBlock()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    InspectorPanel panel;
    panel.setTrace(t);
    panel.setLens(Site::ResidPost, t.lens[size_t(Site::ResidPost)]);
    QVERIFY(panel.topK().empty());
    panel.setSelection(2, 3);
    // Block (2, 3): ids (2 + 3 + k) % 50, top-1 probability 0.1 + 0.8 * 3 / 9.
    const auto top = panel.topK();
    QCOMPARE(int(top.size()), 3);
    QCOMPARE(top[0].id, 5);
    QCOMPARE(top[0].text, QStringLiteral(" w5"));
    QCOMPARE(top[1].text, QStringLiteral("v6"));
    QVERIFY(qAbs(top[0].prob - (0.1 + 0.8 * 3 / 9.0)) < 1e-6);
    QCOMPARE(panel.entropy(), 2.0);          // 0.25 * ((2 + 6) % 12)
    QCOMPARE(panel.modelPrediction().id, 6); // the last layer's top-1: (3 + 3) % 50
    // Every layer has another top-1, so only the last agrees: decided at layer 3.
    QCOMPARE(panel.decisionDepth(), 3);
    const QStringList csv = panel.csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(csv.size(), 4);
    QCOMPARE(csv[0], QStringLiteral("layer,pos,site,rank,id,token,probability"));
    QVERIFY(csv[1].startsWith(QStringLiteral("2,3,resid_post,1,5, w5,")));
}

void TestPanels::inspectorDecompose()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    InspectorPanel panel;
    panel.setTrace(t);
    panel.setLens(Site::AttnOut, t.lens[size_t(Site::ResidPost)]);
    panel.setSelection(1, 7);
    QSignalSpy spy(&panel, &InspectorPanel::decomposeRequested);
    auto *button = panel.findChild<QPushButton *>(QStringLiteral("inspectorDecompose"));
    QVERIFY(button);
    QTest::mouseClick(button, Qt::LeftButton);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).value<Site>(), Site::AttnOut);
    QCOMPARE(spy.at(0).at(1).toInt(), 1);
    QCOMPARE(spy.at(0).at(2).toInt(), 7);

    panel.setDecomposition(
        {{5, QStringLiteral(" w5"), 0.4, 12.0}, {9, QStringLiteral(" w9"), 0.2, 7.5}});
    QCOMPARE(int(panel.decomposition().size()), 2);
    const QStringList csv = panel.decompositionCsv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(csv[0], QStringLiteral("step,id,token,probability,norm"));
    QCOMPARE(csv[2], QStringLiteral("2,9, w9,0.2,7.5"));
    panel.setSelection(1, 8); // another block: its decomposition is not this one
    QVERIFY(panel.decomposition().empty());
}

// The inspector dock is about 240 px wide at 1280x720: the decoding table's token column must
// still show a short token whole, not only its opening quote.
void TestPanels::inspectorDecodingTokensFitANarrowDock()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    InspectorPanel panel;
    panel.setTrace(t);
    panel.setLens(Site::ResidPost, t.lens[size_t(Site::ResidPost)]);
    panel.setSelection(1, 7);
    panel.resize(240, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setDecomposition({{5, QStringLiteral(" the"), 0.676, 12.25},
                            {9, QStringLiteral(" play"), 0.0123, 7.5},
                            {11, QStringLiteral(" girl"), 0.005, 3.125}});
    QApplication::processEvents();
    auto *list = panel.findChild<QTreeWidget *>(QStringLiteral("inspectorDecodingList"));
    QVERIFY(list);
    QCOMPARE(list->topLevelItemCount(), 3);
    const QFontMetrics fm(list->font());
    for (int i = 0; i < 3; ++i) {
        const QString text = list->topLevelItem(i)->text(1);
        QVERIFY2(list->columnWidth(1) >= fm.horizontalAdvance(text) + 4,
                 qPrintable(QString("token column %1 px for %2 (%3 px)")
                                .arg(list->columnWidth(1))
                                .arg(text)
                                .arg(fm.horizontalAdvance(text))));
    }
    // All four columns inside the visible width: nothing hides behind a scroll bar.
    int total = 0;
    for (int c = 0; c < 4; ++c)
        total += list->columnWidth(c);
    QVERIFY2(
        total <= list->viewport()->width(),
        qPrintable(
            QString("columns %1 px in a %2 px table").arg(total).arg(list->viewport()->width())));
}

void TestPanels::inspectorPropagateForm()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    InspectorPanel panel;
    panel.setTrace(t);
    panel.setLens(Site::ResidPost, t.lens[size_t(Site::ResidPost)]);
    panel.setSelection(2, 4);
    panel.show();
    auto *form = panel.findChild<QGroupBox *>(QStringLiteral("inspectorPropagateForm"));
    QVERIFY(form && !form->isVisible());
    QTest::mouseClick(panel.findChild<QPushButton *>(QStringLiteral("inspectorPropagate")),
                      Qt::LeftButton);
    QVERIFY(form->isVisible());
    panel.findChild<QComboBox *>(QStringLiteral("inspectorPropagateKind"))
        ->setCurrentIndex(InspectorPanel::Subtract);
    panel.findChild<QSpinBox *>(QStringLiteral("inspectorSubtractCount"))->setValue(2);
    panel.findChild<QSpinBox *>(QStringLiteral("inspectorGenerate"))->setValue(7);
    QSignalSpy spy(&panel, &InspectorPanel::propagateRequested);
    QTest::mouseClick(panel.findChild<QPushButton *>(QStringLiteral("inspectorRun")),
                      Qt::LeftButton);
    QCOMPARE(spy.count(), 1);
    const QList<QVariant> a = spy.at(0);
    QCOMPARE(a.at(0).value<Site>(), Site::ResidPost);
    QCOMPARE(a.at(1).toInt(), 2);
    QCOMPARE(a.at(2).toInt(), 4);
    QCOMPARE(a.at(3).toInt(), int(InspectorPanel::Subtract));
    QCOMPARE(a.at(4).toInt(), 2);
    QCOMPARE(a.at(5).toString(), QString());
    QCOMPARE(a.at(6).toInt(), 7);
    QVERIFY(!form->isVisible());
}

void TestPanels::inspectorInjectNeedsText()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    InspectorPanel panel;
    panel.setTrace(t);
    panel.setSelection(0, 1);
    panel.show();
    QTest::mouseClick(panel.findChild<QPushButton *>(QStringLiteral("inspectorInject")),
                      Qt::LeftButton);
    auto *run = panel.findChild<QPushButton *>(QStringLiteral("inspectorRun"));
    QVERIFY(!run->isEnabled()); // no token yet
    QSignalSpy spy(&panel, &InspectorPanel::propagateRequested);
    QTest::keyClicks(panel.findChild<QLineEdit *>(QStringLiteral("inspectorInjectText")),
                     QStringLiteral(" cat"));
    QVERIFY(run->isEnabled());
    QTest::mouseClick(run, Qt::LeftButton);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(3).toInt(), int(InspectorPanel::Inject));
    QCOMPARE(spy.at(0).at(4).toInt(), 0);
    QCOMPARE(spy.at(0).at(5).toString(), QStringLiteral(" cat"));
    QCOMPARE(spy.at(0).at(6).toInt(), 20);
}

void TestPanels::inspectorActionsDisabled()
{
    const Trace t = TestData::makeTrace(2, 4, 2);
    InspectorPanel panel;
    panel.setTrace(t);
    panel.setSelection(1, 1);
    auto *decompose = panel.findChild<QPushButton *>(QStringLiteral("inspectorDecompose"));
    QVERIFY(decompose->isEnabled());
    panel.setActionsEnabled(false, QStringLiteral("no engine"));
    QVERIFY(!decompose->isEnabled());
    QVERIFY(decompose->toolTip().contains(QStringLiteral("no engine")));
    panel.setActionsEnabled(true);
    panel.setSelection(-1, -1);
    QVERIFY(!decompose->isEnabled()); // nothing selected
}

// ---------------------------------------------------------------------- head contributions

void TestPanels::headValues()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    HeadContributionPanel panel;
    panel.setTrace(t);
    QVERIFY(panel.values(HeadContributionPanel::Metric::Norm).empty());
    panel.setSelection(1, 4);
    // contrib_norm = 1 + h + l + 0.1 t -> 2.4, 3.4, 4.4 (sum 10.2)
    const auto norm = panel.values(HeadContributionPanel::Metric::Norm);
    QCOMPARE(int(norm.size()), 3);
    QVERIFY(qAbs(norm[0] - 2.4) < 1e-5 && qAbs(norm[2] - 4.4) < 1e-5);
    const auto share = panel.values(HeadContributionPanel::Metric::Share);
    QVERIFY(qAbs(share[1] - 3.4 / 10.2) < 1e-6);
    QVERIFY(qAbs(share[0] + share[1] + share[2] - 1.0) < 1e-9);
    const auto cosine = panel.values(HeadContributionPanel::Metric::Cosine);
    QVERIFY(qAbs(cosine[0] + 0.3) < 1e-6 && qAbs(cosine[2] - 0.5) < 1e-6);
    const QStringList csv = panel.csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(csv.size(), 4);
    QCOMPARE(csv[0], QStringLiteral("layer,pos,head,norm,share,cosine,projection"));
    QVERIFY(csv[3].startsWith(QStringLiteral("1,4,2,4.4,")));
}

void TestPanels::headSumCheck()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    HeadContributionPanel panel;
    panel.setTrace(t);
    panel.setSelection(1, 4);
    // contrib_projection = 0.5 (h + 1) + 0.01 (t + l) -> 0.55 + 1.05 + 1.55 = 3.15
    QVERIFY(qAbs(panel.projectionSum() - 3.15) < 1e-5);
    QVERIFY(std::isnan(panel.attnOutNorm()));
    QVERIFY(panel.sumCheckText().contains(QStringLiteral("3.1500")));
    panel.setAttnOutNorm(3.15);
    QVERIFY(panel.sumCheckText().contains(QStringLiteral("||attn_out|| = 3.1500")));
    QVERIFY(panel.sumCheckText().contains(QChar(0x2713)));
    panel.setAttnOutNorm(4.0);
    QVERIFY(panel.sumCheckText().contains(QChar(0x2717)));
    panel.setSelection(2, 0); // another block: the direct value is forgotten
    QVERIFY(std::isnan(panel.attnOutNorm()));
    QVERIFY(qAbs(panel.projectionSum() - (0.5 + 1.0 + 1.5 + 0.06)) < 1e-5);
    // With an o_proj bias the sum is not expected to match.
    panel.setHeadMetrics(t.contribNorm, t.contribCosine, t.contribProjection, true);
    panel.setSelection(1, 4);
    panel.setAttnOutNorm(4.0);
    QVERIFY(!panel.sumCheckText().contains(QChar(0x2717)));
    QVERIFY(panel.sumCheckText().contains(QStringLiteral("bias")));

    // Cleared (a project closed): no axes and ticks are left from the last trace.
    QVERIFY(panel.axesShown());
    panel.clear();
    QVERIFY(!panel.axesShown());
    panel.setTrace(t);
    panel.setSelection(1, 4);
    QVERIFY(panel.axesShown());
}

void TestPanels::headHeatmap()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    HeadContributionPanel panel;
    panel.resize(500, 700);
    panel.setTrace(t);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    // Mean over positions of 1 + h + l + 0.1 t = 1 + h + l + 0.45.
    const FloatArray mean = panel.meanNorms();
    QCOMPARE(mean.shape, (std::vector<int64_t>{4, 3}));
    QVERIFY(qAbs(mean.at({2, 1}) - 4.45f) < 1e-5f);
    HeadHeatmap *map = panel.heatmap();
    QCOMPARE(map->value(3, 2), double(mean.at({3, 2})));
    QSignalSpy spy(&panel, &HeadContributionPanel::headSelected);
    const QRectF cell = map->cellRect(2, 1);
    QVERIFY(cell.isValid());
    QVERIFY(map->cellRect(3, 1).top() < cell.top()); // layer 0 at the bottom
    QTest::mouseClick(map, Qt::LeftButton, {}, cell.center().toPoint());
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), 2);
    QCOMPARE(spy.at(0).at(1).toInt(), 1);
    QCOMPARE(map->selectedHead(), 1);
    // Arrow keys move the selection a head (Left, Right) or a layer (Up: the next one) and stop
    // at the grid's edges.
    map->setFocus();
    const auto keyTo = [&](Qt::Key key, int layer, int head) {
        QTest::keyClick(map, key);
        const QList<QVariant> last = spy.takeLast();
        return last.at(0).toInt() == layer && last.at(1).toInt() == head &&
               map->selectedHead() == head;
    };
    QVERIFY(keyTo(Qt::Key_Up, 3, 1));
    QVERIFY(keyTo(Qt::Key_Up, 3, 1)); // the top layer
    QVERIFY(keyTo(Qt::Key_Right, 3, 2));
    QVERIFY(keyTo(Qt::Key_Right, 3, 2)); // the last head
    QVERIFY(keyTo(Qt::Key_Down, 2, 2));
    QVERIFY(keyTo(Qt::Key_Left, 2, 1));
    QVERIFY(keyTo(Qt::Key_Left, 2, 0));
    QVERIFY(keyTo(Qt::Key_Left, 2, 0)); // the first head
    const QStringList csv = panel.heatmapCsv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(csv.size(), 1 + 4 * 3);
    QCOMPARE(csv[0], QStringLiteral("layer,head,value"));
}

// Shows block (layer, pos) of t in panel, at the given size; false if it never appears.
static bool showHeadPanel(HeadContributionPanel &panel, const Trace &t, int layer, int pos,
                          QSize size)
{
    panel.setTrace(t);
    panel.setSelection(layer, pos);
    panel.resize(size);
    panel.show();
    return QTest::qWaitForWindowExposed(&panel);
}

// The title names the selected block; in a laptop's dock (320 px) it once read "Layer 3 ·
// po…" beside the metric box. Now the box moves below the title where both do not fit, and back
// beside it where they do.
void TestPanels::headTitleWrapsItsControls()
{
    const Trace t = TestData::makeTrace(4, 30, 3);
    HeadContributionPanel panel;
    QVERIFY(showHeadPanel(panel, t, 3, 18, {1200, 400}));
    auto *title = panel.findChild<ElidingLabel *>("headContributionTitle");
    auto *box = panel.findChild<QComboBox *>("headMetricBox");
    QVERIFY(title && box);
    QVERIFY(title->text().startsWith(QStringLiteral("Layer 3 \u00b7 position 18")));
    const auto sameLine = [&] {
        return qAbs(box->mapTo(&panel, QPoint()).y() - title->mapTo(&panel, QPoint()).y()) <
               title->height();
    };
    QTRY_VERIFY(sameLine());
    QCOMPARE(title->shownText(), title->text());

    const int need = title->fontMetrics().horizontalAdvance(title->text());
    panel.resize(need + box->sizeHint().width() / 2, 400);
    QTRY_VERIFY(!sameLine());
    QVERIFY(box->mapTo(&panel, QPoint()).y() > title->mapTo(&panel, QPoint()).y());
    QTRY_COMPARE(title->shownText(), title->text());                  // whole, on a line of its own
    QVERIFY(box->geometry().right() <= box->parentWidget()->width()); // the box is not cut

    panel.resize(1200, 400);
    QTRY_VERIFY(sameLine());

    // Shown narrow from the start: the label and the box both go below the title, side by side.
    HeadContributionPanel narrow;
    QVERIFY(showHeadPanel(narrow, t, 3, 18, {need + box->sizeHint().width() / 2, 400}));
    auto *nTitle = narrow.findChild<ElidingLabel *>("headContributionTitle");
    auto *nBox = narrow.findChild<QComboBox *>("headMetricBox");
    QTRY_VERIFY(nBox->mapTo(&narrow, QPoint()).y() > nTitle->mapTo(&narrow, QPoint()).y());
    const QLabel *nLabel = nullptr;
    for (const QLabel *l : narrow.findChildren<QLabel *>())
        if (l->buddy() == nBox) nLabel = l;
    QVERIFY(nLabel);
    QCOMPARE(nLabel->geometry().center().y(), nBox->geometry().center().y());
}

// In a short dock the panel sits in a scroll area, which gives it its minimum size. With the
// title row wrapped (a selected head's role makes the title long), that minimum was a fixed
// 360 px below what the rows need, and the chart was squeezed under the sum check: at 1920x1080
// in Italian the axis title "testa" stood over "Verifica: Σ …".
void TestPanels::headRowsDoNotOverlapInAShortDock()
{
    const Trace t = TestData::makeTrace(5, 30, 8);
    const HeadRoles roles = TestData::everyHeadIs(HeadRole::PreviousToken, 5, 8);
    QScrollArea dock;
    dock.setWidgetResizable(true);
    dock.setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto *panel = new HeadContributionPanel;
    panel->setTrace(t);
    panel->setHeadRoles(roles);
    panel->setSelection(3, 18);
    panel->setSelectedHead(2);
    dock.setWidget(panel);
    dock.resize(420, 250);
    dock.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dock));
    auto *title = panel->findChild<ElidingLabel *>("headContributionTitle");
    auto *box = panel->findChild<QComboBox *>("headMetricBox");
    auto *chart = panel->findChild<QWidget *>("headContributionChart");
    auto *sum = panel->findChild<QWidget *>("headSumCheck");
    QVERIFY(title && box && chart && sum);
    QTRY_VERIFY(box->mapTo(panel, QPoint()).y() > title->mapTo(panel, QPoint()).y()); // wrapped
    const auto rect = [panel](const QWidget *w) {
        return QRect(w->mapTo(panel, QPoint()), w->size());
    };
    QTRY_VERIFY2(!rect(box).intersects(rect(chart)) && !rect(chart).intersects(rect(sum)),
                 qPrintable(QStringLiteral("box %1, chart %2..%3, sum check from %4")
                                .arg(rect(box).bottom())
                                .arg(rect(chart).top())
                                .arg(rect(chart).bottom())
                                .arg(rect(sum).top())));
    QVERIFY(chart->height() >= chart->minimumHeight());
    QVERIFY(dock.verticalScrollBar()->maximum() > 0); // the dock scrolls instead
}

// -------------------------------------------------------------------------------- entropy

// The value axis's title runs along a short plot: it is shown whole where it fits, and not at
// all where it does not (a laptop's dock once showed "contributio…" and lost the bars' room).
void TestPanels::headAxisTitleIsWholeOrAbsent()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    HeadContributionPanel panel;
    QVERIFY(showHeadPanel(panel, t, 1, 4, {500, 900}));
    QTRY_COMPARE(panel.valueAxisTitle(), QStringLiteral("norm"));
    panel.setMetric(HeadContributionPanel::Metric::Projection);
    QTRY_COMPARE(panel.valueAxisTitle(), QStringLiteral("projection"));

    // A large font (a high-DPI laptop, a reader's setting) at the panel's smallest height: no
    // title rather than part of one; with the room again, the whole title.
    const QFont appFont = QApplication::font();
    QFont large = appFont;
    large.setPointSizeF(appFont.pointSizeF() * 2.5);
    QApplication::setFont(large);
    HeadContributionPanel big;
    QApplication::setFont(appFont);
    big.setTrace(t);
    big.setSelection(1, 4);
    big.setMetric(HeadContributionPanel::Metric::Projection);
    big.resize(600, 100);
    big.show();
    QVERIFY(QTest::qWaitForWindowExposed(&big));
    const QFontMetrics fm(large);
    QTRY_VERIFY(big.plotHeight() > 0);
    QVERIFY(big.plotHeight() < fm.horizontalAdvance(QStringLiteral("projection")));
    QTRY_COMPARE(big.valueAxisTitle(), QString());
    big.resize(600, 1400);
    QTRY_COMPARE(big.valueAxisTitle(), QStringLiteral("projection"));
    QVERIFY(big.plotHeight() > fm.horizontalAdvance(QStringLiteral("projection")));

    // The bars' values: written where each fits over its bar, with fewer digits before none.
    const Trace many = TestData::makeTrace(2, 6, 16); // norms 1 + h + l + 0.1 t, up to 17.5
    HeadContributionPanel heads;
    heads.setTrace(many);
    heads.setSelection(1, 5);
    heads.resize(1400, 600);
    heads.show();
    QVERIFY(QTest::qWaitForWindowExposed(&heads));
    QTRY_VERIFY(heads.valueLabelsShown());
    QCOMPARE(heads.valueLabelDigits(), 3);
    heads.resize(300, 600); // 16 bars in under 300 px: no room for "16.5" over each
    QTRY_VERIFY(!heads.valueLabelsShown());
    heads.resize(1400, 600);
    QTRY_VERIFY(heads.valueLabelsShown());
}

void TestPanels::histogramHelper()
{
    const std::vector<float> v = {0.0f, 0.4f, 0.5f, 1.0f, 1.49f, 2.0f, std::nanf("")};
    // Bins of 0.5 over [0, 2]; the upper edge falls in the last bin, NaN in none.
    const std::vector<int> h = EntropyPanel::histogram(v, 0.0, 2.0, 4);
    QCOMPARE(h, (std::vector<int>{2, 1, 2, 1}));
    QCOMPARE(EntropyPanel::binOf(-0.001, 0.0, 2.0, 4), -1); // below the bins: in none
    QCOMPARE(EntropyPanel::binOf(std::nan(""), 0.0, 2.0, 4), -1);
}

void TestPanels::boxStatsHelper()
{
    const auto a = EntropyPanel::boxStats({5, 1, 4, 2, 3});
    QCOMPARE(a.min, 1.0);
    QCOMPARE(a.q1, 2.0);
    QCOMPARE(a.median, 3.0);
    QCOMPARE(a.q3, 4.0);
    QCOMPARE(a.max, 5.0);
    QCOMPARE(a.count, 5);
    const auto b = EntropyPanel::boxStats({1, 2, 3, 4});
    QCOMPARE(b.q1, 1.75);
    QCOMPARE(b.median, 2.5);
    QCOMPARE(b.q3, 3.25);
}

void TestPanels::entropyLensBins()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    EntropyPanel panel;
    panel.setBinCount(12);
    panel.setTrace(t, t.lens[size_t(Site::ResidPost)]);
    // Entropies 0.25 * ((l + 2t) % 12) reach 2.75: bins of 0.25 nats up to 3.
    QCOMPARE(panel.rangeUpper(), 3.0);
    QCOMPARE(int(panel.binEdges().size()), 13);
    panel.setLayer(0);
    // Layer 0: (2t) % 12 for t = 0..9 = 0 2 4 6 8 10 0 2 4 6.
    QCOMPARE(panel.binCounts(), (std::vector<int>{2, 0, 2, 0, 2, 0, 2, 0, 1, 0, 1, 0}));
    panel.setLayer(-1);
    const std::vector<int> all = panel.binCounts();
    int total = 0;
    for (int c : all)
        total += c;
    QCOMPARE(total, 40);
    // 0.25 nats (m = 1): layer 1 has (1 + 2t) % 12 = 1 at t = 0 and 6, layer 3 (3 + 2t) at t = 5.
    QCOMPARE(all[1], 3);
    const auto boxes = panel.boxes();
    QCOMPARE(int(boxes.size()), 4);
    QCOMPARE(boxes[0].max, 2.5);
    QCOMPARE(boxes[0].count, 10);
    const QStringList csv = panel.csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(csv.size(), 13);
    QCOMPARE(csv[0], QStringLiteral("bin,lower,upper,hand"));
    QCOMPARE(csv[1], QStringLiteral("0,0,0.25,%1").arg(all[0]));
}

void TestPanels::entropyAttentionBins()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    EntropyPanel panel;
    panel.setBinCount(12);
    panel.setTrace(t, t.lens[size_t(Site::ResidPost)]);
    panel.setQuantity(EntropyPanel::Quantity::Attention);
    // attn_entropy = 0.1 * ((h + t + l) % 20) reaches 1.4: bins of 0.2 nats up to 2.4.
    QVERIFY(qAbs(panel.rangeUpper() - 2.4) < 1e-9);
    panel.setLayer(1);
    panel.setHead(2);
    // Layer 1, head 2: 0.3 0.4 ... 1.2 -> bins 1, 2, 2, 3, 3, 4, 4, 5, 5, 6.
    QCOMPARE(panel.binCounts(), (std::vector<int>{0, 1, 2, 2, 2, 2, 1, 0, 0, 0, 0, 0}));
    QCOMPARE(panel.blocksInBin(6), (Blocks{{1, 9}}));
    // One box per head of the chosen layer.
    QCOMPARE(int(panel.boxes().size()), 3);
    panel.setLayer(-1);
    QCOMPARE(int(panel.boxes().size()), 4);
}

void TestPanels::entropyBinSelection()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    EntropyPanel panel;
    panel.setBinCount(12);
    panel.setTrace(t, t.lens[size_t(Site::ResidPost)]);
    panel.setLayer(0);
    QSignalSpy spy(&panel, &EntropyPanel::binSelected);
    QSignalSpy traceSpy(&panel, &EntropyPanel::traceBinSelected);
    panel.selectBin(0);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).value<Blocks>(), (Blocks{{0, 0}, {0, 6}}));
    QCOMPARE(traceSpy.count(), 1);
    QCOMPARE(traceSpy.at(0).at(0).toInt(), 0);
    // A click on a bar of the chart does the same.
    panel.setLayer(-1);
    panel.clickHistogramBar(10);
    QCOMPARE(spy.count(), 2);
    const Blocks tens = spy.at(1).at(0).value<Blocks>();
    QCOMPARE(tens.size(), panel.binCounts()[10]);
    for (const auto &b : tens)
        QCOMPARE((b.first + 2 * b.second) % 12, 10);
}

void TestPanels::entropySeveralTraces()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    const LensSite &lens = t.lens[size_t(Site::ResidPost)];
    EntropyPanel panel;
    panel.setBinCount(12);
    panel.setTraces({{&t, &lens, QStringLiteral("first")}, {&t, &lens, QStringLiteral("second")}});
    QCOMPARE(panel.traceCount(), 2);
    const std::vector<int> one = panel.binCounts(0), both = panel.binCounts(-1);
    for (size_t i = 0; i < one.size(); ++i)
        QCOMPARE(both[i], 2 * one[i]);
    QVERIFY(panel.csv().startsWith(QStringLiteral("bin,lower,upper,first,second\n")));
    QSignalSpy spy(&panel, &EntropyPanel::binSelected);
    QSignalSpy traceSpy(&panel, &EntropyPanel::traceBinSelected);
    panel.selectBin(2, 1);
    QCOMPARE(spy.count(), 0); // not the first trace
    QCOMPARE(traceSpy.count(), 1);
    QCOMPARE(traceSpy.at(0).at(0).toInt(), 1);
}

// A click on a bar, wired as the workbench wires it: every block of the bin is outlined in
// the block view and the first one is selected.
void TestPanels::entropyBinOutlinesItsBlocks()
{
    const Trace t = TestData::makeTrace(4, 10, 3);
    const LensSite &lens = t.lens[size_t(Site::ResidPost)];
    EntropyPanel panel;
    panel.setBinCount(12);
    panel.setTrace(t, lens);
    BlockView view;
    view.resize(1000, 500);
    view.setTrace(t);
    QVERIFY(view.setLens(lens));
    connect(&panel, &EntropyPanel::binSelected, &view, &BlockView::showBlocks);
    QSignalSpy selected(&view, &BlockView::blockSelected);

    panel.clickHistogramBar(10);
    const Blocks bin = panel.blocksInBin(10);
    QVERIFY(bin.size() > 1);
    QCOMPARE(view.highlightCount(), int(bin.size()));
    QCOMPARE(view.highlightedBlocks(), bin);
    QCOMPARE(selected.count(), 1);
    QCOMPARE(view.selectedLayer(), bin.first().first);
    QCOMPARE(view.selectedPos(), bin.first().second);

    // Another bar replaces the outlines.
    panel.clickHistogramBar(3);
    const Blocks other = panel.blocksInBin(3);
    QCOMPARE(view.highlightedBlocks(), other);
    for (const auto &b : bin)
        QCOMPARE(view.isHighlighted(b.first, b.second), other.contains(b));
}

// ----------------------------------------------------------------------------- comparison

// Left: <s> "Once" " upon" (4 layers). Right: <s> "On" "ce" " upon" and a generated token
// (6 layers). The final top-1 agrees only on " upon".
void TestPanels::comparisonTraces(Trace &left, Trace &right)
{
    left = TestData::makeTrace(4, 3, 2);
    right = TestData::makeTrace(6, 5, 2);
    auto tok = [](int id, const char *text, int b, int e) {
        TokenInfo t;
        t.id = id;
        t.text = text;
        t.begin = b;
        t.end = e;
        return t;
    };
    left.name = "left";
    right.name = "right";
    left.tokens = {tok(1, "<s>", -1, -1), tok(2, "Once", 0, 4), tok(3, " upon", 4, 9)};
    right.tokens = {tok(1, "<s>", -1, -1), tok(4, "On", 0, 2), tok(5, "ce", 2, 4),
                    tok(3, " upon", 4, 9), tok(6, " a", -1, -1)};
    right.nPromptTokens = 4;
    // Final top-1: left (3 + t) % 50 -> " upon" (t = 2) is id 5; make the right's agree there.
    right.lens[size_t(Site::ResidPost)].topkIds.at({5, 3, 0}) = 5;
}

void TestPanels::comparisonAlignment()
{
    Trace left, right;
    comparisonTraces(left, right);
    ComparisonPanel panel;
    panel.setTraces(left, left.lens[size_t(Site::ResidPost)], right,
                    right.lens[size_t(Site::ResidPost)]);
    const AlignedPairs expected = {{0, 0}, {1, 1}, {1, 2}, {2, 3}, {-1, 4}};
    QCOMPARE(panel.pairs(), expected);
    QCOMPARE(panel.side(0).layers, 4);
    QCOMPARE(panel.side(1).layers, 6);
    // Relative depth: left layer 1 is at (1 + 1) / 4 = 0.5, right layer 2 at 3 / 6.
    QCOMPARE(panel.side(1).layerAtDepth(panel.side(0).depthOfLayer(1)), 2);
    QCOMPARE(panel.side(1).layerAtDepth(1.0), 5);
    QCOMPARE(panel.side(0).layerAtDepth(panel.side(1).depthOfLayer(5)), 3);
}

void TestPanels::comparisonDifferences()
{
    Trace left, right;
    comparisonTraces(left, right);
    ComparisonPanel panel;
    panel.setTraces(left, left.lens[size_t(Site::ResidPost)], right,
                    right.lens[size_t(Site::ResidPost)]);
    QVERIFY(panel.pairDiffers(0)); // <s>: v3 against " w5"
    QVERIFY(panel.pairDiffers(1));
    QVERIFY(!panel.pairDiffers(3)); // " upon": both " w5"
    QVERIFY(!panel.pairDiffers(4)); // no left token: nothing to compare
    QCOMPARE(panel.differingPairCount(), 3);
    QVERIFY(panel.leftGrid()->finalDiffers(1));
    QVERIFY(!panel.rightGrid()->finalDiffers(3));
}

void TestPanels::comparisonSelectionIsShared()
{
    Trace left, right;
    comparisonTraces(left, right);
    ComparisonPanel panel;
    panel.resize(700, 500);
    panel.setTraces(left, left.lens[size_t(Site::ResidPost)], right,
                    right.lens[size_t(Site::ResidPost)]);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QSignalSpy pairSpy(&panel, &ComparisonPanel::pairSelected);
    QSignalSpy blockSpy(&panel, &ComparisonPanel::blockSelected);
    const QRectF cell = panel.leftGrid()->cellRect(2, 1); // pair 2 = (1, 2), left layer 1
    QTest::mouseClick(panel.leftGrid()->viewport(), Qt::LeftButton, {}, cell.center().toPoint());
    QCOMPARE(pairSpy.count(), 1);
    QCOMPARE(pairSpy.at(0).at(0).toInt(), 2);
    QCOMPARE(pairSpy.at(0).at(1).toInt(), 1);
    QCOMPARE(pairSpy.at(0).at(2).toInt(), 2);
    QCOMPARE(blockSpy.count(), 1);
    QCOMPARE(blockSpy.at(0).at(0).toInt(), 0);
    QCOMPARE(blockSpy.at(0).at(1).toInt(), 1);
    QCOMPARE(blockSpy.at(0).at(2).toInt(), 1);
    // Both grids show the pair; the right one at its layer of the same relative depth.
    QCOMPARE(panel.rightGrid()->selectedPair(), 2);
    QCOMPARE(panel.leftGrid()->selectedLayer(), 1);
    QCOMPARE(panel.rightGrid()->selectedLayer(), 2);
    // A click in the right grid moves the left one too.
    const QRectF other = panel.rightGrid()->cellRect(3, 5);
    QTest::mouseClick(panel.rightGrid()->viewport(), Qt::LeftButton, {}, other.center().toPoint());
    QCOMPARE(panel.leftGrid()->selectedPair(), 3);
    QCOMPARE(panel.leftGrid()->selectedLayer(), 3);
    QCOMPARE(blockSpy.last().at(0).toInt(), 1);
    QCOMPARE(blockSpy.last().at(2).toInt(), 3);
    // Arrow keys in a grid move the shared selection a pair (Left) or a layer (Down).
    panel.leftGrid()->setFocus();
    QTest::keyClick(panel.leftGrid(), Qt::Key_Left);
    QCOMPARE(panel.leftGrid()->selectedPair(), 2);
    QCOMPARE(panel.rightGrid()->selectedPair(), 2);
    QCOMPARE(panel.leftGrid()->selectedLayer(), 3);
    QTest::keyClick(panel.leftGrid(), Qt::Key_Down);
    QCOMPARE(panel.leftGrid()->selectedPair(), 2);
    QCOMPARE(panel.leftGrid()->selectedLayer(), 2);
}

void TestPanels::comparisonScrollIsShared()
{
    const Trace a = TestData::makeTrace(3, 60, 2), b = TestData::makeTrace(5, 60, 2);
    ComparisonPanel panel;
    panel.resize(400, 400);
    panel.setTraces(a, a.lens[size_t(Site::ResidPost)], b, b.lens[size_t(Site::ResidPost)]);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QCOMPARE(panel.pairCount(), 60); // same text, same tokens
    QScrollBar *l = panel.leftGrid()->horizontalScrollBar();
    QScrollBar *r = panel.rightGrid()->horizontalScrollBar();
    QVERIFY(l->maximum() > 0);
    l->setValue(l->maximum() / 2);
    QCOMPARE(r->value(), l->value());
    r->setValue(10);
    QCOMPARE(l->value(), 10);
}

void TestPanels::comparisonCsv()
{
    Trace left, right;
    comparisonTraces(left, right);
    ComparisonPanel panel;
    panel.setTraces(left, left.lens[size_t(Site::ResidPost)], right,
                    right.lens[size_t(Site::ResidPost)]);
    const QStringList csv = panel.csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(csv.size(), 1 + 5);
    QVERIFY(csv[0].startsWith(QStringLiteral("pair,left_pos,left_token,right_pos,right_token,")));
    QVERIFY(csv[0].endsWith(QStringLiteral(",differs")));
    QVERIFY(csv[4].startsWith(QStringLiteral("3,2, upon,3, upon, w5, w5,")));
    QVERIFY(csv[4].endsWith(QStringLiteral(",0")));
    QVERIFY(csv[5].startsWith(QStringLiteral("4,,,4, a,")));
}

// ------------------------------------------------------------------------------ all panels

void TestPanels::objectNamesAndToolTips()
{
    InspectorPanel inspector;
    HeadContributionPanel heads;
    EntropyPanel entropy;
    ComparisonPanel comparison;
    const QList<QWidget *> panels = {&inspector, &heads, &entropy, &comparison};
    for (QWidget *panel : panels) {
        QVERIFY(!panel->objectName().isEmpty());
        QVERIFY(!panel->windowTitle().isEmpty());
        QVERIFY(panel->minimumSizeHint().width() >= 200);
        // Every control a user can act on explains itself.
        const auto controls = panel->findChildren<QWidget *>();
        for (QWidget *w : controls) {
            const bool control =
                qobject_cast<QAbstractButton *>(w) || qobject_cast<QComboBox *>(w) ||
                qobject_cast<QAbstractSpinBox *>(w) || qobject_cast<QLineEdit *>(w);
            if (control && !qobject_cast<QLineEdit *>(w->parentWidget()) &&
                !qobject_cast<QAbstractSpinBox *>(w->parentWidget()) &&
                !qobject_cast<QComboBox *>(w->parentWidget()))
                QVERIFY2(!w->toolTip().isEmpty(),
                         qPrintable(panel->objectName() + QLatin1Char('/') + w->objectName() +
                                    QLatin1Char(' ') +
                                    QString::fromLatin1(w->metaObject()->className())));
        }
    }
}

void TestPanels::emptyInputs()
{
    // A trace with nothing in it (and one with tokens but no lens or head metrics) must show
    // a hint, not crash.
    const Trace empty;
    Trace bare = TestData::makeTrace(2, 3, 2, 2, 10, false);
    bare.lens = {};
    bare.contribNorm.clear();
    bare.contribCosine.clear();
    bare.contribProjection.clear();
    bare.attnEntropy.clear();
    const LensSite none;
    for (const Trace *t : {&empty, static_cast<const Trace *>(&bare)}) {
        InspectorPanel inspector;
        inspector.setTrace(*t);
        inspector.setLens(Site::ResidPost, none);
        inspector.setSelection(1, 1);
        QVERIFY(inspector.topK().empty());
        QVERIFY(!inspector.grab().isNull());
        HeadContributionPanel heads;
        heads.setTrace(*t);
        heads.setSelection(1, 1);
        QVERIFY(heads.values(HeadContributionPanel::Metric::Norm).empty());
        QVERIFY(!heads.grab().isNull());
        EntropyPanel entropy;
        entropy.setTrace(*t, none);
        QCOMPARE(entropy.binCounts(), std::vector<int>(size_t(entropy.binCount()), 0));
        entropy.selectBin(0);
        QVERIFY(!entropy.grab().isNull());
        ComparisonPanel comparison;
        comparison.setTraces(*t, none, bare, none);
        QCOMPARE(comparison.differingPairCount(), 0);
        QVERIFY(!comparison.grab().isNull());
    }
}

// The words a widget and its children show or explain.
static QStringList shownTexts(const QWidget *panel)
{
    QStringList out{panel->windowTitle(), panel->toolTip()};
    for (const QWidget *w : panel->findChildren<QWidget *>()) {
        out << w->toolTip();
        if (const auto *label = qobject_cast<const QLabel *>(w)) out << label->text();
        if (const auto *button = qobject_cast<const QAbstractButton *>(w)) out << button->text();
    }
    out.removeAll(QString());
    return out;
}

void TestPanels::panelsFollowALanguageChange()
{
#ifndef HEADLENS_QM_DIR
    QSKIP("the translations are built with the workbench (target headlens_translations)");
#else
    const QString qm = QStringLiteral(HEADLENS_QM_DIR "/headlens_it.qm");
    if (!QFileInfo::exists(qm)) QSKIP("headlens_it.qm has not been built");
    InspectorPanel inspector;
    HeadContributionPanel heads;
    EntropyPanel entropy;
    ComparisonPanel comparison;
    LogitAttributionPanel attribution;
    FollowTokenPanel follow;
    HeadRolesPanel roles;
    HeadSimilarityPanel similarity;
    const QList<QWidget *> panels = {&inspector,   &heads,  &entropy, &comparison,
                                     &attribution, &follow, &roles,   &similarity};
    QList<QStringList> english;
    for (const QWidget *panel : panels)
        english << shownTexts(panel);
    // A new translator means a LanguageChange for every widget (the application sends it to
    // the windows, and they to their children; a test runs no event loop, so it is sent here):
    // each panel sets its texts again, in Italian, without being told to.
    const auto changeLanguage = [] {
        QEvent change(QEvent::LanguageChange);
        QCoreApplication::sendEvent(qApp, &change);
        QCoreApplication::processEvents();
    };
    QTranslator italian;
    QVERIFY2(italian.load(qm), qPrintable(qm));
    QCoreApplication::installTranslator(&italian);
    changeLanguage();
    for (int i = 0; i < panels.size(); ++i) {
        const QStringList now = shownTexts(panels[i]);
        QVERIFY2(now != english[i], qPrintable(panels[i]->objectName()));
        QCOMPARE(now.size(), english[i].size()); // every text is still there
    }
    QCoreApplication::removeTranslator(&italian);
    changeLanguage();
    for (int i = 0; i < panels.size(); ++i)
        QCOMPARE(shownTexts(panels[i]), english[i]);
#endif
}

// A dock gives a panel its minimum width and no less (the panel sits in a scroll area that
// scrolls vertically only), so at that width every control must have the width a layout may
// shrink it to and lie inside the panel. The Similarity panel once asked for 300 px while its
// controls needed 378, and its boxes were cut at the panel's edge.
void TestPanels::panelsFitTheirControlsAtTheirMinimumSize()
{
    const Trace t = TestData::makeTrace(4, 30, 8);
    auto *inspector = new InspectorPanel;
    inspector->setTrace(t);
    auto *heads = new HeadContributionPanel;
    heads->setTrace(t);
    heads->setSelection(3, 18);
    auto *similarity = new HeadSimilarityPanel;
    similarity->setTrace(t);
    const QList<QWidget *> panels = {inspector,
                                     heads,
                                     new EntropyPanel,
                                     new ComparisonPanel,
                                     new LogitAttributionPanel,
                                     new FollowTokenPanel,
                                     new HeadRolesPanel,
                                     similarity};
    for (QWidget *panel : panels) {
        QScrollArea dock; // owns the panel
        dock.setFrameShape(QFrame::NoFrame);
        dock.setWidgetResizable(true);
        dock.setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        dock.setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        dock.setWidget(panel);
        dock.resize(panel->minimumSizeHint());
        dock.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dock));
        QTest::qWait(50);
        QCOMPARE(panel->width(), panel->minimumSizeHint().width());
        for (const QWidget *w : panel->findChildren<QWidget *>()) {
            if (!w->isVisibleTo(panel) ||
                !(qobject_cast<const QComboBox *>(w) || qobject_cast<const QAbstractButton *>(w) ||
                  qobject_cast<const QAbstractSpinBox *>(w)))
                continue;
            // What a layout may shrink it to: its minimum width where one is set, else its hint.
            const int need =
                w->minimumWidth() > 0 ? w->minimumWidth() : w->minimumSizeHint().width();
            const QRect r(w->mapTo(panel, QPoint()), w->size());
            const QString where = panel->objectName() + QLatin1Char('/') + w->objectName() +
                                  QStringLiteral(" at %1 px: %2..%3, needs %4")
                                      .arg(panel->width())
                                      .arg(r.left())
                                      .arg(r.right())
                                      .arg(need);
            QVERIFY2(panel->rect().contains(r), qPrintable(where));
            QVERIFY2(w->width() >= need, qPrintable(where));
        }
    }
}

QTEST_MAIN(TestPanels)
#include "tst_panels.moc"
