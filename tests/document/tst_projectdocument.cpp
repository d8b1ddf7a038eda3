// Tests of modules/document's ProjectDocument: open / save round trips, undo and redo of every
// edit, lazy cached reads, refusal of damaged projects, and crash-recovery copies.

#include "headlens/document/projectdocument.h"
#include "headlens/document/recoverymanager.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include "tracefixture.h"

#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include <functional>
#include <memory>

using namespace HeadLens;
using Test::makeFixtureTrace;

Q_DECLARE_METATYPE(std::function<void(HeadLens::ProjectDocument *)>)

namespace {

std::string s(const QString &q)
{
    return q.toStdString();
}

// A project file with traces a, b (child of a) and c.
QString writeFixtureProject(const QTemporaryDir &dir, const QString &name = "p.hlproj")
{
    const QString path = dir.filePath(name);
    addTrace(s(path), makeFixtureTrace("a", 0.0f), false);
    Trace b = makeFixtureTrace("b", 0.01f);
    b.parent = "a";
    b.edit = "{\"kind\":\"subtract\"}";
    addTrace(s(path), b, false);
    addTrace(s(path), makeFixtureTrace("c", 0.02f, {}, false), false);
    return path;
}

// Everything a user can see of a document, to compare states before and after undo/redo.
struct Snapshot {
    QStringList names;
    QStringList parents;
    QString notes;
    QJsonObject view;
    bool operator==(const Snapshot &o) const
    {
        return names == o.names && parents == o.parents && notes == o.notes && view == o.view;
    }
};

Snapshot snapshot(const ProjectDocument &doc)
{
    Snapshot snap;
    snap.names = doc.traceNames();
    for (const QString &n : snap.names)
        snap.parents << QString::fromStdString(doc.listing(n).parent);
    snap.notes = doc.notes();
    snap.view = doc.viewSettings();
    return snap;
}

char *toString(const Snapshot &snap)
{
    return QTest::toString(QStringLiteral("names %1 parents %2 notes '%3'")
                               .arg(snap.names.join(','), snap.parents.join(','), snap.notes));
}

} // namespace

class TestProjectDocument : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void newDocument()
    {
        ProjectDocument doc;
        QVERIFY(doc.fileName().isEmpty());
        QCOMPARE(doc.displayName(), QStringLiteral("Untitled"));
        QCOMPARE(doc.traceCount(), 0);
        QVERIFY(!doc.isModified());
        QString error;
        QVERIFY(!doc.save(&error)); // untitled: needs Save As
        QVERIFY(!error.isEmpty());
    }

    void openReadsContentsLazily()
    {
        QTemporaryDir dir;
        const QString path = writeFixtureProject(dir);
        QString error;
        std::unique_ptr<ProjectDocument> doc(ProjectDocument::open(path, &error));
        QVERIFY2(doc, qPrintable(error));
        QCOMPARE(doc->traceNames(), QStringList({"a", "b", "c"}));
        QCOMPARE(doc->listing("b").parent, std::string("a"));
        QCOMPARE(doc->listing("a").nTokens, 5);
        QVERIFY(!doc->isModified());

        auto t = doc->trace("a");
        QCOMPARE(t->nTokens(), 5);
        QVERIFY(t->lens[size_t(Site::ResidPost)].empty()); // lens comes separately
        QCOMPARE(doc->trace("a").get(), t.get());          // cached

        const Trace want = makeFixtureTrace("a");
        auto lens = doc->lens("a", Site::MlpOut);
        QCOMPARE(lens->topkIds.data, want.lens[size_t(Site::MlpOut)].topkIds.data);
        QCOMPARE(doc->lens("a", Site::MlpOut).get(), lens.get());

        QVERIFY(doc->hasAttention("a"));
        QVERIFY(!doc->hasAttention("c"));
        QVERIFY(!doc->attention("c", 0));
        auto attn = doc->attention("a", 2);
        QVERIFY(attn);
        QCOMPARE(attn->shape, (std::vector<int64_t>{2, 5, 5}));
        QCOMPARE(attn->at({1, 3, 0}), 0.25f);
        // One query position of a layer, read as a row (from the file, or from a cached layer).
        auto row = doc->attentionRow("a", 1, 3);
        QVERIFY(row);
        QCOMPARE(row->shape, (std::vector<int64_t>{2, 5}));
        QCOMPARE(row->at({1, 0}), 0.25f);
        QCOMPARE(row->at({1, 4}), 0.0f);
        QCOMPARE(doc->attentionRow("a", 2, 3)->data, row->data); // from the cached layer 2
        QVERIFY(!doc->attentionRow("c", 0, 0));
        QVERIFY_THROWS_EXCEPTION(InputError, doc->attentionRow("a", 7, 0));
        doc->addTrace(makeFixtureTrace("in-memory"));
        QCOMPARE(doc->attentionRow("in-memory", 0, 1)->at({0, 1}), 0.5f);
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, doc->trace("nope"));
    }

    void saveAsRoundTrip()
    {
        QTemporaryDir dir;
        const QString path = writeFixtureProject(dir);
        const QByteArray original = [&] {
            QFile f(path);
            f.open(QIODevice::ReadOnly);
            return f.readAll();
        }();
        QString error;
        std::unique_ptr<ProjectDocument> doc(ProjectDocument::open(path, &error));
        QVERIFY2(doc, qPrintable(error));

        QCOMPARE(doc->addTrace(makeFixtureTrace("a", 0.03f)), QStringLiteral("a-2"));
        QVERIFY(doc->renameTrace("a", "first", &error));
        QVERIFY(doc->removeTrace("c"));
        doc->setNotes(QStringLiteral("Heads 3.1 and 5.4 copy the subject. ↵ ünïcödé"));
        doc->setViewSetting("site", "mlp_out");
        doc->setViewSetting("threshold", 0.25);
        QVERIFY(doc->isModified());

        const QString copy = dir.filePath("copy.hlproj");
        QSignalSpy spy(doc.get(), &ProjectDocument::changed);
        QVERIFY2(doc->saveAs(copy, &error), qPrintable(error));
        QVERIFY(!doc->isModified());
        QCOMPARE(doc->fileName(), QFileInfo(copy).absoluteFilePath());
        QCOMPARE(doc->displayName(), QStringLiteral("copy.hlproj"));
        bool sawSaved = false;
        for (const auto &args : spy)
            sawSaved |= args.at(0).value<ChangeEvent>().type == ChangeEvent::Type::Saved;
        QVERIFY(sawSaved);

        // The original file is untouched; the copy holds the edited project.
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), original);

        std::unique_ptr<ProjectDocument> re(ProjectDocument::open(copy, &error));
        QVERIFY2(re, qPrintable(error));
        QCOMPARE(re->traceNames(), QStringList({"first", "b", "a-2"}));
        QCOMPARE(re->listing("b").parent, std::string("first"));
        QCOMPARE(re->trace("b")->edit, std::string("{\"kind\":\"subtract\"}"));
        QCOMPARE(re->trace("first")->name, std::string("first"));
        QCOMPARE(re->notes(), doc->notes());
        QCOMPARE(re->viewSettings().value("site").toString(), QStringLiteral("mlp_out"));
        QCOMPARE(re->viewSettings().value("threshold").toDouble(), 0.25);

        const Trace want = makeFixtureTrace("a", 0.03f);
        const Trace got = re->fullTrace("a-2");
        for (Site site : allSites())
            QCOMPARE(got.lens[size_t(site)].topkProbs.data, want.lens[size_t(site)].topkProbs.data);
        QCOMPARE(got.attentionPattern.data, want.attentionPattern.data);
        QCOMPARE(got.contribNorm.data, want.contribNorm.data);
        QCOMPARE(re->fullTrace("first").lens[0].entropy.data,
                 makeFixtureTrace("a").lens[0].entropy.data);

        // ProjectReader sees the same file (the format is the public one).
        ProjectReader reader(s(copy));
        QCOMPARE(int(reader.info().traces.size()), 3);
    }

    // Saving over the document's own file, then undoing a removal and saving again: the removed
    // trace's data must come from the version of the file it was read from.
    void saveOverOwnFileKeepsUndoableData()
    {
        QTemporaryDir dir;
        const QString path = writeFixtureProject(dir);
        QString error;
        std::unique_ptr<ProjectDocument> doc(ProjectDocument::open(path, &error));
        QVERIFY2(doc, qPrintable(error));
        QVERIFY(doc->removeTrace("a"));
        QVERIFY2(doc->save(&error), qPrintable(error));
        QCOMPARE(ProjectReader(s(path)).info().traces.size(), size_t(2));

        doc->undoStack()->undo();
        QVERIFY(doc->isModified());
        QCOMPARE(doc->traceNames(), QStringList({"a", "b", "c"}));
        doc->clearCache();
        QCOMPARE(doc->lens("a", Site::ResidPre)->topkIds.data,
                 makeFixtureTrace("a").lens[0].topkIds.data);
        QVERIFY2(doc->save(&error), qPrintable(error));

        ProjectReader reader(s(path));
        QCOMPARE(reader.info().traces.size(), size_t(3));
        QCOMPARE(reader.info().traces[0].name, std::string("a"));
        const Trace a = reader.readTraceFull("a");
        QCOMPARE(a.attentionPattern.data, makeFixtureTrace("a").attentionPattern.data);
    }

    void newProjectSaveAs()
    {
        QTemporaryDir dir;
        ProjectDocument doc;
        doc.addTrace(makeFixtureTrace("mine"));
        doc.setNotes("first notes");
        QString error;
        const QString path = dir.filePath("new.hlproj");
        QVERIFY2(doc.saveAs(path, &error), qPrintable(error));
        std::unique_ptr<ProjectDocument> re(ProjectDocument::open(path, &error));
        QVERIFY2(re, qPrintable(error));
        QCOMPARE(re->traceNames(), QStringList({"mine"}));
        QCOMPARE(re->notes(), QStringLiteral("first notes"));
        // An empty project is a valid project too.
        ProjectDocument empty;
        QVERIFY2(empty.saveAs(dir.filePath("empty.hlproj"), &error), qPrintable(error));
        std::unique_ptr<ProjectDocument> e(
            ProjectDocument::open(dir.filePath("empty.hlproj"), &error));
        QVERIFY2(e, qPrintable(error));
        QCOMPARE(e->traceCount(), 0);
    }

    void undoRedoEveryEdit_data()
    {
        using Edit = std::function<void(ProjectDocument *)>;
        QTest::addColumn<Edit>("edit");
        QTest::addColumn<QString>("undoText");
        QTest::newRow("add") << Edit([](ProjectDocument *d) {
            d->addTrace(makeFixtureTrace("new"));
        }) << "Add trace new";
        QTest::newRow("import") << Edit([](ProjectDocument *d) {
            QString error;
            const QString scratch = d->scratchPath("import.hlproj");
            addTrace(s(scratch), makeFixtureTrace("trace-1", 0.04f), false);
            QCOMPARE(d->importTrace(scratch, "trace-1", "imported", &error),
                     QStringLiteral("imported"));
        }) << "Add trace imported";
        QTest::newRow("rename") << Edit([](ProjectDocument *d) {
            QVERIFY(d->renameTrace("a", "z"));
        }) << "Rename trace a to z";
        QTest::newRow("remove") << Edit([](ProjectDocument *d) { QVERIFY(d->removeTrace("b")); })
                                << "Delete trace b";
        QTest::newRow("notes") << Edit([](ProjectDocument *d) { d->setNotes("hello"); })
                               << "Edit notes";
        QTest::newRow("view setting")
            << Edit([](ProjectDocument *d) { d->setViewSetting("colour", "entropy"); })
            << "Change view setting colour";
        QTest::newRow("view settings") << Edit([](ProjectDocument *d) {
            d->setViewSettings({{"zoom", 2.0}});
        }) << "Change view settings";
    }

    void undoRedoEveryEdit()
    {
        QFETCH(std::function<void(ProjectDocument *)>, edit);
        QFETCH(QString, undoText);
        QTemporaryDir dir;
        QString error;
        std::unique_ptr<ProjectDocument> doc(
            ProjectDocument::open(writeFixtureProject(dir), &error));
        QVERIFY2(doc, qPrintable(error));
        const Snapshot before = snapshot(*doc);
        edit(doc.get());
        const Snapshot after = snapshot(*doc);
        QVERIFY(!(after == before));
        QVERIFY(doc->isModified());
        QCOMPARE(doc->undoStack()->count(), 1);
        QCOMPARE(doc->undoStack()->undoText(), undoText);

        doc->undoStack()->undo();
        QCOMPARE(snapshot(*doc), before);
        QVERIFY(!doc->isModified());
        doc->undoStack()->redo();
        QCOMPARE(snapshot(*doc), after);
        QVERIFY(doc->isModified());
        // The data behind the names follows undo and redo too.
        for (const QString &name : doc->traceNames())
            QCOMPARE(doc->trace(name)->name, s(name));
    }

    void renameCarriesChildren()
    {
        QTemporaryDir dir;
        QString error;
        std::unique_ptr<ProjectDocument> doc(
            ProjectDocument::open(writeFixtureProject(dir), &error));
        QVERIFY2(doc, qPrintable(error));
        QVERIFY(!doc->renameTrace("a", "b", &error));
        QVERIFY(error.contains("already"));
        QVERIFY(!doc->renameTrace("a", "x/y", &error));
        QVERIFY(!doc->renameTrace("a", "", &error));
        QVERIFY(!doc->renameTrace("nope", "x", &error));
        QCOMPARE(doc->undoStack()->count(), 0);

        QVERIFY(doc->renameTrace("a", "root"));
        QCOMPARE(doc->listing("b").parent, std::string("root"));
        QCOMPARE(doc->trace("b")->parent, std::string("root"));
        doc->undoStack()->undo();
        QCOMPARE(doc->listing("b").parent, std::string("a"));
    }

    void notesTypingMergesIntoOneStep()
    {
        ProjectDocument doc;
        doc.setNotes("H");
        doc.setNotes("He");
        doc.setNotes("Hel");
        QCOMPARE(doc.undoStack()->count(), 1);
        doc.undoStack()->undo();
        QCOMPARE(doc.notes(), QString());
        doc.setViewSetting("threshold", 0.1);
        doc.setViewSetting("threshold", 0.2);
        doc.setViewSetting("site", "resid_mid");
        QCOMPARE(doc.undoStack()->count(), 2);
    }

    void changeEvents()
    {
        ProjectDocument doc;
        QSignalSpy spy(&doc, &ProjectDocument::changed);
        doc.addTrace(makeFixtureTrace("t"));
        doc.renameTrace("t", "u");
        doc.removeTrace("u");
        QList<ChangeEvent::Type> types;
        for (const auto &args : spy)
            types << args.at(0).value<ChangeEvent>().type;
        QCOMPARE(types, (QList<ChangeEvent::Type>{
                            ChangeEvent::Type::TraceAdded, ChangeEvent::Type::ModifiedChanged,
                            ChangeEvent::Type::TraceRenamed, ChangeEvent::Type::TraceRemoved}));
        const auto renamed = spy.at(2).at(0).value<ChangeEvent>();
        QCOMPARE(renamed.trace, QStringLiteral("u"));
        QCOMPARE(renamed.oldName, QStringLiteral("t"));
    }

    void damagedProjectsAreRefused_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not hdf5") << QByteArray("just some text\n") << "not an HDF5 file";
        QTest::newRow("empty") << QByteArray() << "";
        QTest::newRow("missing") << QByteArray("<missing>") << "no such file";
        QTest::newRow("truncated") << QByteArray("<truncated>") << "";
    }

    void damagedProjectsAreRefused()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath("bad.hlproj");
        if (content == "<truncated>") {
            const QString good = writeFixtureProject(dir, "good.hlproj");
            QFile in(good);
            QVERIFY(in.open(QIODevice::ReadOnly));
            const QByteArray all = in.readAll();
            QFile out(path);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(all.left(all.size() / 2));
        } else if (content != "<missing>") {
            QFile out(path);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(content);
        }
        QString error;
        std::unique_ptr<ProjectDocument> doc(ProjectDocument::open(path, &error));
        QVERIFY(!doc);
        QVERIFY2(error.contains("bad.hlproj"), qPrintable(error));
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void recoveryCopies()
    {
        QTemporaryDir dir;
        QDir(RecoveryManager::folder()).removeRecursively();
        QString error;
        std::unique_ptr<ProjectDocument> doc(
            ProjectDocument::open(writeFixtureProject(dir), &error));
        QVERIFY2(doc, qPrintable(error));
        QString copy;
        {
            RecoveryManager recovery;
            recovery.addDocument(doc.get());
            recovery.saveNow();
            QVERIFY(recovery.recoveryFileOf(doc.get()).isEmpty()); // unmodified: nothing to keep
            doc->removeTrace("c");
            doc->setNotes("unsaved work");
            recovery.saveNow();
            copy = recovery.recoveryFileOf(doc.get());
            QVERIFY(QFile::exists(copy));
            QVERIFY(RecoveryManager::pending().isEmpty()); // this session is alive

            // What a crashed session leaves: the same files under a session that holds no lock.
            const QString crashed = QDir(RecoveryManager::folder()).filePath("deadbeef-1");
            QVERIFY(QFile::copy(copy, crashed + ".hlproj"));
            QFile note(crashed + ".json");
            QVERIFY(note.open(QIODevice::WriteOnly));
            note.write(QJsonDocument(QJsonObject{{"original", doc->fileName()},
                                                 {"title", "p.hlproj"},
                                                 {"saved", "2026-01-01T00:00:00Z"},
                                                 {"session", "deadbeef"}})
                           .toJson());
        }
        QVERIFY(!QFile::exists(copy)); // a normal end removes the session's copies

        const auto pending = RecoveryManager::pending();
        QCOMPARE(pending.size(), 1);
        QCOMPARE(pending[0].originalFile, doc->fileName());
        std::unique_ptr<ProjectDocument> rec(ProjectDocument::open(pending[0].file, &error));
        QVERIFY2(rec, qPrintable(error));
        rec->markRecovered(pending[0].originalFile);
        QVERIFY(rec->isModified());
        QCOMPARE(rec->fileName(), doc->fileName());
        QCOMPARE(rec->traceNames(), QStringList({"a", "b"}));
        QCOMPARE(rec->notes(), QStringLiteral("unsaved work"));
        QVERIFY2(rec->save(&error), qPrintable(error));
        QVERIFY(!rec->isModified());
        RecoveryManager::discard(pending[0]);
        QVERIFY(RecoveryManager::pending().isEmpty());
        QCOMPARE(ProjectReader(s(doc->fileName())).info().traces.size(), size_t(2));
    }

    // What crashed sessions leave and nothing uses goes at the next start: scratch folders of
    // processes that are gone and lock files of sessions not running. What is in use stays.
    void leftoversOfCrashedSessionsGo()
    {
        QDir(RecoveryManager::folder()).removeRecursively();
        RecoveryManager alive; // this session: its lock stays
        QDir temp(QDir::tempPath());
        // A pid no process has: above the kernel's pid_max (4194304 at most).
        const QString gone = temp.filePath("HeadLens-scratch-2147483640-abcdef");
        QVERIFY(QDir().mkpath(gone + "/sub"));
        QFile(gone + "/sub/trace.hlproj").open(QIODevice::WriteOnly);
        ProjectDocument doc; // its scratch folder belongs to this process
        const QString mine = QFileInfo(doc.scratchPath("x")).absolutePath();
        QVERIFY2(
            QFileInfo(mine).fileName().startsWith(
                QStringLiteral("HeadLens-scratch-%1-").arg(QCoreApplication::applicationPid())),
            qPrintable(mine));
        QVERIFY(QFileInfo::exists(mine));
        const QString staleLock = QDir(RecoveryManager::folder()).filePath("cafe.lock");
        {
            QFile lock(staleLock); // a lock of a process that is gone
            QVERIFY(lock.open(QIODevice::WriteOnly));
            lock.write("2147483640\nheadlens\n" + QSysInfo::machineHostName().toUtf8() + "\n");
        }
        const int removed = RecoveryManager::removeLeftovers();
        QVERIFY2(removed >= 2, qPrintable(QString::number(removed)));
        QVERIFY(!QFileInfo::exists(gone));
        QVERIFY(!QFileInfo::exists(staleLock));
        QVERIFY(QFileInfo::exists(mine));
        QCOMPARE(QDir(RecoveryManager::folder()).entryList({"*.lock"}, QDir::Files).size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestProjectDocument)
#include "tst_projectdocument.moc"
