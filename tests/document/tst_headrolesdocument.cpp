// Head roles stored with a trace reach the workbench through ProjectDocument::headRoles, and
// stay with the trace when the document renames it and saves the project elsewhere.
#include "headlens/document/projectdocument.h"
#include "headlens/project/headrolesstore.h"
#include "headlens/project/project.h"

#include "tracefixture.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace HeadLens;

class TestHeadRolesDocument : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rolesFollowTheTrace();
};

void TestHeadRolesDocument::rolesFollowTheTrace()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.hlproj").toStdString();
    addTrace(path, Test::makeFixtureTrace("t"), false);
    addTrace(path, Test::makeFixtureTrace("u", 0.1f), false);
    HeadRoles r;
    r.nLayers = 3;
    r.nHeads = 2;
    for (HeadRole role : allHeadRoles()) {
        r.score[size_t(role)] = Array<double>({3, 2});
        for (size_t i = 0; i < 6; ++i)
            r.score[size_t(role)].data[i] = 0.01 * double(i) + 0.1 * int(role);
    }
    r.meanDistance = Array<double>({3, 2}, 4.5);
    r.sequenceLength = 5;
    r.sequences = 2;
    r.seed = 3;
    r.tokens = Array<int32_t>({2, 11}, 7);
    writeHeadRoles(path, {"t"}, r);

    QString error;
    std::unique_ptr<ProjectDocument> doc(
        ProjectDocument::open(QString::fromStdString(path), &error));
    QVERIFY2(doc, qPrintable(error));
    QVERIFY(!doc->headRoles("u"));
    auto got = doc->headRoles("t");
    QVERIFY(got);
    QCOMPARE(got->at(HeadRole::Induction, 2, 1), 0.05 + 0.4);
    QCOMPARE(got->distanceAt(1, 0), 4.5);
    QCOMPARE(got->seed, int64_t(3));

    QVERIFY(doc->renameTrace("t", "renamed", &error));
    const QString copy = dir.filePath("copy.hlproj");
    QVERIFY2(doc->saveAs(copy, &error), qPrintable(error));
    std::unique_ptr<ProjectDocument> again(ProjectDocument::open(copy, &error));
    QVERIFY2(again, qPrintable(error));
    got = again->headRoles("renamed");
    QVERIFY(got);
    QCOMPARE(got->at(HeadRole::PreviousToken, 0, 1), 0.01);
    QCOMPARE(got->tokens.shape, (std::vector<int64_t>{2, 11}));
    QVERIFY(!again->headRoles("u"));
}

QTEST_GUILESS_MAIN(TestHeadRolesDocument)
#include "tst_headrolesdocument.moc"
