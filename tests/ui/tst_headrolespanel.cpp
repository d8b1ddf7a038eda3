// The Head Roles table and the role labels of the head-contribution panel, on hand-made
// scores: one row per head, sorted by any column (NaN last when descending), a row click
// selects the head, the CSV follows the shown order, and the contribution panel names the
// selected head's strongest role and labels each bar with it.
#include "headlens/ui/headcontributionpanel.h"
#include "headlens/ui/headrolespanel.h"
#include "uitestdata.h"

#include <QGraphicsTextItem>
#include <QGraphicsView>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTableView>
#include <QtTest>

#include <cmath>

using namespace HeadLens;

namespace {

// 2 layers x 2 heads: L0H0 previous 0.9, L0H1 first 0.7, L1H0 induction 0.95, L1H1 nothing
// above 0.4, its duplicate score NaN.
HeadRoles sample()
{
    HeadRoles r;
    r.nLayers = 2;
    r.nHeads = 2;
    for (auto &s : r.score)
        s = Array<double>({2, 2}, 0.05);
    r.meanDistance = Array<double>({2, 2}, 3.0);
    r.score[int(HeadRole::PreviousToken)].data = {0.9, 0.1, 0.2, 0.3};
    r.score[int(HeadRole::FirstToken)].data = {0.0, 0.7, 0.0, 0.1};
    r.score[int(HeadRole::Induction)].data = {0.0, 0.0, 0.95, 0.2};
    r.score[int(HeadRole::DuplicateToken)].data[3] = std::nan("");
    r.meanDistance.data = {1.0, 12.5, 7.0, 2.0};
    r.sequenceLength = 50;
    r.sequences = 4;
    r.seed = 7;
    r.nQueries = 400;
    r.nRepeatQueries = 200;
    return r;
}

} // namespace

class TestHeadRolesPanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void tableRowsAndRoles();
    void sorting();
    void rowClickSelectsTheHead();
    void empty();
    void contributionPanelLabels();
};

void TestHeadRolesPanel::tableRowsAndRoles()
{
    HeadRolesPanel p;
    p.setRoles(sample());
    QStandardItemModel *m = p.model();
    QCOMPARE(m->rowCount(), 4);
    QCOMPARE(m->columnCount(), int(HeadRolesPanel::ColumnCount));
    QCOMPARE(m->item(0, HeadRolesPanel::Previous)->text(), QString("0.900"));
    QCOMPARE(m->item(0, HeadRolesPanel::Strongest)->text(), QString("previous token"));
    QCOMPARE(m->item(1, HeadRolesPanel::Strongest)->text(), QString("first token"));
    QCOMPARE(m->item(2, HeadRolesPanel::Strongest)->text(), QString("induction"));
    QCOMPARE(m->item(3, HeadRolesPanel::Strongest)->text(), QString());
    QCOMPARE(m->item(3, HeadRolesPanel::Duplicate)->text(), QString("\u2013"));
    QCOMPARE(m->item(1, HeadRolesPanel::Distance)->text(), QString("12.50"));
    QVERIFY(p.captionText().contains("4 random sequences of 50 tokens"));
    QVERIFY(p.captionText().contains("seed 7"));
    QCOMPARE(headRoleLabel(sample(), 1, 0), QString("induction 0.95"));
    QCOMPARE(headRoleLabel(sample(), 1, 1), QString());
}

void TestHeadRolesPanel::sorting()
{
    HeadRolesPanel p;
    p.setRoles(sample());
    p.table()->sortByColumn(HeadRolesPanel::Induction, Qt::DescendingOrder);
    QStandardItemModel *m = p.model();
    QCOMPARE(m->item(0, HeadRolesPanel::Layer)->text(), QString("1"));
    QCOMPARE(m->item(0, HeadRolesPanel::Head)->text(), QString("0"));
    QCOMPARE(m->item(1, HeadRolesPanel::Induction)->text(), QString("0.200"));
    // The CSV in the shown order, with the full values.
    const QStringList lines = p.csv().split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 5);
    QCOMPARE(lines[0], QString("layer,head,previous_token,first_token,self,duplicate_token,"
                               "induction,mean_distance,strongest"));
    QCOMPARE(lines[1], QString("1,0,0.2,0,0.05,0.05,0.95,7,induction"));
    QCOMPARE(lines[2], QString("1,1,0.3,0.1,0.05,,0.2,2,"));
    // Descending by duplicate: the NaN last; the sort survives new roles.
    p.table()->sortByColumn(HeadRolesPanel::Duplicate, Qt::DescendingOrder);
    QCOMPARE(m->item(3, HeadRolesPanel::Duplicate)->text(), QString("\u2013"));
    p.table()->sortByColumn(HeadRolesPanel::Distance, Qt::AscendingOrder);
    p.setRoles(sample());
    QCOMPARE(m->item(0, HeadRolesPanel::Distance)->text(), QString("1.00"));
    QCOMPARE(m->item(3, HeadRolesPanel::Distance)->text(), QString("12.50"));
}

void TestHeadRolesPanel::rowClickSelectsTheHead()
{
    HeadRolesPanel p;
    p.setRoles(sample());
    QSignalSpy spy(&p, &HeadRolesPanel::headSelected);
    p.setSelectedHead(1, 1); // from the view state: no signal
    QCOMPARE(spy.count(), 0);
    QCOMPARE(p.table()->selectionModel()->selectedRows().size(), 1);
    QCOMPARE(p.table()->selectionModel()->selectedRows()[0].row(), 3);
    p.table()->setCurrentIndex(p.model()->index(1, HeadRolesPanel::Induction));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy[0][0].toInt(), 0);
    QCOMPARE(spy[0][1].toInt(), 1);
}

void TestHeadRolesPanel::empty()
{
    HeadRolesPanel p;
    p.setRoles(sample());
    p.clear();
    QCOMPARE(p.model()->rowCount(), 0);
    QVERIFY(p.captionText().contains("--roles"));
    QCOMPARE(p.csv().count('\n'), 1);
}

void TestHeadRolesPanel::contributionPanelLabels()
{
    HeadContributionPanel p;
    p.resize(600, 500); // roles label the bars only where they fit under them
    p.show();
    QVERIFY(QTest::qWaitForWindowExposed(&p));
    FloatArray norm({2, 2, 3}, 1.0f);
    p.setHeadMetrics(norm, FloatArray(), FloatArray());
    p.setHeadRoles(sample());
    p.setSelection(1, 2);
    QCOMPARE(p.roleText(), QString()); // no head selected
    p.setSelectedHead(0);
    QCOMPARE(p.roleText(), QString("head 0: induction 0.95"));
    auto *label = p.findChild<QLabel *>("headContributionTitle");
    QVERIFY(label);
    QCOMPARE(label->text(), QString("Layer 1 \u00b7 position 2 \u00b7 head 0: induction 0.95"));
    QCOMPARE(p.headLabels(), (QStringList{"0 ind", "1"}));
    p.setSelectedHead(1);
    QCOMPARE(p.roleText(), QString("head 1: no clear role"));
    p.setSelection(0, 1);
    QCOMPARE(p.headLabels(), (QStringList{"0 prev", "1 first"}));
    QCOMPARE(p.roleText(), QString("head 1: first token 0.70"));
    p.setHeadRoles(HeadRoles());
    QCOMPARE(p.roleText(), QString());
    QCOMPARE(p.headLabels(), (QStringList{"0", "1"}));

    // 32 heads, each with a role, in a narrow panel: "12 first" would not fit under its bar,
    // so the bars carry their numbers alone, not an elided "12 …"; with the room, the roles.
    const int H = 32;
    const HeadRoles many = TestData::everyHeadIs(HeadRole::FirstToken, 1, H);
    HeadContributionPanel wide;
    wide.setHeadMetrics(FloatArray({1, H, 3}, 1.0f), FloatArray(), FloatArray());
    wide.setHeadRoles(many);
    wide.setSelection(0, 1);
    wide.resize(500, 500);
    wide.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wide));
    QStringList numbers;
    for (int h = 0; h < H; ++h)
        numbers << QString::number(h);
    QTRY_COMPARE(wide.headLabels(), numbers);
    wide.resize(6000, 500);
    QTRY_COMPARE(wide.headLabels().value(12), QStringLiteral("12 first"));

    // Eight heads with roles, at every width of a dock: the bars carry their roles only where
    // Qt Charts draws them whole (at 475 px it once drew "6 pr..." under every bar).
    const HeadRoles eight = TestData::everyHeadIs(HeadRole::PreviousToken, 1, 8);
    HeadContributionPanel dock;
    dock.setHeadMetrics(FloatArray({1, 8, 3}, 1.0f), FloatArray(), FloatArray());
    dock.setHeadRoles(eight);
    dock.setSelection(0, 1);
    dock.resize(300, 500);
    dock.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dock));
    auto *chart = dock.findChild<QGraphicsView *>("headContributionChart");
    QVERIFY(chart && chart->scene());
    const auto cutLabels = [chart] {
        QStringList cut;
        for (const QGraphicsItem *item : chart->scene()->items())
            if (const auto *text = dynamic_cast<const QGraphicsTextItem *>(item);
                text && text->isVisible() && text->toPlainText().endsWith(QStringLiteral("...")))
                cut << text->toPlainText();
        return cut;
    };
    int withRoles = 0;
    for (int width = 300; width <= 900; width += 25) {
        dock.resize(width, 500);
        QTest::qWait(20);
        QVERIFY2(cutLabels().isEmpty(),
                 qPrintable(QString::number(width) + ": " + cutLabels().join(", ")));
        if (dock.headLabels().value(0) == QStringLiteral("0 prev")) ++withRoles;
    }
    QVERIFY(withRoles > 0); // the roles do show where there is room
}

QTEST_MAIN(TestHeadRolesPanel)
#include "tst_headrolespanel.moc"
