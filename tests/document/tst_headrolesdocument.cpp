// Head roles stored with a trace reach the workbench through ProjectDocument::headRoles, and
// stay with the trace when the document renames it and saves the project elsewhere.
#include "headlens/document/changeevent.h"
#include "headlens/document/headrolesjob.h"
#include "headlens/document/projectdocument.h"
#include "headlens/project/headrolesstore.h"
#include "headlens/project/project.h"

#include "tracefixture.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include <cmath>

using namespace HeadLens;

class TestHeadRolesDocument : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rolesFollowTheTrace();
    void measuredRolesAreOneUndoStep();
    void engineAnswerIsChecked();
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

namespace {

HeadRoles rolesOf(int layers, int heads, double base)
{
    HeadRoles r;
    r.nLayers = layers;
    r.nHeads = heads;
    for (HeadRole role : allHeadRoles())
        r.score[size_t(role)] = Array<double>({layers, heads}, base + 0.1 * int(role));
    r.meanDistance = Array<double>({layers, heads}, 2.0);
    r.sequences = 1;
    r.sequenceLength = 4;
    return r;
}

} // namespace

// Roles measured in the workbench: shown in place of the stored ones, one undo step for every
// trace, refused for a trace of another shape, written by Save.
void TestHeadRolesDocument::measuredRolesAreOneUndoStep()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.hlproj").toStdString();
    addTrace(path, Test::makeFixtureTrace("t"), false);
    addTrace(path, Test::makeFixtureTrace("u", 0.1f), false);
    writeHeadRoles(path, {"t"}, rolesOf(3, 2, 0.25));
    QString error;
    std::unique_ptr<ProjectDocument> doc(
        ProjectDocument::open(QString::fromStdString(path), &error));
    QVERIFY2(doc, qPrintable(error));
    QSignalSpy changed(doc.get(), &ProjectDocument::changed);

    QVERIFY(!doc->setHeadRoles({"t"}, rolesOf(4, 2, 0.5), &error));
    QVERIFY2(error.contains("3 layers of 2 heads"), qPrintable(error));
    QVERIFY(!doc->setHeadRoles({"nope"}, rolesOf(3, 2, 0.5), &error));
    QCOMPARE(doc->undoStack()->count(), 0);

    QVERIFY(doc->setHeadRoles({"t", "u"}, rolesOf(3, 2, 0.5), &error));
    QCOMPARE(doc->undoStack()->count(), 1);
    QVERIFY(doc->isModified());
    QCOMPARE(doc->headRoles("t")->at(HeadRole::Self, 2, 1), 0.5 + 0.2);
    QCOMPARE(doc->headRoles("u")->at(HeadRole::Self, 2, 1), 0.5 + 0.2);
    int results = 0;
    for (const auto &args : changed)
        results += args.at(0).value<ChangeEvent>().type == ChangeEvent::Type::ResultsChanged;
    QCOMPARE(results, 2);

    doc->undoStack()->undo(); // the stored roles come back, and none for u
    QCOMPARE(doc->headRoles("t")->at(HeadRole::Self, 2, 1), 0.25 + 0.2);
    QVERIFY(!doc->headRoles("u"));
    doc->undoStack()->redo();
    QVERIFY2(doc->save(&error), qPrintable(error));
    const auto u = readHeadRoles(path, "u");
    QVERIFY(u);
    QCOMPARE(u->at(HeadRole::Induction, 1, 0), 0.5 + 0.4);
    QCOMPARE(readHeadRoles(path, "t")->at(HeadRole::Induction, 1, 0), 0.5 + 0.4);
}

// The engine's head_roles answer becomes HeadRoles; an answer of the wrong shape is refused.
void TestHeadRolesDocument::engineAnswerIsChecked()
{
    QJsonArray heads;
    for (int l = 0; l < 2; ++l)
        for (int h = 0; h < 3; ++h) {
            QJsonObject o{{"layer", l}, {"head", h}, {"mean_distance", 1.5 + l}};
            for (HeadRole r : allHeadRoles())
                o.insert(headRoleName(r), 0.01 * (l * 3 + h) + int(r));
            o.insert("induction", QJsonValue()); // NaN travels as null
            heads.append(o);
        }
    QJsonObject answer{
        {"n_layers", 2},
        {"n_heads", 3},
        {"sequences", 2},
        {"sequence_length", 3},
        {"seed", 9},
        {"n_queries", 12},
        {"n_repeat_queries", 6},
        {"model_fingerprint", "fp"},
        {"tokens", QJsonArray{QJsonArray{1, 5, 6, 7, 5, 6, 7}, QJsonArray{1, 8, 9, 10, 8, 9, 10}}},
        {"heads", heads}};
    HeadRoles r;
    QString error;
    QVERIFY2(HeadRolesJob::fromJson(answer, &r, &error), qPrintable(error));
    QCOMPARE(r.at(HeadRole::PreviousToken, 1, 2), 0.05);
    QVERIFY(std::isnan(r.at(HeadRole::Induction, 0, 0)));
    QCOMPARE(r.distanceAt(1, 0), 2.5);
    QCOMPARE(r.seed, int64_t(9));
    QCOMPARE(r.modelFingerprint, std::string("fp"));
    QCOMPARE(r.tokens.shape, (std::vector<int64_t>{2, 7}));
    QCOMPARE(r.tokens.data[8], 8);

    heads.removeLast();
    answer.insert("heads", heads);
    QVERIFY(!HeadRolesJob::fromJson(answer, &r, &error));
    QVERIFY2(error.contains("5 heads, not 2 x 3"), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestHeadRolesDocument)
#include "tst_headrolesdocument.moc"
