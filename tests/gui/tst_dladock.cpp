// The Logit Attribution dock in the workbench (offscreen): it follows the selected block's
// position and shows that position's head x layer attribution, the parts from the embedding to
// the final logit and their sum check; a head chosen in its heatmap becomes the project's head;
// a trace without an attribution says so.

#include "mainwindow.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/project/project.h"
#include "headlens/ui/headheatmap.h"
#include "headlens/ui/logitattributionpanel.h"

#include "handdla.h"
#include "tracefixture.h"

#include <QDockWidget>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace HeadLens;

class TestDlaDock : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_project;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("HeadLensTest");
        QCoreApplication::setApplicationName("tst_dladock");
        QSettings().clear();
        m_project = m_dir.filePath("dla.hlproj");
        Trace a = Test::makeFixtureTrace("a", 0.0f, {3, 4, 6, 3, 16});
        Test::addHandAttribution(a, 0.5f);
        addTrace(m_project.toStdString(), a, false);
        addTrace(m_project.toStdString(), Test::makeFixtureTrace("old", 0.01f), false);
    }

    void followsTheSelectedPosition()
    {
        MainWindow w;
        w.setAskFunction([](QWidget *, const QString &, const QString &,
                            QMessageBox::StandardButtons,
                            QMessageBox::StandardButton) { return QMessageBox::Discard; });
        w.resize(1400, 900);
        w.show();
        QVERIFY(w.openProject(m_project));
        auto *dock = w.findChild<QDockWidget *>("LogitAttributionDock");
        QVERIFY(dock);
        dock->raise();
        auto *panel = dock->findChild<LogitAttributionPanel *>();
        QVERIFY(panel);

        for (const auto &[layer, pos] : {std::pair{1, 3}, std::pair{2, 0}, std::pair{0, 5}}) {
            w.selectBlock(layer, pos);
            QCOMPARE(panel->position(), pos);
            const FloatArray m = panel->headMatrix();
            QCOMPARE(m.shape, (std::vector<int64_t>{3, 4}));
            for (int l = 0; l < 3; ++l)
                for (int h = 0; h < 4; ++h)
                    QCOMPARE(m.data[size_t(l * 4 + h)], Test::handDlaHead(l, h, pos));
            QCOMPARE(panel->heatmap()->value(2, 1), double(Test::handDlaHead(2, 1, pos)));
            // The parts in stream order: embedding, then each layer's attention and MLP, rest.
            const std::vector<double> parts = panel->parts();
            QCOMPARE(int(parts.size()), 1 + 2 * 3 + 1);
            QCOMPARE(parts.front(), double(Test::handDlaEmbed(pos)));
            double attn1 = 0;
            for (int h = 0; h < 4; ++h)
                attn1 += Test::handDlaHead(1, h, pos);
            QVERIFY(std::abs(parts[3] - attn1) < 1e-6);
            QCOMPARE(parts[4], double(Test::handDlaMlp(1, pos)));
            QCOMPARE(parts.back(), 0.5);
            QVERIFY(std::abs(panel->sumError()) < 1e-5);
            QVERIFY2(panel->sumCheckText().contains(QString::number(panel->logit(), 'f', 4)),
                     qPrintable(panel->sumCheckText()));
            QVERIFY2(panel->titleText().contains(QStringLiteral("position %1").arg(pos)),
                     qPrintable(panel->titleText()));
        }
        // The CSV has every head of the position.
        QCOMPARE(panel->csv().count(QStringLiteral("\nhead,")), 12);

        // A head clicked in the heatmap becomes the project's head.
        Q_EMIT panel->heatmap()->headSelected(2, 3);
        QCOMPARE(w.currentDocument()->view()->head(), 3);

        // A trace from before HeadLens stored the attribution says so.
        w.currentDocument()->view()->setTrace("old");
        QVERIFY(!panel->hasAttribution());
        QVERIFY(panel->parts().empty());
        QVERIFY2(panel->titleText().contains(QStringLiteral("no logit attribution")),
                 qPrintable(panel->titleText()));
    }

    // In a laptop's narrow dock (320 px at 1280x720) the heatmap and the waterfall become two
    // tabs, and the waterfall's bars keep room to read; where the dock is wide they stand side
    // by side. Side by side at 320 px, the bars had about 10 px.
    void theWaterfallKeepsItsBarsInANarrowDock()
    {
        Trace t = Test::makeFixtureTrace("a", 0.0f, {3, 4, 6, 3, 16});
        Test::addHandAttribution(t, 0.5f);
        auto *panel = new LogitAttributionPanel;
        panel->setTrace(t);
        panel->setPosition(3);
        QScrollArea dock; // as a dock holds it: it scrolls vertically only
        dock.setWidgetResizable(true);
        dock.setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        dock.setWidget(panel);
        dock.resize(320, 400);
        dock.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dock));
        auto *tabs = panel->findChild<QTabWidget *>("dlaTabs");
        QVERIFY(tabs);
        for (const int width : {320, 900, 320}) {
            dock.resize(width, 400);
            QTest::qWait(50);
            const bool narrow = width < 500;
            QCOMPARE(panel->sideBySide(), !narrow);
            QCOMPARE(tabs->isVisible(), narrow);
            QCOMPARE(tabs->count(), narrow ? 2 : 0);
            if (narrow) QCOMPARE(tabs->tabText(1), QStringLiteral("Parts"));
            if (narrow) tabs->setCurrentIndex(1);
            QVERIFY(panel->heatmap()->isVisible() == !narrow);
            QCoreApplication::processEvents();
            QVERIFY2(panel->waterfallBarRoom() >= 100,
                     qPrintable(QStringLiteral("%1 px wide: bars span %2 px")
                                    .arg(width)
                                    .arg(panel->waterfallBarRoom())));
            if (narrow) { // the heatmap's tab shows it whole width
                tabs->setCurrentIndex(0);
                QCoreApplication::processEvents();
                QVERIFY(panel->heatmap()->isVisible());
                QVERIFY(panel->heatmap()->width() >= panel->width() - 40);
            }
        }
        // Pixel by pixel through the width where the arrangement changes: the dock's scroll
        // bar comes and goes with it, and must not flip it back. Tabs turn into columns at a
        // larger width than columns into tabs, by more than the scroll bar.
        const auto settle = [&](int width) {
            dock.resize(width, 260);
            QCoreApplication::processEvents();
            const bool was = panel->sideBySide();
            QCoreApplication::processEvents();
            QCOMPARE(panel->sideBySide(), was); // stable once laid out
        };
        int columnsFrom = -1, tabsBelow = -1;
        for (int width = 320; width <= 900 && columnsFrom < 0; ++width) {
            settle(width);
            if (QTest::currentTestFailed()) return;
            if (panel->sideBySide()) columnsFrom = width;
        }
        QVERIFY(columnsFrom > 0);
        for (int width = columnsFrom; width >= 320 && tabsBelow < 0; --width) {
            settle(width);
            if (QTest::currentTestFailed()) return;
            if (!panel->sideBySide()) tabsBelow = width;
        }
        QVERIFY(tabsBelow > 0);
        const int scrollBar = dock.verticalScrollBar()->sizeHint().width();
        QVERIFY2(columnsFrom - tabsBelow > scrollBar,
                 qPrintable(QStringLiteral("columns from %1 px, tabs below %2 px, scroll bar %3 px")
                                .arg(columnsFrom)
                                .arg(tabsBelow)
                                .arg(scrollBar)));
    }
};

QTEST_MAIN(TestDlaDock)
#include "tst_dladock.moc"
