// The analysis commands of headlens-cli as a user runs them, on the real third-party model
// stories260K (skipped with a message when ../shared/models/stories260K is absent):
// decompose starts with the lens top-1 of its block, propagate with the vector unchanged
// reproduces the parent's own continuation exactly and an injected token changes it, and
// stats / correlate / compare / heads store results that read back. Bad input exits 3 with one
// line on stderr and leaves the project untouched. And, on a random model whose checkpoint
// is edited so that two heads are one (issue 8), exactly that pair comes out most similar.

#include "testmodel.h"

#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"

#include "clirun.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace HeadLens;
using json = nlohmann::json;

namespace {

using namespace CliTest;

QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestCliAnalysis : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void duplicatedHeadIsTheMostSimilarPair();
    void decomposeStartsWithTheLensTop1();
    void propagateUnchangedReproducesTheParent();
    void propagateInjectChangesIt();
    void propagateSubtract();
    void stats();
    void correlate();
    void compare();
    void heads();
    void badInput_data();
    void badInput();

private:
    QStringList model() const { return {m_model, m_project}; }
    QStringList tok() const { return {"--tokenizer", m_tokenizer}; }

    QTemporaryDir m_dir;
    bool m_haveStories = false;
    QString m_model, m_tokenizer, m_project;
    Trace m_parent;
};

void TestCliAnalysis::initTestCase()
{
    QVERIFY(QFile::exists(kCli));
    QVERIFY(m_dir.isValid());
    m_haveStories =
        QFile::exists(kStories + "/stories260K.bin") && QFile::exists(kStories + "/tok512.bin");
    if (!m_haveStories) return;
    m_model = kStories + "/stories260K.bin";
    m_tokenizer = kStories + "/tok512.bin";
    m_project = m_dir.path() + "/story.hlproj";
    Run r = cli({"trace", m_model, "--tokenizer", m_tokenizer, "--prompt", "Once upon a time",
                 "--generate", "12", "-o", m_project, "--name", "parent"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    r = cli({"trace", m_model, "--tokenizer", m_tokenizer, "--prompt",
             "Once upon a time, there was a little", "-o", m_project, "--name", "other"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    m_parent = ProjectReader(m_project.toStdString()).readTrace("parent");
    QVERIFY(m_parent.nTokens() > m_parent.nPromptTokens);
}

void TestCliAnalysis::init()
{
    const QByteArray name = QTest::currentTestFunction();
    if (!m_haveStories && name != "duplicatedHeadIsTheMostSimilarPair")
        QSKIP(qPrintable("the third-party model stories260K is not at " + kStories +
                         " (see ../shared/models); this test needs it"));
}

void TestCliAnalysis::duplicatedHeadIsTheMostSimilarPair()
{
    // A random model in which head 1 of layer 1 is made a copy of head 3 (its q, k, v rows and
    // its columns of the output projection): the two attend alike and contribute alike.
    using namespace HeadLens::Test;
    const int L = 2, D = 32, H = 4, dh = D / H, layer = 1, copy = 1, source = 3;
    LlamaWeights w = randomLlama(llamaConfig(L, D, H, H, 64, 64), 7);
    LlamaLayer &ly = w.layers[size_t(layer)];
    for (std::vector<float> *m : {&ly.wq, &ly.wk, &ly.wv})
        std::copy_n(m->begin() + source * dh * D, dh * D, m->begin() + copy * dh * D);
    for (int row = 0; row < D; ++row)
        std::copy_n(ly.wo.begin() + row * H * dh + source * dh, dh,
                    ly.wo.begin() + row * H * dh + copy * dh);
    const QString dir = m_dir.path() + "/dup-model";
    writeHfFolder(dir.toStdString(), w);
    const QString project = m_dir.path() + "/dup.hlproj";
    QStringList ids;
    for (int i = 0; i < 24; ++i)
        ids << QString::number(3 + (i * 7) % 60);
    Run r = cli({"trace", dir, "--token-ids", ids.join(','), "-o", project, "--name", "dup"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    r = cli({"heads", project, "--similarity", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const json j = r.parsed();
    const json &most = j["layers"][layer]["most_similar"];
    QCOMPARE(most["heads"][0].get<int>(), copy);
    QCOMPARE(most["heads"][1].get<int>(), source);
    QVERIFY(most["similarity"].get<double>() > 0.999);
    // In the other layer, nothing is that alike; the copied pair shares a cluster.
    QVERIFY(j["layers"][0]["most_similar"]["similarity"].get<double>() < 0.999);
    const AnalysisRecord rec =
        readAnalysis(project.toStdString(), "/traces/dup/analysis/head_similarity");
    const IntArray &cluster = rec.ints.at("cluster");
    QCOMPARE(cluster.at({layer, copy}), cluster.at({layer, source}));
    QVERIFY(rec.doubles.at("pattern_correlation").at({layer, copy, source}) > 0.999);
    // The engine's contribution similarity, when the trace has it, agrees.
    if (rec.doubles.count("contrib_similarity")) {
        const DoubleArray &c = rec.doubles.at("contrib_similarity");
        QVERIFY(c.at({layer, copy, source}) > 0.999);
        for (int a = 0; a < H; ++a)
            for (int b = a + 1; b < H; ++b)
                if (!(a == copy && b == source))
                    QVERIFY(c.at({layer, a, b}) < c.at({layer, copy, source}));
        r = cli({"heads", project, "--similarity", "--cluster-on", "contribution"});
        QVERIFY2(r.code == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("most alike: heads 1 and 3"), qPrintable(r.describe()));
    }
    // A clustering the CLI does not know is a usage error that lists the ones it does.
    r = cli({"heads", project, "--similarity", "--cluster-on", "cosine"});
    QVERIFY2(r.code == 2, qPrintable(r.describe()));
    QVERIFY2(
        r.err.contains("--cluster-on must be one of jsd|correlation|contribution, not 'cosine'"),
        qPrintable(r.describe()));
}

void TestCliAnalysis::decomposeStartsWithTheLensTop1()
{
    const ProjectReader reader(m_project.toStdString());
    const int L = m_parent.config.nLayers, T = m_parent.nTokens();
    struct Point {
        Site site;
        int layer, pos;
    };
    const std::vector<Point> points{{Site::ResidPost, L - 1, 3},
                                    {Site::ResidPost, 1, 2},
                                    {Site::ResidMid, 2, T - 1},
                                    {Site::AttnOut, 0, 1},
                                    {Site::ResidPre, 3, 4}};
    for (const Point &p : points) {
        const QString site = siteName(p.site);
        const Run r = cli(QStringList{"decompose"} + model() + tok() +
                          QStringList{"--trace", "parent", "--site", site, "--layer",
                                      QString::number(p.layer), "--pos", QString::number(p.pos),
                                      "-k", "6", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.describe()));
        const json j = r.parsed();
        QVERIFY2(j.is_object() && !j["steps"].empty(), qPrintable(r.describe()));
        const LensSite lens = reader.readLens("parent", p.site);
        const int K = int(lens.topkIds.dim(2));
        const int32_t top1 = lens.topkIds.data[size_t((p.layer * T + p.pos) * K)];
        QCOMPARE(j["steps"][0]["id"].get<int>(), top1);
        QVERIFY(j["steps"].size() <= 6);
        // Norms do not grow: each step removes a direction.
        for (size_t i = 1; i < j["steps"].size(); ++i)
            QVERIFY(j["steps"][i]["norm"].get<double>() <=
                    j["steps"][i - 1]["norm"].get<double>() + 1e-4);
        // Stored under the trace.
        const std::string group = traceAnalysisGroup("parent", "decompose/" + site.toStdString() +
                                                                   "-L" + std::to_string(p.layer) +
                                                                   "-P" + std::to_string(p.pos));
        QCOMPARE(j["stored"].get<std::string>(), group);
        const AnalysisRecord rec = readAnalysis(m_project.toStdString(), group);
        QCOMPARE(rec.ints.at("ids").data[0], top1);
        QCOMPARE(rec.text.at("site"), site.toStdString());
        QCOMPARE(rec.strings.at("text").size(), j["steps"].size());
    }
    // The readable form names the steps.
    const Run r =
        cli(QStringList{"decompose"} + model() + tok() +
            QStringList{"--trace", "parent", "--site", "resid_post", "--layer", "4", "--pos", "2"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(r.out.contains("lens top-1 of this block"));
    QVERIFY(r.out.contains("step"));
}

void TestCliAnalysis::propagateUnchangedReproducesTheParent()
{
    const int last = m_parent.nPromptTokens - 1;
    const int generated = m_parent.nTokens() - m_parent.nPromptTokens;
    for (const QString &site : {QString("resid_post"), QString("attn_out")}) {
        const QString name = "same-" + site;
        const Run r = cli(QStringList{"propagate"} + model() + tok() +
                          QStringList{"--trace", "parent", "--site", site, "--layer", "2", "--pos",
                                      QString::number(last), "--unchanged", "-n",
                                      QString::number(generated), "--name", name, "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.describe()));
        const json j = r.parsed();
        QVERIFY2(j["same_as_parent"].get<bool>(), qPrintable(r.describe()));
        QCOMPARE(j["child_continuation"], j["parent_continuation"]);
        const Trace child = ProjectReader(m_project.toStdString()).readTrace(name.toStdString());
        QCOMPARE(child.tokenIds(), m_parent.tokenIds()); // exactly the parent's continuation
        QCOMPARE(child.parent, std::string("parent"));
        QVERIFY(child.edit.find("\"unchanged\"") != std::string::npos);
        QCOMPARE(child.nPromptTokens, last + 1);
    }
    // -n defaults to what follows the position in the parent, so the same holds without it.
    const Run r = cli(QStringList{"propagate"} + model() + tok() +
                      QStringList{"--trace", "parent", "--site", "resid_pre", "--layer", "0",
                                  "--pos", QString::number(last), "--unchanged"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.out.contains("into 'parent-unchanged'"), qPrintable(r.describe()));
    const QStringList lines = QString::fromUtf8(r.out).split('\n');
    QVERIFY(lines.size() >= 3);
    QCOMPARE(lines[1].mid(lines[1].indexOf('"')), lines[2].mid(lines[2].indexOf('"')));
}

void TestCliAnalysis::propagateInjectChangesIt()
{
    const int last = m_parent.nPromptTokens - 1;
    const int L = m_parent.config.nLayers;
    // Inject, at the last layer, the model's second choice for the next token.
    const int64_t K = m_parent.logitsTopkIds.dim(1);
    const int32_t other = m_parent.logitsTopkIds.data[size_t(last * K + 1)];
    QVERIFY(other != m_parent.tokens[size_t(last + 1)].id);
    Run r = cli(QStringList{"propagate"} + model() + tok() +
                QStringList{"--trace", "parent", "--site", "resid_post", "--layer",
                            QString::number(L - 1), "--pos", QString::number(last), "--inject-id",
                            QString::number(other), "--name", "injected", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    json j = r.parsed();
    QVERIFY2(!j["same_as_parent"].get<bool>(), qPrintable(r.describe()));
    QVERIFY(j["child_ids"] != j["parent_ids"]);
    const Trace child = ProjectReader(m_project.toStdString()).readTrace("injected");
    QVERIFY(child.tokenIds() != m_parent.tokenIds());
    QVERIFY(child.edit.find("\"inject\"") != std::string::npos);
    QVERIFY(child.edit.find(std::to_string(other)) != std::string::npos);

    // By text: the token's own piece.
    const std::string text = m_parent.idText(m_parent.tokens[1].id); // a token of the prompt
    r = cli(QStringList{"propagate"} + model() + tok() +
            QStringList{"--trace", "parent", "--site", "resid_post", "--layer",
                        QString::number(L - 1), "--pos", QString::number(last), "--inject",
                        QString::fromStdString(text), "-n", "4", "--name", "injected-text"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.out.contains("(id " + QByteArray::number(m_parent.tokens[1].id) + ")"),
             qPrintable(r.describe()));
}

void TestCliAnalysis::propagateSubtract()
{
    const Run r = cli(QStringList{"propagate"} + model() + tok() +
                      QStringList{"--trace", "parent", "--site", "resid_post", "--layer", "3",
                                  "--pos", "2", "--subtract", "2", "-n", "3", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const json j = r.parsed();
    QCOMPARE(j["child"].get<std::string>(), std::string("parent-subtract"));
    QCOMPARE(j["kept_tokens"].get<int>(), 3);
    QVERIFY(j["child_ids"].size() <= 3);
    QCOMPARE(j["edit"]["count"].get<int>(), 2);
}

void TestCliAnalysis::stats()
{
    Run r = cli({"stats", m_project, "--trace", "parent", "--json", "--bins", "8"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    json j = r.parsed();
    const int L = m_parent.config.nLayers, H = m_parent.config.nHeads;
    QCOMPARE(j["ranking"].size(), size_t(L * H));
    const std::string group = "/traces/parent/analysis/stats";
    QCOMPARE(j["stored"].get<std::string>(), group);
    const AnalysisRecord top = readAnalysis(m_project.toStdString(), group);
    QCOMPARE(top.ints.at("ranking").shape, (std::vector<int64_t>{L * H, 2}));
    QCOMPARE(top.integers.at("n_positions"), int64_t(m_parent.nTokens()));
    const AnalysisRecord norm = readAnalysis(m_project.toStdString(), group + "/contrib_norm");
    QCOMPARE(norm.doubles.at("head_mean").shape, (std::vector<int64_t>{L, H}));
    QCOMPARE(norm.ints.at("head_histogram").shape, (std::vector<int64_t>{L, H, 8}));
    QCOMPARE(norm.doubles.at("layer_quantiles").shape, (std::vector<int64_t>{L, 7}));
    // The stored mean is the mean of the trace's own values.
    double sum = 0;
    for (int p = 0; p < m_parent.nTokens(); ++p)
        sum += m_parent.contribNorm.at({1, 2, p});
    QVERIFY(std::abs(norm.doubles.at("head_mean").at({1, 2}) - sum / m_parent.nTokens()) < 1e-5);
    const int32_t bestLayer = top.ints.at("ranking").data[0],
                  bestHead = top.ints.at("ranking").data[1];
    QCOMPARE(j["ranking"][0]["layer"].get<int>(), bestLayer);
    QCOMPARE(j["ranking"][0]["head"].get<int>(), bestHead);

    r = cli({"stats", m_project, "--all"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(r.out.contains("heads by mean contribution norm"));
    const AnalysisRecord all = readAnalysis(m_project.toStdString(), "/analysis/stats");
    const size_t nTraces = ProjectReader(m_project.toStdString()).info().traces.size();
    QCOMPARE(all.integers.at("n_traces"), int64_t(nTraces));
    QCOMPARE(all.strings.at("traces").size(), nTraces);
}

void TestCliAnalysis::correlate()
{
    Run r = cli({"correlate", m_project, "--trace", "parent"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(r.out.contains("position 0 (BOS) excluded"));
    const std::string group = "/traces/parent/analysis/correlations";
    AnalysisRecord rec = readAnalysis(m_project.toStdString(), group);
    const int L = m_parent.config.nLayers, H = m_parent.config.nHeads, T = m_parent.nTokens();
    const int64_t S = 4 * (1 + H);
    QCOMPARE(rec.strings.at("statistics").size(), size_t(S));
    QCOMPARE(rec.doubles.at("per_layer_pearson").shape, (std::vector<int64_t>{S, 2, L}));
    QCOMPARE(rec.floats.at("values").shape, (std::vector<int64_t>{S, L, T}));
    // Self-attention (head mean) against 1 - cos: every layer's T - 1 points.
    QCOMPARE(rec.ints.at("overall_n").at({0, 0}), L * (T - 1));
    QCOMPARE(rec.integers.at("included_first_position"), int64_t(0));

    r = cli({"correlate", m_project, "--trace", "parent", "--include-bos", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(r.parsed()["included_first_position"].get<bool>());
    rec = readAnalysis(m_project.toStdString(), group);
    QCOMPARE(rec.ints.at("overall_n").at({0, 0}), L * T);

    r = cli({"correlate", m_project, "--all", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(hasAnalysis(m_project.toStdString(), "/analysis/correlations"));
}

void TestCliAnalysis::compare()
{
    Run r = cli({"compare", m_project, "--left", "parent", "--right", "other", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const json j = r.parsed();
    QCOMPARE(j["mode"].get<std::string>(), std::string("prompts"));
    QVERIFY(j["same_vocabulary"].get<bool>());
    const AnalysisRecord rec =
        readAnalysis(m_project.toStdString(), "/comparisons/parent-vs-other");
    QCOMPARE(rec.text.at("left"), std::string("parent"));
    QCOMPARE(rec.text.at("right"), std::string("other"));
    QCOMPARE(rec.text.at("mode"), std::string("prompts"));
    const IntArray &pairs = rec.ints.at("pairs");
    QCOMPARE(pairs.dim(1), int64_t(2));
    QCOMPARE(size_t(pairs.dim(0)), j["pairs"].size());
    // "Once upon a time" is the start of both prompts: the first tokens pair one to one, and
    // the same model says the same there (KL 0).
    QCOMPARE(pairs.at({1, 0}), 1);
    QCOMPARE(pairs.at({1, 1}), 1);
    QVERIFY(std::abs(rec.doubles.at("kl").data[1]) < 1e-6);
    QCOMPARE(rec.doubles.at("depth_grid").size(), size_t(m_parent.config.nLayers));

    r = cli({"compare", m_project, "--left", "parent", "--right", "other", "--name", "mine"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(r.out.contains("per relative depth"));
    QVERIFY(hasAnalysis(m_project.toStdString(), "/comparisons/mine"));
    // The v1 reader still opens the project, and info lists the traces as before.
    QVERIFY(cli({"info", m_project}).code == 0);
}

void TestCliAnalysis::heads()
{
    Run r = cli({"heads", m_project, "--similarity", "--trace", "parent", "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const int L = m_parent.config.nLayers, H = m_parent.config.nHeads;
    const json j = r.parsed();
    QCOMPARE(j["layers"].size(), size_t(L));
    const AnalysisRecord rec =
        readAnalysis(m_project.toStdString(), "/traces/parent/analysis/head_similarity");
    const DoubleArray &jsd = rec.doubles.at("jsd_similarity");
    QCOMPARE(jsd.shape, (std::vector<int64_t>{L, H, H}));
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
            QCOMPARE(jsd.at({l, h, h}), 1.0);
            for (int g = 0; g < H; ++g) {
                QVERIFY(jsd.at({l, h, g}) >= -1e-9 && jsd.at({l, h, g}) <= 1 + 1e-9);
                QCOMPARE(jsd.at({l, h, g}), jsd.at({l, g, h}));
            }
        }
    QCOMPARE(rec.ints.at("order").shape, (std::vector<int64_t>{L, H}));
    if (!m_parent.contribSimilarity.empty()) QVERIFY(rec.doubles.count("contrib_similarity"));

    // A threshold of -1 puts every head of a layer in one cluster.
    r = cli({"heads", m_project, "--similarity", "--all", "--threshold", "-1"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const AnalysisRecord all = readAnalysis(m_project.toStdString(), "/analysis/head_similarity");
    for (int32_t n : all.ints.at("n_clusters").data)
        QCOMPARE(n, 1);
}

void TestCliAnalysis::badInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    const QString P = "PROJECT";
    QTest::newRow("unknown trace")
        << QStringList{"stats", P, "--trace", "nope"} << 3 << "no trace 'nope'";
    QTest::newRow("both --trace and --all")
        << QStringList{"stats", P, "--trace", "parent", "--all"} << 2 << "not both";
    QTest::newRow("several traces, no choice") << QStringList{"correlate", P} << 2 << "--all";
    QTest::newRow("heads without --similarity")
        << QStringList{"heads", P, "--trace", "parent"} << 2 << "--similarity";
    QTest::newRow("bad threshold")
        << QStringList{"heads", P, "--similarity", "--threshold", "x"} << 2 << "--threshold";
    QTest::newRow("compare unknown")
        << QStringList{"compare", P, "--left", "parent", "--right", "x"} << 3 << "no trace 'x'";
    QTest::newRow("layer out of range")
        << QStringList{"decompose",  "MODEL",   P,    "--trace", "parent", "--site",
                       "resid_post", "--layer", "99", "--pos",   "0"}
        << 3 << "layer 99 is out of range";
    QTest::newRow("position out of range")
        << QStringList{"propagate",  "MODEL",   P,   "--trace", "parent", "--site",
                       "resid_post", "--layer", "0", "--pos",   "999",    "--unchanged"}
        << 3 << "position 999 is out of range";
    QTest::newRow("bad site") << QStringList{"decompose", "MODEL",  P,         "--trace",
                                             "parent",    "--site", "nowhere", "--layer",
                                             "0",         "--pos",  "0"}
                              << 2 << "--site";
    QTest::newRow("two edits") << QStringList{"propagate",  "MODEL",   P,
                                              "--trace",    "parent",  "--site",
                                              "resid_post", "--layer", "0",
                                              "--pos",      "0",       "--unchanged",
                                              "--subtract", "1"}
                               << 2 << "exactly one";
    QTest::newRow("inject text of two tokens") << QStringList{"propagate",
                                                              "MODEL",
                                                              P,
                                                              "--trace",
                                                              "parent",
                                                              "--site",
                                                              "resid_post",
                                                              "--layer",
                                                              "0",
                                                              "--pos",
                                                              "1",
                                                              "--inject",
                                                              "Once upon a time",
                                                              "--tokenizer",
                                                              "TOKENIZER"}
                                               << 3 << "not one token";
    QTest::newRow("not a project") << QStringList{"stats", "MODEL"} << 3 << "not";
}

void TestCliAnalysis::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, message);
    args.replaceInStrings(QRegularExpression("^PROJECT$"), m_project);
    args.replaceInStrings(QRegularExpression("^MODEL$"), m_model);
    args.replaceInStrings(QRegularExpression("^TOKENIZER$"), m_tokenizer);
    if (args.first() == "decompose" || args.first() == "propagate")
        if (!args.contains("--tokenizer")) args << "--tokenizer" << m_tokenizer;
    const QByteArray before = fileBytes(m_project);
    const Run r = cli(args);
    QVERIFY2(r.code == code, qPrintable(r.describe()));
    const QStringList lines = QString::fromUtf8(r.err).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1);
    QVERIFY2(
        lines[0].startsWith(code == 3 ? "headlens-cli: error: " : "headlens-cli: usage error: "),
        qPrintable(lines[0]));
    QVERIFY2(lines[0].contains(message), qPrintable(lines[0]));
    QVERIFY(r.out.isEmpty());
    QCOMPARE(fileBytes(m_project), before);
}

QTEST_MAIN(TestCliAnalysis)
#include "tst_cli_analysis.moc"
