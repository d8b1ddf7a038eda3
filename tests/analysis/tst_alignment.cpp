// Token alignment by character offsets on hand-worked cases, including tokens that two
// tokenizers split and merge differently.
#include "headlens/analysis/alignment.h"

#include <QtTest>

using namespace HeadLens;

using Spans = std::vector<std::pair<int, int>>; // [begin, end) per token, -1 -1 for none
using Pairs = std::vector<std::pair<int, int>>;
Q_DECLARE_METATYPE(Spans)

namespace {

std::vector<TokenInfo> tokens(const Spans &spans)
{
    std::vector<TokenInfo> out;
    for (const auto &s : spans) {
        TokenInfo t;
        t.id = int32_t(out.size());
        t.begin = s.first;
        t.end = s.second;
        out.push_back(t);
    }
    return out;
}

QString show(const Pairs &p)
{
    QStringList parts;
    for (const auto &x : p)
        parts << QStringLiteral("(%1,%2)").arg(x.first).arg(x.second);
    return parts.join(QLatin1Char(' '));
}

} // namespace

class TestAlignment : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void align_data();
    void align();
    void everyIndexOnce();
};

void TestAlignment::align_data()
{
    QTest::addColumn<Spans>("a");
    QTest::addColumn<Spans>("b");
    QTest::addColumn<Spans>("expected");
    const std::pair<int, int> none{-1, -1};

    QTest::newRow("identical") << Spans{{0, 4}, {4, 9}} << Spans{{0, 4}, {4, 9}}
                               << Spans{{0, 0}, {1, 1}};
    QTest::newRow("BOS on both sides")
        << Spans{none, {0, 4}} << Spans{none, {0, 4}} << Spans{{0, 0}, {1, 1}};
    QTest::newRow("BOS on one side")
        << Spans{none, {0, 4}} << Spans{{0, 4}} << Spans{{0, -1}, {1, 0}};
    // "hello" as one token against "hel" + "lo"
    QTest::newRow("split") << Spans{{0, 5}} << Spans{{0, 3}, {3, 5}} << Spans{{0, 0}, {0, 1}};
    QTest::newRow("merge") << Spans{{0, 3}, {3, 5}} << Spans{{0, 5}} << Spans{{0, 0}, {1, 0}};
    // "abc|defg" against "ab|cde|fg": boundaries cross, each overlap is a pair
    QTest::newRow("crossing boundaries") << Spans{{0, 3}, {3, 7}} << Spans{{0, 2}, {2, 5}, {5, 7}}
                                         << Spans{{0, 0}, {0, 1}, {1, 1}, {1, 2}};
    QTest::newRow("a token missing on the right")
        << Spans{{0, 2}, {2, 4}, {4, 6}} << Spans{{0, 2}, {4, 6}} << Spans{{0, 0}, {1, -1}, {2, 1}};
    QTest::newRow("a longer prompt on the right")
        << Spans{{0, 3}} << Spans{{0, 3}, {3, 6}} << Spans{{0, 0}, {-1, 1}};
    QTest::newRow("generated tokens stay unmatched")
        << Spans{none, {0, 4}, none, none} << Spans{none, {0, 4}, none}
        << Spans{{0, 0}, {1, 1}, {2, -1}, {3, -1}, {-1, 2}};
    QTest::newRow("zero-width token inside a span")
        << Spans{{0, 3}, {3, 3}, {3, 6}} << Spans{{0, 6}} << Spans{{0, 0}, {1, 0}, {2, 0}};
    QTest::newRow("left empty") << Spans{} << Spans{{0, 1}} << Spans{{-1, 0}};
    QTest::newRow("both empty") << Spans{} << Spans{} << Spans{};
    // "Once upon" as [Once][ upon] against [On][ce][ up][on]
    QTest::newRow("two tokenizers")
        << Spans{{0, 4}, {4, 9}} << Spans{{0, 2}, {2, 4}, {4, 7}, {7, 9}}
        << Spans{{0, 0}, {0, 1}, {1, 2}, {1, 3}};
}

void TestAlignment::align()
{
    QFETCH(Spans, a);
    QFETCH(Spans, b);
    QFETCH(Spans, expected);
    const Pairs got = alignTokens(tokens(a), tokens(b));
    QCOMPARE(show(got), show(expected));
}

void TestAlignment::everyIndexOnce()
{
    // Random-ish tokenizations of the same 40 characters: every index appears, pairs overlap.
    std::vector<TokenInfo> a, b;
    int pos = 0, k = 0;
    while (pos < 40) {
        const int len = 1 + (k * 7) % 5;
        TokenInfo t;
        t.begin = pos;
        t.end = std::min(40, pos + len);
        a.push_back(t);
        pos = t.end;
        ++k;
    }
    pos = 0;
    k = 0;
    while (pos < 40) {
        const int len = 1 + (k * 3) % 4;
        TokenInfo t;
        t.begin = pos;
        t.end = std::min(40, pos + len);
        b.push_back(t);
        pos = t.end;
        ++k;
    }
    const Pairs got = alignTokens(a, b);
    std::vector<int> seenA(a.size(), 0), seenB(b.size(), 0);
    for (const auto &p : got) {
        QVERIFY(p.first >= 0 && p.second >= 0); // same text: everything overlaps something
        ++seenA[size_t(p.first)];
        ++seenB[size_t(p.second)];
        const TokenInfo &x = a[size_t(p.first)], &y = b[size_t(p.second)];
        QVERIFY(std::max(x.begin, y.begin) < std::min(x.end, y.end));
    }
    for (int s : seenA)
        QVERIFY(s >= 1);
    for (int s : seenB)
        QVERIFY(s >= 1);
}

QTEST_APPLESS_MAIN(TestAlignment)
#include "tst_alignment.moc"
