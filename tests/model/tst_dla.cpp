// Direct logit attribution against an independent float64 reference (naivedla.cpp): random
// Llama models (RMSNorm; tied, untied, biases, GQA, bf16 weights) and GPT-2 models (LayerNorm,
// whose final bias is the rest term), at trace time and through Model::attribute for a chosen
// token and a difference of two; the sum check on them and on the real stories260K; an edited
// trace, whose edit is the rest; and the refusals.

#include "compare.h"
#include "naivedla.h"
#include "naivegpt2.h"
#include "testgpt2.h"
#include "testmodel.h"

#include "headlens/analysis/dla.h"
#include "headlens/model/model.h"
#include "headlens/trace/error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>
#include <memory>

using namespace HeadLens;
using namespace HeadLens::Test;

namespace {

constexpr int kTokens = 9;
// The parts of a logit cancel each other, so each is checked against the reference scaled by
// the largest part at its position (a part near 0 carries the rounding of the others).
constexpr double kTol = 2e-5;

struct Fixture {
    std::string error;
    std::unique_ptr<Model> model;
    std::vector<int32_t> ids;
    NaiveForward fwd;
    std::vector<float> g, b, unembed;
    NaiveFinalNorm norm;
    Trace trace;
    std::string path; // the model folder
};

std::string compareParts(const std::string &what, const FloatArray &got,
                         const std::vector<double> &want, int T, const std::vector<double> &scale)
{
    if (got.size() != want.size())
        return what + ": " + std::to_string(got.size()) + " values, reference " +
               std::to_string(want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        const double s = scale[i % size_t(T)];
        if (!(std::abs(got.data[i] - want[i]) <= kTol * s))
            return what + "[" + std::to_string(i) + "]: engine " + fmt(got.data[i]) +
                   ", reference " + fmt(want[i]) + " (scale " + fmt(s) + ")";
    }
    return {};
}

// Per position, the largest magnitude among the parts and the logit of the reference.
std::vector<double> partScale(const NaiveDla &r, int T)
{
    std::vector<double> s(size_t(T), 0);
    auto take = [&](const std::vector<double> &v) {
        for (size_t i = 0; i < v.size(); ++i)
            s[i % size_t(T)] = std::max(s[i % size_t(T)], std::abs(v[i]));
    };
    for (const auto *v : {&r.heads, &r.blocks, &r.embed, &r.rest, &r.logit})
        take(*v);
    return s;
}

std::string compareDla(const LogitAttribution &a, const NaiveDla &r, int T)
{
    const std::vector<double> s = partScale(r, T);
    for (auto [what, got, want] : {std::tuple{"heads/dla", &a.heads, &r.heads},
                                   {"blocks/dla", &a.blocks, &r.blocks},
                                   {"blocks/dla_embed", &a.embed, &r.embed},
                                   {"blocks/dla_rest", &a.rest, &r.rest},
                                   {"blocks/dla_logit", &a.logit, &r.logit}})
        if (std::string e = compareParts(what, *got, *want, T, s); !e.empty()) return e;
    return {};
}

} // namespace

class TestDla : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::map<std::string, std::unique_ptr<Fixture>> m_fixtures;
    double m_worstRel = 0; // over every model: the sum check's largest relative error

    Fixture *fixture(const std::string &name);

private Q_SLOTS:
    void initTestCase() { setEngineThreads(2); }
    void cleanupTestCase();

    void traceMatchesReference_data();
    void traceMatchesReference();
    void sumCheck_data() { traceMatchesReference_data(); }
    void sumCheck();
    void chosenTokenAndDifference_data() { traceMatchesReference_data(); }
    void chosenTokenAndDifference();
    void editIsTheRest();
    void stories260kSumCheck();
    void bf16Compute();
    void refusesTokensOutsideTheVocabulary();
};

Fixture *TestDla::fixture(const std::string &name)
{
    if (auto it = m_fixtures.find(name); it != m_fixtures.end()) return it->second.get();
    auto fx = std::make_unique<Fixture>();
    Fixture &f = *fx;
    m_fixtures[name] = std::move(fx);
    const std::string path = m_dir.path().toStdString() + "/" + name;
    try {
        if (name.rfind("gpt2", 0) == 0) {
            const Gpt2Weights w0 = randomGpt2(gpt2Config(2, 48, 4, 96, 83, 32), 21);
            Gpt2WriteOptions o;
            writeGpt2Folder(path, w0, o);
            const Gpt2Weights w = roundedTo(w0, o.dtype);
            Rng rng(77);
            f.ids.push_back(w.config.bosId);
            while (int(f.ids.size()) < kTokens)
                f.ids.push_back(rng.below(w.config.vocabSize - 1));
            f.fwd = naiveGpt2Forward(w, f.ids);
            f.g = w.lnFW;
            f.b = w.lnFB;
            f.unembed = w.wte;
            f.norm.layerNorm = true;
            f.norm.eps = w.config.normEps;
        } else {
            ModelConfig c = llamaConfig(3, 48, 4, 2, 96, 97, 64);
            std::string dtype = "F32";
            if (name == "llama-tied") c.tiedEmbeddings = true;
            if (name == "llama-biases") c.attnBias = c.attnOutBias = c.mlpBias = true;
            if (name == "llama-bf16") dtype = "BF16";
            const LlamaWeights w0 = randomLlama(c, 5 + name.size());
            HfWriteOptions o;
            o.dtype = dtype;
            writeHfFolder(path, w0, o);
            const LlamaWeights w = roundedTo(w0, dtype);
            Rng rng(99);
            f.ids.push_back(1);
            while (int(f.ids.size()) < kTokens)
                f.ids.push_back(3 + rng.below(c.vocabSize - 3));
            f.fwd = naiveForward(w, f.ids);
            f.g = w.finalNorm;
            f.unembed = w.unembed();
            f.norm.eps = c.normEps;
        }
        f.norm.g = &f.g;
        f.norm.b = f.b.empty() ? nullptr : &f.b;
        f.norm.unembed = &f.unembed;
        f.path = path;
        f.model = Model::load(path);
        TraceOptions o;
        o.lens.topk = 3;
        f.trace = traceTokens(*f.model, f.model->tokensFromIds(f.ids), "", o);
    } catch (const std::exception &e) {
        f.error = name + ": " + e.what();
    }
    return &f;
}

void TestDla::cleanupTestCase()
{
    qInfo("largest relative sum-check error over the random models: %.3g", m_worstRel);
}

void TestDla::traceMatchesReference_data()
{
    QTest::addColumn<QString>("model");
    for (const char *n : {"llama", "llama-tied", "llama-biases", "llama-bf16", "gpt2"})
        QTest::newRow(n) << QString(n);
}

#define FIXTURE(var)                                                                               \
    QFETCH(QString, model);                                                                        \
    Fixture *var = fixture(model.toStdString());                                                   \
    QVERIFY2(var->error.empty(), var->error.c_str())

void TestDla::traceMatchesReference()
{
    FIXTURE(f);
    const LogitAttribution &a = f->trace.dla;
    QVERIFY(!a.empty());
    const int T = kTokens, L = f->fwd.L, H = f->fwd.H;
    QCOMPARE(a.heads.shape, (std::vector<int64_t>{L, H, T}));
    QCOMPARE(a.blocks.shape, (std::vector<int64_t>{L, 2, T}));
    QVERIFY(a.minusIds.empty());
    // The token attributed is the model's own top-1 at each position, as the reference has it.
    std::vector<int32_t> top(static_cast<size_t>(T), 0);
    for (int t = 0; t < T; ++t) {
        top[size_t(t)] = argmaxOf(f->fwd.logitsAt(t), f->fwd.V);
        QCOMPARE(a.tokenIds.data[size_t(t)], top[size_t(t)]);
        QCOMPARE(a.tokenIds.data[size_t(t)], f->trace.logitsTopkIds.data[size_t(t) * 3]);
    }
    const std::string e = compareDla(a, naiveDla(f->fwd, f->norm, top), T);
    QVERIFY2(e.empty(), e.c_str());
    // RMSNorm has no bias: nothing is left outside the parts. LayerNorm's bias is.
    for (int t = 0; t < T; ++t)
        if (f->b.empty())
            QCOMPARE(a.rest.data[size_t(t)], 0.0f);
        else
            QVERIFY(a.rest.data[size_t(t)] != 0.0f);
}

void TestDla::sumCheck()
{
    FIXTURE(f);
    const LogitAttribution &a = f->trace.dla;
    const DlaSumCheck c = dlaSumCheck(a);
    QCOMPARE(int(c.error.size()), kTokens);
    qInfo("%s: sum check max |error| %.3g, max relative %.3g (position %d)",
          qPrintable(QTest::currentDataTag()), c.maxAbsError, c.maxRelError, c.worstPos);
    QVERIFY2(c.maxRelError < 1e-6, qPrintable(QString::number(c.maxRelError)));
    m_worstRel = std::max(m_worstRel, c.maxRelError);
    // The check is a real one: a part changed by a little more than its error shows.
    LogitAttribution bad = a;
    bad.blocks.data[1] += float(1e-3 * c.scale[1]);
    QVERIFY(dlaSumCheck(bad).maxRelError > 1e-4);
    // Each layer's heads (and its o_proj bias, in the block) make its attention block.
    const int64_t L = a.heads.dim(0), H = a.heads.dim(1), T = a.heads.dim(2);
    const std::vector<double> s = partScale(
        naiveDla(
            f->fwd, f->norm,
            [&] { return std::vector<int32_t>(a.tokenIds.data.begin(), a.tokenIds.data.end()); }()),
        int(T));
    if (model == "llama-biases" || model == "gpt2") return; // o_proj's bias is in the block too
    for (int64_t l = 0; l < L; ++l)
        for (int64_t t = 0; t < T; ++t) {
            double sum = 0;
            for (int64_t h = 0; h < H; ++h)
                sum += a.heads.data[size_t((l * H + h) * T + t)];
            const double block = a.blocks.data[size_t((l * 2) * T + t)];
            QVERIFY2(std::abs(sum - block) <= 1e-5 * s[size_t(t)],
                     qPrintable(QString("layer %1 pos %2: heads %3, block %4")
                                    .arg(l)
                                    .arg(t)
                                    .arg(sum)
                                    .arg(block)));
        }
}

// A bf16 compute attributes with bf16 products (u W_o through oneDNN, W_o never widened
// whole): its parts are the f32 trace's to bf16's precision (measured: 0.4% of the position's
// largest part, sum check 0.09%), and they still add up.
void TestDla::bf16Compute()
{
    Fixture *f = fixture("llama-bf16");
    QVERIFY2(f->error.empty(), f->error.c_str());
    LoadOptions lo;
    lo.dtype = "bf16";
    const std::unique_ptr<Model> model = Model::load(f->path, lo);
    TraceOptions o;
    o.lens.topk = 3;
    const Trace t = traceTokens(*model, model->tokensFromIds(f->ids), "", o);
    const LogitAttribution &a = t.dla, &ref = f->trace.dla;
    QCOMPARE(a.heads.shape, ref.heads.shape);
    const std::vector<double> s =
        partScale(naiveDla(f->fwd, f->norm,
                           std::vector<int32_t>(a.tokenIds.data.begin(), a.tokenIds.data.end())),
                  kTokens);
    const int64_t L = a.heads.dim(0), H = a.heads.dim(1), T = a.heads.dim(2);
    int compared = 0;
    double worst = 0;
    for (int64_t t = 0; t < T; ++t) {
        // Where bf16 picked another top-1 the parts are of another token's logit.
        if (a.tokenIds.data[size_t(t)] != ref.tokenIds.data[size_t(t)]) continue;
        ++compared;
        for (int64_t l = 0; l < L; ++l)
            for (int64_t h = 0; h < H; ++h) {
                const size_t i = size_t((l * H + h) * T + t);
                const double err = std::abs(a.heads.data[i] - ref.heads.data[i]) / s[size_t(t)];
                worst = std::max(worst, err);
                QVERIFY2(err <= 1.5e-2,
                         qPrintable(QString("layer %1 head %2 pos %3: bf16 %4, f32 %5")
                                        .arg(l)
                                        .arg(h)
                                        .arg(t)
                                        .arg(a.heads.data[i])
                                        .arg(ref.heads.data[i])));
            }
    }
    QVERIFY2(compared >= T / 2, "bf16 changed most top-1 tokens");
    const DlaSumCheck c = dlaSumCheck(a);
    qInfo("bf16 against f32: worst head part %.3g of the position's largest part; sum check "
          "relative error %.3g",
          worst, c.maxRelError);
    QVERIFY2(c.maxRelError < 5e-3, qPrintable(QString::number(c.maxRelError)));
}

void TestDla::chosenTokenAndDifference()
{
    FIXTURE(f);
    const int V = f->fwd.V;
    const int32_t A = 5 % V, B = 11 % V;
    const std::vector<int32_t> as(kTokens, A), bs(kTokens, B);
    const LogitAttribution one = f->model->attribute(f->ids, A);
    QVERIFY(one.minusIds.empty());
    QCOMPARE(one.tokenIds.data, as);
    std::string e = compareDla(one, naiveDla(f->fwd, f->norm, as), kTokens);
    QVERIFY2(e.empty(), e.c_str());
    const LogitAttribution diff = f->model->attribute(f->ids, A, B);
    QCOMPARE(diff.minusIds.data, bs);
    const NaiveDla ref = naiveDla(f->fwd, f->norm, as, bs);
    e = compareDla(diff, ref, kTokens);
    QVERIFY2(e.empty(), e.c_str());
    QVERIFY(dlaSumCheck(diff).maxRelError < 1e-6);
    // Without a token, attribute is the trace's own attribution (to rounding: the trace sums
    // attn_out from the heads' vectors, a plain pass multiplies z by W_o at once).
    const LogitAttribution top = f->model->attribute(f->ids);
    QCOMPARE(top.tokenIds.data, f->trace.dla.tokenIds.data);
    for (size_t i = 0; i < top.heads.size(); ++i)
        QVERIFY(std::abs(top.heads.data[i] - f->trace.dla.heads.data[i]) < 1e-5);
}

void TestDla::editIsTheRest()
{
    Fixture *f = fixture("llama");
    QVERIFY2(f->error.empty(), f->error.c_str());
    // An injected token at resid_mid of layer 1: the stream there is no block's output, and its
    // change goes to the rest, so the parts still add up to the edited model's logit.
    VectorEdit edit;
    edit.kind = EditKind::Inject;
    edit.site = Site::ResidMid;
    edit.layer = 1;
    edit.pos = kTokens - 1;
    edit.injectId = 7;
    Trace parent = f->trace;
    parent.name = "p";
    TraceOptions o;
    o.lens.topk = 3;
    const Trace child = propagate(*f->model, parent, edit, 0, o);
    const LogitAttribution &a = child.dla;
    QVERIFY(!a.empty());
    const DlaSumCheck c = dlaSumCheck(a);
    QVERIFY2(c.maxRelError < 1e-6, qPrintable(QString::number(c.maxRelError)));
    QVERIFY(std::abs(a.rest.data[size_t(kTokens - 1)]) > 1e-3);
    for (int t = 0; t + 1 < kTokens; ++t)
        QCOMPARE(a.rest.data[size_t(t)], 0.0f);
}

void TestDla::stories260kSumCheck()
{
    const std::string dir = std::string(HEADLENS_SHARED_DIR) + "/models/stories260K";
    if (!QFileInfo::exists(QString::fromStdString(dir + "/stories260K.bin")))
        QSKIP("shared/models/stories260K is absent");
    LoadOptions lo;
    lo.tokenizerPath = dir + "/tok512.bin";
    auto model = Model::load(dir + "/stories260K.bin", lo);
    const std::vector<TokenInfo> tokens = model->tokenize("Once upon a time, there was a little");
    TraceOptions o;
    o.generate = 24;
    o.attention = StoreType::None;
    o.residuals = StoreType::None;
    const Trace t = traceTokens(*model, tokens, "Once upon a time, there was a little", o);
    const DlaSumCheck c = dlaSumCheck(t.dla);
    qInfo("stories260K, %d tokens: sum check max |error| %.3g, max relative %.3g", t.nTokens(),
          c.maxAbsError, c.maxRelError);
    QVERIFY2(c.maxRelError < 1e-6, qPrintable(QString::number(c.maxRelError)));
}

void TestDla::refusesTokensOutsideTheVocabulary()
{
    Fixture *f = fixture("llama");
    QVERIFY2(f->error.empty(), f->error.c_str());
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->attribute(f->ids, 97));
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->attribute(f->ids, 3, 1000));
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->attribute({}, 3));
}

QTEST_GUILESS_MAIN(TestDla)
#include "tst_dla.moc"
