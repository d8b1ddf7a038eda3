// The tuned lens (headlens/model/tunedlens.h) against the float64 reference of tests/common:
// the identity lens is the logit lens bit for bit, a trace decoded with a random lens and the
// KL of lensKl match naiveTunedLensProbs, fitting lowers the held-out KL where the logit lens
// is not already exact, and the lens file reads back (and is refused for another model).

#include "compare.h"
#include "naivellama.h"
#include "testmodel.h"

#include "headlens/model/model.h"
#include "headlens/model/tunedlens.h"
#include "headlens/trace/error.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace HeadLens;
using namespace HeadLens::Test;

namespace {

struct Fixture {
    LlamaWeights w;
    std::unique_ptr<Model> model;
};

Fixture makeModel(const QTemporaryDir &dir, const std::string &name, int L, int D, int V,
                  uint64_t seed)
{
    Fixture f;
    f.w = randomLlama(llamaConfig(L, D, 4, 2, 2 * D, V, 64), seed);
    const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
    writeHfFolder(path, f.w);
    f.model = Model::load(path);
    return f;
}

std::vector<std::vector<int32_t>> randomPrompts(uint64_t seed, int n, int len, int V)
{
    Rng rng(seed);
    std::vector<std::vector<int32_t>> out(static_cast<size_t>(n));
    for (auto &p : out) {
        p.push_back(1);
        for (int i = 1; i < len; ++i)
            p.push_back(rng.below(V));
    }
    return out;
}

// A lens far from the identity: W = I + noise, b random.
TunedLens randomLens(const ModelConfig &cfg, uint64_t seed)
{
    TunedLens t = TunedLens::identity(cfg);
    Rng rng(seed);
    for (auto &w : t.weight)
        for (float &x : w)
            x += float(0.3 * rng.normal());
    for (auto &b : t.bias)
        for (float &x : b)
            x = float(0.5 * rng.normal());
    return t;
}

Trace traceWith(Model &m, const std::vector<int32_t> &ids, LensDecoder dec,
                std::shared_ptr<const TunedLens> lens)
{
    TraceOptions o;
    o.lens.topk = 5;
    o.lens.decoder = dec;
    o.lens.tuned = std::move(lens);
    return traceTokens(m, m.tokensFromIds(ids), "", o);
}

} // namespace

class TestTunedLens : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void identityIsTheLogitLens();
    void tracedLensMatchesReference();
    void klMatchesReference();
    void fittingLowersHeldOutKl();
    void fileRoundTripAndRefusal();
    void editsReadThroughTheTranslator();
};

void TestTunedLens::identityIsTheLogitLens()
{
    QTemporaryDir dir;
    Fixture f = makeModel(dir, "m", 3, 32, 53, 11);
    const auto prompts = randomPrompts(5, 3, 9, 53);
    FitLensOptions o;
    o.steps = 0; // no training: the identity it starts from
    auto lens = std::make_shared<TunedLens>(fitTunedLens(*f.model, prompts, o));
    QCOMPARE(lens->trainTokens, int64_t(27));
    const Trace a = traceWith(*f.model, prompts[0], LensDecoder::Output, nullptr);
    const Trace b = traceWith(*f.model, prompts[0], LensDecoder::Tuned, lens);
    for (Site s : allSites()) {
        QVERIFY(!a.lens[size_t(s)].empty());
        QCOMPARE(b.lens[size_t(s)].topkIds.data, a.lens[size_t(s)].topkIds.data);
        QCOMPARE(b.lens[size_t(s)].topkProbs.data, a.lens[size_t(s)].topkProbs.data);
        QCOMPARE(b.lens[size_t(s)].entropy.data, a.lens[size_t(s)].entropy.data);
    }
    QCOMPARE(b.changeKl.data, a.changeKl.data);
    QCOMPARE(b.lensDecoder, LensDecoder::Tuned);
    // And the KL of the two lenses is the same number.
    const LensKl kl = lensKl(*f.model, prompts, lens.get());
    for (size_t i = 0; i < kl.logit.size(); ++i)
        QCOMPARE(kl.tuned[i], kl.logit[i]);
}

void TestTunedLens::tracedLensMatchesReference()
{
    QTemporaryDir dir;
    Fixture f = makeModel(dir, "m", 3, 32, 61, 12);
    const int L = 3;
    auto lens = std::make_shared<TunedLens>(randomLens(f.w.config, 99));
    const std::vector<int32_t> ids = randomPrompts(6, 1, 8, 61)[0];
    const Trace t = traceWith(*f.model, ids, LensDecoder::Tuned, lens);
    const NaiveForward ref = naiveForward(f.w, ids);
    const int64_t K = t.topk;
    int checked = 0;
    for (Site s : allSites())
        for (int l = 0; l < L; ++l)
            for (int p = 0; p < ref.T; ++p) {
                const int i = TunedLens::translatorOf(s, l, L);
                const double *v = ref.site(s, l, p);
                const std::vector<double> probs =
                    i < 0 ? naiveLensProbs(f.w, v, 1.0, LensNorm::Full, LensDecoder::Output)
                          : naiveTunedLensProbs(f.w, v, lens->weight[size_t(i)],
                                                lens->bias[size_t(i)], TunedLens::linearOnly(s));
                const LensSite &ls = t.lens[size_t(s)];
                const size_t off = (size_t(l) * size_t(ref.T) + size_t(p)) * size_t(K);
                const std::string err = checkLensRow(
                    std::string("tuned lens ") + siteName(s) + " layer " + std::to_string(l) +
                        " pos " + std::to_string(p),
                    ls.topkIds.data.data() + off, ls.topkProbs.data.data() + off,
                    ls.entropy.data[size_t(l) * size_t(ref.T) + size_t(p)], int(K), probs);
                QVERIFY2(err.empty(), err.c_str());
                ++checked;
            }
    QCOMPARE(checked, kSiteCount * L * ref.T);
    // The random translators changed what the lens says (else the check above proves little).
    const Trace plain = traceWith(*f.model, ids, LensDecoder::Output, nullptr);
    QVERIFY(plain.lens[size_t(Site::ResidMid)].topkProbs.data !=
            t.lens[size_t(Site::ResidMid)].topkProbs.data);
    // The output needs no translator: resid_post of the last layer is the logit lens there.
    const size_t last = size_t(L - 1) * size_t(ref.T) * size_t(K);
    QVERIFY(std::equal(plain.lens[size_t(Site::ResidPost)].topkIds.data.begin() + long(last),
                       plain.lens[size_t(Site::ResidPost)].topkIds.data.end(),
                       t.lens[size_t(Site::ResidPost)].topkIds.data.begin() + long(last)));
}

void TestTunedLens::klMatchesReference()
{
    QTemporaryDir dir;
    Fixture f = makeModel(dir, "m", 2, 32, 47, 13);
    const int L = 2;
    const TunedLens lens = randomLens(f.w.config, 7);
    const auto prompts = randomPrompts(8, 2, 6, 47);
    const LensKl kl = lensKl(*f.model, prompts, &lens);
    QCOMPARE(kl.positions, int64_t(12));
    QCOMPARE(int(kl.logit.size()), 2 * L + 1);
    std::vector<double> logit(size_t(2 * L + 1)), tuned(size_t(2 * L + 1));
    for (const auto &ids : prompts) {
        const NaiveForward ref = naiveForward(f.w, ids);
        for (int p = 0; p < ref.T; ++p) {
            const std::vector<double> final = softmaxOf(ref.logitsAt(p), ref.V);
            for (int i = 0; i <= 2 * L; ++i) {
                const auto [site, layer] = LensKl::place(i, L);
                const double *v = ref.site(site, layer, p);
                logit[size_t(i)] +=
                    klNats(final, naiveLensProbs(f.w, v, 1.0, LensNorm::Full, LensDecoder::Output));
                tuned[size_t(i)] +=
                    klNats(final, i < 2 * L ? naiveTunedLensProbs(f.w, v, lens.weight[size_t(i)],
                                                                  lens.bias[size_t(i)], false)
                                            : naiveLensProbs(f.w, v, 1.0, LensNorm::Full,
                                                             LensDecoder::Output));
            }
        }
    }
    for (int i = 0; i <= 2 * L; ++i) {
        const double rl = logit[size_t(i)] / 12, rt = tuned[size_t(i)] / 12;
        const QString where = QString("place %1: engine %2 %3, reference %4 %5")
                                  .arg(i)
                                  .arg(kl.logit[size_t(i)])
                                  .arg(kl.tuned[size_t(i)])
                                  .arg(rl)
                                  .arg(rt);
        QVERIFY2(std::abs(kl.logit[size_t(i)] - rl) <= 1e-5 + 1e-4 * rl, qPrintable(where));
        QVERIFY2(std::abs(kl.tuned[size_t(i)] - rt) <= 1e-5 + 1e-4 * rt, qPrintable(where));
        if (i < 2 * L) QVERIFY2(rl > 1e-3 && rt > 1e-3, qPrintable(where)); // not trivially 0
    }
    QVERIFY(kl.logit[size_t(2 * L)] < 1e-6); // the output is the model's own distribution
}

void TestTunedLens::fittingLowersHeldOutKl()
{
    QTemporaryDir dir;
    Fixture f = makeModel(dir, "m", 3, 32, 53, 14);
    const auto train = randomPrompts(21, 40, 16, 53);
    const auto heldOut = randomPrompts(22, 10, 16, 53);
    FitLensOptions o;
    o.seed = 3;
    o.steps = 300;
    o.learningRate = 3e-3;
    int reports = 0, lastTranslator = 0;
    o.progress = [&](const FitLensProgress &p) {
        QVERIFY(p.step > 0 && p.step <= p.steps && p.loss >= 0);
        // One translator after another, each to its last step.
        QCOMPARE(p.translators, 2 * 3);
        QVERIFY(p.translator == lastTranslator || p.translator == lastTranslator + 1);
        lastTranslator = p.translator;
        ++reports;
    };
    const TunedLens lens = fitTunedLens(*f.model, train, o);
    QCOMPARE(lastTranslator, 2 * 3);
    QVERIFY(reports >= 6 * 10);
    const LensKl kl = lensKl(*f.model, heldOut, &lens);
    for (size_t i = 0; i + 1 < kl.logit.size(); ++i)
        QVERIFY2(
            kl.tuned[i] < 0.8 * kl.logit[i],
            qPrintable(
                QString("place %1: tuned %2, logit %3").arg(i).arg(kl.tuned[i]).arg(kl.logit[i])));
    QCOMPARE(kl.tuned.back(), kl.logit.back());
    // The same seed gives the same lens.
    o.progress = {};
    const TunedLens again = fitTunedLens(*f.model, train, o);
    QCOMPARE(again.weight, lens.weight);
    QCOMPARE(again.bias, lens.bias);
    // Gathering one translator's vectors per pass over the prompts (a small memory budget)
    // trains the same lens as gathering them all in one.
    o.gatherBudgetBytes = 1;
    std::vector<std::string> stages;
    o.preparing = [&](const std::string &stage, int, int) {
        if (stages.empty() || stages.back() != stage) stages.push_back(stage);
    };
    const TunedLens grouped = fitTunedLens(*f.model, train, o);
    QCOMPARE(int(stages.size()), 2 * 3);
    QCOMPARE(grouped.weight, lens.weight);
    QCOMPARE(grouped.bias, lens.bias);
}

void TestTunedLens::fileRoundTripAndRefusal()
{
    QTemporaryDir dir;
    Fixture f = makeModel(dir, "small", 2, 32, 47, 15);
    TunedLens lens = randomLens(f.w.config, 5);
    lens.modelName = f.model->name();
    lens.seed = 9;
    lens.steps = 12;
    lens.trainTokens = 345;
    const std::string path = dir.filePath("lens.safetensors").toStdString();
    saveTunedLens(path, lens);
    const auto back = loadTunedLens(path);
    QCOMPARE(back->weight, lens.weight);
    QCOMPARE(back->bias, lens.bias);
    QCOMPARE(back->modelName, lens.modelName);
    QCOMPARE(back->nLayers, 2);
    QCOMPARE(back->seed, uint64_t(9));
    QCOMPARE(back->steps, 12);
    QCOMPARE(back->trainTokens, int64_t(345));
    QFile file(QString::fromStdString(path));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromStdString(back->sha256),
             QString::fromLatin1(
                 QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex()));
    back->checkFits(f.model->config(), f.model->name());

    // Another model's shape: refused, naming both.
    Fixture other = makeModel(dir, "wider", 2, 48, 47, 16);
    try {
        back->checkFits(other.model->config(), other.model->name());
        QFAIL("a lens of another shape was accepted");
    } catch (const InputError &e) {
        const std::string msg = e.what();
        QVERIFY2(msg.find("small") != std::string::npos && msg.find("wider") != std::string::npos &&
                     msg.find("d_model 32") != std::string::npos &&
                     msg.find("d_model 48") != std::string::npos,
                 msg.c_str());
    }
    TraceOptions o;
    o.lens.decoder = LensDecoder::Tuned;
    o.lens.tuned = back;
    QVERIFY_EXCEPTION_THROWN(traceTokens(*other.model, other.model->tokensFromIds({1, 2}), "", o),
                             InputError);
    // A safetensors file that is not a lens (a model's weights) is refused by name.
    try {
        loadTunedLens(dir.filePath("small/model.safetensors").toStdString());
        QFAIL("a model's weights were read as a lens");
    } catch (const InputError &e) {
        QVERIFY2(std::string(e.what()).find("not a HeadLens tuned lens") != std::string::npos,
                 e.what());
    }
}

namespace {

// Site vector (site, layer, pos) of a trace of ids with edit applied, its residuals in float32.
std::vector<double> editedVector(Model &m, const std::vector<int32_t> &ids, const VectorEdit &edit,
                                 LensDecoder dec, std::shared_ptr<const TunedLens> lens)
{
    TraceOptions o;
    o.lens.topk = 5;
    o.lens.decoder = dec;
    o.lens.tuned = std::move(lens);
    o.residuals = StoreType::F32;
    o.attention = StoreType::None;
    o.edit = &edit;
    const Trace t = traceTokens(m, m.tokensFromIds(ids), "", o);
    const FloatArray &r = t.residual[size_t(edit.site)];
    std::vector<double> v(size_t(r.shape[2]));
    for (int64_t d = 0; d < r.shape[2]; ++d)
        v[size_t(d)] = r.at({edit.layer, edit.pos, d});
    return v;
}

// W^T r for W [D, D] row-major.
std::vector<double> transposedTimes(const std::vector<float> &W, const std::vector<double> &r)
{
    const size_t D = r.size();
    std::vector<double> out(D, 0.0);
    for (size_t i = 0; i < D; ++i)
        for (size_t j = 0; j < D; ++j)
            out[j] += double(W[i * D + j]) * r[i];
    return out;
}

double dotOf(const std::vector<double> &a, const std::vector<double> &b)
{
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i)
        s += a[i] * b[i];
    return s;
}

} // namespace

// Subtract and inject through the tuned lens (TRACE.md "Propagate and inject"). The lens reads
// token x's logit from a site vector v as <r_x, W v + b> = <W^T r_x, v> + <r_x, b> before the
// norm's 1/rms (r_x: x's unembedding row, times the final norm's weight g for the full norm).
// Subtract removes the top token's logit by the smallest change to v: v - (<u, v> + <r, b>) u /
// |u|^2 with u = W^T r. Inject moves v's share along the top token's direction to the injected
// token's: v + <v, c> (e - c), c and e the unit W^T-images of their unembedding rows. Checked
// in float64 against the reference forward's unedited vector; the identity lens gives the
// logit lens's edits exactly.
void TestTunedLens::editsReadThroughTheTranslator()
{
    QTemporaryDir dir;
    const int L = 3, D = 32, V = 61;
    Fixture f = makeModel(dir, "m", L, D, V, 21);
    auto lens = std::make_shared<TunedLens>(randomLens(f.w.config, 7));
    const std::vector<int32_t> ids = randomPrompts(8, 1, 8, V)[0];
    const NaiveForward ref = naiveForward(f.w, ids);
    VectorEdit edit;
    edit.site = Site::ResidMid;
    edit.layer = 1;
    edit.pos = 5;
    const int i = TunedLens::translatorOf(edit.site, edit.layer, L);
    QVERIFY(i >= 0);
    const std::vector<float> &W = lens->weight[size_t(i)], &b = lens->bias[size_t(i)];
    const std::vector<double> v(ref.site(edit.site, edit.layer, edit.pos),
                                ref.site(edit.site, edit.layer, edit.pos) + D);
    const std::vector<double> probs = naiveTunedLensProbs(f.w, v.data(), W, b, false);
    const int top = int(std::max_element(probs.begin(), probs.end()) - probs.begin());
    const std::vector<float> &U = f.w.unembed();
    const auto row = [&](int id, bool scaled) {
        std::vector<double> r(static_cast<size_t>(D));
        for (int d = 0; d < D; ++d)
            r[size_t(d)] =
                double(U[size_t(id) * D + d]) * (scaled ? f.w.finalNorm[size_t(d)] : 1.0);
        return r;
    };
    const auto close = [&](const std::vector<double> &got, const std::vector<double> &want,
                           const char *what) {
        double err = 0, scale = 0, moved = 0;
        for (int d = 0; d < D; ++d) {
            err = std::max(err, std::abs(got[size_t(d)] - want[size_t(d)]));
            scale = std::max(scale, std::abs(want[size_t(d)]));
            moved = std::max(moved, std::abs(got[size_t(d)] - v[size_t(d)]));
        }
        QVERIFY2(moved > 1e-2 * scale, qPrintable(QString("%1: v did not move").arg(what)));
        QVERIFY2(err <= 1e-4 * scale,
                 qPrintable(QString("%1: off by %2 of %3").arg(what).arg(err).arg(scale)));
    };

    // Subtract: the top token's translated logit goes to 0.
    edit.kind = VectorEdit::Kind::Subtract;
    const std::vector<double> r = row(top, true);
    const std::vector<double> u = transposedTimes(W, r);
    double offset = 0;
    for (int d = 0; d < D; ++d)
        offset += r[size_t(d)] * double(b[size_t(d)]);
    const double k = (dotOf(u, v) + offset) / dotOf(u, u);
    std::vector<double> want(v);
    for (int d = 0; d < D; ++d)
        want[size_t(d)] -= k * u[size_t(d)];
    const std::vector<double> subtracted =
        editedVector(*f.model, ids, edit, LensDecoder::Tuned, lens);
    close(subtracted, want, "subtract");
    QVERIFY(std::abs(dotOf(u, subtracted) + offset) <= 1e-4 * std::abs(dotOf(u, v) + offset));

    // Inject another token.
    edit.kind = VectorEdit::Kind::Inject;
    edit.injectId = (top + 7) % V;
    const auto unit = [&](std::vector<double> x) {
        const double n = std::sqrt(dotOf(x, x));
        for (double &e : x)
            e /= n;
        return x;
    };
    const std::vector<double> c = unit(transposedTimes(W, row(top, false)));
    const std::vector<double> e = unit(transposedTimes(W, row(edit.injectId, false)));
    const double share = dotOf(v, c);
    for (int d = 0; d < D; ++d)
        want[size_t(d)] = v[size_t(d)] + share * (e[size_t(d)] - c[size_t(d)]);
    close(editedVector(*f.model, ids, edit, LensDecoder::Tuned, lens), want, "inject");

    // The identity translator: the logit lens's edits.
    auto identity = std::make_shared<TunedLens>(TunedLens::identity(f.w.config));
    for (VectorEdit::Kind kind : {VectorEdit::Kind::Subtract, VectorEdit::Kind::Inject}) {
        edit.kind = kind;
        const std::vector<double> a =
            editedVector(*f.model, ids, edit, LensDecoder::Tuned, identity);
        const std::vector<double> o =
            editedVector(*f.model, ids, edit, LensDecoder::Output, nullptr);
        for (int d = 0; d < D; ++d)
            QVERIFY(std::abs(a[size_t(d)] - o[size_t(d)]) <= 1e-6 * (1 + std::abs(o[size_t(d)])));
    }
}

QTEST_GUILESS_MAIN(TestTunedLens)
#include "tst_tunedlens.moc"
