// Activation patching (Model::patch) against the naive float64 reference of tests/common: every
// (site, layer, position) and every head's z at a position, patched from the clean run into the
// corrupted run by the reference one at a time, unbatched, give the same recovered fraction as
// the engine's batched sweep; and the cases whose answer is known without a reference.

#include "naivellama.h"
#include "testmodel.h"

#include "headlens/model/model.h"
#include "headlens/trace/error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace HeadLens;
using namespace HeadLens::Test;

namespace {

// Recovered fractions: f32 LDs against f64 ones, divided by a span of order 1.
constexpr double kTol = 2e-4;
constexpr int kTokens = 9;
constexpr int kFirstDiff = 3; // the first position where the prompts differ

double ldOf(const NaiveForward &f, int32_t a, int32_t b)
{
    const double *lg = f.logitsAt(f.T - 1);
    return lg[a] - lg[b];
}

} // namespace

class TestPatching : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    LlamaWeights m_w;
    std::unique_ptr<Model> m_model;
    std::vector<int32_t> m_clean, m_corrupted;
    NaiveForward m_fc, m_fr;
    int32_t m_answer = 0, m_wrong = 0;
    PatchMap m_map;

    double refRecovered(const NaivePatch &p) const
    {
        const NaiveForward f = naiveForward(m_w, m_corrupted, &p);
        const double c = ldOf(m_fr, m_answer, m_wrong), k = ldOf(m_fc, m_answer, m_wrong);
        return (ldOf(f, m_answer, m_wrong) - c) / (k - c);
    }
    NaivePatch sitePatch(Site s, int l, int t) const
    {
        NaivePatch p;
        const double *v = m_fc.site(s, l, t);
        p.sites.push_back({s, l, t, std::vector<double>(v, v + m_fc.D)});
        return p;
    }

private Q_SLOTS:
    void initTestCase()
    {
        // GQA, q/k/v and o_proj biases: every path of the batched continuation.
        ModelConfig cfg = llamaConfig(3, 48, 4, 2, 96, 97, 64);
        cfg.attnBias = true;
        cfg.attnOutBias = true;
        m_w = randomLlama(cfg, 11);
        const std::string dir = m_dir.path().toStdString() + "/m";
        writeHfFolder(dir, m_w);
        m_model = Model::load(dir);
        Rng rng(5);
        m_clean.push_back(1);
        while (int(m_clean.size()) < kTokens)
            m_clean.push_back(3 + rng.below(cfg.vocabSize - 3));
        m_corrupted = m_clean;
        m_corrupted[kFirstDiff] = 3 + (m_clean[kFirstDiff] - 3 + 17) % (cfg.vocabSize - 3);
        m_corrupted[6] = 3 + (m_clean[6] - 3 + 40) % (cfg.vocabSize - 3);
        m_fc = naiveForward(m_w, m_clean);
        m_fr = naiveForward(m_w, m_corrupted);
        m_answer = argmaxOf(m_fc.logitsAt(kTokens - 1), m_fc.V);
        m_wrong = argmaxOf(m_fr.logitsAt(kTokens - 1), m_fr.V);
        if (m_wrong == m_answer) m_wrong = (m_answer + 1) % m_fc.V;
        QVERIFY(std::abs(ldOf(m_fc, m_answer, m_wrong) - ldOf(m_fr, m_answer, m_wrong)) > 0.1);
        PatchOptions o;
        o.answer = m_answer;
        o.wrong = m_wrong;
        o.heads = true;
        m_map = m_model->patch(m_clean, m_corrupted, o);
        QCOMPARE(m_map.sites.shape, (std::vector<int64_t>{kSiteCount, 3, kTokens}));
        QCOMPARE(m_map.heads.shape, (std::vector<int64_t>{3, 4, kTokens}));
    }

    void logitDifferences()
    {
        QVERIFY(std::abs(m_map.ldClean - ldOf(m_fc, m_answer, m_wrong)) < 1e-4);
        QVERIFY(std::abs(m_map.ldCorrupted - ldOf(m_fr, m_answer, m_wrong)) < 1e-4);
    }

    // Every entry of the sweep against an unbatched float64 patched forward pass.
    void sitesMatchReference()
    {
        for (Site s : allSites())
            for (int l = 0; l < 3; ++l)
                for (int t = 0; t < kTokens; ++t) {
                    const double ref = refRecovered(sitePatch(s, l, t));
                    const double got = m_map.site(s, l, t);
                    QVERIFY2(std::abs(got - ref) < kTol,
                             qPrintable(QString("%1 layer %2 pos %3: %4, reference %5")
                                            .arg(siteName(s))
                                            .arg(l)
                                            .arg(t)
                                            .arg(got)
                                            .arg(ref)));
                }
    }

    void headsMatchReference()
    {
        const int dh = m_fc.dh, H = m_fc.H;
        for (int l = 0; l < 3; ++l)
            for (int h = 0; h < H; ++h)
                for (int t = 0; t < kTokens; ++t) {
                    NaivePatch p;
                    const double *z =
                        m_fc.z.data() + ((size_t(l) * kTokens + size_t(t)) * H + h) * dh;
                    p.heads.push_back({l, h, t, std::vector<double>(z, z + dh)});
                    const double ref = refRecovered(p);
                    const double got = m_map.head(l, h, t);
                    QVERIFY2(std::abs(got - ref) < kTol,
                             qPrintable(QString("L%1H%2 pos %3: %4, reference %5")
                                            .arg(l)
                                            .arg(h)
                                            .arg(t)
                                            .arg(got)
                                            .arg(ref)));
                }
    }

    // The last layer's resid_post is all the logits read: patched at every position it gives
    // the clean answer, all of it at the last position and none elsewhere.
    void lastResidPostRecoversOne()
    {
        NaivePatch all;
        for (int t = 0; t < kTokens; ++t) {
            const NaivePatch one = sitePatch(Site::ResidPost, 2, t);
            all.sites.push_back(one.sites.front());
        }
        QVERIFY(std::abs(refRecovered(all) - 1.0) < 1e-12);
        QVERIFY(std::abs(m_map.site(Site::ResidPost, 2, kTokens - 1) - 1.0) < 1e-5);
        for (int t = 0; t < kTokens - 1; ++t)
            QCOMPARE(m_map.site(Site::ResidPost, 2, t), 0.0f);
        float sum = 0;
        for (int t = 0; t < kTokens; ++t)
            sum += m_map.site(Site::ResidPost, 2, t);
        QVERIFY(std::abs(sum - 1.0f) < 1e-5f);
    }

    // Before the first differing token both runs are the same: a patch there patches nothing.
    void nothingPatchedGivesZero()
    {
        QCOMPARE(refRecovered(NaivePatch{}), 0.0);
        for (Site s : allSites())
            for (int l = 0; l < 3; ++l)
                for (int t = 0; t < kFirstDiff; ++t)
                    QCOMPARE(m_map.site(s, l, t), 0.0f);
        for (int l = 0; l < 3; ++l)
            for (int h = 0; h < 4; ++h)
                for (int t = 0; t < kFirstDiff; ++t)
                    QCOMPARE(m_map.head(l, h, t), 0.0f);
        // resid_pre of layer 0 is the embedding: only the differing tokens' rows move anything.
        QVERIFY(std::abs(m_map.site(Site::ResidPre, 0, kFirstDiff)) > 1e-3);
        QCOMPARE(m_map.site(Site::ResidPre, 0, kFirstDiff + 1), 0.0f);
    }

    // Batches of one copy each (rows from each copy's own position) give the same map.
    void batchSizeDoesNotMatter()
    {
        PatchOptions o;
        o.answer = m_answer;
        o.wrong = m_wrong;
        o.heads = true;
        o.batchBytes = 1;
        int calls = 0, last = 0;
        o.progress = [&](int done, int total) {
            ++calls;
            last = done;
            QCOMPARE(total, 3 * kSiteCount + 3);
        };
        const PatchMap one = m_model->patch(m_clean, m_corrupted, o);
        QCOMPARE(calls, 3 * kSiteCount + 3);
        QCOMPARE(last, calls);
        for (size_t i = 0; i < one.sites.data.size(); ++i)
            QVERIFY(std::abs(one.sites.data[i] - m_map.sites.data[i]) < 1e-5f);
        for (size_t i = 0; i < one.heads.data.size(); ++i)
            QVERIFY(std::abs(one.heads.data[i] - m_map.heads.data[i]) < 1e-5f);
    }

    void refusesBadInput()
    {
        PatchOptions o;
        o.answer = m_answer;
        o.wrong = m_wrong;
        std::vector<int32_t> shorter(m_corrupted.begin(), m_corrupted.end() - 1);
        try {
            m_model->patch(m_clean, shorter, o);
            QFAIL("prompts of different token counts were accepted");
        } catch (const InputError &e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("9 tokens") != std::string::npos &&
                         msg.find(" 8") != std::string::npos,
                     e.what());
        }
        o.wrong = 97;
        QVERIFY_THROWS_EXCEPTION(InputError, m_model->patch(m_clean, m_corrupted, o));
        o.wrong = m_wrong;
        QVERIFY_THROWS_EXCEPTION(InputError, m_model->patch(m_clean, m_clean, o));
        bool cancelled = false;
        o.cancelled = [] { return true; };
        try {
            m_model->patch(m_clean, m_corrupted, o);
        } catch (const Cancelled &) {
            cancelled = true;
        }
        QVERIFY(cancelled);
    }
};

QTEST_GUILESS_MAIN(TestPatching)
#include "tst_patching.moc"
