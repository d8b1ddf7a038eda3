// headlens-cli attribute as a user runs it, on the real third-party model stories260K (skipped
// with a message when ../shared/models/stories260K is absent): without a token it gives what
// trace stored in the project (heads/dla, blocks/dla), a difference of two tokens is the
// difference of their attributions part by part, serve answers the same request with the same
// numbers, the table shows the sum check, and bad input exits 2 or 3 with one line.

#include "headlens/project/project.h"

#include "clirun.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace HeadLens;
using json = nlohmann::json;
using namespace CliTest;

namespace {

const QString kPrompt = QStringLiteral("Once upon a time, there was a little girl");

// Every part of a position: embed, blocks, rest, logit, then the heads.
std::vector<double> partsOf(const json &p)
{
    std::vector<double> v{p["embed"].get<double>(), p["rest"].get<double>(),
                          p["logit"].get<double>()};
    for (const json &b : p["blocks"])
        for (const json &x : b)
            v.push_back(x.get<double>());
    for (const json &h : p["heads"])
        for (const json &x : h)
            v.push_back(x.get<double>());
    return v;
}

} // namespace

class TestCliAttribute : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void withoutTokenIsWhatTraceStored();
    void differenceIsTheDifference();
    void serveAnswersTheSame();
    void tableShowsTheSumCheck();
    void badInput_data();
    void badInput();

private:
    QStringList model() const { return {m_model, "--tokenizer", m_tokenizer}; }
    json attribute(const QStringList &extra);

    QTemporaryDir m_dir;
    bool m_haveStories = false;
    QString m_model, m_tokenizer, m_project;
};

void TestCliAttribute::initTestCase()
{
    QVERIFY(QFile::exists(kCli));
    QVERIFY(m_dir.isValid());
    m_haveStories =
        QFile::exists(kStories + "/stories260K.bin") && QFile::exists(kStories + "/tok512.bin");
    if (!m_haveStories) return;
    m_model = kStories + "/stories260K.bin";
    m_tokenizer = kStories + "/tok512.bin";
    m_project = m_dir.path() + "/story.hlproj";
    const Run r = cli(QStringList{"trace"} + model() +
                      QStringList{"--prompt", kPrompt, "-o", m_project, "--name", "story"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
}

void TestCliAttribute::init()
{
    if (!m_haveStories)
        QSKIP(qPrintable("the third-party model stories260K is not at " + kStories +
                         " (see ../shared/models); this test needs it"));
}

json TestCliAttribute::attribute(const QStringList &extra)
{
    const Run r = cli(QStringList{"attribute"} + model() + QStringList{"--prompt", kPrompt} +
                      extra + QStringList{"--json"});
    if (r.code != 0) qWarning("%s", qPrintable(r.describe()));
    return r.code == 0 ? r.parsed() : json();
}

void TestCliAttribute::withoutTokenIsWhatTraceStored()
{
    const Trace t = ProjectReader(m_project.toStdString()).readTrace("story");
    const LogitAttribution &a = t.dla;
    QVERIFY(!a.empty());
    const json j = attribute({});
    QVERIFY(j.is_object());
    const int64_t L = a.heads.dim(0), H = a.heads.dim(1), T = a.heads.dim(2);
    QCOMPARE(j["n_tokens"].get<int64_t>(), T);
    QCOMPARE(int64_t(j["positions"].size()), T);
    QVERIFY(j["max_rel_sum_error"].get<double>() < 1e-6);
    for (int64_t p = 0; p < T; ++p) {
        const json &pos = j["positions"][size_t(p)];
        QCOMPARE(pos["target"]["id"].get<int32_t>(), a.tokenIds.data[size_t(p)]);
        QCOMPARE(pos["target"]["id"].get<int32_t>(), t.logitsTopkIds.data[size_t(p * t.topk)]);
        QVERIFY(pos["minus"].is_null());
        // The trace sums attn_out from the heads' vectors and attribute multiplies by W_o at
        // once: the same numbers to float rounding.
        QVERIFY(std::abs(pos["logit"].get<double>() - a.logit.data[size_t(p)]) < 1e-4);
        QVERIFY(std::abs(pos["embed"].get<double>() - a.embed.data[size_t(p)]) < 1e-4);
        for (int64_t l = 0; l < L; ++l) {
            for (int b = 0; b < 2; ++b)
                QVERIFY(std::abs(pos["blocks"][size_t(l)][size_t(b)].get<double>() -
                                 a.blocks.data[size_t((l * 2 + b) * T + p)]) < 1e-4);
            for (int64_t h = 0; h < H; ++h)
                QVERIFY(std::abs(pos["heads"][size_t(l)][size_t(h)].get<double>() -
                                 a.heads.data[size_t((l * H + h) * T + p)]) < 1e-4);
        }
    }
}

void TestCliAttribute::differenceIsTheDifference()
{
    const json a = attribute({"--token", " there", "--pos", "9"});
    const json b = attribute({"--token-id", "300", "--pos", "9"});
    const json d = attribute({"--token", " there", "--minus-id", "300", "--pos", "9"});
    QVERIFY(a.is_object() && b.is_object() && d.is_object());
    QCOMPARE(d["positions"].size(), size_t(1));
    const json &pd = d["positions"][0];
    QCOMPARE(pd["pos"].get<int>(), 9);
    QCOMPARE(pd["target"]["id"], a["positions"][0]["target"]["id"]);
    QCOMPARE(pd["minus"]["id"].get<int>(), 300);
    // Everything is linear in the unembedding row once the norm's scale is fixed.
    const std::vector<double> pa = partsOf(a["positions"][0]), pb = partsOf(b["positions"][0]),
                              diff = partsOf(pd);
    QCOMPARE(diff.size(), pa.size());
    for (size_t i = 0; i < diff.size(); ++i)
        QVERIFY2(std::abs(diff[i] - (pa[i] - pb[i])) < 1e-4,
                 qPrintable(
                     QString("part %1: %2 vs %3 - %4").arg(i).arg(diff[i]).arg(pa[i]).arg(pb[i])));
    QVERIFY(std::abs(pd["sum_error"].get<double>()) < 1e-4);
}

void TestCliAttribute::serveAnswersTheSame()
{
    QProcess serve;
    serve.start(kCli, {"serve"});
    QVERIFY(serve.waitForStarted(30000));
    auto ask = [&](json req, int id) {
        req["id"] = id;
        serve.write(QByteArray::fromStdString(req.dump() + "\n"));
        for (;;) {
            while (serve.canReadLine()) {
                const json j = json::parse(serve.readLine().toStdString(), nullptr, false);
                if (j.is_object() && !j.contains("event") && j.value("id", json()) == json(id))
                    return j;
            }
            if (!serve.waitForReadyRead(300000)) return json{{"ok", false}};
        }
    };
    const json loaded = ask({{"cmd", "load"},
                             {"model", m_model.toStdString()},
                             {"tokenizer", m_tokenizer.toStdString()}},
                            1);
    QVERIFY2(loaded.value("ok", false), loaded.dump().c_str());
    const json answer = ask({{"cmd", "attribute"},
                             {"prompt", kPrompt.toStdString()},
                             {"token", " there"},
                             {"minus_id", 300},
                             {"pos", 9}},
                            2);
    QVERIFY2(answer.value("ok", false), answer.dump().c_str());
    QCOMPARE(answer["result"], attribute({"--token", " there", "--minus-id", "300", "--pos", "9"}));
    const json refused = ask({{"cmd", "attribute"}, {"prompt", "Once"}, {"token", "zzzqqq"}}, 3);
    QCOMPARE(refused.value("kind", ""), std::string("input"));
    serve.closeWriteChannel();
    if (!serve.waitForFinished(30000)) serve.kill();
}

void TestCliAttribute::tableShowsTheSumCheck()
{
    const Run r =
        cli(QStringList{"attribute"} + model() + QStringList{"--prompt", kPrompt, "--top", "3"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const QString out = QString::fromUtf8(r.out);
    QVERIFY2(out.contains("L4 MLP") && out.contains("final logit") &&
                 out.contains("sum check error") && out.contains("heads with the largest parts"),
             qPrintable(out));
    QCOMPARE(out.count(QRegularExpression("\\n  L\\dH\\d")), 3);
}

void TestCliAttribute::badInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::newRow("unknown token") << QStringList{"--token", "zzzqqq"} << 3;
    QTest::newRow("token id outside") << QStringList{"--token-id", "100000"} << 3;
    QTest::newRow("minus alone") << QStringList{"--minus", " a"} << 2;
    QTest::newRow("both token forms") << QStringList{"--token", " a", "--token-id", "3"} << 2;
    QTest::newRow("position outside") << QStringList{"--pos", "500"} << 3;
}

void TestCliAttribute::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    const Run r = cli(QStringList{"attribute"} + model() + QStringList{"--prompt", kPrompt} + args);
    QCOMPARE(r.code, code);
    QVERIFY2(r.out.isEmpty(), qPrintable(r.describe()));
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(err.startsWith("headlens-cli: ") && !err.contains('\n'), qPrintable(err));
}

QTEST_GUILESS_MAIN(TestCliAttribute)
#include "tst_cli_attribute.moc"
