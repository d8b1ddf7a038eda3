// The command line and serve (the engine the workbench drives) answer the same decompose and
// propagate requests identically, on the real third-party model stories260K (skipped with a
// message when ../shared/models/stories260K is absent): the same decoding steps, the same
// child traces (tokens, edit, lens, logits, head metrics), the same default child name and
// length, and the same refusal of an inject text that is not one token.

#include "headlens/project/patchstore.h"
#include "headlens/project/project.h"

#include "clirun.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace HeadLens;
using json = nlohmann::json;

namespace {

using namespace CliTest;

// The same trace, field by field, as far as both faces compute it.
void compareTraces(const ProjectReader &a, const std::string &an, const ProjectReader &b,
                   const std::string &bn)
{
    const Trace x = a.readTrace(an), y = b.readTrace(bn);
    QCOMPARE(x.tokenIds(), y.tokenIds());
    QCOMPARE(x.nPromptTokens, y.nPromptTokens);
    QCOMPARE(x.parent, y.parent);
    QCOMPARE(x.prompt, y.prompt);
    QCOMPARE(json::parse(x.edit), json::parse(y.edit));
    QCOMPARE(x.topk, y.topk);
    QCOMPARE(int(x.lensNorm), int(y.lensNorm));
    QCOMPARE(int(x.lensDecoder), int(y.lensDecoder));
    QCOMPARE(int(x.attentionStore), int(y.attentionStore));
    QCOMPARE(int(x.residualStore), int(y.residualStore));
    QCOMPARE(x.logitsTopkIds.data, y.logitsTopkIds.data);
    QCOMPARE(x.logitsTopkProbs.data, y.logitsTopkProbs.data);
    QCOMPARE(x.contribNorm.data, y.contribNorm.data);
    for (Site s : allSites()) {
        const LensSite l = a.readLens(an, s), m = b.readLens(bn, s);
        QCOMPARE(l.topkIds.data, m.topkIds.data);
        QCOMPARE(l.topkProbs.data, m.topkProbs.data);
        QCOMPARE(l.entropy.data, m.entropy.data);
    }
}

} // namespace

class TestRequests : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void decomposeIsTheSame();
    void propagateIsTheSame_data();
    void propagateIsTheSame();
    void injectTextRefusedTheSameWay();
    void patchIsTheSame();
    void patchRefusesDifferentCounts();

private:
    // serve's answer to req (with a fresh id): {"ok", "result"} or {"ok", "kind", "error"}.
    json ask(json req);
    QStringList model() const { return {m_model, m_project}; }

    QTemporaryDir m_dir;
    bool m_haveStories = false;
    QString m_model, m_tokenizer, m_project;
    Trace m_parent;
    QProcess m_serve;
    int m_nextId = 1;
};

void TestRequests::initTestCase()
{
    QVERIFY(QFile::exists(kCli));
    QVERIFY(m_dir.isValid());
    m_haveStories =
        QFile::exists(kStories + "/stories260K.bin") && QFile::exists(kStories + "/tok512.bin");
    if (!m_haveStories) return;
    m_model = kStories + "/stories260K.bin";
    m_tokenizer = kStories + "/tok512.bin";
    m_project = m_dir.path() + "/story.hlproj";
    const Run r = cli({"trace", m_model, "--tokenizer", m_tokenizer, "--prompt", "Once upon a time",
                       "--generate", "12", "-o", m_project, "--name", "parent"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    m_parent = ProjectReader(m_project.toStdString()).readTrace("parent");
    QVERIFY(m_parent.nTokens() > m_parent.nPromptTokens);

    m_serve.start(kCli, {"serve"});
    QVERIFY(m_serve.waitForStarted(30000));
    const json loaded = ask({{"cmd", "load"},
                             {"model", m_model.toStdString()},
                             {"tokenizer", m_tokenizer.toStdString()}});
    QVERIFY2(loaded.value("ok", false), loaded.dump().c_str());
}

void TestRequests::init()
{
    if (!m_haveStories)
        QSKIP(qPrintable("the third-party model stories260K is not at " + kStories +
                         " (see ../shared/models); this test needs it"));
}

void TestRequests::cleanupTestCase()
{
    if (m_serve.state() == QProcess::NotRunning) return;
    m_serve.closeWriteChannel();
    if (!m_serve.waitForFinished(30000)) m_serve.kill();
}

json TestRequests::ask(json req)
{
    return serveAnswer(m_serve, m_nextId++, std::move(req));
}

void TestRequests::decomposeIsTheSame()
{
    const int L = m_parent.config.nLayers, T = m_parent.nTokens();
    struct Point {
        Site site;
        int layer, pos;
    };
    for (const Point &p : std::vector<Point>{
             {Site::ResidPost, L - 1, 3}, {Site::ResidMid, 2, T - 1}, {Site::AttnOut, 0, 1}}) {
        const Run r = cli(QStringList{"decompose"} + model() +
                          QStringList{"--tokenizer", m_tokenizer, "--trace", "parent", "--site",
                                      siteName(p.site), "--layer", QString::number(p.layer),
                                      "--pos", QString::number(p.pos), "-k", "6", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.describe()));
        json fromCli = r.parsed()["steps"];
        const json answer = ask({{"cmd", "decompose"},
                                 {"token_ids", m_parent.tokenIds()},
                                 {"site", siteName(p.site)},
                                 {"layer", p.layer},
                                 {"pos", p.pos},
                                 {"lens_norm", lensNormName(m_parent.lensNorm)},
                                 {"lens_decoder", lensDecoderName(m_parent.lensDecoder)},
                                 {"steps", 6}});
        QVERIFY2(answer.value("ok", false), answer.dump().c_str());
        QVERIFY(!fromCli.empty());
        for (json &step : fromCli) // the command line numbers its steps; serve gives a list
            step.erase("step");
        QCOMPARE(answer["result"]["steps"], fromCli);
    }
}

void TestRequests::propagateIsTheSame_data()
{
    QTest::addColumn<QStringList>("cliEdit");
    QTest::addColumn<QString>("serveEdit"); // the fields of the same edit, as JSON
    QTest::newRow("unchanged, default length")
        << QStringList{"--unchanged"} << R"({"kind":"unchanged"})";
    QTest::newRow("subtract") << QStringList{"--subtract", "2", "-n", "3"}
                              << R"({"kind":"subtract","subtract":2,"generate":3})";
    QTest::newRow("inject id") << QStringList{"--inject-id", "PARENT1", "-n", "5"}
                               << R"({"kind":"inject","inject_id":PARENT1,"generate":5})";
    QTest::newRow("inject text") << QStringList{"--inject", "PARENT1TEXT", "-n", "4"}
                                 << R"({"kind":"inject","inject_text":"PARENT1TEXT","generate":4})";
}

void TestRequests::propagateIsTheSame()
{
    QFETCH(QStringList, cliEdit);
    QFETCH(QString, serveEdit);
    // A token of the prompt, by id and by its readable text.
    const QString id1 = QString::number(m_parent.tokens[1].id);
    const QString text1 = QString::fromStdString(m_parent.idText(m_parent.tokens[1].id));
    cliEdit.replaceInStrings("PARENT1TEXT", text1).replaceInStrings("PARENT1", id1);
    serveEdit.replace("PARENT1TEXT", text1).replace("PARENT1", id1);

    // serve writes into a copy of the project as it is now, so both faces choose the child's
    // name among the same traces.
    const QString served = m_dir.path() + "/served-" + QTest::currentDataTag() + ".hlproj";
    QFile::remove(served);
    QVERIFY(QFile::copy(m_project, served));

    const int layer = m_parent.config.nLayers - 1, pos = m_parent.nPromptTokens - 1;
    const Run r = cli(QStringList{"propagate"} + model() +
                      QStringList{"--tokenizer", m_tokenizer, "--trace", "parent", "--site",
                                  "resid_post", "--layer", QString::number(layer), "--pos",
                                  QString::number(pos), "--json"} +
                      cliEdit);
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const json fromCli = r.parsed();

    json tokens = json::array();
    for (const TokenInfo &t : m_parent.tokens)
        tokens.push_back({{"id", t.id}, {"text", t.text}, {"begin", t.begin}, {"end", t.end}});
    json req = json::parse(serveEdit.toStdString());
    req.update({{"cmd", "propagate"},
                {"output", served.toStdString()},
                {"parent", "parent"},
                {"tokens", tokens},
                {"prompt", m_parent.prompt},
                {"site", "resid_post"},
                {"layer", layer},
                {"pos", pos},
                {"topk", m_parent.topk},
                {"lens_norm", lensNormName(m_parent.lensNorm)},
                {"lens_decoder", lensDecoderName(m_parent.lensDecoder)},
                {"attention", storeTypeName(m_parent.attentionStore)},
                {"residuals", storeTypeName(m_parent.residualStore)}});
    const json answer = ask(req);
    QVERIFY2(answer.value("ok", false), answer.dump().c_str());
    const json &fromServe = answer["result"];

    QCOMPARE(fromServe["name"], fromCli["child"]); // the same default name: parent-KIND(-N)
    QCOMPARE(fromServe["edit"], fromCli["edit"]);
    QCOMPARE(fromServe["n_prompt_tokens"].get<int>(), pos + 1);
    QCOMPARE(fromServe["n_tokens"].get<int>(), pos + 1 + fromCli["generated"].get<int>());
    const std::string name = fromCli["child"].get<std::string>();
    compareTraces(ProjectReader(m_project.toStdString()), name, ProjectReader(served.toStdString()),
                  name);
}

void TestRequests::injectTextRefusedTheSameWay()
{
    const QString text = "Once upon a time"; // several tokens
    const Run r = cli(QStringList{"propagate"} + model() +
                      QStringList{"--tokenizer", m_tokenizer, "--trace", "parent", "--site",
                                  "resid_post", "--layer", "0", "--pos", "1", "--inject", text});
    QCOMPARE(r.code, 3);
    json tokens = json::array();
    for (const TokenInfo &t : m_parent.tokens)
        tokens.push_back({{"id", t.id}});
    const json answer = ask({{"cmd", "propagate"},
                             {"output", (m_dir.path() + "/refused.hlproj").toStdString()},
                             {"parent", "parent"},
                             {"tokens", tokens},
                             {"layer", 0},
                             {"pos", 1},
                             {"kind", "inject"},
                             {"inject_text", text.toStdString()}});
    QCOMPARE(answer.value("kind", ""), std::string("input"));
    const QString error = QString::fromStdString(answer.value("error", ""));
    QVERIFY2(error.contains("not one token"), qPrintable(error));
    QCOMPARE(QString::fromUtf8(r.err).trimmed(), "headlens-cli: error: " + error);
    QVERIFY(!QFile::exists(m_dir.path() + "/refused.hlproj"));
}

// Activation patching from the command line and from serve: the same map, stored with the clean
// trace; and what patching must give whatever the model.
void TestRequests::patchIsTheSame()
{
    const QString clean = "Once upon a time there was a little girl named Lily";
    const QString corrupted = "Once upon a time there was a little boy named Lily";
    auto nextId = [&](const QString &prompt) {
        const Run r = cli({"generate", m_model, "--tokenizer", m_tokenizer, "--prompt", prompt,
                           "-n", "1", "--ids"});
        return r.out.trimmed().toInt();
    };
    const int answer = nextId(clean);
    int wrong = nextId(corrupted);
    if (wrong == answer) wrong = answer + 1;
    const QString viaCli = m_dir.path() + "/patch-cli.hlproj";
    const QString viaServe = m_dir.path() + "/patch-serve.hlproj";
    const Run r =
        cli({"patch", m_model, "--tokenizer", m_tokenizer, "--clean", clean, "--corrupted",
             corrupted, "--answer-id", QString::number(answer), "--wrong-id",
             QString::number(wrong), "--heads", "-o", viaCli, "--name", "clean", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    json fromCli = r.parsed();
    json answerServe = ask({{"cmd", "patch"},
                            {"output", viaServe.toStdString()},
                            {"name", "clean"},
                            {"clean", clean.toStdString()},
                            {"corrupted", corrupted.toStdString()},
                            {"answer_id", answer},
                            {"wrong_id", wrong},
                            {"heads", true}});
    QVERIFY2(answerServe.value("ok", false), answerServe.dump().c_str());
    json fromServe = answerServe["result"];
    for (json *j : {&fromCli, &fromServe}) {
        j->erase("seconds");
        j->erase("output");
    }
    QCOMPARE(fromServe, fromCli);

    const int T = fromCli["n_tokens"].get<int>();
    const json &sites = fromCli["sites"];
    const int L = int(sites["resid_post"].size());
    // The last layer's resid_post at the last position is all the logits read: all of the
    // clean answer; earlier positions there, none of it.
    QVERIFY(std::abs(sites["resid_post"][L - 1][T - 1].get<double>() - 1.0) < 1e-5);
    for (int t = 0; t < T - 1; ++t)
        QCOMPARE(sites["resid_post"][L - 1][t].get<double>(), 0.0);
    // The prompts differ only at " girl" / " boy": patching any position before patches nothing.
    const auto &toks = fromCli["clean_tokens"];
    int diff = 0;
    while (toks[diff] == fromCli["corrupted_tokens"][diff])
        ++diff;
    QVERIFY(diff > 0 && diff < T - 1);
    for (const char *site : {"resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"})
        for (int l = 0; l < L; ++l)
            for (int t = 0; t < diff; ++t)
                QCOMPARE(sites[site][l][t].get<double>(), 0.0);
    // Layer 0's input is the embedding: after the changed tokens it is the same in both runs.
    int lastDiff = T - 1;
    while (toks[lastDiff] == fromCli["corrupted_tokens"][lastDiff])
        --lastDiff;
    QVERIFY(lastDiff < T - 1);
    for (int t = lastDiff + 1; t < T; ++t)
        QCOMPARE(sites["resid_pre"][0][t].get<double>(), 0.0);

    const std::optional<PatchMap> stored = readPatchMap(viaCli.toStdString(), "clean");
    QVERIFY(stored.has_value());
    QCOMPARE(stored->answer, answer);
    QCOMPARE(stored->wrong, wrong);
    QCOMPARE(stored->corruptedPrompt, corrupted.toStdString());
    QCOMPARE(stored->nPos, T);
    QCOMPARE(stored->head(1, 2, T - 1), fromCli["heads"][1][2][T - 1].get<float>());
    QCOMPARE(stored->site(Site::MlpOut, 2, T - 1),
             fromCli["sites"]["mlp_out"][2][T - 1].get<float>());
    const Trace t = ProjectReader(viaCli.toStdString()).readTrace("clean");
    QCOMPARE(t.prompt, clean.toStdString());
    QCOMPARE(t.nTokens(), T);
}

void TestRequests::patchRefusesDifferentCounts()
{
    const QString out = m_dir.path() + "/patch-refused.hlproj";
    const Run r = cli({"patch", m_model, "--tokenizer", m_tokenizer, "--clean", "Once upon a time",
                       "--corrupted", "Once upon a time there was", "--answer-id", "5",
                       "--wrong-id", "6", "-o", out});
    QCOMPARE(r.code, 3);
    const QString err = QString::fromUtf8(r.err);
    QVERIFY2(err.contains("clean prompt has 5 tokens") && err.contains("corrupted prompt 7"),
             qPrintable(err));
    QVERIFY(!QFile::exists(out));
    const json answer = ask({{"cmd", "patch"},
                             {"output", out.toStdString()},
                             {"clean", "Once upon a time"},
                             {"corrupted", "Once upon a time there was"},
                             {"answer_id", 5},
                             {"wrong_id", 6}});
    QCOMPARE(answer.value("kind", ""), std::string("input"));
    QCOMPARE(QString::fromUtf8(r.err).trimmed(),
             "headlens-cli: error: " + QString::fromStdString(answer.value("error", "")));
    QVERIFY(!QFile::exists(out));
}

QTEST_GUILESS_MAIN(TestRequests)
#include "tst_requests.moc"
