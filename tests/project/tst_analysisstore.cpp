// Tests of the analysis store (analysisstore.h): round trips of every kind of attribute and
// dataset, replacing results, refusing places that belong to the v1 schema, leaving the file
// byte-identical when anything fails (also half way through a write), results that follow
// their trace; and the end-to-end benchmark of issue 4: head statistics over a project of
// 100 traces x 64 tokens read from disk (printed, not asserted).

#include "headlens/analysis/headstats.h"
#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace HeadLens;

namespace {

QByteArray fileBytes(const std::string &path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

// A small valid trace: L layers, H heads, T tokens, head metrics from a simple formula.
Trace makeTrace(const std::string &name, int L = 2, int H = 2, int T = 3, float seed = 0.0f)
{
    Trace t;
    t.name = name;
    t.prompt = "abc";
    t.modelName = "tiny";
    t.modelFingerprint = "sha256:tiny";
    t.config.nLayers = L;
    t.config.nHeads = H;
    t.config.nKvHeads = H;
    t.config.dModel = 4 * H;
    t.config.dHead = 4;
    t.config.vocabSize = 1000; // above every token id of the longest trace
    t.topk = 2;
    t.nPromptTokens = T;
    for (int i = 0; i < T; ++i)
        t.tokens.push_back({int32_t(i + 1), "t" + std::to_string(i), i, i + 1});
    t.logitsTopkIds.reset({T, 2}, 3);
    t.logitsTopkProbs.reset({T, 2}, 0.25f);
    t.logitsEntropy.reset({T}, 1.0f);
    float v = seed;
    for (FloatArray *a :
         {&t.contribNorm, &t.contribCosine, &t.contribProjection, &t.attnEntropy, &t.valueNorm}) {
        a->reset({L, H, T});
        for (float &x : a->data) {
            v = std::fmod(v * 1.37f + 0.291f, 3.0f);
            x = v;
        }
    }
    return t;
}

AnalysisRecord sampleRecord()
{
    AnalysisRecord r;
    r.text["scope"] = "all traces";
    r.text["unicode"] = "Hé ↵世界";
    r.integers["n_traces"] = 3;
    r.integers["big"] = int64_t(1) << 40;
    r.numbers["threshold"] = 0.9;
    r.numbers["nan"] = std::nan("");
    r.doubles["values"] = DoubleArray({2, 3});
    for (size_t i = 0; i < 6; ++i)
        r.doubles["values"].data[i] = 0.5 * double(i) - 1.0;
    r.floats["small"] = FloatArray({4}, 1.5f);
    r.ints["pairs"] = IntArray({3, 2});
    r.ints["pairs"].data = {0, 0, 1, -1, -1, 1};
    r.strings["names"] = {"a", "", "β"};
    return r;
}

void compareRecords(const AnalysisRecord &got, const AnalysisRecord &want)
{
    QCOMPARE(got.text, want.text);
    QCOMPARE(got.integers, want.integers);
    QCOMPARE(got.numbers.size(), want.numbers.size());
    for (const auto &[k, v] : want.numbers) {
        QVERIFY(got.numbers.count(k));
        if (std::isnan(v))
            QVERIFY(std::isnan(got.numbers.at(k)));
        else
            QCOMPARE(got.numbers.at(k), v);
    }
    QCOMPARE(got.doubles.size(), want.doubles.size());
    for (const auto &[k, a] : want.doubles) {
        QCOMPARE(got.doubles.at(k).shape, a.shape);
        QCOMPARE(got.doubles.at(k).data, a.data);
    }
    QCOMPARE(got.floats.size(), want.floats.size());
    for (const auto &[k, a] : want.floats) {
        QCOMPARE(got.floats.at(k).shape, a.shape);
        QCOMPARE(got.floats.at(k).data, a.data);
    }
    QCOMPARE(got.ints.size(), want.ints.size());
    for (const auto &[k, a] : want.ints) {
        QCOMPARE(got.ints.at(k).shape, a.shape);
        QCOMPARE(got.ints.at(k).data, a.data);
    }
    QCOMPARE(got.strings, want.strings);
}

} // namespace

class TestAnalysisStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void roundTrip();
    void replace();
    void refusals_data();
    void refusals();
    void unknownTraceOrProject();
    void failureHalfWay();
    void followsItsTrace();
    void benchmark();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::string m_path;
};

void TestAnalysisStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = (m_dir->path() + "/p.hlproj").toStdString();
    addTrace(m_path, makeTrace("t1"), false);
}

void TestAnalysisStore::roundTrip()
{
    const Trace before = ProjectReader(m_path).readTrace("t1");
    AnalysisUpdate u;
    u.write.emplace_back(projectAnalysisGroup("stats") + "/all", sampleRecord());
    u.write.emplace_back(traceAnalysisGroup("t1", "stats"), sampleRecord());
    AnalysisRecord cmp;
    cmp.text = {{"left", "t1"}, {"right", "t1"}, {"mode", "prompts"}};
    cmp.ints["pairs"] = IntArray({1, 2}, 0);
    u.write.emplace_back(comparisonGroup("c1"), cmp);
    writeAnalysis(m_path, u);

    QCOMPARE(projectAnalysisGroup("stats"), std::string("/analysis/stats"));
    QCOMPARE(traceAnalysisGroup("t1", "x"), std::string("/traces/t1/analysis/x"));
    QCOMPARE(comparisonGroup("c1"), std::string("/comparisons/c1"));
    compareRecords(readAnalysis(m_path, "/analysis/stats/all"), sampleRecord());
    compareRecords(readAnalysis(m_path, "/traces/t1/analysis/stats"), sampleRecord());
    compareRecords(readAnalysis(m_path, "/comparisons/c1"), cmp);
    QVERIFY(hasAnalysis(m_path, "/analysis/stats"));
    QVERIFY(!hasAnalysis(m_path, "/analysis/nothing"));
    QCOMPARE(listAnalysis(m_path, "/analysis/stats"), std::vector<std::string>{"all"});
    QCOMPARE(listAnalysis(m_path, "/analysis/nothing"), std::vector<std::string>{});
    QVERIFY_EXCEPTION_THROWN(readAnalysis(m_path, "/analysis/nothing"), InputError);

    // The v1 content is untouched and still reads.
    ProjectReader r(m_path);
    const Trace after = r.readTrace("t1");
    QCOMPARE(after.contribNorm.data, before.contribNorm.data);
    QCOMPARE(after.tokens.size(), before.tokens.size());
    QCOMPARE(r.info().traces.size(), size_t(1));
}

void TestAnalysisStore::replace()
{
    AnalysisUpdate u;
    u.write.emplace_back("/analysis/stats/all", sampleRecord());
    u.write.emplace_back("/analysis/stats/all/sub", sampleRecord());
    writeAnalysis(m_path, u);

    // Writing again replaces same-named attributes and datasets and keeps the others.
    AnalysisRecord again;
    again.integers["n_traces"] = 7;
    again.ints["pairs"] = IntArray({1}, 5);
    writeAnalysis(m_path, {{}, {{"/analysis/stats/all", again}}});
    AnalysisRecord got = readAnalysis(m_path, "/analysis/stats/all");
    QCOMPARE(got.integers.at("n_traces"), int64_t(7));
    QCOMPARE(got.ints.at("pairs").data, std::vector<int32_t>{5});
    QCOMPARE(got.text.at("scope"), std::string("all traces"));

    // Removing first drops the whole group, child groups included.
    AnalysisUpdate fresh;
    fresh.remove = {"/analysis/stats", "/analysis/never-written"};
    fresh.write.emplace_back("/analysis/stats/all", again);
    writeAnalysis(m_path, fresh);
    got = readAnalysis(m_path, "/analysis/stats/all");
    QVERIFY(got.text.empty());
    QCOMPARE(got.doubles.size(), size_t(0));
    QVERIFY(!hasAnalysis(m_path, "/analysis/stats/all/sub"));
}

void TestAnalysisStore::refusals_data()
{
    QTest::addColumn<QString>("group");
    QTest::newRow("a trace's own data") << "/traces/t1/heads";
    QTest::newRow("the analysis group of a trace itself") << "/traces/t1/analysis";
    QTest::newRow("the root") << "/";
    QTest::newRow("elsewhere at the root") << "/workbench/x";
    QTest::newRow("the comparisons group itself") << "/comparisons";
    QTest::newRow("relative") << "analysis/x";
    QTest::newRow("dot-dot") << "/analysis/../traces/t1";
}

void TestAnalysisStore::refusals()
{
    QFETCH(QString, group);
    const QByteArray before = fileBytes(m_path);
    QVERIFY_EXCEPTION_THROWN(writeAnalysis(m_path, {{}, {{group.toStdString(), sampleRecord()}}}),
                             std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(writeAnalysis(m_path, {{group.toStdString()}, {}}),
                             std::invalid_argument);
    // Records that are wrong in themselves.
    AnalysisRecord bad;
    bad.doubles["x"] = DoubleArray({2, 2});
    bad.doubles["x"].data.resize(3);
    QVERIFY_EXCEPTION_THROWN(writeAnalysis(m_path, {{}, {{"/analysis/x", bad}}}),
                             std::invalid_argument);
    AnalysisRecord twice;
    twice.text["a"] = "1";
    twice.integers["a"] = 1;
    QVERIFY_EXCEPTION_THROWN(writeAnalysis(m_path, {{}, {{"/analysis/x", twice}}}),
                             std::invalid_argument);
    AnalysisRecord slash;
    slash.floats["a/b"] = FloatArray({1});
    QVERIFY_EXCEPTION_THROWN(writeAnalysis(m_path, {{}, {{"/analysis/x", slash}}}),
                             std::invalid_argument);
    QCOMPARE(fileBytes(m_path), before);
}

void TestAnalysisStore::unknownTraceOrProject()
{
    const QByteArray before = fileBytes(m_path);
    QVERIFY_EXCEPTION_THROWN(
        writeAnalysis(m_path, {{}, {{traceAnalysisGroup("nope", "stats"), sampleRecord()}}}),
        InputError);
    QCOMPARE(fileBytes(m_path), before);
    const std::string missing = (m_dir->path() + "/missing.hlproj").toStdString();
    QVERIFY_EXCEPTION_THROWN(writeAnalysis(missing, {{}, {{"/analysis/x", sampleRecord()}}}),
                             InputError);
    QVERIFY(!QFile::exists(QString::fromStdString(missing)));
    const std::string text = (m_dir->path() + "/text.hlproj").toStdString();
    {
        QFile f(QString::fromStdString(text));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not a project\n");
    }
    QVERIFY_EXCEPTION_THROWN(writeAnalysis(text, {{}, {{"/analysis/x", sampleRecord()}}}),
                             InputError);
    QVERIFY_EXCEPTION_THROWN(readAnalysis(text, "/analysis/x"), InputError);
    QCOMPARE(fileBytes(text), QByteArray("not a project\n"));
}

void TestAnalysisStore::failureHalfWay()
{
    writeAnalysis(m_path, {{}, {{"/analysis/keep", sampleRecord()}}});
    const QByteArray before = fileBytes(m_path);
    // The first group is written into the copy, the second cannot be (a group where the first
    // put a dataset): HDF5 fails half way, and the original must not change.
    AnalysisRecord first;
    first.doubles["d"] = DoubleArray({2}, 1.0);
    AnalysisUpdate u;
    u.remove = {"/analysis/keep"};
    u.write.emplace_back("/analysis/x", first);
    u.write.emplace_back("/analysis/x/d", sampleRecord());
    QVERIFY_EXCEPTION_THROWN(writeAnalysis(m_path, u), std::runtime_error);
    QCOMPARE(fileBytes(m_path), before);
    // No temp file is left beside it.
    const QStringList files = QDir(m_dir->path()).entryList(QDir::Files | QDir::Hidden);
    QCOMPARE(files, QStringList{"p.hlproj"});
    QVERIFY(hasAnalysis(m_path, "/analysis/keep"));
    QVERIFY(!hasAnalysis(m_path, "/analysis/x"));
}

void TestAnalysisStore::followsItsTrace()
{
    addTrace(m_path, makeTrace("t2"), false);
    writeAnalysis(m_path, {{},
                           {{traceAnalysisGroup("t1", "stats"), sampleRecord()},
                            {traceAnalysisGroup("t2", "stats"), sampleRecord()}}});
    renameTrace(m_path, "t1", "renamed");
    compareRecords(readAnalysis(m_path, traceAnalysisGroup("renamed", "stats")), sampleRecord());
    removeTrace(m_path, "t2");
    QVERIFY(!hasAnalysis(m_path, traceAnalysisGroup("t2", "stats")));
    // Replacing a trace drops its stale results.
    addTrace(m_path, makeTrace("renamed", 2, 2, 3, 0.5f), true);
    QVERIFY(!hasAnalysis(m_path, traceAnalysisGroup("renamed", "stats")));
    QCOMPARE(ProjectReader(m_path).readTrace("renamed").nTokens(), 3);
}

void TestAnalysisStore::benchmark()
{
    // Issue 4: statistics over a project of 100 traces of 64 tokens in under a second. The
    // project is written first (not timed); the figure covers opening it, reading every
    // trace's metrics and computing the statistics.
    const int nTraces = 100, L = 12, H = 12, T = 64;
    const std::string path = (m_dir->path() + "/bench.hlproj").toStdString();
    QElapsedTimer setup;
    setup.start();
    for (int i = 0; i < nTraces; ++i)
        addTrace(path, makeTrace("trace-" + std::to_string(i + 1), L, H, T, 0.01f * float(i)),
                 false);
    qInfo("(setup: %d traces written in %lld ms)", nTraces, setup.elapsed());

    QElapsedTimer timer;
    timer.start();
    ProjectReader reader(path);
    HeadStatsBuilder builder;
    for (const TraceListing &l : reader.info().traces)
        builder.add(reader.readTrace(l.name));
    const qint64 readMs = timer.elapsed();
    const HeadStats stats = builder.result();
    const qint64 ms = timer.elapsed();
    QCOMPARE(stats.nTraces, nTraces);
    QCOMPARE(stats.nPositions, int64_t(nTraces) * T);
    qInfo("BENCHMARK head statistics from a project file: %d traces x %d tokens, %d layers x %d "
          "heads: %lld ms (%lld ms reading, %lld ms statistics)",
          nTraces, T, L, H, ms, readMs, ms - readMs);
}

QTEST_MAIN(TestAnalysisStore)
#include "tst_analysisstore.moc"
