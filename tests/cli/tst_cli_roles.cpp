// headlens-cli heads MODEL [PROJECT] --roles and serve's head_roles: on the hand-built GPT-2 of
// tests/common/rolemodel.h the JSON names each head's role with scores ~1; the scores are
// stored with exactly the traces of that model (read back with readHeadRoles); serve answers
// the same request with the same numbers; bad input is refused with exit 2 or 3 and a message.

#include "rolemodel.h"
#include "testgpt2.h"

#include "headlens/project/headrolesstore.h"
#include "headlens/project/project.h"

#include "clirun.h"

#include <nlohmann/json.hpp>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace HeadLens;
using namespace HeadLens::Test;
using namespace CliTest;
using json = nlohmann::json;

class TestCliRoles : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void rolesOfTheBuiltHeads();
    void storedWithTheModelsTraces();
    void serveGivesTheSame();
    void badInput_data();
    void badInput();

private:
    QTemporaryDir m_dir;
    QString m_model, m_other, m_project;
    json m_json;
};

void TestCliRoles::initTestCase()
{
    QVERIFY(QFile::exists(kCli));
    QVERIFY(m_dir.isValid());
    m_model = m_dir.filePath("roles");
    m_other = m_dir.filePath("other");
    writeGpt2Folder(m_model.toStdString(), roleGpt2());
    writeGpt2Folder(m_other.toStdString(), randomGpt2(gpt2Config(2, 96, 3, 16, 24, 32), 3));
    m_project = m_dir.filePath("p.hlproj");
    for (const auto &[model, name] : {std::pair{m_model, "a"}, {m_other, "x"}, {m_model, "b"}}) {
        const Run r =
            cli({"trace", model, "--token-ids", "23,4,5,6,4,5,6", "-o", m_project, "--name", name});
        QVERIFY2(r.code == 0, qPrintable(r.describe()));
    }
    const Run r = cli({"heads", m_model, m_project, "--roles", "--seed", "9", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    m_json = r.parsed();
    QVERIFY(m_json.is_object());
}

void TestCliRoles::rolesOfTheBuiltHeads()
{
    QCOMPARE(m_json["n_layers"].get<int>(), 2);
    QCOMPARE(m_json["n_heads"].get<int>(), 3);
    QCOMPARE(m_json["sequence_length"].get<int>(), 15); // (32 - 1) / 2
    QCOMPARE(m_json["sequences"].get<int>(), 4);
    QCOMPARE(m_json["seed"].get<int>(), 9);
    QCOMPARE(m_json["n_queries"].get<int>(), 4 * 30);
    QCOMPARE(m_json["n_repeat_queries"].get<int>(), 4 * 15);
    const json &heads = m_json["heads"];
    QCOMPARE(int(heads.size()), 6);
    const char *roles[] = {"previous_token", "first_token", "self", "induction", "duplicate_token"};
    for (int k = 0; k < 5; ++k) {
        const json &h = heads[size_t(k)];
        QCOMPARE(h["layer"].get<int>(), k / 3);
        QCOMPARE(h["head"].get<int>(), k % 3);
        QCOMPARE(h["strongest"].get<std::string>(), std::string(roles[k]));
        QVERIFY2(h[roles[k]].get<double>() > 0.999, h.dump().c_str());
    }
    QVERIFY(heads[5]["strongest"].is_null()); // uniform attention
    QVERIFY(heads[0]["induction"].get<double>() < 1e-3);
    QVERIFY(std::abs(heads[0]["mean_distance"].get<double>() - 1.0) < 1e-3);

    // The readable table says the same.
    const Run r = cli({"heads", m_model, "--roles", "--seed", "9"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const QString out = QString::fromUtf8(r.out);
    QVERIFY2(out.contains(QRegularExpression(R"(\n  0 +0 +1\.000 .*previous_token\n)")),
             qPrintable(out));
    QVERIFY2(out.contains(QRegularExpression(R"(\n  1 +0 .*induction\n)")), qPrintable(out));
    QVERIFY(!out.contains("stored with")); // no project named
}

void TestCliRoles::storedWithTheModelsTraces()
{
    QCOMPARE(m_json["stored"], json({"a", "b"})); // not x, made by the other model
    const std::string p = m_project.toStdString();
    QVERIFY(!readHeadRoles(p, "x"));
    for (const char *t : {"a", "b"}) {
        const auto r = readHeadRoles(p, t);
        QVERIFY(r);
        QCOMPARE(r->sequenceLength, 15);
        QCOMPARE(r->seed, int64_t(9));
        QCOMPARE(r->tokens.shape, (std::vector<int64_t>{4, 31}));
        QCOMPARE(r->modelFingerprint, m_json["model_fingerprint"].get<std::string>());
        for (const json &h : m_json["heads"]) {
            const int l = h["layer"], k = h["head"];
            for (HeadRole role : allHeadRoles())
                QCOMPARE(r->at(role, l, k), h[headRoleName(role)].get<double>());
            QCOMPARE(r->distanceAt(l, k), h["mean_distance"].get<double>());
        }
    }
    // The project still reads, its traces unchanged, and --trace picks one.
    const Run r = cli({"heads", m_model, m_project, "--roles", "--trace", "b", "--seed", "1",
                       "--sequences", "1", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QCOMPARE(r.parsed()["stored"], json({"b"}));
    QCOMPARE(readHeadRoles(p, "b")->seed, int64_t(1));
    QCOMPARE(readHeadRoles(p, "a")->seed, int64_t(9));
    QCOMPARE(ProjectReader(p).info().traces.size(), size_t(3));
}

void TestCliRoles::serveGivesTheSame()
{
    QProcess serve;
    serve.start(kCli, {"serve"});
    QVERIFY(serve.waitForStarted(30000));
    int nextId = 1;
    auto ask = [&](json req) { return serveAnswer(serve, nextId++, std::move(req)); };
    json a = ask({{"cmd", "load"}, {"model", m_model.toStdString()}});
    QVERIFY2(a.value("ok", false), a.dump().c_str());
    a = ask({{"cmd", "head_roles"}, {"seed", 9}});
    QVERIFY2(a.value("ok", false), a.dump().c_str());
    json expected = m_json;
    expected["stored"] = json::array();
    QCOMPARE(a["result"], expected);
    a = ask({{"cmd", "head_roles"}, {"length", 40}});
    QCOMPARE(a["kind"].get<std::string>(), std::string("input"));
    QVERIFY2(a["error"].get<std::string>().find("context of 32") != std::string::npos,
             a.dump().c_str());
    a = ask({{"cmd", "head_roles"}, {"trace", "a"}});
    QCOMPARE(a["kind"].get<std::string>(), std::string("usage"));
    serve.closeWriteChannel();
    if (!serve.waitForFinished(30000)) serve.kill();
}

void TestCliRoles::badInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::newRow("too long") << QStringList{"MODEL", "--roles", "--length", "16"} << 3
                              << "does not fit the model's context of 32";
    QTest::newRow("not a number") << QStringList{"MODEL", "--roles", "--length", "x"} << 2
                                  << "--length needs a whole number";
    QTest::newRow("bad seed") << QStringList{"MODEL", "--roles", "--seed", "-1"} << 2
                              << "--seed needs a whole number from 0";
    QTest::newRow("trace without project")
        << QStringList{"MODEL", "--roles", "--trace", "a"} << 2 << "--trace needs a PROJECT";
    QTest::newRow("other model's trace")
        << QStringList{"MODEL", "PROJECT", "--roles", "--trace", "x"} << 3 << "trace 'x' in";
    QTest::newRow("no such trace")
        << QStringList{"MODEL", "PROJECT", "--roles", "--trace", "zz"} << 3 << "no trace 'zz'";
    QTest::newRow("no model") << QStringList{"nothing-here", "--roles"} << 3 << "nothing-here";
    QTest::newRow("not a project")
        << QStringList{"MODEL", "nothing.hlproj", "--roles"} << 3 << "nothing.hlproj";
}

void TestCliRoles::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, message);
    args.replaceInStrings(QRegularExpression("^MODEL$"), m_model);
    args.replaceInStrings(QRegularExpression("^PROJECT$"), m_project);
    const QByteArray before = [&] {
        QFile f(m_project);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    const Run r = cli(QStringList{"heads"} + args);
    QVERIFY2(r.code == code, qPrintable(r.describe()));
    QVERIFY2(QString::fromUtf8(r.err).contains(message), qPrintable(r.describe()));
    QFile f(m_project);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), before); // a refused request leaves the project as it was
}

QTEST_GUILESS_MAIN(TestCliRoles)
#include "tst_cli_roles.moc"
