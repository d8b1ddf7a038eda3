// fit-lens, lens-kl and the tuned decoder of headlens-cli as a user runs them, on random
// checkpoints: the lens file is written with its hash, held-out KL falls at every place but the
// output, trace --lens-decoder tuned records the file's path and SHA-256 in the project, and a
// lens of another model's shape is refused with exit status 3 naming both models.

#include "testmodel.h"

#include "headlens/project/project.h"

#include "clirun.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace HeadLens;
using namespace CliTest;
using json = nlohmann::json;

namespace {

void writePrompts(const QString &path, uint64_t seed, int n, int len, int V)
{
    Test::Rng rng(seed);
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    for (int i = 0; i < n; ++i) {
        json ids = json::array({1});
        for (int t = 1; t < len; ++t)
            ids.push_back(rng.below(V));
        f.write(QByteArray::fromStdString(json{{"token_ids", ids}}.dump()) + "\n");
    }
}

QString sha256Of(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QString::fromLatin1(
        QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex());
}

} // namespace

class TestCliLens : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void fitTraceAndRefuse();
};

void TestCliLens::fitTraceAndRefuse()
{
    QTemporaryDir dir;
    const QString model = dir.filePath("small"), wider = dir.filePath("wider");
    Test::writeHfFolder(model.toStdString(),
                        Test::randomLlama(Test::llamaConfig(3, 32, 4, 2, 64, 53, 64), 31));
    Test::writeHfFolder(wider.toStdString(),
                        Test::randomLlama(Test::llamaConfig(3, 48, 4, 2, 64, 53, 64), 32));
    const QString train = dir.filePath("train.jsonl"), held = dir.filePath("held.jsonl");
    writePrompts(train, 1, 40, 16, 53);
    writePrompts(held, 2, 10, 16, 53);
    const QString lens = dir.filePath("lens.safetensors");

    Run r = cli({"fit-lens", model, "--prompts", train, "-o", lens, "--held-out", held, "--steps",
                 "300", "--learning-rate", "0.003", "--seed", "3", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.err.contains("step    300/300"), qPrintable(r.describe())); // progress on stderr
    const json j = r.parsed();
    QVERIFY2(j.is_object(), qPrintable(r.describe()));
    QCOMPARE(QString::fromStdString(j.at("sha256").get<std::string>()), sha256Of(lens));
    QCOMPARE(j.at("train_tokens").get<int>(), 40 * 16);
    const json places = j.at("held_out").at("places");
    QCOMPARE(int(places.size()), 2 * 3 + 1);
    for (size_t i = 0; i + 1 < places.size(); ++i)
        QVERIFY2(places[i].at("tuned_kl").get<double>() < places[i].at("logit_kl").get<double>(),
                 places[i].dump().c_str());
    QCOMPARE(places.back().at("site").get<std::string>(), std::string("resid_post"));

    // lens-kl measures the same numbers again.
    r = cli({"lens-kl", model, "--prompts", held, "--lens", lens, "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const json again = r.parsed().at("places");
    for (size_t i = 0; i < places.size(); ++i)
        QCOMPARE(again[i].at("tuned_kl").get<double>(), places[i].at("tuned_kl").get<double>());

    // trace with the tuned decoder: the project records the lens file and its hash.
    const QString project = dir.filePath("p.hlproj");
    r = cli({"trace", model, "--token-ids", "1,5,9,13", "-o", project, "--lens-decoder", "tuned",
             "--lens", lens});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const Trace t = ProjectReader(project.toStdString()).readTrace("trace-1");
    QCOMPARE(t.lensDecoder, LensDecoder::Tuned);
    QCOMPARE(QString::fromStdString(t.tunedLensSha256), sha256Of(lens));
    QCOMPARE(QFileInfo(QString::fromStdString(t.tunedLensPath)).canonicalFilePath(),
             QFileInfo(lens).canonicalFilePath());

    // decompose reads the trace's own lens: its first step is the block's tuned top-1.
    r = cli({"decompose", model, project, "--trace", "trace-1", "--site", "resid_mid", "--layer",
             "1", "--pos", "2", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const LensSite mid = ProjectReader(project.toStdString()).readLens("trace-1", Site::ResidMid);
    QCOMPARE(mid.topkIds.shape.size(), size_t(3));
    const int64_t K = mid.topkIds.shape[2];
    const json steps = r.parsed().at("steps");
    QCOMPARE(steps.at(0).at("id").get<int>(), mid.topkIds.data[size_t((1 * 4 + 2) * K)]);
    // A lens file changed since: refused, naming both hashes.
    const QString recorded = QString::fromStdString(t.tunedLensSha256);
    r = cli({"fit-lens", model, "--prompts", train, "-o", lens, "--steps", "5"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    r = cli({"decompose", model, project, "--trace", "trace-1", "--site", "resid_mid", "--layer",
             "1", "--pos", "2"});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains("has changed") && r.err.contains(recorded.toUtf8()) &&
                 r.err.contains(sha256Of(lens).toUtf8()),
             qPrintable(r.describe()));

    // The tuned decoder without a lens, and a lens without it: usage errors.
    r = cli({"trace", model, "--token-ids", "1,5", "-o", project, "--lens-decoder", "tuned"});
    QCOMPARE(r.code, 2);
    r = cli({"trace", model, "--token-ids", "1,5", "-o", project, "--lens", lens});
    QCOMPARE(r.code, 2);
    // A lens of another model's shape: exit 3, naming both.
    r = cli({"trace", wider, "--token-ids", "1,5", "-o", project, "--lens-decoder", "tuned",
             "--lens", lens});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains("small") && r.err.contains("wider") && r.err.contains("d_model 32") &&
                 r.err.contains("d_model 48"),
             qPrintable(r.describe()));
    r = cli({"lens-kl", wider, "--prompts", held, "--lens", lens});
    QCOMPARE(r.code, 3);
    // Not a lens at all.
    r = cli({"trace", model, "--token-ids", "1,5", "-o", project, "--lens-decoder", "tuned",
             "--lens", train});
    QCOMPARE(r.code, 3);
}

QTEST_GUILESS_MAIN(TestCliLens)
#include "tst_cli_lens.moc"
