// Decision depth on hand-built lens tables whose answers are worked out by hand.
#include "headlens/analysis/decision.h"

#include <QtTest>

using namespace HeadLens;

class TestDecision : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void depth_data();
    void depth();
};

Q_DECLARE_METATYPE(std::vector<int>)

void TestDecision::depth_data()
{
    QTest::addColumn<std::vector<int>>("top1ByLayer"); // resid_post top-1 at layers 0..3
    QTest::addColumn<int>("final");
    QTest::addColumn<int>("expected");
    QTest::newRow("decided from the start") << std::vector<int>{7, 7, 7, 7} << 7 << 0;
    QTest::newRow("decided at layer 2") << std::vector<int>{1, 2, 7, 7} << 7 << 2;
    QTest::newRow("wavers, so the last streak counts") << std::vector<int>{7, 3, 7, 7} << 7 << 2;
    QTest::newRow("only at the end") << std::vector<int>{7, 7, 7, 4} << 4 << 3;
    QTest::newRow("never (other lens)") << std::vector<int>{1, 1, 1, 1} << 4 << -1;
}

void TestDecision::depth()
{
    QFETCH(std::vector<int>, top1ByLayer);
    QFETCH(int, final);
    QFETCH(int, expected);
    const int64_t L = int64_t(top1ByLayer.size()), T = 2, K = 2;
    LensSite post;
    post.topkIds.reset({L, T, K}, 99);
    for (int64_t l = 0; l < L; ++l) {
        post.topkIds.at({l, 1, 0}) = top1ByLayer[size_t(l)];
        post.topkIds.at({l, 0, 0}) = 5; // position 0: always the final answer
    }
    IntArray logits({T, K}, 98);
    logits.at({0, 0}) = 5;
    logits.at({1, 0}) = final;
    const std::vector<int> d = decisionDepth(post, logits);
    QCOMPARE(d.size(), size_t(T));
    QCOMPARE(d[0], 0);
    QCOMPARE(d[1], expected);
}

QTEST_APPLESS_MAIN(TestDecision)
#include "tst_decision.moc"
