// Head roles measured by the engine (the repeated-token probe of repeatprobe.h through
// Model::run, scored by headlens/analysis/headroles.h):
// - on a GPT-2 checkpoint whose heads were built by hand for one role each (rolemodel.h), each
//   head scores ~1 in its role and ~0 in the others;
// - on random GPT-2 and Llama checkpoints, the scores equal those of the double-precision
//   reference forward passes of tests/common, scored here by the positional definitions
//   (a[i][i-1], a[i][0], a[i][i], sum a[i][j](i-j), and on the second copy a[i][i-n],
//   a[i][i-n+1]) independently of the analysis code;
// - the probe's sequences: [BOS, r, r] with distinct r, reproducible, refused when too long.
#include "naivegpt2.h"
#include "rolemodel.h"
#include "testgpt2.h"
#include "testmodel.h"

#include "headlens/analysis/headroles.h"
#include "headlens/model/repeatprobe.h"
#include "headlens/trace/error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <functional>
#include <set>

using namespace HeadLens;
using namespace HeadLens::Test;

namespace {

HeadRoles measure(Model &m, const RepeatProbeOptions &o)
{
    HeadRoleAccumulator acc(m.config().nLayers, m.config().nHeads);
    runRepeatProbe(m, o, [&](int, const std::vector<int32_t> &ids, int layer, const TensorView &v) {
        acc.add(layer, v.data, ids);
    });
    return acc.result();
}

// The scores by their positional definitions over reference patterns.
struct RefScores {
    std::vector<double> prev, first, self, dist, dup, ind; // [L*H]
};
RefScores referenceScores(const std::vector<NaiveForward> &fs, int n, bool bos)
{
    const int L = fs[0].L, H = fs[0].H;
    RefScores r;
    for (auto *v : {&r.prev, &r.first, &r.self, &r.dist, &r.dup, &r.ind})
        v->assign(size_t(L * H), 0.0);
    double nq = 0, nr = 0;
    for (const NaiveForward &f : fs) {
        const int T = f.T, b = bos ? 1 : 0;
        nq += T - 1;
        nr += n;
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) {
                const size_t k = size_t(l * H + h);
                for (int i = 1; i < T; ++i) {
                    r.prev[k] += f.patternAt(l, h, i, i - 1);
                    r.first[k] += f.patternAt(l, h, i, 0);
                    r.self[k] += f.patternAt(l, h, i, i);
                    for (int j = 0; j <= i; ++j)
                        r.dist[k] += f.patternAt(l, h, i, j) * (i - j);
                }
                for (int i = b + n; i < b + 2 * n; ++i) { // the second copy
                    r.dup[k] += f.patternAt(l, h, i, i - n);
                    r.ind[k] += f.patternAt(l, h, i, i - n + 1);
                }
            }
    }
    for (auto *v : {&r.prev, &r.first, &r.self, &r.dist})
        for (double &x : *v)
            x /= nq;
    for (auto *v : {&r.dup, &r.ind})
        for (double &x : *v)
            x /= nr;
    return r;
}

void compareWithReference(const HeadRoles &got, const RefScores &ref, double tol)
{
    for (int l = 0; l < got.nLayers; ++l)
        for (int h = 0; h < got.nHeads; ++h) {
            const size_t k = size_t(l * got.nHeads + h);
            const std::pair<double, double> pairs[] = {
                {got.at(HeadRole::PreviousToken, l, h), ref.prev[k]},
                {got.at(HeadRole::FirstToken, l, h), ref.first[k]},
                {got.at(HeadRole::Self, l, h), ref.self[k]},
                {got.distanceAt(l, h), ref.dist[k]},
                {got.at(HeadRole::DuplicateToken, l, h), ref.dup[k]},
                {got.at(HeadRole::Induction, l, h), ref.ind[k]}};
            int i = 0;
            for (const auto &[a, b] : pairs) {
                if (!(std::abs(a - b) <= tol * std::max(1.0, std::abs(b))))
                    QFAIL(qPrintable(QString("layer %1 head %2 score %3: engine %4, reference %5")
                                         .arg(l)
                                         .arg(h)
                                         .arg(i)
                                         .arg(a, 0, 'g', 9)
                                         .arg(b, 0, 'g', 9)));
                ++i;
            }
        }
}

} // namespace

class TestHeadRolesEngine : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void probeSequences();
    void constructedHeads();
    void gpt2AgainstReference();
    void llamaAgainstReference();
    void stories260k();

private:
    QTemporaryDir m_dir;
};

void TestHeadRolesEngine::probeSequences()
{
    ModelConfig c = gpt2Config(1, 8, 2, 16, 40, 64); // BOS = EOS = 39
    RepeatProbeOptions o;
    o.sequences = 3;
    o.seed = 5;
    QCOMPARE(repeatProbeLength(c, o), 31); // (64 - 1) / 2, under the default 50
    o.length = 20;
    const auto seqs = repeatedRandomSequences(c, o);
    QCOMPARE(int(seqs.size()), 3);
    for (const auto &s : seqs) {
        QCOMPARE(int(s.size()), 41);
        QCOMPARE(s[0], 39);
        std::set<int32_t> distinct(s.begin() + 1, s.begin() + 21);
        QCOMPARE(int(distinct.size()), 20);
        QVERIFY(!distinct.count(39));
        for (int k = 0; k < 20; ++k)
            QCOMPARE(s[size_t(21 + k)], s[size_t(1 + k)]);
    }
    QVERIFY(seqs[0] != seqs[1]);
    QCOMPARE(repeatedRandomSequences(c, o), seqs); // the seed decides
    o.seed = 6;
    QVERIFY(repeatedRandomSequences(c, o) != seqs);
    // Too long for the context, more tokens than the vocabulary has, too short.
    o.length = 32;
    QVERIFY_THROWS_EXCEPTION(InputError, repeatProbeLength(c, o));
    c.maxSeqLen = 200;
    o.length = 39; // 40 tokens minus BOS/EOS = 39 candidates: fits exactly
    QCOMPARE(repeatProbeLength(c, o), 39);
    o.length = 40;
    QVERIFY_THROWS_EXCEPTION(InputError, repeatProbeLength(c, o));
    o.length = 1;
    QVERIFY_THROWS_EXCEPTION(InputError, repeatProbeLength(c, o));
    // A model without BOS: the two copies only.
    c.bosId = c.eosId = -1;
    o.length = 5;
    const auto plain = repeatedRandomSequences(c, o);
    QCOMPARE(int(plain[0].size()), 10);
}

void TestHeadRolesEngine::constructedHeads()
{
    const Gpt2Weights w = roleGpt2();
    const std::string dir = m_dir.filePath("roles").toStdString();
    writeGpt2Folder(dir, w);
    auto m = Model::load(dir);
    RepeatProbeOptions o; // n = min(50, (32 - 1) / 2) = 15, 4 sequences
    const HeadRoles r = measure(*m, o);
    QCOMPARE(r.nQueries, int64_t(4 * 30));
    QCOMPARE(r.nRepeatQueries, int64_t(4 * 15));
    for (int l = 0; l < 2; ++l)
        for (int h = 0; h < 3; ++h)
            qInfo("L%dH%d previous %.4f first %.4f self %.4f duplicate %.4f induction %.4f "
                  "distance %.4f",
                  l, h, r.at(HeadRole::PreviousToken, l, h), r.at(HeadRole::FirstToken, l, h),
                  r.at(HeadRole::Self, l, h), r.at(HeadRole::DuplicateToken, l, h),
                  r.at(HeadRole::Induction, l, h), r.distanceAt(l, h));
    // The previous-token head: ~1 there, ~0 elsewhere. Its first-token score is the one query
    // (i = 1) of 30 whose previous token is the first: 1/30.
    QVERIFY(r.at(HeadRole::PreviousToken, 0, 0) > 0.999);
    QVERIFY(std::abs(r.at(HeadRole::FirstToken, 0, 0) - 1.0 / 30) < 1e-3);
    QVERIFY(r.at(HeadRole::Self, 0, 0) < 1e-3);
    QVERIFY(r.at(HeadRole::DuplicateToken, 0, 0) < 1e-3);
    QVERIFY(r.at(HeadRole::Induction, 0, 0) < 1e-3);
    QVERIFY(std::abs(r.distanceAt(0, 0) - 1.0) < 1e-3);
    // The first-token head; mean distance is the mean of i over 1..30.
    QVERIFY(r.at(HeadRole::FirstToken, 0, 1) > 0.999);
    QVERIFY(std::abs(r.at(HeadRole::PreviousToken, 0, 1) - 1.0 / 30) < 1e-3);
    QVERIFY(r.at(HeadRole::Self, 0, 1) < 1e-3);
    QVERIFY(r.at(HeadRole::Induction, 0, 1) < 1e-3);
    QVERIFY(std::abs(r.distanceAt(0, 1) - 15.5) < 1e-2);
    // The self head.
    QVERIFY(r.at(HeadRole::Self, 0, 2) > 0.999);
    QVERIFY(r.at(HeadRole::PreviousToken, 0, 2) < 1e-3);
    QVERIFY(r.distanceAt(0, 2) < 1e-2);
    // The induction head: on the second copy only the token after the earlier copy.
    QVERIFY(r.at(HeadRole::Induction, 1, 0) > 0.999);
    QVERIFY(r.at(HeadRole::DuplicateToken, 1, 0) < 1e-3);
    // The duplicate-token head: on the second copy only the earlier copy of its token.
    QVERIFY(r.at(HeadRole::DuplicateToken, 1, 1) > 0.999);
    QVERIFY(r.at(HeadRole::Induction, 1, 1) < 1e-3);
    QCOMPARE(strongestRole(r, 0, 0)->role, HeadRole::PreviousToken);
    QCOMPARE(strongestRole(r, 0, 1)->role, HeadRole::FirstToken);
    QCOMPARE(strongestRole(r, 0, 2)->role, HeadRole::Self);
    QCOMPARE(strongestRole(r, 1, 0)->role, HeadRole::Induction);
    QCOMPARE(strongestRole(r, 1, 1)->role, HeadRole::DuplicateToken);
    QVERIFY(!strongestRole(r, 1, 2)); // no weights: uniform attention, no role
    // And against the reference forward pass of the same weights.
    std::vector<NaiveForward> fs;
    for (const auto &ids : repeatedRandomSequences(m->config(), o))
        fs.push_back(naiveGpt2Forward(w, ids));
    compareWithReference(r, referenceScores(fs, 15, true), 1e-4);
}

// The engine's scores on the probe o against the reference patterns forward(ids) gives.
static void
checkAgainstReference(Model &m, const RepeatProbeOptions &o,
                      const std::function<NaiveForward(const std::vector<int32_t> &)> &forward)
{
    const HeadRoles r = measure(m, o);
    std::vector<NaiveForward> fs;
    const auto seqs = repeatedRandomSequences(m.config(), o);
    QCOMPARE(seqs[0][0], m.config().bosId);
    for (const auto &ids : seqs)
        fs.push_back(forward(ids));
    compareWithReference(r, referenceScores(fs, o.length, true), 1e-4);
}

void TestHeadRolesEngine::gpt2AgainstReference()
{
    const Gpt2Weights w = randomGpt2(gpt2Config(2, 32, 4, 64, 61, 48), 11);
    const std::string dir = m_dir.filePath("gpt2").toStdString();
    writeGpt2Folder(dir, w);
    auto m = Model::load(dir);
    checkAgainstReference(*m, RepeatProbeOptions{9, 3, 42}, [&](const std::vector<int32_t> &ids) {
        return naiveGpt2Forward(w, ids);
    });
}

void TestHeadRolesEngine::llamaAgainstReference()
{
    ModelConfig c = llamaConfig(2, 32, 4, 2, 48, 70, 64);
    c.bosId = 1;
    c.eosId = 2;
    const LlamaWeights w = randomLlama(c, 7);
    const std::string dir = m_dir.filePath("llama").toStdString();
    writeHfFolder(dir, w);
    auto m = Model::load(dir);
    checkAgainstReference(*m, RepeatProbeOptions{12, 2, 3},
                          [&](const std::vector<int32_t> &ids) { return naiveForward(w, ids); });
}

void TestHeadRolesEngine::stories260k()
{
    const std::string dir = std::string(HEADLENS_SHARED_DIR) + "/models/stories260K";
    if (!QFile::exists(QString::fromStdString(dir + "/stories260K.bin")))
        QSKIP("shared/models/stories260K is not there");
    LoadOptions lo;
    lo.tokenizerPath = dir + "/tok512.bin";
    auto m = Model::load(dir + "/stories260K.bin", lo);
    const HeadRoles r = measure(*m, RepeatProbeOptions{});
    const int L = r.nLayers, H = r.nHeads;
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
            qInfo("stories260K L%dH%d previous %.3f first %.3f self %.3f duplicate %.3f "
                  "induction %.3f distance %.2f",
                  l, h, r.at(HeadRole::PreviousToken, l, h), r.at(HeadRole::FirstToken, l, h),
                  r.at(HeadRole::Self, l, h), r.at(HeadRole::DuplicateToken, l, h),
                  r.at(HeadRole::Induction, l, h), r.distanceAt(l, h));
            // Every score is a share of one attention row: within [0, 1].
            for (HeadRole role : allHeadRoles())
                QVERIFY(r.at(role, l, h) >= -1e-6 && r.at(role, l, h) <= 1 + 1e-6);
        }
}

QTEST_APPLESS_MAIN(TestHeadRolesEngine)
#include "tst_headroles.moc"
