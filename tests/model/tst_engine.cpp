// The engine against an independent reference: random Llama models of every shape HeadLens
// reads (GQA or not, tied or not, RoPE theta and scaling, biases, f16/bf16, shards, llama2.c
// v0/v1) are written to disk by tests/common, loaded with Model::load, traced, and compared
// with the double-precision loops of naivellama.cpp and with TRACE.md's invariants.

#include "compare.h"
#include "naivellama.h"
#include "testmodel.h"

#include "headlens/model/model.h"
#include "headlens/trace/error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <sstream>

using namespace HeadLens;
using namespace HeadLens::Test;

namespace {

constexpr double kTol = kRefTol; // relative, engine (f32) against reference (f64)
constexpr int kTopk = 5;
constexpr int kTokens = 7;

struct Spec {
    std::string name;
    ModelConfig cfg;
    std::string format = "hf"; // hf, llama2c-v0, llama2c-v1
    std::string dtype = "F32";
    int shards = 1;
    uint64_t seed = 1;
};

Spec spec(const std::string &name, int L, int D, int H, int Hkv, int F, int V, uint64_t seed)
{
    Spec s;
    s.name = name;
    s.cfg = llamaConfig(L, D, H, Hkv, F, V, 64);
    s.seed = seed;
    return s;
}

std::vector<Spec> allSpecs()
{
    std::vector<Spec> v;
    v.push_back(spec("mha-untied", 2, 32, 4, 4, 64, 61, 1));
    {
        Spec s = spec("gqa-tied", 3, 48, 4, 2, 96, 97, 2);
        s.cfg.tiedEmbeddings = true;
        v.push_back(s);
    }
    {
        Spec s = spec("gqa-untied-theta5e5", 3, 64, 4, 2, 128, 89, 3);
        s.cfg.ropeTheta = 5e5;
        v.push_back(s);
    }
    {
        Spec s = spec("mha-tied-theta5e5", 2, 32, 4, 4, 80, 71, 4);
        s.cfg.tiedEmbeddings = true;
        s.cfg.ropeTheta = 5e5;
        v.push_back(s);
    }
    v.push_back(spec("gqa-8x2", 2, 64, 8, 2, 96, 79, 5));
    {
        Spec s = spec("rope-scaling-2", 2, 32, 4, 2, 64, 67, 6);
        s.cfg.ropeScaling = 2.0;
        v.push_back(s);
    }
    {
        Spec s = spec("biases", 2, 40, 4, 2, 72, 73, 7);
        s.cfg.attnBias = s.cfg.attnOutBias = s.cfg.mlpBias = true;
        v.push_back(s);
    }
    {
        Spec s = spec("eps-1e-2", 2, 32, 4, 4, 48, 61, 8);
        s.cfg.normEps = 1e-2;
        v.push_back(s);
    }
    {
        Spec s = spec("f16", 2, 48, 4, 2, 96, 83, 9);
        s.dtype = "F16";
        v.push_back(s);
    }
    {
        Spec s = spec("bf16-tied", 2, 48, 4, 4, 96, 83, 10);
        s.dtype = "BF16";
        s.cfg.tiedEmbeddings = true;
        v.push_back(s);
    }
    {
        // An untied output matrix of 70000 x 64 bf16 values: computed in f32, it is converted
        // in more than one tile (16 MiB of f32 each), as every matrix of a real model is.
        Spec s = spec("bf16-tiled-vocab", 1, 64, 4, 2, 128, 70000, 16);
        s.dtype = "BF16";
        v.push_back(s);
    }
    {
        Spec s = spec("sharded-3", 3, 40, 4, 2, 64, 89, 11);
        s.shards = 3;
        v.push_back(s);
    }
    {
        Spec s = spec("llama2c-v0-tied", 2, 48, 4, 2, 96, 97, 12);
        s.cfg.tiedEmbeddings = true;
        s.format = "llama2c-v0";
        v.push_back(s);
    }
    {
        Spec s = spec("llama2c-v0-untied", 3, 32, 4, 4, 64, 61, 13);
        s.format = "llama2c-v0";
        v.push_back(s);
    }
    {
        Spec s = spec("llama2c-v1-tied", 2, 32, 4, 2, 64, 71, 14);
        s.cfg.tiedEmbeddings = true;
        s.format = "llama2c-v1";
        v.push_back(s);
    }
    {
        Spec s = spec("llama2c-v1-untied", 2, 64, 8, 4, 96, 89, 15);
        s.format = "llama2c-v1";
        v.push_back(s);
    }
    return v;
}

// Everything one model row of the tests needs, built on first use.
struct Fixture {
    Spec spec;
    std::string path;
    LlamaWeights ref; // what the file holds (rounded to its dtype), HF layout
    std::vector<int32_t> ids;
    NaiveForward fwd;
    NaiveHeadMetrics metrics;
    std::unique_ptr<Model> model;
    Trace trace;
    std::string error; // why the model could not be loaded or traced
};

// A sink that records every call.
class RecordingSink : public CaptureSink {
public:
    std::function<bool(Tap, int)> wantTap = [](Tap, int) { return false; };
    std::function<bool(Site, int)> wantLensFn = [](Site, int) { return false; };
    std::function<bool()> cancelFn = [] { return false; };
    bool wantLogits = false;

    std::vector<std::string> calls; // "tensor <tap> <layer> <shape>", "heads <layer>", ...
    std::map<std::pair<int, int>, FloatArray> tensors; // (tap, layer) -> copy
    int maxTensorLayer = -1;

    bool wants(Tap tap, int layer) override { return wantTap(tap, layer); }
    bool wantsLens(Site site, int layer) override { return wantLensFn(site, layer); }
    void tensor(Tap tap, int layer, const TensorView &v) override
    {
        calls.push_back("tensor " + std::to_string(int(tap)) + " " + std::to_string(layer) + " " +
                        shapeString(v.shape));
        FloatArray a(v.shape);
        std::copy_n(v.data, a.size(), a.data.begin());
        tensors[{int(tap), layer}] = std::move(a);
        maxTensorLayer = std::max(maxTensorLayer, layer);
    }
    void heads(int layer, const HeadMetricsView &m) override
    {
        calls.push_back("heads " + std::to_string(layer));
        auto copy = [](const TensorView &v) {
            FloatArray a(v.shape);
            std::copy_n(v.data, a.size(), a.data.begin());
            return a;
        };
        projections[layer] = copy(m.contribProjection);
        cosines[layer] = copy(m.contribCosine);
    }
    std::map<int, FloatArray> projections, cosines; // layer -> [head, pos]
    void lens(Site site, int layer, const LensView &) override
    {
        calls.push_back(std::string("lens ") + siteName(site) + " " + std::to_string(layer));
    }
    void logits(const LensView &v) override
    {
        calls.push_back("logits");
        logitsK = v.k;
        logitsIds.assign(v.topkIds, v.topkIds + size_t(v.nPos) * size_t(v.k));
        logitsProbs.assign(v.topkProbs, v.topkProbs + size_t(v.nPos) * size_t(v.k));
        logitsEntropy.assign(v.entropy, v.entropy + v.nPos);
    }
    int logitsK = 0;
    std::vector<int32_t> logitsIds;
    std::vector<float> logitsProbs, logitsEntropy;
    bool wantsLogits() override { return wantLogits; }
    bool cancelled() override { return cancelFn(); }
    void progress(int done, int n) override { progressCalls.emplace_back(done, n); }
    std::vector<std::pair<int, int>> progressCalls;

    std::string callList() const
    {
        std::string s;
        for (const auto &c : calls)
            s += (s.empty() ? "" : "; ") + c;
        return s.empty() ? "(none)" : s;
    }
};

} // namespace

class TestEngine : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::vector<Spec> m_specs = allSpecs();
    std::map<std::string, std::unique_ptr<Fixture>> m_fixtures;

    Fixture *fixture(const std::string &name);
    void addModelRows(bool llama2c = true);

private Q_SLOTS:
    void initTestCase();

    void loadsConfig_data() { addModelRows(); }
    void loadsConfig();
    void traceShapes_data() { addModelRows(); }
    void traceShapes();
    void headsSumToAttnOut_data() { addModelRows(); }
    void headsSumToAttnOut();
    void residualStreamAdds_data() { addModelRows(); }
    void residualStreamAdds();
    void finalLensIsLogits_data() { addModelRows(); }
    void finalLensIsLogits();
    void sitesMatchReference_data() { addModelRows(); }
    void sitesMatchReference();
    void attentionMatchesReference_data() { addModelRows(); }
    void attentionMatchesReference();
    void logitsMatchReference_data() { addModelRows(); }
    void logitsMatchReference();
    void attentionInBlocksOfRows_data() { addModelRows(); }
    void attentionInBlocksOfRows();
    void headMetricsMatchReference_data() { addModelRows(); }
    void headMetricsMatchReference();
    void lensMatchesReference_data() { addModelRows(); }
    void lensMatchesReference();
    void changeKlMatchesReference_data() { addModelRows(); }
    void changeKlMatchesReference();
    void lensOptions_data();
    void lensOptions();
    void tiedDecodersCoincide();

    void headMetricsAfterAnAttnOutEdit();
    // All positions in one block (W_o's head slices read in place), and blocks of one
    // position (W_o copied once per layer).
    void headMetricsInABf16Compute_data()
    {
        QTest::addColumn<int64_t>("headBlockBytes");
        QTest::newRow("one block") << kDefaultHeadBlockBytes;
        QTest::newRow("a block per position") << int64_t(1);
    }
    void headMetricsInABf16Compute();
    void sinkWantsNothing();
    void sinkWantsOnlyPatternOfLayer1();
    void sinkWantsEverything();
    void sinkWantsOnlyLogits();
    void runWithoutSink();
    void cancelAfterLayer0();
    void traceCancelled();

    void generateIsGreedy_data() { addModelRows(); }
    void generateIsGreedy();
    void generateStopsAtEos();
    void traceWithGenerate();
    void checkIdsErrors();
    void traceRejectsBadIds();
    void loadRejectsMissingPath();
};

void TestEngine::initTestCase()
{
    QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
    setEngineThreads(2);
}

void TestEngine::addModelRows(bool llama2c)
{
    QTest::addColumn<QString>("model");
    for (const Spec &s : m_specs)
        if (llama2c || s.format == "hf")
            QTest::newRow(s.name.c_str()) << QString::fromStdString(s.name);
}

Fixture *TestEngine::fixture(const std::string &name)
{
    auto it = m_fixtures.find(name);
    if (it != m_fixtures.end()) return it->second.get();
    auto fx = std::make_unique<Fixture>();
    Fixture &f = *fx;
    m_fixtures[name] = std::move(fx);
    for (const Spec &s : m_specs)
        if (s.name == name) f.spec = s;
    if (f.spec.name.empty()) {
        f.error = "no such model spec " + name;
        return &f;
    }
    try {
        const LlamaWeights w = randomLlama(f.spec.cfg, f.spec.seed);
        const std::string base = m_dir.path().toStdString() + "/" + name;
        if (f.spec.format == "hf") {
            HfWriteOptions o;
            o.dtype = f.spec.dtype;
            o.shards = f.spec.shards;
            writeHfFolder(base, w, o);
            f.path = base;
            f.ref = roundedTo(w, f.spec.dtype);
        } else {
            f.path = base + ".bin";
            writeLlama2c(f.path, w, f.spec.format == "llama2c-v0" ? 0 : 1);
            f.ref = w;
        }
        Rng rng(f.spec.seed + 1000);
        f.ids.push_back(1);
        while (int(f.ids.size()) < kTokens)
            f.ids.push_back(3 + rng.below(f.spec.cfg.vocabSize - 3));
        f.fwd = naiveForward(f.ref, f.ids);
        f.metrics = naiveHeadMetrics(f.ref, f.fwd);
    } catch (const std::exception &e) {
        f.error = std::string("writing the test model failed: ") + e.what();
        return &f;
    }
    try {
        f.model = Model::load(f.path);
    } catch (const std::exception &e) {
        f.error = "Model::load(" + f.path + ") threw: " + e.what();
        return &f;
    }
    try {
        TraceOptions o;
        o.lens.topk = kTopk;
        o.attention = StoreType::F32;
        o.residuals = StoreType::F32;
        o.z = StoreType::F32;
        f.trace = traceTokens(*f.model, f.model->tokensFromIds(f.ids), "", o);
    } catch (const std::exception &e) {
        f.error = std::string("traceTokens threw: ") + e.what();
    }
    return &f;
}

#define FIXTURE(var)                                                                               \
    QFETCH(QString, model);                                                                        \
    Fixture *var = fixture(model.toStdString());                                                   \
    QVERIFY2(var->error.empty(), var->error.c_str())

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        const std::string err_ = (expr);                                                           \
        QVERIFY2(err_.empty(), err_.c_str());                                                      \
    } while (0)

void TestEngine::loadsConfig()
{
    FIXTURE(f);
    const ModelConfig &got = f->model->config();
    const ModelConfig &want = f->ref.config;
    QCOMPARE(got.architecture, std::string("llama"));
    QCOMPARE(got.nLayers, want.nLayers);
    QCOMPARE(got.nHeads, want.nHeads);
    QCOMPARE(got.nKvHeads, want.nKvHeads);
    QCOMPARE(got.dModel, want.dModel);
    QCOMPARE(got.dHead, want.dHead);
    QCOMPARE(got.dFfn, want.dFfn);
    QCOMPARE(got.vocabSize, want.vocabSize);
    QCOMPARE(got.maxSeqLen, want.maxSeqLen);
    QCOMPARE(got.ropeTheta, want.ropeTheta);
    QCOMPARE(got.ropeScaling, want.ropeScaling);
    QCOMPARE(got.normEps, want.normEps);
    QCOMPARE(got.tiedEmbeddings, want.tiedEmbeddings);
    QCOMPARE(got.attnBias, want.attnBias);
    QCOMPARE(got.attnOutBias, want.attnOutBias);
    QCOMPARE(got.mlpBias, want.mlpBias);
    if (f->spec.format == "hf") {
        QCOMPARE(got.bosId, want.bosId);
        QCOMPARE(got.eosId, want.eosId);
        QCOMPARE(f->model->format(), std::string("hf-safetensors"));
    } else {
        QCOMPARE(f->model->format(), f->spec.format);
    }
    QCOMPARE(f->model->computeDtype(), std::string("f32"));
    QVERIFY(!f->model->fingerprint().empty());
    QVERIFY(f->model->weightBytes() > 0);
    QVERIFY(f->model->path().size() > 0 && f->model->path()[0] == '/');
    QCOMPARE(f->trace.config, got);
}

void TestEngine::traceShapes()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const int64_t L = f->fwd.L, T = f->fwd.T, H = f->fwd.H, D = f->fwd.D, dh = f->fwd.dh;
    using S = std::vector<int64_t>;
    QCOMPARE(t.nTokens(), int(T));
    QCOMPARE(t.tokenIds(), f->ids);
    QCOMPARE(t.nPromptTokens, int(T));
    QCOMPARE(t.topk, kTopk);
    QCOMPARE(t.lensNorm, LensNorm::Full);
    QCOMPARE(t.lensDecoder, LensDecoder::Output);
    QCOMPARE(t.modelFingerprint, f->model->fingerprint());
    QCOMPARE(t.modelPath, f->model->path());
    QCOMPARE(t.logitsTopkIds.shape, (S{T, kTopk}));
    QCOMPARE(t.logitsTopkProbs.shape, (S{T, kTopk}));
    QCOMPARE(t.logitsEntropy.shape, (S{T}));
    for (const FloatArray *a :
         {&t.contribNorm, &t.contribCosine, &t.contribProjection, &t.attnEntropy, &t.valueNorm})
        QCOMPARE(a->shape, (S{L, H, T}));
    QCOMPARE(t.attentionStore, StoreType::F32);
    QCOMPARE(t.attentionPattern.shape, (S{L, H, T, T}));
    QCOMPARE(t.residualStore, StoreType::F32);
    for (const auto &r : t.residual)
        QCOMPARE(r.shape, (S{L, T, D}));
    QCOMPARE(t.zStore, StoreType::F32);
    QCOMPARE(t.z.shape, (S{L, T, H, dh}));
    for (Site s : allSites()) {
        QCOMPARE(t.lens[size_t(s)].topkIds.shape, (S{L, T, kTopk}));
        QCOMPARE(t.lens[size_t(s)].entropy.shape, (S{L, T}));
    }
    for (const TokenInfo &tok : t.tokens) {
        QCOMPARE(tok.begin, -1); // ids given, no prompt text
        QCOMPARE(tok.end, -1);
    }
}

// TRACE.md invariant 1: sum_h z_h Wo_h^T (+ bo) == attn_out, with Wo sliced per head.
void TestEngine::headsSumToAttnOut()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const int L = f->fwd.L, T = f->fwd.T, H = f->fwd.H, D = f->fwd.D, dh = f->fwd.dh;
    const int qDim = H * dh;
    std::vector<double> rebuilt(size_t(L) * size_t(T) * size_t(D));
    for (int l = 0; l < L; ++l) {
        const LlamaLayer &ly = f->ref.layers[size_t(l)];
        for (int p = 0; p < T; ++p)
            for (int d = 0; d < D; ++d) {
                double s = ly.bo.empty() ? 0.0 : double(ly.bo[size_t(d)]);
                for (int h = 0; h < H; ++h)
                    for (int j = 0; j < dh; ++j)
                        s += double(ly.wo[size_t(d) * size_t(qDim) + size_t(h * dh + j)]) *
                             double(t.z.at({l, p, h, j}));
                rebuilt[(size_t(l) * size_t(T) + size_t(p)) * size_t(D) + size_t(d)] = s;
            }
    }
    CHECK(compareTensor("attn_out vs sum_h z_h Wo_h^T (+bo)", t.residual[size_t(Site::AttnOut)],
                        rebuilt));
}

// TRACE.md invariant 2 and resid_pre[l+1] == resid_post[l].
void TestEngine::residualStreamAdds()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const int L = f->fwd.L, T = f->fwd.T, D = f->fwd.D;
    const auto &pre = t.residual[size_t(Site::ResidPre)].data;
    const auto &ao = t.residual[size_t(Site::AttnOut)].data;
    const auto &mo = t.residual[size_t(Site::MlpOut)].data;
    const FloatArray &post = t.residual[size_t(Site::ResidPost)];
    std::vector<double> sum(post.size()), sumMid(post.size());
    for (size_t i = 0; i < post.size(); ++i) {
        sum[i] = double(pre[i]) + ao[i] + mo[i];
        sumMid[i] = double(pre[i]) + ao[i];
    }
    CHECK(compareTensor("resid_post vs resid_pre + attn_out + mlp_out", post, sum));
    CHECK(compareTensor("resid_mid vs resid_pre + attn_out", t.residual[size_t(Site::ResidMid)],
                        sumMid));
    for (int l = 0; l + 1 < L; ++l)
        for (int i = 0; i < T * D; ++i) {
            const size_t a = size_t(l + 1) * size_t(T * D) + size_t(i);
            const size_t b = size_t(l) * size_t(T * D) + size_t(i);
            if (pre[a] != post.data[b])
                QFAIL(qPrintable(QString("resid_pre[%1] != resid_post[%2] at flat %3: %4 vs %5")
                                     .arg(l + 1)
                                     .arg(l)
                                     .arg(i)
                                     .arg(double(pre[a]), 0, 'g', 9)
                                     .arg(double(post.data[b]), 0, 'g', 9)));
        }
}

// TRACE.md invariant 3: the lens of resid_post[L-1] (full, output) is the model's prediction.
void TestEngine::finalLensIsLogits()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const int L = f->fwd.L, T = f->fwd.T;
    const LensSite &ls = t.lens[size_t(Site::ResidPost)];
    for (int p = 0; p < T; ++p) {
        for (int r = 0; r < kTopk; ++r) {
            const float lp = ls.topkProbs.at({L - 1, p, r});
            const float mp = t.logitsTopkProbs.at({p, r});
            QVERIFY2(std::abs(lp - mp) <= 1e-6f * std::max(1.0f, mp),
                     qPrintable(QString("pos %1 rank %2: lens p %3, logits p %4")
                                    .arg(p)
                                    .arg(r)
                                    .arg(double(lp), 0, 'g', 9)
                                    .arg(double(mp), 0, 'g', 9)));
            const int32_t li = ls.topkIds.at({L - 1, p, r}), mi = t.logitsTopkIds.at({p, r});
            if (li != mi) {
                // Only a tie may swap two ids.
                const float other = t.logitsTopkProbs.at({p, r});
                QVERIFY2(std::abs(lp - other) <= 1e-6f,
                         qPrintable(QString("pos %1 rank %2: lens id %3, logits id %4")
                                        .arg(p)
                                        .arg(r)
                                        .arg(li)
                                        .arg(mi)));
            }
        }
        const float le = ls.entropy.at({L - 1, p}), me = t.logitsEntropy.at({p});
        QVERIFY2(std::abs(le - me) <= 1e-5f * std::max(1.0f, me),
                 qPrintable(QString("pos %1: lens entropy %2, logits entropy %3")
                                .arg(p)
                                .arg(double(le), 0, 'g', 9)
                                .arg(double(me), 0, 'g', 9)));
    }
    // And both agree with the reference logits.
    for (int p = 0; p < T; ++p) {
        const auto ref = softmaxOf(f->fwd.logitsAt(p), f->fwd.V);
        const size_t off = size_t(p) * kTopk;
        CHECK(checkLensRow("logits pos " + std::to_string(p), t.logitsTopkIds.data.data() + off,
                           t.logitsTopkProbs.data.data() + off, t.logitsEntropy.data[size_t(p)],
                           kTopk, ref));
    }
}

void TestEngine::sitesMatchReference()
{
    FIXTURE(f);
    for (Site s : allSites())
        CHECK(compareTensor(std::string("residual/") + siteName(s), f->trace.residual[size_t(s)],
                            f->fwd.sites[size_t(s)]));
}

void TestEngine::attentionMatchesReference()
{
    FIXTURE(f);
    CHECK(compareTensor("attention/pattern", f->trace.attentionPattern, f->fwd.pattern));
    // Causal: nothing above the diagonal, every row sums to 1.
    const FloatArray &pat = f->trace.attentionPattern;
    const int L = f->fwd.L, H = f->fwd.H, T = f->fwd.T;
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h)
            for (int q = 0; q < T; ++q) {
                double sum = 0;
                for (int k = 0; k < T; ++k) {
                    const float p = pat.at({l, h, q, k});
                    if (k > q) QCOMPARE(p, 0.0f);
                    sum += p;
                }
                QVERIFY2(std::abs(sum - 1.0) < 1e-5,
                         qPrintable(QString("pattern row l%1 h%2 q%3 sums to %4")
                                        .arg(l)
                                        .arg(h)
                                        .arg(q)
                                        .arg(sum, 0, 'g', 9)));
            }
    CHECK(compareTensor("heads/z", f->trace.z, f->fwd.z));
}

void TestEngine::logitsMatchReference()
{
    FIXTURE(f);
    FloatArray logits;
    try {
        logits = f->model->logits(f->ids);
    } catch (const std::exception &e) {
        QFAIL((std::string("Model::logits threw: ") + e.what()).c_str());
    }
    QCOMPARE(logits.shape, (std::vector<int64_t>{f->fwd.T, f->fwd.V}));
    CHECK(compareTensor("Model::logits", logits, f->fwd.logits));
    // Row by row too: an error confined to one position must not hide in the total.
    for (int p = 0; p < f->fwd.T; ++p) {
        const double e = relErr(logits.data.data() + size_t(p) * size_t(f->fwd.V),
                                f->fwd.logitsAt(p), size_t(f->fwd.V));
        QVERIFY2(e <= kTol, qPrintable(QString("logits row %1: rel err %2").arg(p).arg(e)));
    }
}

// A long prompt's attention is made a block of query rows at a time, and the head metrics a
// block of positions at a time. With blocks of one row and one position (the smallest
// budgets), the pattern, the attention entropy and all that follows from z still match the
// reference, through the in-memory trace and through a LayerStream.
void TestEngine::attentionInBlocksOfRows()
{
    FIXTURE(f);
    LoadOptions lo;
    lo.attentionBlockBytes = 1;
    lo.headBlockBytes = 1;
    std::unique_ptr<Model> blocked;
    try {
        blocked = Model::load(f->path, lo);
    } catch (const std::exception &e) {
        QFAIL(e.what());
    }
    struct Rows : LayerStream {
        FloatArray pattern;
        int calls = 0;
        void begin(const Trace &t) override
        {
            pattern.reset({t.config.nLayers, t.config.nHeads, t.nTokens(), t.nTokens()});
        }
        void attention(int layer, int64_t q0, int64_t rows, const float *p) override
        {
            ++calls;
            const int64_t H = pattern.shape[1], T = pattern.shape[2];
            for (int64_t h = 0; h < H; ++h)
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t k = 0; k < T; ++k)
                        pattern.data[size_t(((layer * H + h) * T + q0 + r) * T + k)] =
                            p[(h * rows + r) * T + k];
        }
        void residual(Site, int, const float *) override {}
        void z(int, const float *) override {}
    } rows;
    for (LayerStream *stream :
         {static_cast<LayerStream *>(nullptr), static_cast<LayerStream *>(&rows)}) {
        TraceOptions o;
        o.lens.topk = kTopk;
        o.attention = StoreType::F32;
        o.residuals = StoreType::F32;
        o.stream = stream;
        const Trace t = traceTokens(*blocked, blocked->tokensFromIds(f->ids), "", o);
        const FloatArray &pattern = stream ? rows.pattern : t.attentionPattern;
        CHECK(compareTensor("attention/pattern", pattern, f->fwd.pattern));
        CHECK(compareElements("heads/attn_entropy", t.attnEntropy, f->metrics.attnEntropy));
        const NaiveHeadMetrics &m = f->metrics;
        CHECK(compareElements("heads/contrib_norm", t.contribNorm, m.contribNorm));
        CHECK(compareElements("heads/contrib_projection", t.contribProjection, m.contribProjection,
                              kTol, 0.1));
        CHECK(compareElements("heads/contrib_cosine", t.contribCosine, m.contribCosine, kTol, 1.0));
        // Signed projections near 0: their error scales with the vectors (see below).
        CHECK(compareElements("heads/resid_projection", t.residProjection, m.residProjection, kTol,
                              0.1));
        CHECK(compareElements("heads/contrib_similarity", t.contribSimilarity, m.contribSimilarity,
                              kTol, 1.0));
        CHECK(compareElements("heads/value_norm", t.valueNorm, m.valueNorm));
    }
    QCOMPARE(rows.calls, f->fwd.L * f->fwd.T); // one call per query row and layer
    // A sink that takes whole layers gets each layer gathered from its blocks.
    const int last = f->fwd.L - 1;
    RecordingSink sink;
    sink.wantTap = [last](Tap t, int l) { return t == Tap::Pattern && l == last; };
    blocked->run(f->ids, &sink, LensOptions{kTopk, LensNorm::Full, LensDecoder::Output, nullptr});
    const int H = f->fwd.H, T = f->fwd.T;
    const size_t n = size_t(H) * size_t(T) * size_t(T);
    const std::vector<double> ref(f->fwd.pattern.begin() + ptrdiff_t(last * n),
                                  f->fwd.pattern.begin() + ptrdiff_t((last + 1) * n));
    QVERIFY(sink.tensors.count({int(Tap::Pattern), last}));
    CHECK(compareTensor("last layer gathered from blocks",
                        sink.tensors.at({int(Tap::Pattern), last}), ref));
}

void TestEngine::headMetricsMatchReference()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const NaiveHeadMetrics &m = f->metrics;
    CHECK(compareTensor("heads/contrib_norm", t.contribNorm, m.contribNorm));
    CHECK(compareElements("heads/contrib_norm", t.contribNorm, m.contribNorm));
    CHECK(compareTensor("heads/contrib_projection", t.contribProjection, m.contribProjection));
    CHECK(compareElements("heads/contrib_projection", t.contribProjection, m.contribProjection));
    // Cosines live in [-1, 1]: absolute tolerance.
    CHECK(compareElements("heads/contrib_cosine", t.contribCosine, m.contribCosine, kTol, 1.0));
    CHECK(compareTensor("heads/attn_entropy", t.attnEntropy, m.attnEntropy));
    CHECK(compareElements("heads/attn_entropy", t.attnEntropy, m.attnEntropy));
    CHECK(compareTensor("heads/value_norm", t.valueNorm, m.valueNorm));
    CHECK(compareElements("heads/value_norm", t.valueNorm, m.valueNorm));
    // The weight on the residual, the change of meaning and the heads' mutual similarity.
    CHECK(compareTensor("heads/resid_ratio", t.residRatio, m.residRatio));
    CHECK(compareElements("heads/resid_ratio", t.residRatio, m.residRatio));
    CHECK(compareTensor("heads/resid_projection", t.residProjection, m.residProjection));
    // A signed projection near 0 comes from a float32 dot product of vectors that are not
    // small: its error scales with ||result_h||, not with the projection, hence the floor.
    CHECK(
        compareElements("heads/resid_projection", t.residProjection, m.residProjection, kTol, 0.1));
    CHECK(compareElements("blocks/attn_resid_ratio", t.attnResidRatio, m.attnResidRatio));
    CHECK(compareElements("blocks/mlp_resid_ratio", t.mlpResidRatio, m.mlpResidRatio));
    // 1 - cos and cosines: absolute tolerance (1 - cos is near 0 where a layer barely moves
    // the residual, so a relative check would only measure float32 rounding).
    CHECK(compareElements("blocks/change_cosine", t.changeCosine, m.changeCosine, kTol, 1.0));
    CHECK(compareElements("heads/contrib_similarity", t.contribSimilarity, m.contribSimilarity,
                          kTol, 1.0));
}

void TestEngine::lensMatchesReference()
{
    FIXTURE(f);
    CHECK(checkLensSites(f->trace, f->ref, f->fwd, LensNorm::Full, LensDecoder::Output));
}

// blocks/change_kl: KL(lens(resid_post) || lens(resid_pre)) per layer and position, the
// lens with the full norm and the output decoder (the trace's options).
void TestEngine::changeKlMatchesReference()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const NaiveForward &fw = f->fwd;
    QCOMPARE(t.changeKl.shape, (std::vector<int64_t>{fw.L, fw.T}));
    double worst = 0;
    for (int l = 0; l < fw.L; ++l)
        for (int p = 0; p < fw.T; ++p) {
            const std::vector<double> post = naiveLensProbs(
                f->ref, fw.site(Site::ResidPost, l, p), naiveSiteDepth(Site::ResidPost, l, fw.L),
                LensNorm::Full, LensDecoder::Output);
            const std::vector<double> pre = naiveLensProbs(f->ref, fw.site(Site::ResidPre, l, p),
                                                           naiveSiteDepth(Site::ResidPre, l, fw.L),
                                                           LensNorm::Full, LensDecoder::Output);
            double kl = 0;
            for (size_t v = 0; v < post.size(); ++v)
                if (post[v] > 0) kl += post[v] * (std::log(post[v]) - std::log(pre[v]));
            const double got = t.changeKl.at({l, p});
            // Float32 log-probabilities: a relative error where KL is large, an absolute one
            // of about 1e-7 nats where the two distributions (nearly) agree.
            const double err = std::abs(got - kl) / (1e-3 * kl + 1e-6);
            worst = std::max(worst, err);
            QVERIFY2(err <= 1.0, qPrintable(QString("change_kl [%1, %2]: engine %3, reference %4")
                                                .arg(l)
                                                .arg(p)
                                                .arg(got, 0, 'g', 9)
                                                .arg(kl, 0, 'g', 9)));
        }
    qInfo("change_kl: worst |error| / (1e-3 KL + 1e-6 nats) = %.3g", worst);
}

void TestEngine::lensOptions_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("norm");
    QTest::addColumn<int>("decoder");
    for (const char *m : {"gqa-untied-theta5e5", "llama2c-v0-untied"})
        for (LensNorm n : {LensNorm::Full, LensNorm::Unit, LensNorm::None})
            for (LensDecoder d : {LensDecoder::Output, LensDecoder::Input, LensDecoder::Linear,
                                  LensDecoder::Quadratic})
                QTest::addRow("%s/%s/%s", m, lensNormName(n), lensDecoderName(d))
                    << QString(m) << int(n) << int(d);
}

void TestEngine::lensOptions()
{
    FIXTURE(f);
    QFETCH(int, norm);
    QFETCH(int, decoder);
    TraceOptions o;
    o.lens.topk = kTopk;
    o.lens.norm = LensNorm(norm);
    o.lens.decoder = LensDecoder(decoder);
    o.attention = o.residuals = StoreType::None;
    Trace t;
    try {
        t = traceTokens(*f->model, f->model->tokensFromIds(f->ids), "", o);
    } catch (const std::exception &e) {
        QFAIL((std::string("traceTokens threw: ") + e.what()).c_str());
    }
    QCOMPARE(t.lensNorm, LensNorm(norm));
    QCOMPARE(t.lensDecoder, LensDecoder(decoder));
    QVERIFY(t.attentionPattern.empty());
    QVERIFY(t.residual[0].empty());
    QVERIFY(t.z.empty());
    CHECK(checkLensSites(t, f->ref, f->fwd, LensNorm(norm), LensDecoder(decoder)));
    // The model's own prediction does not depend on the lens options.
    for (int p = 0; p < f->fwd.T; ++p) {
        const size_t off = size_t(p) * kTopk;
        CHECK(checkLensRow("logits pos " + std::to_string(p), t.logitsTopkIds.data.data() + off,
                           t.logitsTopkProbs.data.data() + off, t.logitsEntropy.data[size_t(p)],
                           kTopk, softmaxOf(f->fwd.logitsAt(p), f->fwd.V)));
    }
}

void TestEngine::tiedDecodersCoincide()
{
    Fixture *f = fixture("gqa-tied");
    QVERIFY2(f->error.empty(), f->error.c_str());
    for (LensDecoder d : {LensDecoder::Input, LensDecoder::Linear, LensDecoder::Quadratic}) {
        TraceOptions o;
        o.lens.topk = kTopk;
        o.lens.decoder = d;
        o.attention = o.residuals = StoreType::None;
        Trace t = traceTokens(*f->model, f->model->tokensFromIds(f->ids), "", o);
        for (Site s : allSites()) {
            const LensSite &a = t.lens[size_t(s)], &b = f->trace.lens[size_t(s)];
            QCOMPARE(a.topkIds.data, b.topkIds.data);
            for (size_t i = 0; i < a.topkProbs.size(); ++i)
                QVERIFY(std::abs(a.topkProbs.data[i] - b.topkProbs.data[i]) <= 1e-6f);
        }
    }
}

// Runs ids with attn_out's vector at (layer, pos) edited (its top token subtracted), recording
// that layer's attn_out and head metrics into sink.
void runWithAttnOutEdit(Model &model, const std::vector<int32_t> &ids, int layer, int pos,
                        RecordingSink &sink)
{
    VectorEdit edit;
    edit.kind = VectorEdit::Kind::Subtract;
    edit.site = Site::AttnOut;
    edit.layer = layer;
    edit.pos = pos;
    sink.wantTap = [layer](Tap t, int l) {
        return l == layer && (t == Tap::HeadMetrics || t == Tap::AttnOut);
    };
    model.run(ids, &sink, LensOptions{kTopk, LensNorm::Full, LensDecoder::Output, nullptr}, &edit);
}

// An edit that replaces attn_out's vector at one position: the heads' projections and cosines
// there are taken against the edited vector (the engine sums attn_out from the heads' vectors
// when it computes head metrics, and must then redo that position's dot products).
void TestEngine::headMetricsAfterAnAttnOutEdit()
{
    Fixture *f = fixture("gqa-untied-theta5e5");
    QVERIFY2(f->error.empty(), f->error.c_str());
    const int layer = 1, pos = 2;
    RecordingSink sink;
    runWithAttnOutEdit(*f->model, f->ids, layer, pos, sink);
    const FloatArray &ao = sink.tensors.at({int(Tap::AttnOut), layer}); // [T, D], edited
    const FloatArray &proj = sink.projections.at(layer), &cosine = sink.cosines.at(layer);
    const NaiveForward &fw = f->fwd;
    const double *unedited = fw.site(Site::AttnOut, layer, pos);
    double moved = 0, aoNorm = 0;
    for (int d = 0; d < fw.D; ++d) {
        const double a = ao.at({pos, d});
        moved += std::abs(a - unedited[d]);
        aoNorm += a * a;
    }
    QVERIFY2(moved > 1e-3, "the edit did not change attn_out");
    aoNorm = std::sqrt(aoNorm);
    for (int h = 0; h < fw.H; ++h) {
        const double *r = fw.headResult(layer, h, pos); // z is upstream of the edit
        double dot = 0, rn = 0;
        for (int d = 0; d < fw.D; ++d) {
            dot += r[d] * double(ao.at({pos, d}));
            rn += r[d] * r[d];
        }
        const double wantProj = dot / aoNorm, wantCos = dot / (aoNorm * std::sqrt(rn));
        QVERIFY2(std::abs(proj.at({h, pos}) - wantProj) <= 1e-4 * (std::sqrt(rn) + 1e-6),
                 qPrintable(QString("head %1: projection %2, want %3")
                                .arg(h)
                                .arg(proj.at({h, pos}))
                                .arg(wantProj)));
        QVERIFY2(std::abs(cosine.at({h, pos}) - wantCos) <= 1e-4,
                 qPrintable(QString("head %1: cosine %2, want %3")
                                .arg(h)
                                .arg(cosine.at({h, pos}))
                                .arg(wantCos)));
    }
}

// A bf16 compute takes its head metrics from bf16 products (the heads' vectors and their dot
// products as oneDNN GEMMs) rather than float32 sums: they must still be the reference's to
// bf16's precision, sum to attn_out as a plain bf16 pass makes it, and an edit of attn_out
// must still redo the edited position.
void TestEngine::headMetricsInABf16Compute()
{
    Fixture *f = fixture("gqa-untied-theta5e5");
    QVERIFY2(f->error.empty(), f->error.c_str());
    LoadOptions lo;
    lo.dtype = "bf16";
    QFETCH(int64_t, headBlockBytes);
    lo.headBlockBytes = headBlockBytes;
    const std::unique_ptr<Model> model = Model::load(f->path, lo);
    QCOMPARE(model->computeDtype(), std::string("bf16"));
    TraceOptions o;
    o.lens.topk = kTopk;
    const Trace t = traceTokens(*model, model->tokensFromIds(f->ids), "", o);
    const NaiveHeadMetrics &m = f->metrics;
    // bf16 keeps 8 significant bits: a few parts in a thousand per value, more through the
    // layers' sums; the metrics' wiring (which vector with which) is off by far more.
    const double tol = 4e-2;
    CHECK(compareTensor("bf16 heads/contrib_norm", t.contribNorm, m.contribNorm, tol));
    CHECK(compareElements("bf16 heads/contrib_norm", t.contribNorm, m.contribNorm, tol, 0.1));
    CHECK(compareTensor("bf16 heads/contrib_projection", t.contribProjection, m.contribProjection,
                        tol));
    CHECK(compareElements("bf16 heads/contrib_cosine", t.contribCosine, m.contribCosine, tol, 1.0));
    CHECK(compareTensor("bf16 heads/resid_ratio", t.residRatio, m.residRatio, tol));
    CHECK(compareTensor("bf16 heads/resid_projection", t.residProjection, m.residProjection, tol));
    CHECK(compareElements("bf16 blocks/attn_resid_ratio", t.attnResidRatio, m.attnResidRatio, tol));
    CHECK(compareElements("bf16 heads/contrib_similarity", t.contribSimilarity, m.contribSimilarity,
                          tol, 1.0));
    // An edit of attn_out: the edited position's projections are taken against the new vector.
    const int layer = 1, pos = 2;
    RecordingSink sink;
    runWithAttnOutEdit(*model, f->ids, layer, pos, sink);
    const FloatArray &ao = sink.tensors.at({int(Tap::AttnOut), layer});
    const FloatArray &cosine = sink.cosines.at(layer);
    const NaiveForward &fw = f->fwd;
    double aoNorm = 0;
    for (int d = 0; d < fw.D; ++d)
        aoNorm += double(ao.at({pos, d})) * ao.at({pos, d});
    aoNorm = std::sqrt(aoNorm);
    for (int h = 0; h < fw.H; ++h) {
        const double *r = fw.headResult(layer, h, pos);
        double dot = 0, rn = 0;
        for (int d = 0; d < fw.D; ++d) {
            dot += r[d] * double(ao.at({pos, d}));
            rn += r[d] * r[d];
        }
        const double want = dot / (aoNorm * std::sqrt(rn));
        QVERIFY2(
            std::abs(cosine.at({h, pos}) - want) <= tol,
            qPrintable(
                QString("head %1: cosine %2, want %3").arg(h).arg(cosine.at({h, pos})).arg(want)));
    }
}

void TestEngine::sinkWantsNothing()
{
    Fixture *f = fixture("gqa-untied-theta5e5");
    QVERIFY2(f->error.empty(), f->error.c_str());
    RecordingSink sink;
    f->model->run(f->ids, &sink, LensOptions{kTopk, LensNorm::Full, LensDecoder::Output, nullptr});
    QVERIFY2(sink.calls.empty(), qPrintable("a sink that wants nothing got: " +
                                            QString::fromStdString(sink.callList())));
}

void TestEngine::sinkWantsOnlyPatternOfLayer1()
{
    Fixture *f = fixture("gqa-untied-theta5e5");
    QVERIFY2(f->error.empty(), f->error.c_str());
    RecordingSink sink;
    sink.wantTap = [](Tap t, int l) { return t == Tap::Pattern && l == 1; };
    f->model->run(f->ids, &sink, LensOptions{kTopk, LensNorm::Full, LensDecoder::Output, nullptr});
    const int H = f->fwd.H, T = f->fwd.T;
    const std::string want =
        "tensor " + std::to_string(int(Tap::Pattern)) + " 1 " + shapeString({H, T, T});
    QVERIFY2(sink.calls == std::vector<std::string>{want},
             qPrintable("expected only '" + QString::fromStdString(want) +
                        "', got: " + QString::fromStdString(sink.callList())));
    const FloatArray &p = sink.tensors.at({int(Tap::Pattern), 1});
    const size_t n = size_t(H) * size_t(T) * size_t(T);
    std::vector<double> ref(f->fwd.pattern.begin() + ptrdiff_t(n),
                            f->fwd.pattern.begin() + ptrdiff_t(2 * n));
    CHECK(compareTensor("pattern of layer 1 via the sink", p, ref));
}

void TestEngine::sinkWantsEverything()
{
    Fixture *f = fixture("gqa-untied-theta5e5");
    QVERIFY2(f->error.empty(), f->error.c_str());
    RecordingSink sink;
    sink.wantTap = [](Tap, int) { return true; };
    sink.wantLensFn = [](Site, int) { return true; };
    sink.wantLogits = true;
    f->model->run(f->ids, &sink, LensOptions{kTopk, LensNorm::Full, LensDecoder::Output, nullptr});
    const int L = f->fwd.L, H = f->fwd.H, T = f->fwd.T, D = f->fwd.D, dh = f->fwd.dh;
    std::multiset<std::string> got(sink.calls.begin(), sink.calls.end());
    auto expectOnce = [&](const std::string &c) {
        QVERIFY2(got.count(c) == 1, qPrintable(QString("expected exactly one call '%1'; got: %2")
                                                   .arg(QString::fromStdString(c),
                                                        QString::fromStdString(sink.callList()))));
    };
    for (int l = 0; l < L; ++l) {
        for (Site s : allSites()) {
            expectOnce("tensor " + std::to_string(int(tapForSite(s))) + " " + std::to_string(l) +
                       " " + shapeString({T, D}));
            expectOnce(std::string("lens ") + siteName(s) + " " + std::to_string(l));
            CHECK(compareTensor(
                std::string("sink ") + siteName(s) + " layer " + std::to_string(l),
                sink.tensors.at({int(tapForSite(s)), l}),
                std::vector<double>(f->fwd.site(s, l, 0), f->fwd.site(s, l, 0) + size_t(T * D))));
        }
        expectOnce("tensor " + std::to_string(int(Tap::Pattern)) + " " + std::to_string(l) + " " +
                   shapeString({H, T, T}));
        expectOnce("tensor " + std::to_string(int(Tap::Z)) + " " + std::to_string(l) + " " +
                   shapeString({T, H, dh}));
        expectOnce("heads " + std::to_string(l));
    }
    expectOnce("logits");
    QCOMPARE(sink.calls.size(), size_t(L * (2 * kSiteCount + 3) + 1));
    QVERIFY(!sink.progressCalls.empty());
    QCOMPARE(sink.progressCalls.back(), std::make_pair(L, L));
}

void TestEngine::sinkWantsOnlyLogits()
{
    Fixture *f = fixture("gqa-tied");
    QVERIFY2(f->error.empty(), f->error.c_str());
    RecordingSink sink;
    sink.wantLogits = true;
    f->model->run(f->ids, &sink, LensOptions{3, LensNorm::Unit, LensDecoder::Input, nullptr});
    QVERIFY2(sink.calls == std::vector<std::string>{"logits"},
             qPrintable("expected only 'logits', got: " + QString::fromStdString(sink.callList())));
    QCOMPARE(sink.logitsK, 3);
    QCOMPARE(sink.logitsEntropy.size(), size_t(f->fwd.T));
    for (int p = 0; p < f->fwd.T; ++p)
        CHECK(checkLensRow("sink logits pos " + std::to_string(p),
                           sink.logitsIds.data() + size_t(p) * 3,
                           sink.logitsProbs.data() + size_t(p) * 3, sink.logitsEntropy[size_t(p)],
                           3, softmaxOf(f->fwd.logitsAt(p), f->fwd.V)));
}

void TestEngine::runWithoutSink()
{
    Fixture *f = fixture("mha-untied");
    QVERIFY2(f->error.empty(), f->error.c_str());
    f->model->run(f->ids, nullptr);
}

void TestEngine::cancelAfterLayer0()
{
    Fixture *f = fixture("gqa-untied-theta5e5"); // 3 layers
    QVERIFY2(f->error.empty(), f->error.c_str());
    const FloatArray before = f->model->logits(f->ids);
    RecordingSink sink;
    sink.wantTap = [](Tap t, int) { return t == Tap::ResidPost; };
    sink.cancelFn = [&sink] { return sink.tensors.count({int(Tap::ResidPost), 0}) > 0; };
    bool threw = false;
    try {
        f->model->run(f->ids, &sink);
    } catch (const Cancelled &) {
        threw = true;
    }
    QVERIFY2(threw, "cancelled() returned true after layer 0, but run() did not throw Cancelled");
    QVERIFY2(sink.maxTensorLayer == 0, qPrintable("tensors of later layers were still delivered: " +
                                                  QString::fromStdString(sink.callList())));
    // The model is still usable, and unchanged.
    const FloatArray after = f->model->logits(f->ids);
    QCOMPARE(after.shape, before.shape);
    QCOMPARE(after.data, before.data);
    RecordingSink again;
    again.wantTap = [](Tap t, int) { return t == Tap::ResidPost; };
    f->model->run(f->ids, &again);
    QCOMPARE(again.maxTensorLayer, f->fwd.L - 1);
}

void TestEngine::traceCancelled()
{
    Fixture *f = fixture("gqa-untied-theta5e5");
    QVERIFY2(f->error.empty(), f->error.c_str());
    int asked = 0;
    TraceOptions o;
    o.lens.topk = kTopk;
    o.cancelled = [&asked] { return ++asked >= 2; };
    bool threw = false;
    try {
        traceTokens(*f->model, f->model->tokensFromIds(f->ids), "", o);
    } catch (const Cancelled &) {
        threw = true;
    }
    QVERIFY2(threw, "traceTokens did not throw Cancelled");
    QVERIFY(asked >= 2);
    // Generation is cancellable too.
    bool genThrew = false;
    try {
        f->model->generate(f->ids, 5, false, [] { return true; });
    } catch (const Cancelled &) {
        genThrew = true;
    }
    QVERIFY2(genThrew, "generate() did not throw Cancelled");
    // And a normal trace afterwards equals the first one.
    TraceOptions o2;
    o2.lens.topk = kTopk;
    Trace t = traceTokens(*f->model, f->model->tokensFromIds(f->ids), "", o2);
    QCOMPARE(t.logitsTopkIds.data, f->trace.logitsTopkIds.data);
}

void TestEngine::generateIsGreedy()
{
    FIXTURE(f);
    const int n = 8;
    const std::vector<int32_t> gen = f->model->generate(f->ids, n, false);
    QCOMPARE(int(gen.size()), n);
    // Repeated Model::logits, argmax of the last row.
    std::vector<int32_t> seq = f->ids, viaLogits;
    for (int i = 0; i < n; ++i) {
        const FloatArray lg = f->model->logits(seq);
        const float *last = lg.data.data() + size_t(seq.size() - 1) * size_t(f->fwd.V);
        const int32_t next = int32_t(std::max_element(last, last + f->fwd.V) - last);
        viaLogits.push_back(next);
        seq.push_back(next);
    }
    QCOMPARE(gen, viaLogits);
    // The reference agrees, except where its top two logits tie to 1e-5.
    std::vector<int32_t> refSeq = f->ids;
    for (int i = 0; i < n; ++i) {
        const NaiveForward rf = naiveForward(f->ref, refSeq);
        const double *last = rf.logitsAt(rf.T - 1);
        const int32_t best = argmaxOf(last, rf.V);
        if (best != gen[size_t(i)]) {
            const double gap = last[best] - last[gen[size_t(i)]];
            QVERIFY2(gap < 1e-5 * std::abs(last[best]) + 1e-6,
                     qPrintable(QString("step %1: engine chose %2, reference %3 (logit gap %4)")
                                    .arg(i)
                                    .arg(gen[size_t(i)])
                                    .arg(best)
                                    .arg(gap)));
        }
        refSeq.push_back(gen[size_t(i)]); // follow the engine
    }
}

void TestEngine::generateStopsAtEos()
{
    // A model whose eos_token_id is the third token greedy decoding produces.
    Spec s = spec("eos", 2, 32, 4, 2, 64, 61, 21);
    LlamaWeights w = randomLlama(s.cfg, s.seed);
    const std::vector<int32_t> prompt = {1, 17, 33, 5};
    const std::vector<int32_t> freeRun = naiveGreedy(w, prompt, 12);
    int stopAt = -1;
    for (int i = 1; i < int(freeRun.size()); ++i)
        if (std::find(freeRun.begin(), freeRun.begin() + i, freeRun[size_t(i)]) ==
            freeRun.begin() + i) {
            stopAt = i;
            break;
        }
    if (stopAt < 0) QSKIP("greedy decoding of this random model repeats one token");
    w.config.eosId = freeRun[size_t(stopAt)];
    const std::string dir = m_dir.path().toStdString() + "/eos";
    writeHfFolder(dir, w);
    auto model = Model::load(dir);
    QCOMPARE(model->config().eosId, w.config.eosId);
    const auto stopped = model->generate(prompt, 12, true);
    const std::vector<int32_t> want(freeRun.begin(), freeRun.begin() + stopAt + 1);
    QCOMPARE(stopped, want);
    QCOMPARE(model->generate(prompt, 12, false), freeRun);
}

void TestEngine::traceWithGenerate()
{
    Fixture *f = fixture("mha-untied");
    QVERIFY2(f->error.empty(), f->error.c_str());
    TraceOptions o;
    o.lens.topk = kTopk;
    o.generate = 4;
    o.residuals = StoreType::F32;
    Trace t = traceTokens(*f->model, f->model->tokensFromIds(f->ids), "", o);
    const auto gen = f->model->generate(f->ids, 4, false);
    QCOMPARE(t.nTokens(), kTokens + 4);
    QCOMPARE(t.nPromptTokens, kTokens);
    std::vector<int32_t> all = f->ids;
    all.insert(all.end(), gen.begin(), gen.end());
    QCOMPARE(t.tokenIds(), all);
    for (int i = kTokens; i < t.nTokens(); ++i) {
        QCOMPARE(t.tokens[size_t(i)].begin, -1);
        QCOMPARE(t.tokens[size_t(i)].end, -1);
    }
    // The generated tokens are traced like the prompt.
    const NaiveForward rf = naiveForward(f->ref, all);
    CHECK(compareTensor("resid_post with generated tokens", t.residual[size_t(Site::ResidPost)],
                        rf.sites[size_t(Site::ResidPost)]));
}

void TestEngine::checkIdsErrors()
{
    Fixture *f = fixture("mha-untied");
    QVERIFY2(f->error.empty(), f->error.c_str());
    const Model &m = *f->model;
    const int V = f->fwd.V, S = f->ref.config.maxSeqLen;
    m.checkIds(f->ids);
    m.checkIds({0, V - 1});
    QVERIFY_THROWS_EXCEPTION(InputError, m.checkIds({1, V}));
    QVERIFY_THROWS_EXCEPTION(InputError, m.checkIds({1, 5, -1}));
    QVERIFY_THROWS_EXCEPTION(InputError, m.checkIds({}));
    std::vector<int32_t> full(size_t(S), 5);
    m.checkIds(full);
    QVERIFY_THROWS_EXCEPTION(InputError, m.checkIds(full, 1));
    full.push_back(5);
    QVERIFY_THROWS_EXCEPTION(InputError, m.checkIds(full));
    try {
        m.checkIds({1, 2, V + 3});
    } catch (const InputError &e) {
        QVERIFY2(std::string(e.what()).find(std::to_string(V + 3)) != std::string::npos, e.what());
    }
}

void TestEngine::traceRejectsBadIds()
{
    Fixture *f = fixture("mha-untied");
    QVERIFY2(f->error.empty(), f->error.c_str());
    const int V = f->fwd.V, S = f->ref.config.maxSeqLen;
    TraceOptions o;
    std::vector<TokenInfo> bad = f->model->tokensFromIds(f->ids);
    bad[3].id = V;
    QVERIFY_THROWS_EXCEPTION(InputError, traceTokens(*f->model, bad, "", o));
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->logits({1, V + 10}));
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->run({1, -4}, nullptr));
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->generate(std::vector<int32_t>(size_t(S), 5), 1));
    o.generate = 2;
    QVERIFY_THROWS_EXCEPTION(
        InputError,
        traceTokens(*f->model, f->model->tokensFromIds(std::vector<int32_t>(size_t(S - 1), 5)), "",
                    o));
}

void TestEngine::loadRejectsMissingPath()
{
    const std::string missing = m_dir.path().toStdString() + "/no-such-model";
    try {
        Model::load(missing);
        QFAIL("Model::load of a missing path did not throw");
    } catch (const InputError &e) {
        QVERIFY2(std::string(e.what()).find("no-such-model") != std::string::npos, e.what());
    }
}

QTEST_GUILESS_MAIN(TestEngine)
#include "tst_engine.moc"
