// Direct logit attribution in the project file: it round-trips exactly, a streamed trace keeps
// it, an older file without it reads with none, a writer refuses one of the wrong shape, and a
// file whose attribution lacks a part is refused with that part's name.

#include "../ui/uitestdata.h"
#include "handdla.h"

#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <hdf5.h>

#include <QTemporaryDir>
#include <QtTest>

using namespace HeadLens;

class TestDlaProject : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip();
    void olderFileHasNone();
    void writerRefusesWrongShape();
    void missingPartIsRefused();

private:
    Trace trace() const
    {
        Trace t = TestData::makeTrace(3, 5, 4);
        t.name = "t";
        Test::addHandAttribution(t, 0.125f);
        return t;
    }
    QTemporaryDir m_dir;
};

void TestDlaProject::roundTrip()
{
    const std::string path = m_dir.filePath("round.hlproj").toStdString();
    const Trace t = trace();
    addTrace(path, t, false);
    const Trace back = ProjectReader(path).readTrace("t");
    const LogitAttribution &a = back.dla, &w = t.dla;
    QCOMPARE(a.heads.shape, (std::vector<int64_t>{3, 4, 5}));
    QCOMPARE(a.blocks.shape, (std::vector<int64_t>{3, 2, 5}));
    QCOMPARE(a.heads.data, w.heads.data);
    QCOMPARE(a.blocks.data, w.blocks.data);
    QCOMPARE(a.embed.data, w.embed.data);
    QCOMPARE(a.rest.data, w.rest.data);
    QCOMPARE(a.logit.data, w.logit.data);
    QCOMPARE(a.tokenIds.data, w.tokenIds.data);
    QVERIFY(a.minusIds.empty());
    // Hand values: head 2 of layer 1 at position 3.
    QCOMPARE(a.heads.data[size_t((1 * 4 + 2) * 5 + 3)], Test::handDlaHead(1, 2, 3));
}

void TestDlaProject::olderFileHasNone()
{
    const ProjectReader fixture(HEADLENS_SOURCE_DIR "/tests/project/data/v1.hlproj");
    for (const TraceListing &l : fixture.info().traces)
        QVERIFY(fixture.readTrace(l.name).dla.empty());
    // A trace without one is written without one.
    const std::string path = m_dir.filePath("none.hlproj").toStdString();
    Trace bare = trace();
    bare.dla = LogitAttribution();
    addTrace(path, bare, false);
    QVERIFY(ProjectReader(path).readTrace("t").dla.empty());
}

void TestDlaProject::writerRefusesWrongShape()
{
    const std::string path = m_dir.filePath("bad.hlproj").toStdString();
    Trace t = trace();
    t.dla.blocks.reset({3, 3, 5});
    try {
        addTrace(path, t, false);
        QFAIL("a blocks/dla of shape [3, 3, 5] was written");
    } catch (const std::invalid_argument &e) { // a caller's mistake, not the user's input
        QVERIFY2(QString(e.what()).contains("blocks/dla"), e.what());
    }
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
}

void TestDlaProject::missingPartIsRefused()
{
    const std::string path = m_dir.filePath("part.hlproj").toStdString();
    addTrace(path, trace(), false);
    {
        const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
        QVERIFY(f >= 0);
        QVERIFY(H5Ldelete(f, "traces/t/blocks/dla_logit", H5P_DEFAULT) >= 0);
        H5Fclose(f);
    }
    try {
        ProjectReader(path).readTrace("t");
        QFAIL("a trace whose attribution lacks its logit was read");
    } catch (const InputError &e) {
        QVERIFY2(QString(e.what()).contains("blocks/dla_logit"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestDlaProject)
#include "tst_dlaproject.moc"
