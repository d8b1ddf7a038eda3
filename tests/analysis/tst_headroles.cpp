// Head-role scores on hand-built attention patterns, every expected value worked out by hand in
// the comments: which queries count, what each score sums, and how sequences pool.
#include "headlens/analysis/headroles.h"

#include <QtTest>

#include <cmath>

using namespace HeadLens;

namespace {

// One layer of H heads over T tokens from rows given per head (lower triangle, row by row).
FloatArray pattern(int H, int T, const std::vector<std::vector<float>> &rows)
{
    FloatArray p({H, T, T}, 0.0f);
    for (int h = 0; h < H; ++h) {
        size_t n = 0;
        for (int q = 0; q < T; ++q)
            for (int k = 0; k <= q; ++k)
                p.data[size_t((h * T + q) * T + k)] = rows[size_t(h)].at(n++);
    }
    return p;
}

void near(double actual, double expected, const char *what)
{
    if (std::abs(actual - expected) > 1e-6)
        QFAIL(qPrintable(
            QString("%1: %2, expected %3").arg(what).arg(actual, 0, 'g', 10).arg(expected)));
}

} // namespace

class TestHeadRoles : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void scoresOfOneSequence();
    void sequencesPool();
    void undefinedScoresAreNaN();
    void strongestRole();
    void badInput();
};

// tokens 7 1 2 1 2: queries 1..4 count for previous/first/self/distance; queries 3 (token 1,
// earlier at 1 < 2) and 4 (token 2, earlier at 2 < 3) for duplicate/induction.
static const std::vector<int32_t> kIds{7, 1, 2, 1, 2};
static FloatArray twoHeads()
{
    return pattern(2, 5,
                   {{1, /**/ .5f, .5f, /**/ .2f, .3f, .5f, /**/ .1f, .2f, .3f, .4f,
                     /**/ .1f, .1f, .4f, .2f, .2f},
                    // head 1: every query on the previous token
                    {1, /**/ 1, 0, /**/ 0, 1, 0, /**/ 0, 0, 1, 0, /**/ 0, 0, 0, 1, 0}});
}

void TestHeadRoles::scoresOfOneSequence()
{
    HeadRoleAccumulator acc(1, 2);
    acc.add(0, twoHeads(), kIds);
    const HeadRoles r = acc.result();
    QCOMPARE(r.nQueries, int64_t(4));
    QCOMPARE(r.nRepeatQueries, int64_t(2));
    // head 0: previous .5 .3 .3 .2; first .5 .2 .1 .1; self .5 .5 .4 .2;
    // distance .5, .2*2+.3 = .7, .1*3+.2*2+.3 = 1.0, .1*4+.1*3+.4*2+.2 = 1.7;
    // duplicate a[3][1] = .2, a[4][2] = .4; induction a[3][2] = .3, a[4][3] = .2.
    near(r.at(HeadRole::PreviousToken, 0, 0), 1.3 / 4, "previous");
    near(r.at(HeadRole::FirstToken, 0, 0), 0.9 / 4, "first");
    near(r.at(HeadRole::Self, 0, 0), 1.6 / 4, "self");
    near(r.distanceAt(0, 0), 3.9 / 4, "distance");
    near(r.at(HeadRole::DuplicateToken, 0, 0), 0.6 / 2, "duplicate");
    near(r.at(HeadRole::Induction, 0, 0), 0.5 / 2, "induction");
    // head 1: previous 1; first only at query 1; the token after each earlier copy is the
    // previous token here (copies 2 back), so induction is 1 too, and duplicate 0.
    near(r.at(HeadRole::PreviousToken, 0, 1), 1.0, "previous h1");
    near(r.at(HeadRole::FirstToken, 0, 1), 0.25, "first h1");
    near(r.at(HeadRole::Self, 0, 1), 0.0, "self h1");
    near(r.distanceAt(0, 1), 1.0, "distance h1");
    near(r.at(HeadRole::DuplicateToken, 0, 1), 0.0, "duplicate h1");
    near(r.at(HeadRole::Induction, 0, 1), 1.0, "induction h1");
}

void TestHeadRoles::sequencesPool()
{
    HeadRoleAccumulator acc(1, 2);
    acc.add(0, twoHeads(), kIds);
    // tokens 7 5 5: query 2's token occurred only at 1 = i-1, which has no token after it before
    // i: no duplicate/induction query. head 0: previous .3 .3, first .3 .2, self .7 .5,
    // distance .3 and .2*2+.3 = .7.
    acc.add(0, pattern(2, 3, {{1, .3f, .7f, .2f, .3f, .5f}, {1, 1, 0, 0, 1, 0}}), {7, 5, 5});
    const HeadRoles r = acc.result();
    QCOMPARE(r.nQueries, int64_t(6));
    QCOMPARE(r.nRepeatQueries, int64_t(2));
    near(r.at(HeadRole::PreviousToken, 0, 0), 1.9 / 6, "previous");
    near(r.at(HeadRole::FirstToken, 0, 0), 1.4 / 6, "first");
    near(r.at(HeadRole::Self, 0, 0), 2.8 / 6, "self");
    near(r.distanceAt(0, 0), 4.9 / 6, "distance");
    near(r.at(HeadRole::DuplicateToken, 0, 0), 0.6 / 2, "duplicate");
    near(r.at(HeadRole::Induction, 0, 0), 0.5 / 2, "induction");
    near(r.at(HeadRole::FirstToken, 0, 1), 2.0 / 6, "first h1"); // queries 1 of both
}

void TestHeadRoles::undefinedScoresAreNaN()
{
    const HeadRoles r = headRolesOfPattern(1, 2, {7, 5, 5}, [](int) {
        return pattern(2, 3, {{1, .3f, .7f, .2f, .3f, .5f}, {1, 1, 0, 0, 1, 0}});
    });
    QCOMPARE(r.nRepeatQueries, int64_t(0));
    QVERIFY(std::isnan(r.at(HeadRole::DuplicateToken, 0, 0)));
    QVERIFY(std::isnan(r.at(HeadRole::Induction, 0, 1)));
    near(r.at(HeadRole::Self, 0, 0), 1.2 / 2, "self");
    // One token: no query at all.
    const HeadRoles one = headRolesOfPattern(1, 1, {3}, [](int) {
        return FloatArray({1, 1, 1}, 1.0f);
    });
    QCOMPARE(one.nQueries, int64_t(0));
    QVERIFY(std::isnan(one.at(HeadRole::PreviousToken, 0, 0)));
    QVERIFY(!HeadLens::strongestRole(one, 0, 0));
}

void TestHeadRoles::strongestRole()
{
    HeadRoleAccumulator acc(1, 2);
    acc.add(0, twoHeads(), kIds);
    const HeadRoles r = acc.result();
    // head 0: self .4 is the highest (previous .325, duplicate .3, induction .25, first .225).
    auto best = HeadLens::strongestRole(r, 0, 0);
    QVERIFY(best);
    QCOMPARE(best->role, HeadRole::Self);
    near(best->score, 0.4, "best");
    QVERIFY(!HeadLens::strongestRole(r, 0, 0, 0.5));
    // head 1: previous and induction tie at 1; the first in the order of the roles wins.
    best = HeadLens::strongestRole(r, 0, 1);
    QVERIFY(best);
    QCOMPARE(best->role, HeadRole::PreviousToken);
    QVERIFY(!HeadLens::strongestRole(r, 1, 0)); // no such layer
    QCOMPARE(QString(headRoleName(HeadRole::DuplicateToken)), QString("duplicate_token"));
    QCOMPARE(headRoleFromName("induction"), std::optional<HeadRole>(HeadRole::Induction));
    QVERIFY(!headRoleFromName("sink"));
}

void TestHeadRoles::badInput()
{
    HeadRoleAccumulator acc(2, 2);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, acc.add(0, FloatArray({2, 4, 4}), kIds));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, acc.add(2, twoHeads(), kIds));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, HeadRoleAccumulator(0, 2));
}

QTEST_APPLESS_MAIN(TestHeadRoles)
#include "tst_headroles.moc"
