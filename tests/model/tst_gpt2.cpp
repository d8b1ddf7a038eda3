// The engine on GPT-2 against an independent reference: random GPT2LMHeadModel checkpoints of
// several shapes (F32/F16/BF16, with and without the "transformer." prefix, sharded, with the
// causal-mask buffers and a tied lm_head of old exports, gelu_new and erf GELU) are written by
// tests/common, loaded with Model::load, traced, and compared with the double-precision loops
// of naivegpt2.cpp and with TRACE.md's invariants. When Hugging Face transformers is importable
// (HEADLENS_PYHF or /tmp/pyhf on PYTHONPATH), its GPT2LMHeadModel checks the reference too.

#include "compare.h"
#include "naivegpt2.h"
#include "testgpt2.h"

#include "headlens/model/model.h"
#include "headlens/trace/error.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>

using namespace HeadLens;
using namespace HeadLens::Test;

namespace {

constexpr double kTol = kRefTol; // relative, engine (f32) against reference (f64)
constexpr int kTopk = 5;
constexpr int kTokens = 7;

struct Spec {
    std::string name;
    ModelConfig cfg;
    Gpt2WriteOptions write;
    uint64_t seed = 1;
};

Spec spec(const std::string &name, int L, int D, int H, int F, int V, int P, uint64_t seed)
{
    Spec s;
    s.name = name;
    s.cfg = gpt2Config(L, D, H, F, V, P);
    s.seed = seed;
    return s;
}

std::vector<Spec> allSpecs()
{
    std::vector<Spec> v;
    v.push_back(spec("f32-prefix", 2, 32, 4, 128, 61, 32, 1));
    {
        Spec s = spec("f32-no-prefix-n_inner", 3, 48, 3, 96, 97, 24, 2);
        s.write.prefix = false;
        v.push_back(s);
    }
    {
        Spec s = spec("f16-prefix", 2, 64, 4, 256, 83, 32, 3);
        s.write.dtype = "F16";
        v.push_back(s);
    }
    {
        Spec s = spec("bf16-no-prefix", 2, 40, 2, 160, 71, 32, 4);
        s.write.dtype = "BF16";
        s.write.prefix = false;
        v.push_back(s);
    }
    {
        Spec s = spec("gelu-erf-eps1e-3", 2, 32, 2, 64, 67, 32, 5);
        s.cfg.activation = "gelu";
        s.cfg.normEps = 1e-3;
        v.push_back(s);
    }
    {
        Spec s = spec("sharded-buffers-lm_head", 3, 32, 4, 128, 89, 48, 6);
        s.write.shards = 3;
        s.write.maskBuffers = true;
        s.write.lmHead = true;
        v.push_back(s);
    }
    return v;
}

struct Fixture {
    Spec spec;
    std::string path;
    Gpt2Weights ref; // what the files hold (rounded to their dtype)
    std::vector<int32_t> ids;
    NaiveForward fwd;
    NaiveHeadMetrics metrics;
    std::unique_ptr<Model> model;
    Trace trace;
    std::string error; // why the model could not be written, loaded or traced
};

// Python with torch and transformers for the cross-check, or an empty program with the reason.
struct PyHf {
    QString program;
    QStringList pythonPath;
    QString whyNot;
};

PyHf findTransformers()
{
    PyHf p;
    p.program = QStringLiteral(HEADLENS_SYSTEM_PYTHON);
    if (p.program.isEmpty()) p.program = QStringLiteral("/usr/bin/python3");
    const QString extra = qEnvironmentVariable("HEADLENS_PYHF", QStringLiteral("/tmp/pyhf"));
    if (QDir(extra).exists()) p.pythonPath << extra;
    QProcess proc;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (!p.pythonPath.isEmpty()) env.insert("PYTHONPATH", p.pythonPath.join(':'));
    proc.setProcessEnvironment(env);
    proc.start(p.program, {"-c", "import torch, transformers; print(transformers.__version__)"});
    if (!proc.waitForFinished(60000) || proc.exitStatus() != QProcess::NormalExit ||
        proc.exitCode() != 0) {
        p.whyNot = "no python with torch and transformers (" + p.program +
                   ", PYTHONPATH=" + p.pythonPath.join(':') + "): " +
                   QString::fromLocal8Bit(proc.readAllStandardError()).trimmed().section('\n', -1);
        p.program.clear();
    }
    return p;
}

// GPT2LMHeadModel.from_pretrained(dir) in float64 over ids: logits [T, V] then the hidden
// states entering each layer [L, T, D], as little-endian doubles.
const char *const kHfScript = R"(
import sys, torch
from transformers import GPT2LMHeadModel
folder, ids, out = sys.argv[1], sys.argv[2], sys.argv[3]
m = GPT2LMHeadModel.from_pretrained(folder, torch_dtype=torch.float32).double().eval()
ids = torch.tensor([[int(x) for x in ids.split(',')]])
with torch.no_grad():
    r = m(ids, output_hidden_states=True)
L = m.config.n_layer
hidden = torch.stack(r.hidden_states[:L])[:, 0]
with open(out, 'wb') as f:
    f.write(r.logits[0].contiguous().numpy().astype('<f8').tobytes())
    f.write(hidden.contiguous().numpy().astype('<f8').tobytes())
)";

} // namespace

class TestGpt2 : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::vector<Spec> m_specs = allSpecs();
    std::map<std::string, std::unique_ptr<Fixture>> m_fixtures;

    Fixture *fixture(const std::string &name);
    void addModelRows();

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
    void headMetricsMatchReference_data() { addModelRows(); }
    void headMetricsMatchReference();
    void lensMatchesReference_data() { addModelRows(); }
    void lensMatchesReference();
    void lensOptions_data();
    void lensOptions();
    void decomposeStartsWithLensTop1_data() { addModelRows(); }
    void decomposeStartsWithLensTop1();
    void generateIsGreedy_data() { addModelRows(); }
    void generateIsGreedy();
    void traceWithGenerate();
    void positionsLimitContext();
    void transformersAgree_data() { addModelRows(); }
    void transformersAgree();
};

void TestGpt2::initTestCase()
{
    QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
    setEngineThreads(2);
}

void TestGpt2::addModelRows()
{
    QTest::addColumn<QString>("model");
    for (const Spec &s : m_specs)
        QTest::newRow(s.name.c_str()) << QString::fromStdString(s.name);
}

Fixture *TestGpt2::fixture(const std::string &name)
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
        const Gpt2Weights w = randomGpt2(f.spec.cfg, f.spec.seed);
        f.path = m_dir.path().toStdString() + "/" + name;
        writeGpt2Folder(f.path, w, f.spec.write);
        f.ref = roundedTo(w, f.spec.write.dtype);
        Rng rng(f.spec.seed + 1000);
        f.ids.push_back(f.spec.cfg.bosId);
        while (int(f.ids.size()) < kTokens)
            f.ids.push_back(rng.below(f.spec.cfg.vocabSize - 1));
        f.fwd = naiveGpt2Forward(f.ref, f.ids);
        f.metrics = naiveGpt2HeadMetrics(f.ref, f.fwd);
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

void TestGpt2::loadsConfig()
{
    FIXTURE(f);
    const ModelConfig &got = f->model->config();
    QCOMPARE(got.architecture, std::string("gpt2"));
    QCOMPARE(got, f->ref.config);
    QCOMPARE(f->model->format(), std::string("hf-safetensors"));
    QCOMPARE(f->model->computeDtype(), std::string("f32"));
    QVERIFY(!f->model->fingerprint().empty());
    QVERIFY(f->model->weightBytes() > 0);
    QCOMPARE(f->trace.config, got);
}

void TestGpt2::traceShapes()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const int64_t L = f->fwd.L, T = f->fwd.T, H = f->fwd.H, D = f->fwd.D, dh = f->fwd.dh;
    using S = std::vector<int64_t>;
    QCOMPARE(t.tokenIds(), f->ids);
    QCOMPARE(t.logitsTopkIds.shape, (S{T, kTopk}));
    for (const FloatArray *a :
         {&t.contribNorm, &t.contribCosine, &t.contribProjection, &t.attnEntropy, &t.valueNorm})
        QCOMPARE(a->shape, (S{L, H, T}));
    QCOMPARE(t.attentionPattern.shape, (S{L, H, T, T}));
    for (const auto &r : t.residual)
        QCOMPARE(r.shape, (S{L, T, D}));
    QCOMPARE(t.z.shape, (S{L, T, H, dh}));
    for (Site s : allSites())
        QCOMPARE(t.lens[size_t(s)].topkIds.shape, (S{L, T, kTopk}));
}

// TRACE.md invariant 1 for Conv1D: attn_out = sum_h z_h W[h*dh:(h+1)*dh, :] + c_proj.b, with
// the [in, out] weight sliced by rows per head.
void TestGpt2::headsSumToAttnOut()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const int L = f->fwd.L, T = f->fwd.T, H = f->fwd.H, D = f->fwd.D, dh = f->fwd.dh;
    std::vector<double> rebuilt(size_t(L) * size_t(T) * size_t(D));
    for (int l = 0; l < L; ++l) {
        const Gpt2Layer &ly = f->ref.layers[size_t(l)];
        for (int p = 0; p < T; ++p)
            for (int d = 0; d < D; ++d) {
                double s = double(ly.attnProjB[size_t(d)]);
                for (int h = 0; h < H; ++h)
                    for (int j = 0; j < dh; ++j)
                        s += double(ly.attnProjW[size_t(h * dh + j) * size_t(D) + size_t(d)]) *
                             double(t.z.at({l, p, h, j}));
                rebuilt[(size_t(l) * size_t(T) + size_t(p)) * size_t(D) + size_t(d)] = s;
            }
    }
    CHECK(compareTensor("attn_out vs sum_h z_h W_proj[h rows] + b_proj",
                        t.residual[size_t(Site::AttnOut)], rebuilt));
}

// TRACE.md invariant 2 and resid_pre[l+1] == resid_post[l].
void TestGpt2::residualStreamAdds()
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
    // resid_pre[0] = wte[ids] + wpe[pos]: the learned positions are in.
    std::vector<double> embed(size_t(T) * size_t(D));
    for (int p = 0; p < T; ++p)
        for (int d = 0; d < D; ++d)
            embed[size_t(p * D + d)] =
                double(f->ref.wte[size_t(f->ids[size_t(p)]) * size_t(D) + size_t(d)]) +
                double(f->ref.wpe[size_t(p) * size_t(D) + size_t(d)]);
    FloatArray pre0({T, D});
    std::copy_n(pre.begin(), size_t(T * D), pre0.data.begin());
    CHECK(compareTensor("resid_pre[0] vs wte[ids] + wpe[pos]", pre0, embed));
}

// TRACE.md invariant 3: the lens of resid_post[L-1] (ln_f, tied decoder) is the prediction.
void TestGpt2::finalLensIsLogits()
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
            QVERIFY2(li == mi || std::abs(lp - mp) <= 1e-6f,
                     qPrintable(QString("pos %1 rank %2: lens id %3, logits id %4")
                                    .arg(p)
                                    .arg(r)
                                    .arg(li)
                                    .arg(mi)));
        }
        const float le = ls.entropy.at({L - 1, p}), me = t.logitsEntropy.at({p});
        QVERIFY2(std::abs(le - me) <= 1e-5f * std::max(1.0f, me),
                 qPrintable(QString("pos %1: lens entropy %2, logits entropy %3")
                                .arg(p)
                                .arg(double(le), 0, 'g', 9)
                                .arg(double(me), 0, 'g', 9)));
    }
    CHECK(checkLogitsTopk(t, f->fwd));
}

void TestGpt2::sitesMatchReference()
{
    FIXTURE(f);
    for (Site s : allSites())
        CHECK(compareTensor(std::string("residual/") + siteName(s), f->trace.residual[size_t(s)],
                            f->fwd.sites[size_t(s)]));
}

void TestGpt2::attentionMatchesReference()
{
    FIXTURE(f);
    CHECK(compareTensor("attention/pattern", f->trace.attentionPattern, f->fwd.pattern));
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

void TestGpt2::logitsMatchReference()
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
    for (int p = 0; p < f->fwd.T; ++p) {
        const double e = relErr(logits.data.data() + size_t(p) * size_t(f->fwd.V),
                                f->fwd.logitsAt(p), size_t(f->fwd.V));
        QVERIFY2(e <= kTol, qPrintable(QString("logits row %1: rel err %2").arg(p).arg(e)));
    }
}

void TestGpt2::headMetricsMatchReference()
{
    FIXTURE(f);
    const Trace &t = f->trace;
    const NaiveHeadMetrics &m = f->metrics;
    CHECK(compareTensor("heads/contrib_norm", t.contribNorm, m.contribNorm));
    CHECK(compareElements("heads/contrib_norm", t.contribNorm, m.contribNorm));
    CHECK(compareTensor("heads/contrib_projection", t.contribProjection, m.contribProjection));
    CHECK(compareElements("heads/contrib_projection", t.contribProjection, m.contribProjection));
    CHECK(compareElements("heads/contrib_cosine", t.contribCosine, m.contribCosine, kTol, 1.0));
    CHECK(compareTensor("heads/attn_entropy", t.attnEntropy, m.attnEntropy));
    CHECK(compareElements("heads/attn_entropy", t.attnEntropy, m.attnEntropy));
    CHECK(compareTensor("heads/value_norm", t.valueNorm, m.valueNorm));
    CHECK(compareElements("heads/value_norm", t.valueNorm, m.valueNorm));
}

void TestGpt2::lensMatchesReference()
{
    FIXTURE(f);
    CHECK(checkLensSites(f->trace, f->ref, f->fwd, LensNorm::Full, LensDecoder::Output));
}

void TestGpt2::lensOptions_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("norm");
    QTest::addColumn<int>("decoder");
    for (const char *m : {"f32-prefix", "bf16-no-prefix", "gelu-erf-eps1e-3"})
        for (LensNorm n : {LensNorm::Full, LensNorm::Unit, LensNorm::None})
            for (LensDecoder d : {LensDecoder::Output, LensDecoder::Input, LensDecoder::Linear,
                                  LensDecoder::Quadratic})
                QTest::addRow("%s/%s/%s", m, lensNormName(n), lensDecoderName(d))
                    << QString(m) << int(n) << int(d);
}

void TestGpt2::lensOptions()
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
    CHECK(checkLensSites(t, f->ref, f->fwd, LensNorm(norm), LensDecoder(decoder)));
    // The model's own prediction does not depend on the lens options.
    CHECK(checkLogitsTopk(t, f->fwd));
}

// Iterative decoding starts from N(v) with GPT-2's LayerNorm: its first step is the lens top-1.
void TestGpt2::decomposeStartsWithLensTop1()
{
    FIXTURE(f);
    const int L = f->fwd.L, T = f->fwd.T;
    const std::vector<std::tuple<Site, int, int>> places = {
        {Site::ResidPost, L - 1, T - 1}, {Site::ResidMid, 0, 2}, {Site::AttnOut, L - 1, 4}};
    for (LensNorm n : {LensNorm::Full, LensNorm::Unit, LensNorm::None})
        for (const auto &[site, layer, pos] : places) {
            std::vector<DecodeStep> steps;
            try {
                steps = f->model->decompose(f->ids, site, layer, pos,
                                            LensOptions{kTopk, n, LensDecoder::Output, nullptr}, 3);
            } catch (const std::exception &e) {
                QFAIL((std::string("decompose threw: ") + e.what()).c_str());
            }
            const auto ref =
                naiveGpt2LensProbs(f->ref, f->fwd.site(site, layer, pos),
                                   naiveSiteDepth(site, layer, L), n, LensDecoder::Output);
            const int32_t best = topkIndices(ref, 1)[0];
            const QString where = QString("%1 layer %2 pos %3 norm %4")
                                      .arg(siteName(site))
                                      .arg(layer)
                                      .arg(pos)
                                      .arg(lensNormName(n));
            QVERIFY2(!steps.empty(), qPrintable(where + ": no steps"));
            QVERIFY2(
                steps[0].id == best || closeProb(ref[size_t(steps[0].id)], ref[size_t(best)]),
                qPrintable(
                    where +
                    QString(": first step %1, reference top-1 %2").arg(steps[0].id).arg(best)));
            QVERIFY2(closeProb(steps[0].prob, ref[size_t(best)]),
                     qPrintable(where + QString(": first step p %1, reference %2")
                                            .arg(double(steps[0].prob), 0, 'g', 9)
                                            .arg(ref[size_t(best)], 0, 'g', 9)));
        }
}

void TestGpt2::generateIsGreedy()
{
    FIXTURE(f);
    const int n = 8;
    std::vector<int32_t> gen;
    try {
        gen = f->model->generate(f->ids, n, false);
    } catch (const std::exception &e) {
        QFAIL((std::string("generate threw: ") + e.what()).c_str());
    }
    QCOMPARE(int(gen.size()), n);
    // The reference agrees, except where its top two logits tie to 1e-5.
    std::vector<int32_t> refSeq = f->ids;
    for (int i = 0; i < n; ++i) {
        const NaiveForward rf = naiveGpt2Forward(f->ref, refSeq);
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

// Generated tokens sit at later positions: wpe must follow them.
void TestGpt2::traceWithGenerate()
{
    Fixture *f = fixture("f32-no-prefix-n_inner");
    QVERIFY2(f->error.empty(), f->error.c_str());
    TraceOptions o;
    o.lens.topk = kTopk;
    o.generate = 5;
    o.residuals = StoreType::F32;
    Trace t;
    try {
        t = traceTokens(*f->model, f->model->tokensFromIds(f->ids), "", o);
    } catch (const std::exception &e) {
        QFAIL((std::string("traceTokens threw: ") + e.what()).c_str());
    }
    QCOMPARE(t.nTokens(), kTokens + 5);
    const std::vector<int32_t> all = t.tokenIds();
    QVERIFY(std::equal(f->ids.begin(), f->ids.end(), all.begin()));
    const NaiveForward rf = naiveGpt2Forward(f->ref, all);
    for (Site s : allSites())
        CHECK(compareTensor(std::string("with generated tokens: residual/") + siteName(s),
                            t.residual[size_t(s)], rf.sites[size_t(s)]));
    CHECK(checkLogitsTopk(t, rf));
}

// GPT-2 has n_positions learned positions and no more.
void TestGpt2::positionsLimitContext()
{
    Fixture *f = fixture("f32-no-prefix-n_inner"); // n_positions 24
    QVERIFY2(f->error.empty(), f->error.c_str());
    const int S = f->ref.config.maxSeqLen;
    QCOMPARE(f->model->config().maxSeqLen, S);
    std::vector<int32_t> full(size_t(S), 5);
    f->model->checkIds(full);
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->checkIds(full, 1));
    full.push_back(5);
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->checkIds(full));
    QVERIFY_THROWS_EXCEPTION(InputError, f->model->logits(full));
    // The last position is usable, and right.
    full.pop_back();
    for (size_t i = 0; i < full.size(); ++i)
        full[i] = int32_t((i * 7 + 3) % size_t(f->ref.config.vocabSize));
    FloatArray lg;
    try {
        lg = f->model->logits(full);
    } catch (const std::exception &e) {
        QFAIL((std::string("Model::logits threw: ") + e.what()).c_str());
    }
    CHECK(compareTensor("logits over all n_positions", lg, naiveGpt2Forward(f->ref, full).logits));
}

// Hugging Face's GPT2LMHeadModel, in float64, on the very same folder: checks the reference
// (to 1e-9) and the engine (to 1e-5). Skipped when transformers cannot be imported.
void TestGpt2::transformersAgree()
{
    QFETCH(QString, model);
    static const PyHf py = findTransformers();
    if (py.program.isEmpty()) QSKIP(qPrintable(py.whyNot));
    Fixture *f = fixture(model.toStdString());
    if (f->path.empty() || f->fwd.T == 0) QFAIL(f->error.c_str());

    const QString script = m_dir.path() + "/hf_gpt2.py";
    if (!QFile::exists(script)) writeTextFile(script.toStdString(), kHfScript);
    QStringList ids;
    for (int32_t id : f->ids)
        ids << QString::number(id);
    const QString out = m_dir.path() + "/hf_" + model + ".f64";
    QProcess proc;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (!py.pythonPath.isEmpty()) env.insert("PYTHONPATH", py.pythonPath.join(':'));
    env.insert("TRANSFORMERS_OFFLINE", "1");
    env.insert("HF_HUB_OFFLINE", "1");
    proc.setProcessEnvironment(env);
    proc.start(py.program, {script, QString::fromStdString(f->path), ids.join(','), out});
    QVERIFY2(proc.waitForFinished(120000), "transformers did not finish in 120 s");
    QVERIFY2(
        proc.exitStatus() == QProcess::NormalExit && proc.exitCode() == 0,
        qPrintable("transformers failed: " + QString::fromLocal8Bit(proc.readAllStandardError())));

    const std::vector<uint8_t> bytes = readFileBytes(out.toStdString());
    const size_t nLogits = size_t(f->fwd.T) * size_t(f->fwd.V);
    const size_t nHidden = size_t(f->fwd.L) * size_t(f->fwd.T) * size_t(f->fwd.D);
    QCOMPARE(bytes.size(), (nLogits + nHidden) * 8);
    std::vector<double> hfLogits(nLogits), hfHidden(nHidden);
    std::memcpy(hfLogits.data(), bytes.data(), nLogits * 8);
    std::memcpy(hfHidden.data(), bytes.data() + nLogits * 8, nHidden * 8);

    // The reference against transformers, in double precision.
    auto relErrD = [](const std::vector<double> &a, const std::vector<double> &b) {
        double num = 0, den = 0;
        for (size_t i = 0; i < a.size(); ++i) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return std::sqrt(num / den);
    };
    const double eLogits = relErrD(f->fwd.logits, hfLogits);
    QVERIFY2(eLogits < 1e-9,
             qPrintable(QString("reference logits vs transformers: rel err %1").arg(eLogits)));
    const double eHidden = relErrD(f->fwd.sites[size_t(Site::ResidPre)], hfHidden);
    QVERIFY2(eHidden < 1e-9, qPrintable(QString("reference resid_pre vs transformers hidden "
                                                "states: rel err %1")
                                            .arg(eHidden)));

    // And the engine against transformers.
    QVERIFY2(f->error.empty(), f->error.c_str());
    CHECK(compareTensor("engine logits vs transformers", f->model->logits(f->ids), hfLogits));
}

QTEST_GUILESS_MAIN(TestGpt2)
#include "tst_gpt2.moc"
