// Follow one token: the panel plots the followed token's lens probability at every layer of the
// selected position, as the lens stored it, marks the layers where it is below the stored top-k
// at the k-th probability, and turns typed text into the token's id.
#include "headlens/ui/followtokenpanel.h"

#include "uitestdata.h"

#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

#include <cmath>

using namespace HeadLens;

class TestFollowTokenPanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void probabilitiesAreTheStoredLens();
    void typedTextFollowsItsToken();
};

void TestFollowTokenPanel::probabilitiesAreTheStoredLens()
{
    // Block (l, t) holds ids (l + t + k) % 50 for k = 0..2: at position 4, id 6 is third at
    // layer 0, second at 1, first at 2, and below the top-3 from layer 3 on.
    const Trace tr = TestData::makeTrace(5, 8, 2);
    const LensSite &lens = tr.lens[size_t(Site::ResidPost)];
    FollowTokenPanel p;
    p.setTrace(tr);
    p.setLens(Site::ResidPost, lens);
    QVERIFY(p.probabilities().empty()); // nothing followed, nothing selected
    p.setSelection(2, 4);
    p.setFollowToken(6);
    const std::vector<double> prob = p.probabilities();
    QCOMPARE(int(prob.size()), 5);
    QCOMPARE(prob[0], double(lens.topkProbs.at({0, 4, 2})));
    QCOMPARE(prob[1], double(lens.topkProbs.at({1, 4, 1})));
    QCOMPARE(prob[2], double(lens.topkProbs.at({2, 4, 0})));
    QVERIFY(std::isnan(prob[3]) && std::isnan(prob[4]));
    const std::vector<double> bound = p.bounds();
    QCOMPARE(bound[3], double(lens.topkProbs.at({3, 4, 2})));
    QVERIFY2(p.captionText().contains("in the top-3 at 3 of 5 layers"),
             qPrintable(p.captionText()));
    QCOMPARE(p.tokenEdit()->text(), QStringLiteral("v6"));

    // The CSV: one line per layer, empty probability and rank below the top-k.
    const QStringList lines = p.csv().split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 6);
    QCOMPARE(lines[0], QStringLiteral("layer,probability,rank,top1_probability"));
    QVERIFY2(lines[3].startsWith("2,") && lines[3].contains(",1,"), qPrintable(lines[3]));
    QVERIFY2(lines[4].startsWith("3,,,"), qPrintable(lines[4]));

    // Another position: other ranks (position 6 holds ids l + 6 .. l + 8).
    p.setSelection(0, 6);
    QCOMPARE(p.probabilities()[0], double(lens.topkProbs.at({0, 6, 0})));
    QVERIFY(std::isnan(p.probabilities()[1]));
}

void TestFollowTokenPanel::typedTextFollowsItsToken()
{
    const Trace tr = TestData::makeTrace(3, 5, 2);
    FollowTokenPanel p;
    p.setTrace(tr);
    p.setLens(Site::ResidPost, tr.lens[size_t(Site::ResidPost)]);
    QSignalSpy asked(&p, &FollowTokenPanel::followRequested);
    QCOMPARE(p.tokenId(" w7"), 7);
    QCOMPARE(p.tokenId("w7"), -1); // the leading space is part of the token

    p.tokenEdit()->setText("nope");
    QTest::mouseClick(p.followButton(), Qt::LeftButton);
    QCOMPARE(asked.count(), 0);
    bool said = false;
    for (const QLabel *l : p.findChildren<QLabel *>())
        said = said || l->text().contains("is not a token of this trace");
    QVERIFY(said);

    p.tokenEdit()->setText(" w7");
    QTest::keyClick(p.tokenEdit(), Qt::Key_Return);
    QCOMPARE(asked.count(), 1);
    QCOMPARE(asked.at(0).at(0).toInt(), 7);
}

QTEST_MAIN(TestFollowTokenPanel)
#include "tst_followtokenpanel.moc"
