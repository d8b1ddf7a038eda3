// The New Trace dialog driven as a user would, against the real engine: a trace made on a small
// random model with progress (and the event loop kept running), Cancel, the engine killed in the
// middle without losing anything and started again, the engine command through a wrapper
// script standing in for ssh, and the real stories260K model when it is present.

#include "appsettings.h"
#include "headrolesdock.h"
#include "inspectordock.h"
#include "lensselector.h"
#include "mainwindow.h"
#include "messagebar.h"
#include "newtracedialog.h"
#include "patchdialog.h"
#include "traceview.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/blockview.h"
#include "headlens/ui/headrolespanel.h"
#include "headlens/ui/inspectorpanel.h"

#include "tracefixture.h"

#include <QComboBox>
#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QToolButton>
#include <QUndoStack>
#include <QtTest>

#include <csignal>
#include <memory>

using namespace HeadLens;

class TestNewTrace : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_model;

    std::unique_ptr<MainWindow> makeWindow()
    {
        auto w = std::make_unique<MainWindow>();
        w->setAskFunction([](QWidget *, const QString &, const QString &,
                             QMessageBox::StandardButtons,
                             QMessageBox::StandardButton) { return QMessageBox::Discard; });
        w->show();
        return w;
    }

    TraceSpec spec(int generate, const QString &name = QString()) const
    {
        TraceSpec s;
        s.model = m_model;
        s.useTokenIds = true;
        s.tokenIds = {1, 17, 42, 99, 7};
        s.generate = generate;
        s.name = name;
        return s;
    }

    // Runs the CLI (the oracle for what the workbench asked the engine for) and parses its --json.
    QJsonObject cliJson(const QStringList &args)
    {
        QProcess cli;
        cli.start(QStringLiteral(HEADLENS_CLI), args);
        if (!cli.waitForFinished(120000) || cli.exitCode() != 0) {
            qWarning() << cli.readAllStandardError();
            return {};
        }
        return QJsonDocument::fromJson(cli.readAllStandardOutput()).object();
    }

    ProjectDocument *traceInto(MainWindow &w, const TraceSpec &s)
    {
        NewTraceDialog *dialog = w.showNewTraceDialog();
        dialog->setSpec(s);
        QSignalSpy added(dialog, &NewTraceDialog::traceAdded);
        if (!dialog->startTrace() || !added.wait(60000)) return nullptr;
        return w.currentDocument();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("HeadLensTest");
        QCoreApplication::setApplicationName("tst_newtrace");
        QSettings().clear();
        AppSettings::setEngineCommand(QStringLiteral(HEADLENS_CLI) + " serve");
        m_model = m_dir.filePath("random-model");
        QProcess make;
        make.start(QStringLiteral(HEADLENS_MAKE_CHECKPOINT),
                   {m_model, "--layers", "4", "--d-model", "128", "--heads", "4", "--vocab", "512",
                    "--seq", "1024", "--seed", "11"});
        QVERIFY(make.waitForFinished(60000));
        QCOMPARE(make.exitCode(), 0);
    }

    void traceThroughTheDialog()
    {
        auto w = makeWindow();
        NewTraceDialog *dialog = w->showNewTraceDialog(); // makes a new project first
        QVERIFY(dialog);
        ProjectDocument *doc = w->currentDocument();
        QVERIFY(doc);
        dialog->setSpec(spec(0, "first"));
        QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));
        QVERIFY(dialog->traceButton()->isEnabled());

        // Progress as it arrives; a timer proves the event loop keeps running meanwhile.
        QList<int> values;
        QStringList texts;
        QTimer ticker;
        int ticks = 0;
        connect(&ticker, &QTimer::timeout, this, [&] { ++ticks; });
        ticker.start(5);
        QSignalSpy added(dialog, &NewTraceDialog::traceAdded);
        QTest::mouseClick(dialog->traceButton(), Qt::LeftButton);
        QVERIFY(dialog->isRunning());
        connect(dialog->job(), &TraceJob::progress, this, [&](const QString &text, int done, int) {
            texts << text;
            values << done;
        });
        QVERIFY(!dialog->traceButton()->isEnabled());
        QCOMPARE(dialog->cancelButton()->text(), QStringLiteral("&Cancel"));
        QSignalSpy estimated(dialog->job(), &TraceJob::estimated);
        QVERIFY(added.wait(60000));
        ticker.stop();
        QVERIFY2(texts.contains("Tracing layer 4 of 4"), qPrintable(texts.join('|')));
        // Before tracing, the engine's estimate of what the trace needs, shown in the dialog.
        QCOMPARE(estimated.count(), 1);
        const qint64 memory = estimated.at(0).at(0).toLongLong();
        QVERIFY2(memory > 0 && memory < (qint64(2) << 30), qPrintable(QString::number(memory)));
        QVERIFY(estimated.at(0).at(1).toLongLong() > memory); // available
        QVERIFY(estimated.at(0).at(2).toLongLong() > 0);      // disk
        QVERIFY2(dialog->estimateLabel()->text().startsWith("This trace needs about "),
                 qPrintable(dialog->estimateLabel()->text()));
        QVERIFY2(ticks > 5, qPrintable(QString::number(ticks)));

        QCOMPARE(doc->traceNames(), QStringList({"first"}));
        QCOMPARE(w->currentTrace(), QStringLiteral("first"));
        QCOMPARE(w->traceView()->blockView()->layerCount(), 4);
        QCOMPARE(w->traceView()->blockView()->tokenCount(), 5);
        QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Add trace first"));
        w->selectBlock(3, 4);
        QCOMPARE(w->docks()->inspector->panel()->selectedLayer(), 3);
        QVERIFY(!w->docks()->inspector->panel()->topK().empty());

        // One undo step takes it out again; the project can be saved with it after redo.
        doc->undoStack()->undo();
        QCOMPARE(doc->traceCount(), 0);
        doc->undoStack()->redo();
        QString error;
        QVERIFY2(doc->saveAs(m_dir.filePath("made.hlproj"), &error), qPrintable(error));
        std::unique_ptr<ProjectDocument> re(
            ProjectDocument::open(m_dir.filePath("made.hlproj"), &error));
        QVERIFY2(re, qPrintable(error));
        QCOMPARE(re->lens("first", Site::ResidPost)->topkIds.dim(0), 4);

        // The form is remembered for the next time.
        NewTraceDialog again(w->engine(), doc);
        QCOMPARE(again.spec().model, m_model);
        QCOMPARE(again.spec().tokenIds, spec(0).tokenIds);
    }

    // The inspector's engine actions: iterative decoding of a block, and a child trace made by
    // propagating with the block's top token subtracted (it appears under its parent).
    void decomposeAndPropagateFromTheInspector()
    {
        auto w = makeWindow();
        NewTraceDialog *dialog = w->showNewTraceDialog();
        dialog->setSpec(spec(3, "parent"));
        QSignalSpy added(dialog, &NewTraceDialog::traceAdded);
        QVERIFY(dialog->startTrace());
        QVERIFY(added.wait(60000));
        ProjectDocument *doc = w->currentDocument();
        w->selectBlock(2, 3);

        Q_EMIT w->docks()->inspector->panel()->decomposeRequested(Site::ResidPost, 2, 3);
        QTRY_VERIFY_WITH_TIMEOUT(!w->docks()->inspector->panel()->decomposition().empty(), 60000);
        const auto steps = w->docks()->inspector->panel()->decomposition();
        QVERIFY(steps.size() <= 10);
        QCOMPARE(steps[0].id,
                 w->docks()->inspector->panel()->topK()[0].id); // the first step is the lens top-1
        QVERIFY(steps[0].norm > 0);

        Q_EMIT w->docks()->inspector->panel()->propagateRequested(
            Site::ResidPost, 2, 3, InspectorPanel::Subtract, 1, QString(), 4);
        QTRY_COMPARE_WITH_TIMEOUT(doc->traceCount(), 2, 60000);
        const QString child = doc->traceNames().at(1);
        QCOMPARE(child, QStringLiteral("parent-subtract"));
        QCOMPARE(doc->listing(child).parent, std::string("parent"));
        QCOMPARE(w->currentTrace(), child);
        auto t = doc->trace(child);
        QCOMPARE(t->nTokens(), 4 + 4); // positions 0..3 kept, 4 generated
        QVERIFY(QString::fromStdString(t->edit).contains("subtract"));
        QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Add trace parent-subtract"));
    }

    // Head roles measured from the Head Roles dock: the numbers the CLI gives for the model,
    // kept with every trace of that model in one undo step, and saved with the project.
    void headRolesFromTheDock()
    {
        auto w = makeWindow();
        QVERIFY(traceInto(*w, spec(0, "a")));
        ProjectDocument *doc = traceInto(*w, spec(1, "b"));
        QVERIFY(doc);
        HeadRolesPanel *panel = w->docks()->roles->panel();
        QVERIFY(panel->roles().empty());
        QVERIFY(panel->measureButton()->isEnabled());
        QTest::mouseClick(panel->measureButton(), Qt::LeftButton);
        QVERIFY(!panel->measureButton()->isEnabled()); // one measurement at a time
        QTRY_VERIFY_WITH_TIMEOUT(!panel->roles().empty(), 60000);
        QTRY_VERIFY(panel->measureButton()->isEnabled());
        QCOMPARE(panel->model()->rowCount(), 4 * 4);
        QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Measure head roles"));
        // The dock's messages reach the status bar.
        QVERIFY2(w->statusBar()->currentMessage().startsWith("Head roles measured for 2 trace"),
                 qPrintable(w->statusBar()->currentMessage()));

        const QJsonObject cli = cliJson({"heads", m_model, "--roles", "--json"});
        const QJsonArray heads = cli.value("heads").toArray();
        QCOMPARE(heads.size(), 16);
        for (const char *name : {"a", "b"}) {
            const auto roles = doc->headRoles(name);
            QVERIFY2(roles, name);
            for (const QJsonValue &v : heads) {
                const QJsonObject h = v.toObject();
                const int l = h.value("layer").toInt(), k = h.value("head").toInt();
                for (HeadRole r : allHeadRoles())
                    QCOMPARE(roles->at(r, l, k), h.value(headRoleName(r)).toDouble());
                QCOMPARE(roles->distanceAt(l, k), h.value("mean_distance").toDouble());
            }
            QCOMPARE(roles->tokens.shape.size(), size_t(2));
            QCOMPARE(roles->tokens.shape[0], int64_t(cli.value("sequences").toInt()));
        }

        doc->undoStack()->undo();
        QVERIFY(!doc->headRoles("a") && !doc->headRoles("b"));
        QVERIFY(panel->roles().empty());
        doc->undoStack()->redo();
        QVERIFY(!panel->roles().empty());
        const double induction = doc->headRoles("b")->at(HeadRole::Induction, 3, 2);

        QString error;
        const QString path = m_dir.filePath("roles.hlproj");
        QVERIFY2(doc->saveAs(path, &error), qPrintable(error));
        std::unique_ptr<ProjectDocument> re(ProjectDocument::open(path, &error));
        QVERIFY2(re, qPrintable(error));
        QVERIFY(re->headRoles("a"));
        QCOMPARE(re->headRoles("b")->at(HeadRole::Induction, 3, 2), induction);
    }

    // Activation patching from the Trace menu: a corrupted prompt of another length is refused
    // with the engine's sentence and nothing added; one of the same length adds the clean
    // trace with its map (the map the CLI computes), shown on the grid.
    void patchingThroughTheDialog()
    {
        auto w = makeWindow();
        ProjectDocument *doc = traceInto(*w, spec(0, "clean"));
        QVERIFY(doc);
        PatchDialog *dialog = w->showPatchDialog();
        QVERIFY(dialog);
        QVERIFY(dialog->problem().isEmpty() == false); // no corrupted prompt yet
        dialog->setCorrupted("1 17 43 99", true);
        QSignalSpy failed(dialog, &PatchDialog::traceFailed);
        QVERIFY(dialog->start());
        QVERIFY(failed.wait(60000));
        QVERIFY2(dialog->statusLabel()->text().contains("same token count"),
                 qPrintable(dialog->statusLabel()->text()));
        QCOMPARE(doc->traceCount(), 1);

        dialog->setCorrupted("1, 17, 43, 99, 7", true);
        dialog->setPerHead(true);
        QSignalSpy added(dialog, &PatchDialog::traceAdded);
        QVERIFY(dialog->start());
        QVERIFY(added.wait(60000));
        const QString name = QStringLiteral("clean-patching");
        QCOMPARE(doc->traceNames(), QStringList({"clean", name}));
        QCOMPARE(w->currentTrace(), name);
        QCOMPARE(doc->view()->colour(), ViewState::Colour::Patching);
        const auto map = doc->patchMap(name);
        QVERIFY(map);
        QCOMPARE(map->corruptedIds, (std::vector<int32_t>{1, 17, 43, 99, 7}));
        // The answer and the wrong token default to the clean run's two most likely tokens.
        const auto clean = doc->trace("clean");
        QCOMPARE(map->answer, clean->logitsTopkIds.data[size_t(4 * clean->topk)]);
        QCOMPARE(map->wrong, clean->logitsTopkIds.data[size_t(4 * clean->topk + 1)]);
        QVERIFY(!map->heads.empty());

        const QJsonObject cli = cliJson(
            {"patch", m_model, "--clean-ids", "1,17,42,99,7", "--corrupted-ids", "1,17,43,99,7",
             "--answer-id", QString::number(map->answer), "--wrong-id", QString::number(map->wrong),
             "--heads", "-o", m_dir.filePath("cli-patch.hlproj"), "--json"});
        QVERIFY(!cli.isEmpty());
        QCOMPARE(map->ldClean, cli.value("ld_clean").toDouble());
        const QJsonArray post = cli.value("sites").toObject().value("resid_post").toArray();
        QCOMPARE(post.size(), 4);
        for (int l = 0; l < 4; ++l)
            for (int t = 0; t < 5; ++t)
                QCOMPARE(double(map->site(Site::ResidPost, l, t)),
                         double(float(post[l].toArray()[t].toDouble())));
        // Patching the last block of the last position gives the clean answer back, exactly;
        // a position before the changed token changes nothing.
        QCOMPARE(map->site(Site::ResidPost, 3, 4), 1.0f);
        QCOMPARE(map->site(Site::ResidPost, 1, 0), 0.0f);
    }

    // The block view's lens selector: another lens traces the same tokens again in the engine
    // into a new trace beside the first (one undo step), with progress in place; choosing the
    // first lens again shows the first trace without tracing.
    void lensSelectorTracesAgain()
    {
        auto w = makeWindow();
        NewTraceDialog *dialog = w->showNewTraceDialog();
        dialog->setSpec(spec(2, "base"));
        QSignalSpy added(dialog, &NewTraceDialog::traceAdded);
        QVERIFY(dialog->startTrace());
        QVERIFY(added.wait(60000));
        ProjectDocument *doc = w->currentDocument();
        const auto base = doc->trace("base");
        QCOMPARE(base->nTokens(), 7);

        LensSelector *lens = w->traceView()->lensSelector();
        QComboBox *norm = lens->normBox();
        QVERIFY(norm->isEnabled());
        QVERIFY2(lens->engineProblem().isEmpty(), qPrintable(lens->engineProblem()));
        QCOMPARE(LensNorm(norm->currentData().toInt()), LensNorm::Full);
        norm->setCurrentIndex(norm->findData(int(LensNorm::Unit)));
        QVERIFY(lens->isRunning());
        QVERIFY(lens->progressBar()->isVisible());
        QVERIFY(lens->cancelButton()->isVisible());
        QStringList texts;
        connect(lens->job(), &TraceJob::progress, this,
                [&](const QString &text) { texts << text; });
        QTRY_COMPARE_WITH_TIMEOUT(doc->traceCount(), 2, 60000);
        QTRY_VERIFY(!lens->isRunning());
        QVERIFY2(texts.contains("Tracing layer 4 of 4"), qPrintable(texts.join('|')));
        QVERIFY(!lens->progressBar()->isVisible());

        const QString name = QStringLiteral("base (lens: unit, output)");
        QCOMPARE(doc->traceNames(), QStringList({"base", name}));
        QCOMPARE(w->currentTrace(), name);
        QCOMPARE(doc->undoStack()->undoText(), QStringLiteral("Add trace ") + name);
        QCOMPARE(LensNorm(norm->currentData().toInt()), LensNorm::Unit);
        const auto unit = doc->trace(name);
        QCOMPARE(unit->lensNorm, LensNorm::Unit);
        QCOMPARE(unit->lensDecoder, LensDecoder::Output);
        // The same tokens, prompt and generated part alike; another lens of them.
        QCOMPARE(unit->tokenIds(), base->tokenIds());
        QCOMPARE(unit->nPromptTokens, base->nPromptTokens);
        QVERIFY(doc->lens(name, Site::ResidMid)->entropy.data !=
                doc->lens("base", Site::ResidMid)->entropy.data);
        // The model's own prediction does not depend on the lens.
        QCOMPARE(unit->logitsTopkIds.data, base->logitsTopkIds.data);

        // Back to the full norm: the first trace, no tracing.
        norm->setCurrentIndex(norm->findData(int(LensNorm::Full)));
        QCOMPARE(w->currentTrace(), QStringLiteral("base"));
        QVERIFY(!lens->isRunning());
        norm->setCurrentIndex(norm->findData(int(LensNorm::Unit)));
        QCOMPARE(w->currentTrace(), name);
        QCOMPARE(doc->traceCount(), 2);

        // From the unit trace, another decoder: named after the first trace, not "... (lens:
        // unit, output) (lens: ...)"; one undo takes it out again.
        QComboBox *decoder = lens->decoderBox();
        decoder->setCurrentIndex(decoder->findData(int(LensDecoder::Input)));
        QTRY_COMPARE_WITH_TIMEOUT(doc->traceCount(), 3, 60000);
        QCOMPARE(w->currentTrace(), QStringLiteral("base (lens: unit, input)"));
        doc->undoStack()->undo();
        QCOMPARE(doc->traceNames(), QStringList({"base", name}));

        // Cancel: the project stays as it was.
        QTRY_VERIFY(!lens->isRunning());
        w->setCurrentTrace("base");
        decoder->setCurrentIndex(decoder->findData(int(LensDecoder::Quadratic)));
        QVERIFY(lens->isRunning());
        QTest::mouseClick(lens->cancelButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!lens->isRunning(), 60000);
        QCOMPARE(doc->traceCount(), 2);
        QCOMPARE(w->currentTrace(), QStringLiteral("base"));
        QCOMPARE(LensDecoder(decoder->currentData().toInt()), LensDecoder::Output);
    }

    void tunedLensThroughTheDialog()
    {
        // An identity lens (fit-lens with no steps) made for the model by the engine.
        const QString prompts = m_dir.filePath("lens-prompts.jsonl");
        QFile f(prompts);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"token_ids\": [1, 5, 9, 300]}\n");
        f.close();
        const QString lensFile = m_dir.filePath("identity.safetensors");
        QProcess fit;
        fit.start(QStringLiteral(HEADLENS_CLI),
                  {"fit-lens", m_model, "--prompts", prompts, "-o", lensFile, "--steps", "0"});
        QVERIFY(fit.waitForFinished(60000));
        QCOMPARE(fit.exitCode(), 0);

        auto w = makeWindow();
        NewTraceDialog *dialog = w->showNewTraceDialog();
        QVERIFY(dialog);
        TraceSpec s = spec(0, "tuned");
        s.lensDecoder = "tuned";
        dialog->setSpec(s);
        // The tuned decoder is offered, and wants its lens file before it traces.
        QVERIFY(dialog->problem().contains("tuned lens file"));
        QVERIFY(!dialog->traceButton()->isEnabled());
        s.lensFile = lensFile;
        dialog->setSpec(s);
        QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));
        QSignalSpy added(dialog, &NewTraceDialog::traceAdded);
        QTest::mouseClick(dialog->traceButton(), Qt::LeftButton);
        QVERIFY(added.wait(60000));
        const auto t = w->currentDocument()->trace("tuned");
        QCOMPARE(t->lensDecoder, LensDecoder::Tuned);
        QFile lens(lensFile);
        QVERIFY(lens.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromStdString(t->tunedLensSha256),
                 QString::fromLatin1(
                     QCryptographicHash::hash(lens.readAll(), QCryptographicHash::Sha256).toHex()));
        // The lens list beside the site offers it too, and shows this trace's decoder.
        QComboBox *decoder = w->traceView()->lensSelector()->decoderBox();
        QVERIFY(decoder->findData(int(LensDecoder::Tuned)) >= 0);
        QCOMPARE(LensDecoder(decoder->currentData().toInt()), LensDecoder::Tuned);
    }

    void cancelLeavesTheProjectAlone()
    {
        auto w = makeWindow();
        ProjectDocument *doc = w->newProject();
        doc->addTrace(Test::makeFixtureTrace("kept"));
        doc->undoStack()->setClean();
        NewTraceDialog *dialog = w->showNewTraceDialog();
        dialog->setSpec(spec(400));
        QVERIFY(dialog->startTrace());
        bool cancelled = false;
        connect(dialog->job(), &TraceJob::progress, this, [&](const QString &text) {
            if (!cancelled && (text.startsWith("Generating") || text.startsWith("Tracing"))) {
                cancelled = true;
                QTest::mouseClick(dialog->cancelButton(), Qt::LeftButton);
            }
        });
        QSignalSpy finished(dialog->job(), &TraceJob::finished);
        QVERIFY(finished.wait(60000));
        QVERIFY(cancelled);
        QCOMPARE(finished.at(0).at(0).value<TraceJob::Result>(), TraceJob::Result::Cancelled);
        QCOMPARE(dialog->statusLabel()->text(),
                 QStringLiteral("Cancelled. The project is unchanged."));
        QVERIFY(dialog->isVisible()); // stays open to try again
        QCOMPARE(doc->traceNames(), QStringList({"kept"}));
        QVERIFY(!doc->isModified());
        QVERIFY(w->engine()->isRunning());
    }

    void engineKilledMidTrace()
    {
        auto w = makeWindow();
        ProjectDocument *first = w->newProject();
        first->addTrace(Test::makeFixtureTrace("kept"));
        first->setNotes("unsaved notes");
        ProjectDocument *second = w->newProject();
        NewTraceDialog *dialog = w->showNewTraceDialog();
        QCOMPARE(dialog->document(), second);
        dialog->setSpec(spec(400));
        QVERIFY(dialog->startTrace());
        bool killed = false;
        connect(dialog->job(), &TraceJob::progress, this, [&](const QString &text) {
            if (!killed && text.startsWith("Generating")) {
                killed = true;
                ::kill(pid_t(w->engine()->processId()), SIGKILL);
            }
        });
        QSignalSpy failed(dialog, &NewTraceDialog::traceFailed);
        QVERIFY(failed.wait(60000));
        QVERIFY(killed);
        const QString message = failed.at(0).at(0).toString();
        QVERIFY2(message.contains("The engine stopped"), qPrintable(message));
        QVERIFY2(w->messageBar()->text().contains("Your projects are unaffected"),
                 qPrintable(w->messageBar()->text()));
        QVERIFY(!w->engine()->isRunning());

        // Every open project is as it was.
        QCOMPARE(w->documents().size(), 2);
        QCOMPARE(first->traceNames(), QStringList({"kept"}));
        QCOMPARE(first->notes(), QStringLiteral("unsaved notes"));
        QCOMPARE(second->traceCount(), 0);
        w->setCurrentDocument(first);
        QCOMPARE(w->traceView()->blockView()->layerCount(), 3);

        // Trying again starts a new engine.
        w->setCurrentDocument(second);
        dialog->setSpec(spec(0, "after"));
        QSignalSpy added(dialog, &NewTraceDialog::traceAdded);
        QVERIFY(dialog->startTrace());
        QVERIFY(added.wait(60000));
        QCOMPARE(second->traceNames(), QStringList({"after"}));
    }

    void engineThroughAWrapperScript()
    {
        const QString fakeSsh = m_dir.filePath("fake-ssh");
        QFile script(fakeSsh);
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("#!/bin/sh\n"
                     "# stands in for: ssh HOST COMMAND... (runs COMMAND here)\n"
                     "shift\n"
                     "PATH=\"" +
                     QFileInfo(QStringLiteral(HEADLENS_CLI)).absolutePath().toUtf8() +
                     ":$PATH\" exec \"$@\"\n");
        script.close();
        script.setPermissions(script.permissions() | QFileDevice::ExeOwner);
        AppSettings::setEngineCommand(fakeSsh + " gpu-server headlens-cli serve");

        auto w = makeWindow(); // reads the command from the settings
        QCOMPARE(w->engine()->command(), fakeSsh + " gpu-server headlens-cli serve");
        NewTraceDialog *dialog = w->showNewTraceDialog();
        dialog->setSpec(spec(0, "remote"));
        QSignalSpy added(dialog, &NewTraceDialog::traceAdded);
        QVERIFY(dialog->startTrace());
        QVERIFY(added.wait(60000));
        QCOMPARE(w->currentDocument()->traceNames(), QStringList({"remote"}));
        AppSettings::setEngineCommand(QStringLiteral(HEADLENS_CLI) + " serve");
    }

    void stories260K()
    {
        const QString dir = QStringLiteral(HEADLENS_SHARED_DIR) + "/models/stories260K";
        if (!QFile::exists(dir + "/stories260K.bin")) QSKIP("shared/models/stories260K is absent");
        auto w = makeWindow();
        NewTraceDialog *dialog = w->showNewTraceDialog();
        TraceSpec s;
        s.model = dir + "/stories260K.bin";
        s.tokenizer = dir + "/tok512.bin";
        s.prompt = "Once upon a time, there was a little girl";
        s.generate = 8;
        dialog->setSpec(s);
        QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));
        QSignalSpy added(dialog, &NewTraceDialog::traceAdded);
        QVERIFY(dialog->startTrace());
        QVERIFY(added.wait(60000));
        auto t = w->currentDocument()->trace(w->currentTrace());
        QCOMPARE(t->config.nLayers, 5);
        QCOMPARE(t->prompt, s.prompt.toStdString());
        QVERIFY(t->nTokens() > 8);
        QVERIFY(QString::fromStdString(t->tokens[2].text).contains("upon"));
    }
};

QTEST_MAIN(TestNewTrace)
#include "tst_newtrace.moc"
