// GUI tests of the workbench window (offscreen): projects opened, saved and closed with their
// prompts, several at once, a damaged project refused while the others stay, drag and drop,
// selection flowing from the block view to the inspector and the head chart, view settings
// and tree edits through the undo stack, export to SVG/PNG/CSV, the dock layout surviving a
// restart, and recovery after a crash.

#include "appsettings.h"
#include "comparisondock.h"
#include "entropydock.h"
#include "exportdialog.h"
#include "followtokendock.h"
#include "headcontributiondock.h"
#include "headsimilaritydock.h"
#include "inspectordock.h"
#include "lensselector.h"
#include "mainwindow.h"
#include "messagebar.h"
#include "projectdock.h"
#include "settingsdialog.h"
#include "tracetreemodel.h"
#include "traceview.h"

#include "attentionpatterndock.h"
#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/recoverymanager.h"
#include "headlens/document/viewstate.h"
#include "headlens/project/project.h"
#include "headlens/ui/attentionpatternview.h"
#include "headlens/ui/blockview.h"
#include "headlens/ui/elidinglabel.h"
#include "headlens/ui/entropypanel.h"
#include "headlens/ui/followtokenpanel.h"
#include "headlens/ui/headcontributionpanel.h"
#include "headlens/ui/headsimilaritypanel.h"
#include "headlens/ui/headsimilarityview.h"
#include "headlens/ui/inspectorpanel.h"

#include "tracefixture.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonDocument>
#include <QLineEdit>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabBar>
#include <QTemporaryDir>
#include <QToolBar>
#include <QTreeView>
#include <QUndoStack>
#include <QXmlStreamReader>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace HeadLens;

namespace {

std::string s(const QString &q)
{
    return q.toStdString();
}

// Answers every question of the window with `answer`, counting them.
struct Answer {
    QMessageBox::StandardButton answer = QMessageBox::Cancel;
    int asked = 0;
    QString lastText;
};

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_project;  // traces a, b (child of a), c
    QString m_project2; // trace x

    std::unique_ptr<MainWindow> makeWindow(Answer *answer = nullptr)
    {
        auto w = std::make_unique<MainWindow>();
        if (answer)
            w->setAskFunction([answer](QWidget *, const QString &, const QString &text,
                                       QMessageBox::StandardButtons, QMessageBox::StandardButton) {
                ++answer->asked;
                answer->lastText = text;
                return answer->answer;
            });
        else
            w->setAskFunction([](QWidget *, const QString &, const QString &,
                                 QMessageBox::StandardButtons,
                                 QMessageBox::StandardButton) { return QMessageBox::Discard; });
        w->resize(1400, 900);
        w->show();
        return w;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("HeadLensTest");
        QCoreApplication::setApplicationName("tst_mainwindow");
        QSettings().clear();
        QDir(RecoveryManager::folder()).removeRecursively();
        m_project = m_dir.filePath("one.hlproj");
        addTrace(s(m_project), Test::makeFixtureTrace("a"), false);
        Trace b = Test::makeFixtureTrace("b", 0.01f);
        b.parent = "a";
        b.edit = R"({"kind":"subtract","site":"resid_mid","layer":1,"pos":2,"count":1})";
        addTrace(s(m_project), b, false);
        addTrace(s(m_project), Test::makeFixtureTrace("c", 0.02f, {4, 3, 6, 2, 12}), false);
        m_project2 = m_dir.filePath("two.hlproj");
        addTrace(s(m_project2), Test::makeFixtureTrace("x", 0.03f), false);
    }

    void init() { QSettings().remove("window"); }

    void openShowsTheFirstTrace()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->openProject(m_project);
        QVERIFY(doc);
        QCOMPARE(w->tabBar()->count(), 1);
        QCOMPARE(w->tabBar()->tabText(0), QStringLiteral("one.hlproj"));
        QCOMPARE(w->currentTrace(), QStringLiteral("a"));
        QCOMPARE(w->traceView()->blockView()->layerCount(), 3);
        QCOMPARE(w->traceView()->blockView()->tokenCount(), 5);
        QCOMPARE(w->traceView()->headBox()->count(), 3); // mean + 2 heads

        // The project tree: b under a, c beside a.
        TraceTreeModel *model = w->projectDock()->model();
        QCOMPARE(model->rowCount(), 2);
        const QModelIndex a = model->indexOf("a");
        QCOMPARE(model->rowCount(a), 1);
        QCOMPARE(model->traceAt(model->index(0, 0, a)), QStringLiteral("b"));
        QCOMPARE(model->data(model->indexOf("a", TraceTreeModel::Model)).toString(),
                 QStringLiteral("fixture-model"));

        // Choosing a trace in the tree shows it.
        w->projectDock()->treeView()->setCurrentIndex(model->indexOf("c"));
        QCOMPARE(w->currentTrace(), QStringLiteral("c"));
        QCOMPARE(w->traceView()->blockView()->layerCount(), 4);
        QCOMPARE(w->traceView()->blockView()->tokenCount(), 6);
        // Opening the same file again switches to it instead of opening it twice.
        QCOMPARE(w->openProject(m_project), doc);
        QCOMPARE(w->tabBar()->count(), 1);
    }

    void damagedProjectIsRefusedWhileOthersStay()
    {
        auto w = makeWindow();
        QVERIFY(w->openProject(m_project));
        ProjectDocument *second = w->openProject(m_project2);
        QVERIFY(second);
        second->setNotes("unsaved notes");
        const QString bad = m_dir.filePath("damaged.hlproj");
        {
            QFile in(m_project), out(bad);
            QVERIFY(in.open(QIODevice::ReadOnly) && out.open(QIODevice::WriteOnly));
            const QByteArray all = in.readAll();
            out.write(all.left(all.size() / 3));
        }
        QVERIFY(!w->openProject(bad));
        QVERIFY2(w->messageBar()->text().contains("damaged.hlproj"),
                 qPrintable(w->messageBar()->text()));
        QCOMPARE(w->messageBar()->level(), MessageBar::Level::Error);
        QCOMPARE(w->documents().size(), 2);
        QCOMPARE(w->currentDocument(), second);
        QCOMPARE(second->notes(), QStringLiteral("unsaved notes"));
        QCOMPARE(w->traceView()->blockView()->layerCount(), 3);

        QVERIFY(!w->openProject(m_dir.filePath("nothing-here.hlproj")));
        QVERIFY(w->messageBar()->text().contains("nothing-here.hlproj"));
        QCOMPARE(w->documents().size(), 2);
    }

    // A project is read in a child process (headlens-check) before the workbench opens it: a
    // file that crashes the reader crashes only that process, and the open projects stay.
    void aProjectThatCrashesTheReaderIsNotOpened()
    {
        auto w = makeWindow();
        ProjectDocument *first = w->openProject(m_project);
        QVERIFY(first);
        first->setNotes("unsaved notes");
        // A checker that crashes as libhdf5 does on some damaged files.
        const QString crasher = m_dir.filePath("crashing-check.sh");
        {
            QFile f(crasher);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("#!/bin/sh\nkill -SEGV $$\n");
        }
        QFile::setPermissions(crasher, QFile::permissions(crasher) | QFileDevice::ExeOwner);
        qputenv("HEADLENS_CHECK", crasher.toLocal8Bit());
        QVERIFY(!w->openProject(m_project2));
        QVERIFY2(w->messageBar()->text().contains("crashed the HDF5 library"),
                 qPrintable(w->messageBar()->text()));
        QCOMPARE(w->documents().size(), 1);
        QCOMPARE(first->notes(), QStringLiteral("unsaved notes"));

        // The real checker: a truncated file is refused with the reader's message, a good one
        // opens.
        qputenv("HEADLENS_CHECK", HEADLENS_CHECK_EXE);
        const QString bad = m_dir.filePath("cut.hlproj");
        {
            QFile in(m_project2), out(bad);
            QVERIFY(in.open(QIODevice::ReadOnly) && out.open(QIODevice::WriteOnly));
            out.write(in.readAll().left(3000));
        }
        QVERIFY(!w->openProject(bad));
        QVERIFY2(w->messageBar()->text().contains("damaged or truncated"),
                 qPrintable(w->messageBar()->text()));
        QVERIFY(w->openProject(m_project2));
        QCOMPARE(w->documents().size(), 2);
        qunsetenv("HEADLENS_CHECK");
    }

    // A trace too long to read a whole attention layer per click (2 x 1,500 x 1,500 values):
    // the block view gets the selected position's row, and shows it as it would the layer.
    void aLongTraceShowsTheSelectedRow()
    {
        const QString path = m_dir.filePath("long.hlproj");
        addTrace(s(path), Test::makeFixtureTrace("long", 0.0f, {1, 2, 1500, 2, 8}), false);
        auto w = makeWindow();
        QVERIFY(w->openProject(path));
        BlockView *view = w->traceView()->blockView();
        QCOMPARE(view->tokenCount(), 1500);
        w->selectBlock(0, 1200);
        QCOMPARE(view->attentionLayer(), 0);
        std::vector<float> weights = view->attentionWeights();
        QCOMPARE(int(weights.size()), 1201); // keys 0..1200, each 1 / 1201 in the fixture
        QVERIFY(qAbs(weights[0] - 1.0f / 1201) < 1e-7);
        QVERIFY(qAbs(weights[1200] - 1.0f / 1201) < 1e-7);
        w->selectBlock(0, 7);
        weights = view->attentionWeights();
        QCOMPARE(int(weights.size()), 8);
        QVERIFY(qAbs(weights[3] - 0.125f) < 1e-7);
    }

    // One followed token for the grid and the Follow Token dock, whichever picked it; it stays
    // when another trace is shown.
    void theGridAndTheDockFollowOneToken()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->openProject(m_project);
        QVERIFY(doc);
        w->selectBlock(2, 3);
        const int id = doc->lens("a", Site::ResidPost)->topkIds.at({1, 3, 1});
        w->traceView()->blockView()->setFollowToken(id); // as the block's menu does
        QCOMPARE(doc->view()->followToken(), id);
        QCOMPARE(w->docks()->follow->panel()->followToken(), id);
        QCOMPARE(int(w->docks()->follow->panel()->probabilities().size()), 3);
        QVERIFY(!std::isnan(w->docks()->follow->panel()->probabilities()[1]));
        Q_EMIT w->docks()->follow->panel()->followRequested(-1); // the dock's Stop
        QCOMPARE(w->traceView()->blockView()->followToken(), -1);
        doc->view()->setFollowToken(id);
        w->setCurrentTrace("c");
        QCOMPARE(w->traceView()->blockView()->followToken(), id);
        QCOMPARE(w->docks()->follow->panel()->followToken(), id);
    }

    // The Attention Pattern dock draws the selected layer's query x key weights of the chosen
    // head (or the heads' mean) as stored; a click on a row selects that position.
    void attentionPatternOfTheSelectedLayer()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->openProject(m_project);
        QVERIFY(doc);
        w->patternDock()->show();
        w->patternDock()->raise();
        AttentionPatternView *pattern = w->patternDock()->patternView();
        QCOMPARE(pattern->tokenCount(), 0); // no block selected yet
        w->selectBlock(2, 3);
        QCOMPARE(pattern->layer(), 2);
        QCOMPARE(pattern->head(), -1);
        QCOMPARE(pattern->tokenCount(), 5);
        const auto stored = doc->attention("a", 2);
        for (int q = 0; q < 5; ++q)
            for (int k = 0; k <= q; ++k)
                QCOMPARE(pattern->weight(q, k),
                         (stored->at({0, q, k}) + stored->at({1, q, k})) / 2.0f);
        doc->view()->setHead(1);
        QCOMPARE(pattern->head(), 1);
        QCOMPARE(pattern->weight(4, 2), stored->at({1, 4, 2}));
        // A click in row 1 selects position 1 of the same layer.
        pattern->resize(400, 400);
        const QRectF m = pattern->matrixRect();
        const QPointF inRow1(m.left() + m.width() * 0.05, m.top() + m.height() * 0.3);
        QCOMPARE(pattern->cellAt(inRow1).first, 1);
        QTest::mouseClick(pattern, Qt::LeftButton, {}, inRow1.toPoint());
        QCOMPARE(doc->view()->pos(), 1);
        QCOMPARE(doc->view()->layer(), 2);
        w->selectBlock(0, 4); // another layer: drawn again
        QCOMPARE(pattern->layer(), 0);
    }

    void selectionUpdatesInspectorAndCharts()
    {
        auto w = makeWindow();
        QVERIFY(w->openProject(m_project));
        BlockView *view = w->traceView()->blockView();
        QVERIFY(QTest::qWaitForWindowExposed(w.get()));
        view->ensureVisible(2, 3);
        const QPoint at = view->blockRect(2, 3).center().toPoint();
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
        QCOMPARE(view->selectedLayer(), 2);
        QCOMPARE(view->selectedPos(), 3);
        QCOMPARE(w->docks()->inspector->panel()->selectedLayer(), 2);
        QCOMPARE(w->docks()->inspector->panel()->selectedPos(), 3);
        QCOMPARE(w->docks()->head->panel()->selectedLayer(), 2);
        QCOMPARE(w->docks()->head->panel()->selectedPos(), 3);
        QCOMPARE(int(w->docks()->head->panel()->values(HeadContributionPanel::Metric::Norm).size()),
                 2);

        // The inspector shows the lens of the selected block.
        const Trace want = Test::makeFixtureTrace("a");
        const LensSite &lens = want.lens[size_t(Site::ResidPost)];
        const auto top = w->docks()->inspector->panel()->topK();
        QCOMPARE(int(top.size()), 3);
        QCOMPARE(top[0].id, lens.topkIds.at({2, 3, 0}));
        QVERIFY(qAbs(top[0].prob - lens.topkProbs.at({2, 3, 0})) < 1e-6);

        // The attention of the selected layer is shown: position 3 reads 0..3 equally.
        QCOMPARE(view->attentionLayer(), 2);
        const auto weights = view->attentionWeights();
        QCOMPARE(int(weights.size()), 4);
        QVERIFY(qAbs(weights[0] - 0.25f) < 1e-6);

        // Another site: the inspector follows.
        w->traceView()->siteBox()->setCurrentIndex(int(Site::MlpOut));
        QCOMPARE(w->docks()->inspector->panel()->site(), Site::MlpOut);
        QCOMPARE(w->docks()->inspector->panel()->topK()[0].id,
                 want.lens[size_t(Site::MlpOut)].topkIds.at({2, 3, 0}));
        QCOMPARE(view->selectedLayer(), 2); // the selection stays

        // The entropy panel: the shown trace, or every trace of the project.
        w->refreshEntropy();
        QCOMPARE(w->docks()->entropy->panel()->traceCount(), 1);
        w->findChild<QCheckBox *>("EntropyAllTraces")->setChecked(true);
        w->refreshEntropy();
        QCOMPARE(w->docks()->entropy->panel()->traceCount(), 3);
        // A click on a bin selects a block of it in the block view.
        int bin = 0;
        while (bin < w->docks()->entropy->panel()->binCount() &&
               w->docks()->entropy->panel()->blocksInBin(bin).isEmpty())
            ++bin;
        const auto blocks = w->docks()->entropy->panel()->blocksInBin(bin);
        QVERIFY(!blocks.isEmpty());
        w->docks()->entropy->panel()->selectBin(bin);
        QCOMPARE(view->selectedLayer(), blocks.first().first);
        QCOMPARE(view->selectedPos(), blocks.first().second);
        // ...and outlines all of them; the inspector shows the first.
        QCOMPARE(view->highlightedBlocks(), blocks);
        QCOMPARE(w->docks()->inspector->panel()->selectedLayer(), blocks.first().first);

        // Choosing a head in the head chart makes the block view show that head.
        Q_EMIT w->docks()->head->panel()->headSelected(2, 1);
        QCOMPARE(view->attentionHead(), 1);
        QCOMPARE(w->traceView()->headBox()->currentData().toInt(), 1);
        QCOMPARE(view->highlightCount(), int(blocks.size())); // the same lens: still outlined
        // Esc in the block view clears the outlines; the selection stays.
        view->setFocus();
        QTest::keyClick(view, Qt::Key_Escape);
        QCOMPARE(view->highlightCount(), 0);
        QCOMPARE(view->selectedLayer(), blocks.first().first);
    }

    // The lens selector without an engine: a sibling trace with the chosen lens is shown all
    // the same; otherwise the control says why, and nothing changes.
    void lensSelectorWithoutEngine()
    {
        auto w = makeWindow();
        w->applyEngineCommand(m_dir.filePath("no-such-engine") + " serve");
        ProjectDocument *doc = w->newProject();
        Trace unit = Test::makeFixtureTrace("a (lens: unit, output)", 0.05f);
        unit.lensNorm = LensNorm::Unit;
        doc->addTrace(Test::makeFixtureTrace("a"));
        doc->addTrace(unit);
        Trace other = Test::makeFixtureTrace("other tokens", 0.0f, {4, 3, 6, 2, 12});
        other.lensDecoder = LensDecoder::Input;
        doc->addTrace(other);
        Trace child = Test::makeFixtureTrace("child");
        child.parent = "a";
        doc->addTrace(child);
        Trace unknown = Test::makeFixtureTrace("no model");
        unknown.modelPath.clear();
        doc->addTrace(unknown);
        doc->undoStack()->setClean();

        LensSelector *lens = w->traceView()->lensSelector();
        QComboBox *norm = lens->normBox();
        QComboBox *decoder = lens->decoderBox();
        w->setCurrentTrace("a");
        QVERIFY(norm->isEnabled());
        QCOMPARE(LensNorm(norm->currentData().toInt()), LensNorm::Full);
        QCOMPARE(LensDecoder(decoder->currentData().toInt()), LensDecoder::Output);
        QVERIFY2(norm->toolTip().contains("no-such-engine"), qPrintable(norm->toolTip()));
        QVERIFY(!decoder->toolTip().isEmpty());

        // The unit-norm trace of the same tokens is in the project: shown, engine or not.
        norm->setCurrentIndex(norm->findData(int(LensNorm::Unit)));
        QCOMPARE(w->currentTrace(), QStringLiteral("a (lens: unit, output)"));
        QCOMPARE(LensNorm(norm->currentData().toInt()), LensNorm::Unit);
        norm->setCurrentIndex(norm->findData(int(LensNorm::Full)));
        QCOMPARE(w->currentTrace(), QStringLiteral("a"));

        // The input decoder: only "other tokens" has it, which has other tokens. It would
        // need the engine, which is missing: the message bar says so, the list goes back.
        decoder->setCurrentIndex(decoder->findData(int(LensDecoder::Input)));
        QCOMPARE(w->currentTrace(), QStringLiteral("a"));
        QVERIFY2(w->messageBar()->text().contains("no-such-engine"),
                 qPrintable(w->messageBar()->text()));
        QCOMPARE(LensDecoder(decoder->currentData().toInt()), LensDecoder::Output);
        QVERIFY(!lens->isRunning());
        QVERIFY(!w->engine()->isRunning());
        QCOMPARE(doc->traceCount(), 5);
        QVERIFY(!doc->isModified());

        // A propagate child and a trace without its model cannot be made again: the lists
        // are off and say why.
        w->setCurrentTrace("child");
        QVERIFY(!norm->isEnabled());
        QVERIFY2(norm->toolTip().contains("change the lens of a"), qPrintable(norm->toolTip()));
        w->setCurrentTrace("no model");
        QVERIFY(!decoder->isEnabled());
        QVERIFY(decoder->toolTip().contains("does not record the model"));

        // The names of traces made with another lens.
        QCOMPARE(LensSelector::siblingName("a", LensNorm::None, LensDecoder::Linear),
                 QStringLiteral("a (lens: none, linear)"));
        QCOMPARE(
            LensSelector::siblingName("a (lens: unit, output)", LensNorm::Full, LensDecoder::Input),
            QStringLiteral("a (lens: full, input)"));
    }

    void viewChoicesAreNotEditsButAreSaved()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->openProject(m_project);
        QVERIFY(doc);
        const int steps = doc->undoStack()->count();
        w->traceView()->siteBox()->setCurrentIndex(int(Site::ResidMid));
        w->traceView()->colourBox()->setCurrentIndex(1);
        w->selectBlock(1, 2);
        QCOMPARE(doc->view()->site(), Site::ResidMid);
        QCOMPARE(w->traceView()->blockView()->colourMode(), BlockView::ColourMode::Entropy);
        // Looking around is not an edit: nothing to undo, nothing to save.
        QCOMPARE(doc->undoStack()->count(), steps);
        QVERIFY(!doc->isModified());
        // ... but a saved project reopens where it was left.
        QTemporaryDir dir;
        const QString copy = dir.filePath("copy.hlproj");
        QVERIFY(w->saveProjectAs(doc, copy));
        std::unique_ptr<ProjectDocument> re(ProjectDocument::open(copy, nullptr));
        QVERIFY(re);
        QCOMPARE(re->view()->site(), Site::ResidMid);
        QCOMPARE(re->view()->colour(), ViewState::Colour::Entropy);
        QCOMPARE(re->view()->layer(), 1);
        QCOMPARE(re->view()->pos(), 2);
        QCOMPARE(re->view()->trace(), doc->view()->trace());
    }

    void headPickRecomputesNoLensAndNoEntropy()
    {
        auto w = makeWindow();
        w->show();
        ProjectDocument *doc = w->openProject(m_project);
        QVERIFY(doc);
        w->selectBlock(1, 2);
        w->refreshEntropy();
        QCoreApplication::processEvents();
        const int lensLoads = w->traceView()->lensLoads();
        const int fills = w->entropyDock()->fillCount();
        // A head from the box, from the head panel, and threshold steps.
        w->traceView()->headBox()->setCurrentIndex(2);
        QCOMPARE(doc->view()->head(), 1);
        QCOMPARE(w->traceView()->blockView()->attentionHead(), 1);
        QCOMPARE(w->docks()->head->panel()->selectedHead(), 1);
        Q_EMIT w->docks()->head->panel()->headSelected(1, 0);
        QCOMPARE(w->traceView()->headBox()->currentData().toInt(), 0);
        for (int v = 20; v <= 40; v += 5)
            w->traceView()->thresholdSlider()->setValue(v);
        QCOMPARE(doc->view()->threshold(), 0.4);
        QCoreApplication::processEvents();
        QCOMPARE(w->traceView()->lensLoads(), lensLoads);
        QCOMPARE(w->entropyDock()->fillCount(), fills);
        QCOMPARE(w->traceView()->blockView()->selectedLayer(), 1); // the selection stays
        // A site change does reload the lens (the counter counts).
        w->traceView()->siteBox()->setCurrentIndex(int(Site::ResidMid));
        QCOMPARE(w->traceView()->lensLoads(), lensLoads + 1);
    }

    void selectionSurvivesATraceSwitch()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->openProject(m_project);
        QVERIFY(doc);
        const QStringList names = doc->traceNames();
        if (names.size() < 2) QSKIP("the fixture project has one trace");
        w->selectBlock(1, 1);
        w->setCurrentTrace(names[1]);
        QCOMPARE(w->currentTrace(), names[1]);
        QCOMPARE(doc->view()->layer(), 1);
        QCOMPARE(w->docks()->inspector->panel()->selectedLayer(), 1);
        QCOMPARE(w->docks()->inspector->panel()->selectedPos(), 1);
    }

    void longErrorCannotWidenTheWindow()
    {
        auto w = makeWindow();
        w->resize(1280, 720);
        w->show();
        QVERIFY(QTest::qWaitForWindowExposed(w.get()));
        const QString path = "/" + QString("very-long-folder-name/").repeated(300) + "x.hlproj";
        QVERIFY(!w->openProject(path)); // a long error, with a path that has no spaces
        // As an engine's error quotes a long value: one run of 4,000 characters.
        w->messageBar()->showMessage(MessageBar::Level::Error,
                                     "cannot use " + path + " " + QString("y").repeated(4000));
        QCoreApplication::processEvents();
        QVERIFY(w->messageBar()->isVisible());
        // What a window manager would grow the window to: its minimum size.
        QVERIFY2(w->minimumSizeHint().width() <= 1280,
                 qPrintable(QString::number(w->minimumSizeHint().width())));
        QVERIFY2(w->messageBar()->minimumSizeHint().width() <= 400,
                 qPrintable(QString::number(w->messageBar()->minimumSizeHint().width())));
        QVERIFY(w->width() <= 1280);
        QVERIFY(w->messageBar()->text().contains("x.hlproj")); // all of it kept
        // The next action that succeeds clears it.
        QVERIFY(w->openProject(m_project));
        QVERIFY(!w->messageBar()->isVisible());
    }

    // At 1280x720 the bottom docks share two rows of tabs of about 330 and 470 pixels: every
    // tab shows its whole title (they once read "Head S…" and "He…"), and the View menu names
    // each dock in full.
    void dockTabsShowWholeTitlesOnALaptop()
    {
        auto w = makeWindow();
        QVERIFY(w->openProject(m_project));
        w->resize(1280, 720);
        w->show();
        QVERIFY(QTest::qWaitForWindowExposed(w.get()));
        QCoreApplication::processEvents();
        int tabs = 0;
        for (QTabBar *bar : w->findChildren<QTabBar *>()) {
            if (bar->parentWidget() != w.get() || !bar->isVisible()) continue; // dock tab rows
            for (int i = 0; i < bar->count(); ++i, ++tabs) {
                const int need = bar->fontMetrics().horizontalAdvance(bar->tabText(i));
                QVERIFY2(bar->tabRect(i).width() > need,
                         qPrintable(QString("%1: %2 px for %3 px of text")
                                        .arg(bar->tabText(i))
                                        .arg(bar->tabRect(i).width())
                                        .arg(need)));
                QVERIFY(bar->tabRect(i).right() <= bar->width()); // no tab scrolled away
            }
        }
        QVERIFY(tabs >= 8);
        // The Project dock's buttons all stand in its tool bar: none is hidden behind the
        // bar's overflow arrow (Delete was, at this size, with "New Trace…").
        auto *project = w->findChild<QDockWidget *>("ProjectDock");
        QVERIFY(project);
        const QList<QToolBar *> bars = project->findChildren<QToolBar *>();
        QCOMPARE(bars.size(), 1);
        QCOMPARE(bars[0]->actions().size(), 3);
        for (QAction *a : bars[0]->actions()) {
            const QWidget *button = bars[0]->widgetForAction(a);
            QVERIFY2(button && button->isVisible() &&
                         button->geometry().right() < bars[0]->contentsRect().right(),
                     qPrintable(a->text()));
        }
        QCOMPARE(w->docks()->head->windowTitle(), QStringLiteral("Heads"));
        QCOMPARE(w->docks()->head->toggleViewAction()->text(),
                 QStringLiteral("Head Contributions"));
    }

    void selectionTextIsShortenedBesideTheLensLabel()
    {
        auto w = makeWindow();
        QVERIFY(w->openProject(m_project));
        w->resize(1280, 720);
        QVERIFY(QTest::qWaitForWindowExposed(w.get()));
        w->selectBlock(1, 2);
        QCoreApplication::processEvents();
        auto *label = w->statusBar()->findChild<ElidingLabel *>("SelectionStatus");
        auto *lens = w->statusBar()->findChild<QLabel *>("LensInfo");
        QVERIFY(label && lens);
        QVERIFY(!label->text().isEmpty());
        QCOMPARE(label->toolTip(), label->text());
        // A patching trace's selection text is long; it must end in "…" before the lens label,
        // not run under it, and must not make the window wider.
        const QString whole = label->text() + QString(" · corrupted %1").arg(1.5).repeated(40);
        label->setText(whole);
        QCoreApplication::processEvents();
        QVERIFY(w->width() <= 1280);
        QVERIFY2(label->geometry().right() < lens->geometry().left(),
                 qPrintable(
                     QString("%1 %2").arg(label->geometry().right()).arg(lens->geometry().left())));
        QVERIFY(label->shownText().endsWith(QChar(0x2026)));
        QVERIFY(label->fontMetrics().horizontalAdvance(label->shownText()) <=
                label->contentsRect().width());
        QCOMPARE(label->toolTip(), whole);
        // A passing message (a patching trace's logit differences) is shortened the same way.
        Q_EMIT w->traceView()->status(whole, 8000);
        QCoreApplication::processEvents();
        const QString message = w->statusBar()->currentMessage();
        QVERIFY(message.endsWith(QChar(0x2026)));
        QVERIFY2(w->statusBar()->fontMetrics().horizontalAdvance(message) < lens->x(),
                 qPrintable(message));
        QCOMPARE(w->statusBar()->toolTip(), whole);
        w->statusBar()->clearMessage();
        QVERIFY(w->statusBar()->toolTip().isEmpty());
    }

    // OK stores what the settings and export dialogs hold; Cancel stores nothing.
    void dialogsStoreOnOkOnly()
    {
        const auto press = [](QDialog &dialog, QDialogButtonBox::StandardButton which) {
            auto *buttons = dialog.findChild<QDialogButtonBox *>();
            QVERIFY(buttons && buttons->button(which));
            buttons->button(which)->click();
        };
        const int minutes = AppSettings::autosaveMinutes();
        for (const auto which : {QDialogButtonBox::Cancel, QDialogButtonBox::Ok}) {
            SettingsDialog settings;
            auto *autosave = settings.findChild<QSpinBox *>("AutosaveMinutes");
            QVERIFY(autosave);
            autosave->setValue(minutes + 7);
            press(settings, which);
            QCOMPARE(settings.result(), which == QDialogButtonBox::Ok ? int(QDialog::Accepted)
                                                                      : int(QDialog::Rejected));
            QCOMPARE(AppSettings::autosaveMinutes(),
                     which == QDialogButtonBox::Ok ? minutes + 7 : minutes);
        }
        AppSettings::setAutosaveMinutes(minutes);

        const int width = AppSettings::value("export/width", 0).toInt();
        for (const auto which : {QDialogButtonBox::Cancel, QDialogButtonBox::Ok}) {
            ExportDialog dialog({"Block view"}, 0, ExportDialog::Format::Png);
            auto *spin = dialog.findChild<QSpinBox *>("ExportWidth");
            QVERIFY(spin);
            spin->setValue(spin->value() == 777 ? 778 : 777);
            const int chosen = spin->value();
            press(dialog, which);
            QCOMPARE(AppSettings::value("export/width").toInt(),
                     which == QDialogButtonBox::Ok ? chosen : width);
        }
    }

    void exportFieldKeepsWhatIsTyped()
    {
        ExportDialog dialog({"Block view"}, 0, ExportDialog::Format::Svg);
        auto *edit = dialog.findChild<QLineEdit *>();
        QVERIFY(edit);
        edit->clear();
        QTest::keyClicks(edit, "/tmp/figure");
        QCOMPARE(edit->text(), QStringLiteral("/tmp/figure"));
        QCOMPARE(dialog.fileName(), QStringLiteral("/tmp/figure.svg"));
        edit->clear();
        QTest::keyClicks(edit, "/t");
        QCOMPARE(edit->text(), QStringLiteral("/t"));
    }

    // An export is named after its trace and view, and the name follows the view until the
    // reader types another; an SVG's title names them too.
    void exportsNameTheirTrace()
    {
        ExportDialog dialog({"Block view", "Head contributions"}, 0, ExportDialog::Format::Png,
                            "girl 2");
        auto *edit = dialog.findChild<QLineEdit *>();
        QCOMPARE(QFileInfo(edit->text()).fileName(), QStringLiteral("girl-2-block-view.png"));
        dialog.findChild<QComboBox *>()->setCurrentIndex(1);
        QCOMPARE(QFileInfo(edit->text()).fileName(),
                 QStringLiteral("girl-2-head-contributions.png"));
        edit->setText("/tmp/mine.png");
        dialog.findChild<QComboBox *>()->setCurrentIndex(0);
        QCOMPARE(edit->text(), QStringLiteral("/tmp/mine.png"));

        auto w = makeWindow();
        QVERIFY(w->openProject(m_project));
        const QString svg = m_dir.filePath("named.svg");
        QString error;
        QVERIFY2(w->exports()->exportView(w->traceView()->blockView(),
                                          MainWindow::ExportFormat::Svg, svg, {600, 400}, &error),
                 qPrintable(error));
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll().contains("<title>a \u2014 Block view</title>"));
    }

    void childTraceMarksItsEditAndComparesWithItsParent()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->openProject(m_project);
        QVERIFY(doc);
        auto *compare = w->findChild<QAction *>("CompareWithParentAction");
        QVERIFY(compare);
        w->setCurrentTrace("a");
        QVERIFY(!compare->isEnabled()); // a has no parent
        QCOMPARE(w->traceView()->blockView()->highlightCount(), 0);
        w->setCurrentTrace("b");
        QVERIFY(compare->isEnabled());
        QCOMPARE(w->traceView()->blockView()->highlightedBlocks(),
                 (QVector<QPair<int, int>>{{1, 2}}));
        compare->trigger();
        QCOMPARE(w->comparisonDock()->traceOf(0), QStringLiteral("a"));
        QCOMPARE(w->comparisonDock()->traceOf(1), QStringLiteral("b"));
    }

    void treeEditsGoThroughTheUndoStack()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->openProject(m_project);
        QVERIFY(doc);
        TraceTreeModel *model = w->projectDock()->model();
        QVERIFY(model->setData(model->indexOf("a"), "root"));
        QCOMPARE(doc->traceNames(), QStringList({"root", "b", "c"}));
        QCOMPARE(w->currentTrace(), QStringLiteral("root"));
        QCOMPARE(model->traceAt(model->index(0, 0, model->indexOf("root"))), QStringLiteral("b"));
        // A taken name is refused with a message.
        QVERIFY(!model->setData(model->indexOf("root"), "c"));
        QVERIFY(w->messageBar()->text().contains("already"));

        w->projectDock()->setCurrentTrace("c");
        w->setCurrentTrace("c");
        w->projectDock()->deleteAction()->trigger();
        QCOMPARE(doc->traceNames(), QStringList({"root", "b"}));
        QCOMPARE(w->currentTrace(), QStringLiteral("b"));
        doc->undoStack()->undo();
        QCOMPARE(doc->traceNames(), QStringList({"root", "b", "c"}));
        doc->undoStack()->undo();
        QCOMPARE(doc->traceNames(), QStringList({"a", "b", "c"}));
        QVERIFY(!doc->isModified());

        // Notes typed into the dock are an undoable edit too.
        w->projectDock()->notesEdit()->setPlainText("head 1.1 copies");
        QCOMPARE(doc->notes(), QStringLiteral("head 1.1 copies"));
        doc->undoStack()->undo();
        QCOMPARE(w->projectDock()->notesEdit()->toPlainText(), QString());
    }

    void saveRoundTripAndPrompts()
    {
        Answer answer;
        auto w = makeWindow(&answer);
        ProjectDocument *doc = w->newProject();
        QCOMPARE(w->tabBar()->tabText(w->tabBar()->currentIndex()).left(8),
                 QStringLiteral("Untitled"));
        doc->addTrace(Test::makeFixtureTrace("fresh"));
        QCOMPARE(w->currentTrace(), QStringLiteral("fresh"));
        doc->setNotes("my notes");
        QVERIFY(w->isWindowModified());

        // Cancel keeps the project open; Discard closes it.
        answer.answer = QMessageBox::Cancel;
        QVERIFY(!w->closeProject(doc));
        QCOMPARE(answer.asked, 1);
        QCOMPARE(w->documents().size(), 1);

        const QString path = m_dir.filePath("saved.hlproj");
        QVERIFY(w->saveProjectAs(doc, m_dir.filePath("saved"))); // the suffix is added
        QCOMPARE(doc->fileName(), path);
        QVERIFY(!doc->isModified());
        QCOMPARE(w->tabBar()->tabText(0), QStringLiteral("saved.hlproj"));
        QVERIFY(w->closeProject(doc)); // nothing to ask
        QCOMPARE(answer.asked, 1);
        QCOMPARE(w->documents().size(), 0);
        QCoreApplication::processEvents();

        ProjectDocument *again = w->openProject(path);
        QVERIFY(again);
        QCOMPARE(again->traceNames(), QStringList({"fresh"}));
        QCOMPARE(again->notes(), QStringLiteral("my notes"));
        QCOMPARE(w->projectDock()->notesEdit()->toPlainText(), QStringLiteral("my notes"));
        QVERIFY(QSettings().value("recentFiles").toStringList().contains(path));

        again->removeTrace("fresh");
        answer.answer = QMessageBox::Discard;
        QVERIFY(w->closeProject(again));
        QCOMPARE(answer.asked, 2);
        QCOMPARE(ProjectReader(s(path)).info().traces.size(), size_t(1)); // discarded
    }

    void dropOpensProjects()
    {
        auto w = makeWindow();
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(m_project), QUrl::fromLocalFile(m_project2),
                      QUrl::fromLocalFile(m_dir.filePath("notes.txt"))});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton,
                              Qt::NoModifier);
        QApplication::sendEvent(w.get(), &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(w.get(), &drop);
        QCOMPARE(w->documents().size(), 2);

        QMimeData other;
        other.setUrls({QUrl::fromLocalFile(m_dir.filePath("notes.txt"))});
        QDragEnterEvent refuse(QPoint(10, 10), Qt::CopyAction, &other, Qt::LeftButton,
                               Qt::NoModifier);
        refuse.setAccepted(false);
        QApplication::sendEvent(w.get(), &refuse);
        QVERIFY(!refuse.isAccepted());
    }

    void exportProducesValidFiles_data()
    {
        QTest::addColumn<int>("view");
        const auto names = QStringList{"block view", "inspector", "head contributions", "entropy"};
        for (int i = 0; i < names.size(); ++i)
            QTest::newRow(qPrintable(names[i])) << i;
        QTest::newRow("head similarity") << 5;
    }

    void exportProducesValidFiles()
    {
        QFETCH(int, view);
        auto w = makeWindow();
        QVERIFY(w->openProject(m_project));
        w->selectBlock(1, 2);
        QWidget *widget = w->exports()->views().at(view).widget;
        QString error;

        const QString svg = m_dir.filePath(QStringLiteral("view%1.svg").arg(view));
        QVERIFY2(w->exports()->exportView(widget, MainWindow::ExportFormat::Svg, svg, {800, 500},
                                          &error),
                 qPrintable(error));
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&f);
        bool sawSvg = false;
        int elements = 0;
        while (!xml.atEnd()) {
            if (xml.readNext() == QXmlStreamReader::StartElement) {
                ++elements;
                if (xml.name() == QLatin1String("svg")) sawSvg = true;
            }
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QVERIFY(sawSvg);
        QVERIFY(elements > 5);

        const QString png = m_dir.filePath(QStringLiteral("view%1.png").arg(view));
        QVERIFY2(w->exports()->exportView(widget, MainWindow::ExportFormat::Png, png, {640, 400},
                                          &error),
                 qPrintable(error));
        const QImage image(png);
        QCOMPARE(image.size(), QSize(640, 400));
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 3, "the PNG is (nearly) blank");

        const QString csv = m_dir.filePath(QStringLiteral("view%1.csv").arg(view));
        QVERIFY2(w->exports()->exportView(widget, MainWindow::ExportFormat::Csv, csv, {}, &error),
                 qPrintable(error));
        QFile c(csv);
        QVERIFY(c.open(QIODevice::ReadOnly | QIODevice::Text));
        const QStringList lines = QString::fromUtf8(c.readAll()).split('\n', Qt::SkipEmptyParts);
        QVERIFY(lines.size() >= 2);
        const int columns = lines[0].count(',');
        QVERIFY(columns >= 1);
        if (view == 0) QCOMPARE(lines.size(), 1 + 3 * 5); // one line per block
        // Every record has the header's number of fields (no quoted commas in this fixture).
        for (const QString &line : lines)
            QCOMPARE(line.count(','), columns);
    }

    void headSimilarityDockFollowsTheSelection()
    {
        auto w = makeWindow();
        auto *heads = w->findChild<QDockWidget *>("HeadContributionDock");
        auto *dock = w->findChild<QDockWidget *>("HeadSimilarityDock");
        QVERIFY(heads && dock);
        QVERIFY(w->tabifiedDockWidgets(heads).contains(dock));
        // ... and the entropy dock still beside them, not in their tabs.
        auto *entropy = w->findChild<QDockWidget *>("EntropyDock");
        QVERIFY(!w->tabifiedDockWidgets(heads).contains(entropy));
        QVERIFY(w->exports()->views().last().widget == w->docks()->similarity->panel());
        QVERIFY(w->openProject(m_project));
        QVERIFY(QTest::qWaitForWindowExposed(w.get()));
        HeadSimilarityView *view = w->docks()->similarity->panel()->view();
        // Behind the head contributions' tab it reads and computes nothing.
        w->selectBlock(1, 3);
        QTest::qWait(50);
        QCOMPARE(view->headCount(), 0);
        QVERIFY(!w->docks()->similarity->panel()->isComputing());
        dock->raise(); // its tab chosen: layer 1 is computed
        QTRY_COMPARE(view->headCount(), 2);
        QCOMPARE(w->docks()->similarity->panel()->layer(), 1);
        w->selectBlock(2, 3);
        QCOMPARE(w->docks()->similarity->panel()->layer(), 2);
        QTRY_COMPARE(view->headCount(), 2);
        // A click on a cell chooses that head for the whole workbench.
        const int head = view->orderedHeads()[1];
        QTest::mouseClick(view, Qt::LeftButton, {}, view->cellRect(1, 0).center().toPoint());
        QCOMPARE(w->traceView()->headBox()->currentData().toInt(), head);
        QCOMPARE(w->traceView()->blockView()->attentionHead(), head);
        QCOMPARE(view->selectedHead(), head);
        // Another trace (3 heads): the panel follows.
        w->setCurrentTrace("c");
        QTRY_COMPARE(view->headCount(), 3);

        // A screenshot to look at, on the example project, when asked for.
        const QString shots = qEnvironmentVariable("HEADLENS_UI_SHOTS_DIR");
        const QString example =
            QStringLiteral(HEADLENS_SOURCE_DIR "/resources/examples/example.hlproj");
        if (!shots.isEmpty() && QFile::exists(example) && w->openProject(example)) {
            w->selectBlock(2, 5);
            QTRY_VERIFY(!w->docks()->similarity->panel()->isComputing());
            QVERIFY(w->grab().save(shots + QStringLiteral("/mainwindow-headsimilarity.png")));
        }
    }

    void dockLayoutIsSavedAndRestored()
    {
        {
            auto w = makeWindow();
            auto *entropy = w->findChild<QDockWidget *>("EntropyDock");
            auto *comparison = w->findChild<QDockWidget *>("ComparisonDock");
            auto *inspector = w->findChild<QDockWidget *>("InspectorDock");
            QVERIFY(entropy && comparison && inspector);
            QCOMPARE(w->dockWidgetArea(entropy), Qt::BottomDockWidgetArea);
            w->addDockWidget(Qt::LeftDockWidgetArea, entropy);
            comparison->hide();
            inspector->setFloating(true);
            w->findChild<QDockWidget *>("HeadSimilarityDock")->setFloating(true);
            QCoreApplication::processEvents();
            w->close(); // saves the layout
        }
        auto w = makeWindow();
        auto *entropy = w->findChild<QDockWidget *>("EntropyDock");
        auto *comparison = w->findChild<QDockWidget *>("ComparisonDock");
        auto *inspector = w->findChild<QDockWidget *>("InspectorDock");
        QCOMPARE(w->dockWidgetArea(entropy), Qt::LeftDockWidgetArea);
        QVERIFY(comparison->isHidden());
        QVERIFY(inspector->isFloating());
        QVERIFY(w->findChild<QDockWidget *>("HeadSimilarityDock")->isFloating());

        w->docks()->resetLayout();
        QCOMPARE(w->dockWidgetArea(entropy), Qt::BottomDockWidgetArea);
        QVERIFY(!comparison->isHidden());
        QVERIFY(!inspector->isFloating());
    }

    void recoveryAfterACrash()
    {
        // What a crashed session leaves behind: a copy and its note, under a session that
        // holds no lock any more.
        QDir().mkpath(RecoveryManager::folder());
        const QString copy = QDir(RecoveryManager::folder()).filePath("crashed-1.hlproj");
        QFile::remove(copy);
        {
            ProjectDocument doc;
            doc.addTrace(Test::makeFixtureTrace("lost-and-found"));
            QString error;
            QVERIFY2(doc.writeCopy(copy, &error), qPrintable(error));
        }
        const QString original = m_dir.filePath("recovered.hlproj");
        QFile note(QDir(RecoveryManager::folder()).filePath("crashed-1.json"));
        QVERIFY(note.open(QIODevice::WriteOnly));
        note.write(QJsonDocument(QJsonObject{{"original", original},
                                             {"title", "recovered.hlproj"},
                                             {"saved", "2026-01-01T00:00:00Z"},
                                             {"session", "crashed"}})
                       .toJson());
        note.close();

        Answer answer;
        answer.answer = QMessageBox::Yes;
        auto w = makeWindow(&answer);
        w->offerRecovery();
        QCOMPARE(answer.asked, 1);
        QVERIFY(answer.lastText.contains("recovered.hlproj"));
        QCOMPARE(w->documents().size(), 1);
        ProjectDocument *doc = w->currentDocument();
        QCOMPARE(doc->traceNames(), QStringList({"lost-and-found"}));
        QCOMPARE(doc->fileName(), original);
        QVERIFY(doc->isModified());
        // Its tab says it is a recovered copy (its original may be open beside it) until saved.
        QCOMPARE(w->tabBar()->tabText(0), QStringLiteral("recovered.hlproj (recovered) •"));
        QVERIFY(RecoveryManager::pending().isEmpty());
        QVERIFY(w->saveProject(doc));
        QCOMPARE(w->tabBar()->tabText(0), QStringLiteral("recovered.hlproj"));
        QCOMPARE(ProjectReader(s(original)).info().traces.front().name,
                 std::string("lost-and-found"));
    }

    void autosaveWritesRecoveryCopies()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->openProject(m_project2);
        QVERIFY(doc);
        w->recovery()->saveNow();
        QVERIFY(w->recovery()->recoveryFileOf(doc).isEmpty()); // nothing unsaved
        doc->setNotes("changed");
        w->recovery()->saveNow();
        const QString copy = w->recovery()->recoveryFileOf(doc);
        QVERIFY(QFile::exists(copy));
        QVERIFY(w->closeProject(doc)); // discards (see makeWindow) and removes the copy
        QCoreApplication::processEvents();
        QVERIFY(!QFile::exists(copy));
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
