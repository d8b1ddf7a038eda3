// The engine on a real, third-party trained model: Karpathy's stories260K (llama2.c v0 and v1
// files, tok512.bin), and the same weights rewritten as a Hugging Face folder. Checks that
// both RoPE layouts give the same model, that it matches the naive reference, and that greedy
// decoding tells the known story. Skips when shared/models/stories260K is absent.

#include "compare.h"
#include "naivellama.h"
#include "testmodel.h"

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/trace/error.h"

#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <memory>

using namespace HeadLens;
using namespace HeadLens::Test;

namespace {

const std::string kPrompt = "Once upon a time";
const std::vector<int32_t> kPromptIds = {1, 403, 407, 261, 378};
constexpr int kGenerate = 40;

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        const std::string err_ = (expr);                                                           \
        QVERIFY2(err_.empty(), err_.c_str());                                                      \
    } while (0)

// Pieces of a llama2.c tokenizer.bin, read here independently of the tokenizer module.
std::vector<std::string> readPieces(const std::string &path)
{
    const std::vector<uint8_t> b = readFileBytes(path);
    std::vector<std::string> pieces;
    size_t p = 4;
    while (p + 8 <= b.size()) {
        int32_t n;
        std::memcpy(&n, b.data() + p + 4, 4);
        p += 8;
        if (n < 0 || p + size_t(n) > b.size()) break;
        pieces.emplace_back(reinterpret_cast<const char *>(b.data() + p), size_t(n));
        p += size_t(n);
    }
    return pieces;
}

// llama2.c's decoding of a continuation (no BOS in it): pieces, <0xXX> as bytes.
std::string decodePieces(const std::vector<std::string> &pieces, const std::vector<int32_t> &ids)
{
    std::string s;
    for (int32_t id : ids) {
        const std::string &p = pieces.at(size_t(id));
        unsigned byte = 0;
        if (p.size() == 6 && std::sscanf(p.c_str(), "<0x%02X>", &byte) == 1)
            s.push_back(char(byte));
        else
            s += p;
    }
    return s;
}

} // namespace

class TestStories260K : public QObject {
    Q_OBJECT

    std::string m_dir, m_v0, m_v1, m_tok;
    QTemporaryDir m_tmp;
    std::string m_hf;
    std::unique_ptr<Model> m_model0, m_model1, m_modelHf;
    LlamaWeights m_ref;

private Q_SLOTS:
    void initTestCase();
    void config();
    void tokenizes();
    void v0AndV1GiveIdenticalLogits();
    void logitsMatchReference();
    void traceMatchesReference();
    void hfFolderGivesSameModel();
    void greedyTellsTheStory();
};

void TestStories260K::initTestCase()
{
    m_dir = std::string(HEADLENS_SHARED_DIR) + "/models/stories260K";
    m_v0 = m_dir + "/stories260K.bin";
    m_v1 = m_dir + "/stories260K_v1.bin";
    m_tok = m_dir + "/tok512.bin";
    for (const std::string &f : {m_v0, m_v1, m_tok})
        if (!QFileInfo::exists(QString::fromStdString(f)))
            QSKIP(qPrintable(QString("%1/models/stories260K not found: %2 is missing "
                                     "(set HEADLENS_SHARED_DIR at configure time)")
                                 .arg(HEADLENS_SHARED_DIR, QString::fromStdString(f))));
    QVERIFY(m_tmp.isValid());
    setEngineThreads(2);
    LoadOptions o;
    o.tokenizerPath = m_tok;
    m_model0 = Model::load(m_v0, o);
    m_model1 = Model::load(m_v1, o);
    m_ref = readLlama2c(m_v0);
    // The same weights as a Hugging Face folder (halves RoPE layout), tokenizer.bin inside.
    m_hf = m_tmp.path().toStdString() + "/stories260K-hf";
    HfWriteOptions w;
    w.tokenizerBin = m_tok;
    writeHfFolder(m_hf, m_ref, w);
    m_modelHf = Model::load(m_hf);
}

void TestStories260K::config()
{
    for (Model *m : {m_model0.get(), m_model1.get(), m_modelHf.get()}) {
        const ModelConfig &c = m->config();
        QCOMPARE(c.nLayers, 5);
        QCOMPARE(c.dModel, 64);
        QCOMPARE(c.dFfn, 172);
        QCOMPARE(c.nHeads, 8);
        QCOMPARE(c.nKvHeads, 4);
        QCOMPARE(c.dHead, 8);
        QCOMPARE(c.vocabSize, 512);
        QCOMPARE(c.maxSeqLen, 512);
        QVERIFY(c.tiedEmbeddings);
        QCOMPARE(c.ropeTheta, 10000.0);
        QCOMPARE(c.normEps, 1e-5);
        QVERIFY2(m->tokenizer() != nullptr, m->path().c_str());
        QCOMPARE(m->tokenizer()->vocabSize(), 512);
    }
    QCOMPARE(m_model0->format(), std::string("llama2c-v0"));
    QCOMPARE(m_model1->format(), std::string("llama2c-v1"));
    QCOMPARE(m_modelHf->format(), std::string("hf-safetensors"));
    // Same weights, different files: the fingerprints tell the files apart.
    QVERIFY(m_model0->fingerprint() != m_model1->fingerprint());
}

void TestStories260K::tokenizes()
{
    for (Model *m : {m_model0.get(), m_model1.get(), m_modelHf.get()}) {
        const auto toks = m->tokenize(kPrompt);
        std::vector<int32_t> ids;
        for (const auto &t : toks)
            ids.push_back(t.id);
        QCOMPARE(ids, kPromptIds);
        QCOMPARE(toks[0].begin, -1); // BOS has no characters
        for (size_t i = 1; i < toks.size(); ++i) {
            QVERIFY(toks[i].begin >= 0 && toks[i].begin < toks[i].end);
            QVERIFY(toks[i].end <= int(kPrompt.size()));
        }
        QCOMPARE(toks.back().end, int(kPrompt.size()));
        QCOMPARE(m->decode(kPromptIds), kPrompt);
    }
}

void TestStories260K::v0AndV1GiveIdenticalLogits()
{
    const FloatArray a = m_model0->logits(kPromptIds);
    const FloatArray b = m_model1->logits(kPromptIds);
    QCOMPARE(a.shape, (std::vector<int64_t>{5, 512}));
    QCOMPARE(b.shape, a.shape);
    QVERIFY2(a.data == b.data, qPrintable(QString("v0/v1 logits differ, max |diff| %1").arg([&] {
                 double m = 0;
                 for (size_t i = 0; i < a.size(); ++i)
                     m = std::max(m, double(std::abs(a.data[i] - b.data[i])));
                 return m;
             }())));
}

void TestStories260K::logitsMatchReference()
{
    const NaiveForward f = naiveForward(m_ref, kPromptIds);
    CHECK(compareTensor("stories260K v0 logits", m_model0->logits(kPromptIds), f.logits));
    CHECK(compareTensor("stories260K v1 logits", m_model1->logits(kPromptIds), f.logits));
    CHECK(compareTensor("stories260K HF logits", m_modelHf->logits(kPromptIds), f.logits));
}

void TestStories260K::traceMatchesReference()
{
    for (Model *m : {m_model0.get(), m_modelHf.get()}) {
        TraceOptions o;
        o.lens.topk = 10;
        o.attention = o.residuals = o.z = StoreType::F32;
        const Trace t = traceTokens(*m, m->tokenize(kPrompt), kPrompt, o);
        QCOMPARE(t.tokenIds(), kPromptIds);
        QCOMPARE(t.prompt, kPrompt);
        const NaiveForward f = naiveForward(m_ref, kPromptIds);
        const NaiveHeadMetrics hm = naiveHeadMetrics(m_ref, f);
        for (Site s : allSites())
            CHECK(compareTensor(m->format() + " residual/" + siteName(s), t.residual[size_t(s)],
                                f.sites[size_t(s)]));
        CHECK(compareTensor(m->format() + " attention/pattern", t.attentionPattern, f.pattern));
        CHECK(compareTensor(m->format() + " heads/z", t.z, f.z));
        CHECK(compareElements(m->format() + " heads/contrib_norm", t.contribNorm, hm.contribNorm));
        CHECK(compareElements(m->format() + " heads/contrib_cosine", t.contribCosine,
                              hm.contribCosine, kRefTol, 1.0));
        CHECK(compareElements(m->format() + " heads/contrib_projection", t.contribProjection,
                              hm.contribProjection));
        CHECK(compareElements(m->format() + " heads/attn_entropy", t.attnEntropy, hm.attnEntropy));
        CHECK(compareElements(m->format() + " heads/value_norm", t.valueNorm, hm.valueNorm));
        CHECK(checkLensSites(t, m_ref, f, LensNorm::Full, LensDecoder::Output));
        CHECK(checkLogitsTopk(t, f));
    }
}

void TestStories260K::hfFolderGivesSameModel()
{
    const FloatArray a = m_model0->logits(kPromptIds);
    const FloatArray b = m_modelHf->logits(kPromptIds);
    QCOMPARE(b.shape, a.shape);
    std::vector<double> ad(a.data.begin(), a.data.end());
    CHECK(compareTensor("HF folder logits vs llama2.c logits", b, ad));
    QCOMPARE(m_modelHf->generate(kPromptIds, kGenerate, false),
             m_model0->generate(kPromptIds, kGenerate, false));
}

void TestStories260K::greedyTellsTheStory()
{
    const std::vector<int32_t> gen = m_model0->generate(kPromptIds, kGenerate, false);
    QCOMPARE(int(gen.size()), kGenerate);
    QCOMPARE(m_model1->generate(kPromptIds, kGenerate, false), gen);
    // The reference decodes greedily to the same ids.
    QCOMPARE(naiveGreedy(m_ref, kPromptIds, kGenerate), gen);
    const std::string text = m_model0->decode(gen);
    const std::string own = decodePieces(readPieces(m_tok), gen);
    QCOMPARE(text, own);
    qInfo("continuation: %s", text.c_str());
    QVERIFY2(text.find("Lily") != std::string::npos, text.c_str());
    QVERIFY2(text.find("little girl") != std::string::npos, text.c_str());
}

QTEST_GUILESS_MAIN(TestStories260K)
#include "tst_stories260k.moc"
