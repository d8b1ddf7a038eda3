// Tests of the engine pipe (EngineClient, TraceJob) against the real headlens-cli serve: a
// trace made on a small random model and imported into a document, Cancel, the engine killed
// in the middle of a trace, the engine started through a wrapper script standing in for ssh,
// and a command that does not exist.

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/tracejob.h"

#include "tracefixture.h"

#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include <csignal>
#include <memory>

using namespace HeadLens;

class TestEngineClient : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_model;

    static QString cli() { return QStringLiteral(HEADLENS_CLI); }

    // A trace request that runs for a while: hundreds of generated tokens.
    TraceSpec longSpec() const
    {
        TraceSpec spec;
        spec.model = m_model;
        spec.useTokenIds = true;
        spec.tokenIds = {1, 5, 6, 7};
        spec.generate = 400;
        return spec;
    }

    TraceSpec shortSpec() const
    {
        TraceSpec spec = longSpec();
        spec.generate = 0;
        spec.name = "short";
        return spec;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_model = m_dir.filePath("model");
        QProcess make;
        make.start(QStringLiteral(HEADLENS_MAKE_CHECKPOINT),
                   {m_model, "--layers", "4", "--d-model", "128", "--heads", "4", "--vocab", "512",
                    "--seq", "1024", "--seed", "7"});
        QVERIFY(make.waitForFinished(60000));
        QCOMPARE(make.exitCode(), 0);
    }

    void helloAndLoad()
    {
        EngineClient engine;
        engine.setCommand(cli() + " serve");
        QSignalSpy ready(&engine, &EngineClient::ready);
        QVERIFY(engine.start());
        QVERIFY(ready.wait(30000));
        QCOMPARE(engine.protocolVersion(), 1);
        QVERIFY(!engine.engineVersion().isEmpty());

        EngineRequest *load = engine.send("load", {{"model", m_model}});
        QSignalSpy ok(load, &EngineRequest::succeeded);
        QSignalSpy progress(load, &EngineRequest::progress);
        QVERIFY(ok.wait(30000));
        QVERIFY(progress.count() >= 1);
        QCOMPARE(engine.loadedModel(), m_model);
        QCOMPARE(engine.loadedModelInfo().value("config").toObject().value("n_layers").toInt(), 4);

        EngineRequest *bad = engine.send("load", {{"model", m_dir.filePath("nothing")}});
        QSignalSpy failed(bad, &EngineRequest::failed);
        QVERIFY(failed.wait(30000));
        QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("input"));
        QVERIFY(engine.loadedModel().isEmpty());

        QSignalSpy stopped(&engine, &EngineClient::engineStopped);
        engine.stop();
        QVERIFY(stopped.wait(10000));
        QCOMPARE(stopped.at(0).at(1).toBool(), false); // asked to stop: not unexpected
    }

    void generationProgressCountsTokens()
    {
        EngineClient engine;
        engine.setCommand(cli() + " serve");
        ProjectDocument doc;
        TraceSpec spec = shortSpec();
        spec.generate = 5;
        spec.name = "generated";
        TraceJob job(&engine, &doc, spec);
        QSignalSpy progress(&job, &TraceJob::progress);
        QSignalSpy finished(&job, &TraceJob::finished);
        job.start();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.at(0).at(0).value<TraceJob::Result>(), TraceJob::Result::Succeeded);
        // One report per generated token (the model may stop early at its end-of-text token).
        QList<int> done;
        QStringList texts;
        for (const auto &args : progress)
            if (args.at(0).toString().startsWith("Generating")) {
                done << args.at(1).toInt();
                texts << args.at(0).toString();
                QCOMPARE(args.at(2).toInt(), 5);
            }
        const int made = doc.trace("generated")->nTokens() - doc.trace("generated")->nPromptTokens;
        QVERIFY(made >= 1);
        QList<int> expected{0};
        for (int k = 1; k <= made; ++k)
            expected << k;
        QCOMPARE(done, expected);
        QVERIFY2(texts.last().startsWith(QStringLiteral("Generating token %1 of 5").arg(made)),
                 qPrintable(texts.join('|')));
    }

    void traceIntoDocument()
    {
        EngineClient engine;
        engine.setCommand(cli() + " serve");
        ProjectDocument doc;
        TraceJob job(&engine, &doc, shortSpec());
        QSignalSpy progress(&job, &TraceJob::progress);
        QSignalSpy finished(&job, &TraceJob::finished);
        job.start();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.at(0).at(0).value<TraceJob::Result>(), TraceJob::Result::Succeeded);
        QCOMPARE(job.traceName(), QStringLiteral("short"));
        QStringList texts;
        for (const auto &args : progress)
            texts << args.at(0).toString();
        QVERIFY2(texts.contains("Loading the model…"), qPrintable(texts.join('|')));
        QVERIFY2(texts.contains("Tracing layer 4 of 4"), qPrintable(texts.join('|')));

        QCOMPARE(doc.traceNames(), QStringList({"short"}));
        QCOMPARE(doc.undoStack()->undoText(), QStringLiteral("Add trace short"));
        QCOMPARE(doc.trace("short")->config.nLayers, 4);
        QCOMPARE(doc.lens("short", Site::ResidPost)->topkIds.dim(1), 4);

        // The model stays loaded: a second trace does not load it again.
        TraceJob again(&engine, &doc, shortSpec());
        QSignalSpy progress2(&again, &TraceJob::progress);
        QSignalSpy finished2(&again, &TraceJob::finished);
        again.start();
        QVERIFY(finished2.wait(60000));
        QCOMPARE(again.traceName(), QStringLiteral("short-2"));
        for (const auto &args : progress2)
            QVERIFY(args.at(0).toString() != QStringLiteral("Loading the model…"));
    }

    // The protocol's decompose and propagate: answers, and refusals of impossible requests.
    void decomposeAndPropagate()
    {
        EngineClient engine;
        engine.setCommand(cli() + " serve");
        EngineRequest *load = engine.send("load", {{"model", m_model}});
        QSignalSpy loaded(load, &EngineRequest::succeeded);
        QVERIFY(loaded.wait(30000));

        const QJsonArray ids{1, 5, 6, 7};
        EngineRequest *d = engine.send(
            "decompose",
            {{"token_ids", ids}, {"site", "resid_mid"}, {"layer", 2}, {"pos", 3}, {"steps", 4}});
        QSignalSpy decomposed(d, &EngineRequest::succeeded);
        QVERIFY(decomposed.wait(30000));
        const QJsonArray steps = decomposed.at(0).at(0).toJsonObject().value("steps").toArray();
        QVERIFY(!steps.isEmpty() && steps.size() <= 4);
        QVERIFY(steps[0].toObject().value("norm").toDouble() > 0);

        EngineRequest *bad =
            engine.send("decompose", {{"token_ids", ids}, {"layer", 9}, {"pos", 0}});
        QSignalSpy refused(bad, &EngineRequest::failed);
        QVERIFY(refused.wait(30000));
        QCOMPARE(refused.at(0).at(0).toString(), QStringLiteral("input"));

        const QString out = m_dir.filePath("propagated.hlproj");
        QJsonArray tokens;
        for (int id : {1, 5, 6, 7})
            tokens.append(QJsonObject{{"id", id}, {"text", QString::number(id)}});
        EngineRequest *p = engine.send("propagate", {{"output", out},
                                                     {"parent", "p"},
                                                     {"tokens", tokens},
                                                     {"site", "resid_post"},
                                                     {"layer", 1},
                                                     {"pos", 2},
                                                     {"kind", "subtract"},
                                                     {"generate", 3},
                                                     {"name", "child"}});
        QSignalSpy propagated(p, &EngineRequest::succeeded);
        QVERIFY(propagated.wait(30000));
        QCOMPARE(propagated.at(0).at(0).toJsonObject().value("name").toString(),
                 QStringLiteral("child"));
        const Trace child = ProjectReader(out.toStdString()).readTrace("child");
        QCOMPARE(child.parent, std::string("p"));
        QVERIFY(QString::fromStdString(child.edit).contains("subtract"));
        QCOMPARE(child.tokens[1].id, 5); // the kept tokens of the parent
    }

    void cancelStopsTheTrace()
    {
        EngineClient engine;
        engine.setCommand(cli() + " serve");
        ProjectDocument doc;
        TraceJob job(&engine, &doc, longSpec());
        QSignalSpy finished(&job, &TraceJob::finished);
        bool cancelled = false;
        connect(&job, &TraceJob::progress, this, [&](const QString &text) {
            if (!cancelled && (text.startsWith("Generating") || text.startsWith("Tracing"))) {
                cancelled = true;
                job.cancel();
            }
        });
        QElapsedTimer timer;
        timer.start();
        job.start();
        QVERIFY(finished.wait(60000));
        QVERIFY(cancelled);
        QCOMPARE(finished.at(0).at(0).value<TraceJob::Result>(), TraceJob::Result::Cancelled);
        QCOMPARE(doc.traceCount(), 0);
        QVERIFY(!doc.isModified());
        QVERIFY(engine.isRunning()); // cancel stops the request, not the engine
        qInfo("cancelled after %lld ms", timer.elapsed());

        // ... and the engine serves the next request.
        TraceJob next(&engine, &doc, shortSpec());
        QSignalSpy finished2(&next, &TraceJob::finished);
        next.start();
        QVERIFY(finished2.wait(60000));
        QCOMPARE(finished2.at(0).at(0).value<TraceJob::Result>(), TraceJob::Result::Succeeded);
    }

    void engineKilledMidTrace()
    {
        EngineClient engine;
        engine.setCommand(cli() + " serve");
        ProjectDocument doc;
        doc.addTrace(Test::makeFixtureTrace("kept"));
        doc.setNotes("precious");
        const QStringList namesBefore = doc.traceNames();

        TraceJob job(&engine, &doc, longSpec());
        QSignalSpy finished(&job, &TraceJob::finished);
        QSignalSpy stopped(&engine, &EngineClient::engineStopped);
        bool killed = false;
        connect(&job, &TraceJob::progress, this, [&](const QString &text) {
            if (!killed && text.startsWith("Generating")) {
                killed = true;
                ::kill(pid_t(engine.processId()), SIGKILL);
            }
        });
        job.start();
        QVERIFY(finished.wait(60000));
        QVERIFY(killed);
        QCOMPARE(finished.at(0).at(0).value<TraceJob::Result>(), TraceJob::Result::Failed);
        const QString message = finished.at(0).at(1).toString();
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.contains("The engine stopped"), qPrintable(message));
        QVERIFY2(message.contains("Your projects are unaffected"), qPrintable(message));
        QCOMPARE(stopped.count(), 1);
        QCOMPARE(stopped.at(0).at(1).toBool(), true); // unexpected
        QVERIFY(!engine.isRunning());

        // Nothing the workbench held is lost...
        QCOMPARE(doc.traceNames(), namesBefore);
        QCOMPARE(doc.notes(), QStringLiteral("precious"));
        QCOMPARE(doc.lens("kept", Site::ResidPost)->topkIds.dim(0), 3);
        // ... and a new engine starts for the next request.
        TraceJob next(&engine, &doc, shortSpec());
        QSignalSpy finished2(&next, &TraceJob::finished);
        next.start();
        QVERIFY(finished2.wait(60000));
        QCOMPARE(finished2.at(0).at(0).value<TraceJob::Result>(), TraceJob::Result::Succeeded);
        QCOMPARE(doc.traceNames(), QStringList({"kept", "short"}));
    }

    // `ssh host headlens-cli serve` with a local script in place of ssh: the command is a full
    // command line, and the engine is found on the "remote" PATH.
    void wrapperScriptStandsInForSsh()
    {
        const QString fakeSsh = m_dir.filePath("fake ssh.sh"); // a space, to test quoting
        QFile script(fakeSsh);
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("#!/bin/sh\n"
                     "# usage: fake-ssh HOST COMMAND...; runs COMMAND here\n"
                     "host=\"$1\"; shift\n"
                     "echo \"fake-ssh: connected to $host\" >&2\n"
                     "PATH=\"" +
                     QFileInfo(cli()).absolutePath().toUtf8() + ":$PATH\" exec \"$@\"\n");
        script.close();
        script.setPermissions(script.permissions() | QFileDevice::ExeOwner);

        EngineClient engine;
        engine.setCommand(QStringLiteral("\"%1\" gpu-server headlens-cli serve").arg(fakeSsh));
        ProjectDocument doc;
        TraceJob job(&engine, &doc, shortSpec());
        QSignalSpy finished(&job, &TraceJob::finished);
        job.start();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.at(0).at(0).value<TraceJob::Result>(), TraceJob::Result::Succeeded);
        QCOMPARE(doc.traceCount(), 1);
        QVERIFY(engine.recentLog().contains("fake-ssh: connected to gpu-server"));
    }

    void commandThatDoesNotExist()
    {
        EngineClient engine;
        engine.setCommand(m_dir.filePath("no-such-engine") + " serve");
        QSignalSpy stopped(&engine, &EngineClient::engineStopped);
        EngineRequest *r = engine.send("hello");
        QSignalSpy failed(r, &EngineRequest::failed);
        QVERIFY(failed.wait(10000));
        QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("engine"));
        QVERIFY(failed.at(0).at(1).toString().contains("could not be started"));
        QCOMPARE(stopped.count(), 1);

        EngineClient empty;
        QSignalSpy stopped2(&empty, &EngineClient::engineStopped);
        QVERIFY(!empty.start());
        QCOMPARE(stopped2.count(), 1);
    }
};

QTEST_GUILESS_MAIN(TestEngineClient)
#include "tst_engineclient.moc"
