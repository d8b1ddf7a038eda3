// headlens-cli as a user runs it (shared/design/CLI.md): the real binary under QProcess, on
// random models written by tests/common and, when present, on stories260K. Checks exit
// statuses, outputs, project files (through tests/project/check_hlproj.py and h5py), values
// against the naive reference, and that bad input gives exit 3 with one clear stderr line and
// leaves an existing project untouched.

#include "compare.h"
#include "naivellama.h"
#include "testmodel.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <sys/stat.h>

using namespace HeadLens;
using namespace HeadLens::Test;

namespace {

const QString kCli = QStringLiteral(HEADLENS_CLI);
const QString kPython = QStringLiteral(HEADLENS_SYSTEM_PYTHON);
const QString kChecker = QStringLiteral(HEADLENS_SOURCE_DIR "/tests/project/check_hlproj.py");
const QString kStories = QStringLiteral(HEADLENS_SHARED_DIR "/models/stories260K");

struct Run {
    int code = -1;
    bool crashed = false;
    bool timedOut = false;
    QByteArray out, err;

    QString describe() const
    {
        return QString("exit %1%2%3\n--- stdout:\n%4\n--- stderr:\n%5")
            .arg(code)
            .arg(crashed ? " (crashed)" : "")
            .arg(timedOut ? " (timed out)" : "")
            .arg(QString::fromUtf8(out.left(2000)), QString::fromUtf8(err.left(2000)));
    }
};

Run runProgram(const QString &program, const QStringList &args, int timeoutMs = 120000,
               const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.setProgram(program);
    p.setArguments(args);
    p.start();
    Run r;
    if (!p.waitForStarted(30000)) {
        r.err = "could not start " + program.toUtf8();
        return r;
    }
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        r.timedOut = true;
        p.kill();
        p.waitForFinished(5000);
    }
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.code = r.crashed ? -1 : p.exitCode();
    return r;
}

Run cli(const QStringList &args)
{
    return runProgram(kCli, args);
}

QByteArray fileBytes(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

bool copyFile(const QString &from, const QString &to)
{
    QFile::remove(to);
    return QFile::copy(from, to) &&
           QFile::setPermissions(to, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup);
}

QStringList nonEmptyLines(const QByteArray &b)
{
    QStringList lines = QString::fromUtf8(b).split('\n');
    lines.removeAll(QString());
    return lines;
}

QString idList(const std::vector<int32_t> &ids)
{
    QStringList s;
    for (int32_t id : ids)
        s << QString::number(id);
    return s.join(',');
}

std::vector<int32_t> intsIn(const QByteArray &text)
{
    std::vector<int32_t> v;
    static const QRegularExpression re("-?\\d+");
    auto it = re.globalMatch(QString::fromUtf8(text));
    while (it.hasNext())
        v.push_back(it.next().captured().toInt());
    return v;
}

// Splits CSV text (RFC 4180 quoting) into rows of fields.
std::vector<QStringList> parseCsv(const QString &text)
{
    std::vector<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false, any = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
            any = true;
        } else if (c == ',') {
            row << field;
            field.clear();
            any = true;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            if (any || !field.isEmpty()) {
                row << field;
                rows.push_back(row);
            }
            row.clear();
            field.clear();
            any = false;
        } else {
            field += c;
            any = true;
        }
    }
    if (any || !field.isEmpty()) {
        row << field;
        rows.push_back(row);
    }
    return rows;
}

// A bad-input case: set up files in dir, run args (%D = dir), expect exit 3 and one error line
// that mentions `mention`, and the project `project` (if any) unchanged.
struct BadCase {
    QString name;
    std::function<void(const QString &dir)> setup;
    QStringList args;
    QStringList mentions; // the error line must contain one of these
    bool needsH5py = false;
    bool projectMustNotAppear = false; // -o names a new file that must not be created
};

} // namespace

class TestCli : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_hf;     // random HF folder without tokenizer
    QString m_l2c;    // random llama2.c v1 file
    QString m_hfTok;  // random HF folder (vocab 512) with tok512.bin inside, when shared exists
    QString m_good;   // a good project, made in initTestCase
    LlamaWeights m_w; // weights of m_hf and m_l2c
    LlamaWeights m_wTok;
    bool m_haveH5py = false;
    bool m_haveStories = false;
    std::vector<int32_t> m_ids = {1, 5, 9, 3, 40, 7, 22};

    QString path(const QString &rel) const { return m_tmp.filePath(rel); }
    std::vector<BadCase> badCases() const;
    // Reads /traces/<name> of a project with h5py: attributes and the datasets we compare.
    nlohmann::json readTrace(const QString &project, const QString &trace);
    void checkProjectFile(const QString &project);

private Q_SLOTS:
    void initTestCase();
    void versionAndHelp();
    void openMpWaitsPassively();
    void usageErrors_data();
    void usageErrors();
    void traceHfFolder();
    void traceLlama2c();
    void traceValuesMatchReference();
    void traceNamesAndForce();
    void info();
    void exportData_data();
    void exportData();
    void exportToFile();
    void tokenize();
    void generateIds();
    void storiesPromptAndStory();
    void checkHlproj();
    void badInput_data();
    void badInput();
    void traceRefusesWhatCannotFit();
    void batchShardsMergeLikeOneBatch();
    void killedAppendsLeaveOldTracesReadable();
    void errorsAreOneShortLine();
    void serveRefusesNonStringCommands();
    void serveKeepsTheCommandLinesLimits();
};

void TestCli::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QVERIFY2(QFileInfo(kCli).isExecutable(), qPrintable(kCli + " is not an executable"));
    m_haveStories = QFileInfo::exists(kStories + "/tok512.bin") &&
                    QFileInfo::exists(kStories + "/stories260K.bin");
    if (!kPython.isEmpty() && QFileInfo(kPython).isExecutable()) {
        const Run r = runProgram(kPython, {"-c", "import h5py, numpy"});
        m_haveH5py = r.code == 0;
    }
    if (!m_haveH5py)
        qWarning("python3 with h5py not found (%s): project contents are checked less",
                 qPrintable(kPython));

    ModelConfig cfg = llamaConfig(2, 32, 4, 2, 64, 61, 64);
    m_w = randomLlama(cfg, 42);
    m_hf = path("hf");
    writeHfFolder(m_hf.toStdString(), m_w);
    m_l2c = path("model-v1.bin");
    writeLlama2c(m_l2c.toStdString(), m_w, 1);
    if (m_haveStories) {
        ModelConfig c2 = llamaConfig(2, 32, 4, 4, 64, 512, 128);
        m_wTok = randomLlama(c2, 43);
        m_hfTok = path("hf-tok");
        HfWriteOptions o;
        o.tokenizerBin = (kStories + "/tok512.bin").toStdString();
        writeHfFolder(m_hfTok.toStdString(), m_wTok, o);
    }
    m_good = path("good.hlproj");
    const Run r = cli({"trace", m_hf, "--token-ids", idList(m_ids), "-o", m_good, "--topk", "5"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(QFileInfo::exists(m_good));
}

void TestCli::versionAndHelp()
{
    Run r = cli({"--version"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(QString::fromUtf8(r.out).contains(QRegularExpression("\\d+\\.\\d+\\.\\d+")),
             qPrintable(r.describe()));
    r = cli({"--help"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const QString help = QString::fromUtf8(r.out);
    for (const char *cmd : {"trace", "generate", "tokenize", "info", "export", "serve"})
        QVERIFY2(help.contains(cmd), qPrintable("--help does not mention " + QString(cmd)));
}

// libgomp fixes its wait policy when it is loaded, before the engine's code runs; the
// launcher headlens-cli sets PASSIVE for the engine it starts, unless the user chose one.
// bench prints the policy the engine process started with.
void TestCli::openMpWaitsPassively()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("OMP_WAIT_POLICY");
    const QStringList args{"bench", m_hf, "--tokens", "4", "--repeat", "1"};
    Run r = runProgram(kCli, args, 120000, env);
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.out.contains("OMP_WAIT_POLICY=PASSIVE"), qPrintable(r.describe()));

    env.insert("OMP_WAIT_POLICY", "ACTIVE");
    r = runProgram(kCli, args, 120000, env);
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.out.contains("OMP_WAIT_POLICY=ACTIVE"), qPrintable(r.describe()));

    // Without its engine the launcher says what it looked for.
    env.insert("HEADLENS_ENGINE", m_tmp.path() + "/no-such-engine");
    r = runProgram(kCli, {"--version"}, 60000, env);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.startsWith("headlens-cli: error: cannot start the engine program") &&
                 r.err.contains("no-such-engine"),
             qPrintable(r.describe()));
}

void TestCli::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::newRow("no arguments") << QStringList{};
    QTest::newRow("unknown command") << QStringList{"frobnicate"};
    QTest::newRow("unknown option") << QStringList{"--frobnicate"};
    QTest::newRow("trace without model") << QStringList{"trace"};
    QTest::newRow("trace without -o") << QStringList{"trace", "%HF", "--token-ids", "1,2"};
    QTest::newRow("trace without prompt") << QStringList{"trace", "%HF", "-o", "%D/u.hlproj"};
    QTest::newRow("trace --topk abc")
        << QStringList{"trace", "%HF", "--token-ids", "1,2", "-o", "%D/u.hlproj", "--topk", "abc"};
    QTest::newRow("trace --lens-norm bogus") << QStringList{
        "trace", "%HF", "--token-ids", "1,2", "-o", "%D/u.hlproj", "--lens-norm", "bogus"};
    QTest::newRow("trace --lens-decoder bogus") << QStringList{
        "trace", "%HF", "--token-ids", "1,2", "-o", "%D/u.hlproj", "--lens-decoder", "bogus"};
    QTest::newRow("trace --attention f64") << QStringList{
        "trace", "%HF", "--token-ids", "1,2", "-o", "%D/u.hlproj", "--attention", "f64"};
    QTest::newRow("trace --unknown") << QStringList{
        "trace", "%HF", "--token-ids", "1,2", "-o", "%D/u.hlproj", "--no-such-option"};
    QTest::newRow("export without --what") << QStringList{"export", "%GOOD", "--trace", "trace-1"};
    QTest::newRow("export --what bogus")
        << QStringList{"export", "%GOOD", "--trace", "trace-1", "--what", "bogus"};
    QTest::newRow("export --format xml") << QStringList{"export", "%GOOD",  "--trace",  "trace-1",
                                                        "--what", "tokens", "--format", "xml"};
    QTest::newRow("info without file") << QStringList{"info"};
    QTest::newRow("tokenize without --text") << QStringList{"tokenize", "%HF"};
    QTest::newRow("generate -n x")
        << QStringList{"generate", "%HF", "--token-ids", "1,2", "-n", "x"};
}

void TestCli::usageErrors()
{
    QFETCH(QStringList, args);
    const QByteArray before = fileBytes(m_good);
    for (QString &a : args)
        a.replace("%HF", m_hf).replace("%GOOD", m_good).replace("%D", m_tmp.path());
    const Run r = cli(args);
    QVERIFY2(r.code == 2, qPrintable(r.describe()));
    QVERIFY2(!r.err.trimmed().isEmpty(), "wrong usage must say so on stderr");
    QVERIFY2(!QFileInfo::exists(path("u.hlproj")), "a usage error created a project");
    QCOMPARE(fileBytes(m_good), before);
}

void TestCli::traceHfFolder()
{
    const QString p = path("hf.hlproj");
    const Run r = cli({"trace", m_hf, "--token-ids", idList(m_ids), "-o", p});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(QFileInfo(p).size() > 0);
    const Run i = cli({"info", p});
    QVERIFY2(i.code == 0, qPrintable(i.describe()));
    QVERIFY2(i.out.contains("trace-1"), qPrintable(i.describe()));
}

void TestCli::traceLlama2c()
{
    const QString p = path("l2c.hlproj");
    const Run r = cli({"trace", m_l2c, "--token-ids", idList(m_ids), "-o", p, "--topk", "5",
                       "--attention", "f32", "--residuals", "f32"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(QFileInfo(p).size() > 0);
    if (!m_haveH5py) QSKIP("python3 with h5py not available: contents not compared");
    // Same weights as the HF folder: the same predictions.
    const nlohmann::json t = readTrace(p, "trace-1");
    const NaiveForward f = naiveForward(m_w, m_ids);
    for (int pos = 0; pos < f.T; ++pos) {
        std::vector<int32_t> ids = t["logits_ids"][size_t(pos)].get<std::vector<int32_t>>();
        std::vector<float> probs = t["logits_probs"][size_t(pos)].get<std::vector<float>>();
        const std::string err = checkLensRow(
            "llama2.c trace logits pos " + std::to_string(pos), ids.data(), probs.data(),
            t["logits_entropy"][size_t(pos)].get<float>(), 5, softmaxOf(f.logitsAt(pos), f.V));
        QVERIFY2(err.empty(), err.c_str());
    }
}

nlohmann::json TestCli::readTrace(const QString &project, const QString &trace)
{
    const char *script = R"PY(
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
t = f['traces'][sys.argv[2]]
def val(v):
    if isinstance(v, bytes): return v.decode()
    if hasattr(v, 'item'): return v.item()
    return v
out = {'attrs': {k: val(v) for k, v in t.attrs.items()},
       'root': {k: val(v) for k, v in f.attrs.items()},
       'ids': t['tokens/ids'][()].tolist(),
       'offsets': t['tokens/offsets'][()].tolist(),
       'logits_ids': t['logits/topk_ids'][()].tolist(),
       'logits_probs': t['logits/topk_probs'][()].astype(np.float64).tolist(),
       'logits_entropy': t['logits/entropy'][()].astype(np.float64).tolist()}
for name in ('residual/resid_post', 'residual/attn_out', 'attention/pattern', 'heads/z',
             'heads/contrib_norm'):
    if name in t:
        out[name] = t[name][()].astype(np.float64).ravel().tolist()
        out[name + ':dtype'] = str(t[name].dtype)
print(json.dumps(out))
)PY";
    const Run r = runProgram(kPython, {"-c", script, project, trace});
    if (r.code != 0) {
        qWarning("%s", qPrintable(r.describe()));
        return {};
    }
    return nlohmann::json::parse(r.out.toStdString());
}

void TestCli::traceValuesMatchReference()
{
    const QString p = path("values.hlproj");
    const Run r = cli({"trace", m_hf, "--token-ids", idList(m_ids), "-o", p, "--topk", "5",
                       "--attention", "f32", "--residuals", "f32", "--store-z", "--name", "exact"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    if (!m_haveH5py) QSKIP("python3 with h5py not available: contents not compared");
    const nlohmann::json t = readTrace(p, "exact");
    QVERIFY2(!t.is_null(), "h5py could not read the trace");
    QCOMPARE(t["ids"].get<std::vector<int32_t>>(), m_ids);
    QCOMPARE(t["attrs"]["name"].get<std::string>(), std::string("exact"));
    QCOMPARE(t["attrs"]["topk"].get<int>(), 5);
    QCOMPARE(t["attrs"]["n_prompt_tokens"].get<int>(), int(m_ids.size()));
    QCOMPARE(t["attrs"]["lens_norm"].get<std::string>(), std::string("full"));
    QCOMPARE(t["attrs"]["lens_decoder"].get<std::string>(), std::string("output"));
    QCOMPARE(t["root"]["schema_version"].get<int>(), 1);
    QCOMPARE(t["root"]["format"].get<std::string>(), std::string("headlens-project"));
    for (const auto &off : t["offsets"])
        QCOMPARE(off.get<std::vector<int>>(), (std::vector<int>{-1, -1}));
    QCOMPARE(t["residual/resid_post:dtype"].get<std::string>(), std::string("float32"));
    QCOMPARE(t["attention/pattern:dtype"].get<std::string>(), std::string("float32"));

    const NaiveForward f = naiveForward(m_w, m_ids);
    auto asArray = [](const nlohmann::json &j) {
        FloatArray a({int64_t(j.size())});
        for (size_t i = 0; i < j.size(); ++i)
            a.data[i] = float(j[i].get<double>());
        return a;
    };
    std::string err = compareTensor("file residual/resid_post", asArray(t["residual/resid_post"]),
                                    f.sites[size_t(Site::ResidPost)]);
    QVERIFY2(err.empty(), err.c_str());
    err = compareTensor("file residual/attn_out", asArray(t["residual/attn_out"]),
                        f.sites[size_t(Site::AttnOut)]);
    QVERIFY2(err.empty(), err.c_str());
    err = compareTensor("file attention/pattern", asArray(t["attention/pattern"]), f.pattern);
    QVERIFY2(err.empty(), err.c_str());
    QVERIFY2(t.contains("heads/z"), "--store-z did not store heads/z");
    err = compareTensor("file heads/z", asArray(t["heads/z"]), f.z);
    QVERIFY2(err.empty(), err.c_str());
    err = compareTensor("file heads/contrib_norm", asArray(t["heads/contrib_norm"]),
                        naiveHeadMetrics(m_w, f).contribNorm);
    QVERIFY2(err.empty(), err.c_str());
    for (int pos = 0; pos < f.T; ++pos) {
        std::vector<int32_t> ids = t["logits_ids"][size_t(pos)].get<std::vector<int32_t>>();
        std::vector<float> probs = t["logits_probs"][size_t(pos)].get<std::vector<float>>();
        err = checkLensRow("file logits pos " + std::to_string(pos), ids.data(), probs.data(),
                           t["logits_entropy"][size_t(pos)].get<float>(), 5,
                           softmaxOf(f.logitsAt(pos), f.V));
        QVERIFY2(err.empty(), err.c_str());
    }
}

void TestCli::traceNamesAndForce()
{
    const QString p = path("names.hlproj");
    const QStringList base = {"trace", m_hf, "--token-ids", idList(m_ids), "-o", p};
    Run r = cli(base);
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    r = cli(base);
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    r = cli({"info", p});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.out.contains("trace-1") && r.out.contains("trace-2"), qPrintable(r.describe()));

    // A name already taken: exit 3, one error line naming it, the file unchanged.
    const QByteArray before = fileBytes(p);
    r = cli(base + QStringList{"--name", "trace-1", "--topk", "3"});
    QVERIFY2(r.code == 3, qPrintable(r.describe()));
    const QStringList lines = nonEmptyLines(r.err);
    QVERIFY2(lines.size() == 1 && lines[0].startsWith("headlens-cli: error:") &&
                 lines[0].contains("trace-1"),
             qPrintable(r.describe()));
    QVERIFY2(fileBytes(p) == before, "the project changed although the trace was refused");

    // --force replaces it.
    r = cli(base + QStringList{"--name", "trace-1", "--topk", "3", "--force"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(fileBytes(p) != before);
    r = cli({"info", p, "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const QString all = QString::fromUtf8(r.out);
    QVERIFY2(all.contains("trace-1") && all.contains("trace-2") && !all.contains("trace-3"),
             qPrintable(r.describe()));
    if (m_haveH5py) {
        const nlohmann::json t = readTrace(p, "trace-1");
        QCOMPARE(t["attrs"]["topk"].get<int>(), 3);
        QCOMPARE(t["logits_ids"][0].size(), size_t(3));
        QCOMPARE(readTrace(p, "trace-2")["attrs"]["topk"].get<int>(), 10); // the default
    }
}

void TestCli::info()
{
    Run r = cli({"info", m_good});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.out.contains("trace-1"), qPrintable(r.describe()));
    r = cli({"info", m_good, "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(r.out, &pe);
    QVERIFY2(pe.error == QJsonParseError::NoError,
             qPrintable("info --json is not JSON: " + pe.errorString() + "\n" + r.describe()));
    QVERIFY(doc.isObject() || doc.isArray());
    QVERIFY2(r.out.contains("\"trace-1\""), qPrintable(r.describe()));
    // Usable from a script: the model folder's name is in there.
    QVERIFY2(r.out.contains("\"hf\""),
             qPrintable("info --json does not name the model\n" + r.describe()));
}

void TestCli::exportData_data()
{
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("format");
    for (const char *what : {"tokens", "lens", "logits", "heads", "attention"})
        for (const char *format : {"csv", "json"})
            QTest::addRow("%s/%s", what, format) << QString(what) << QString(format);
}

void TestCli::exportData()
{
    QFETCH(QString, what);
    QFETCH(QString, format);
    const QByteArray before = fileBytes(m_good);
    const Run r = cli({"export", m_good, "--trace", "trace-1", "--what", what, "--format", format});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(!r.out.trimmed().isEmpty(), qPrintable(r.describe()));
    QCOMPARE(fileBytes(m_good), before); // exporting never writes the project
    if (format == "json") {
        QJsonParseError pe;
        QJsonDocument::fromJson(r.out, &pe);
        QVERIFY2(pe.error == QJsonParseError::NoError,
                 qPrintable("not JSON: " + pe.errorString() + "\n" + r.describe()));
    } else {
        const auto rows = parseCsv(QString::fromUtf8(r.out));
        QVERIFY2(rows.size() >= 2, qPrintable("expected a header and rows\n" + r.describe()));
        for (size_t i = 1; i < rows.size(); ++i)
            QVERIFY2(rows[i].size() == rows[0].size(),
                     qPrintable(QString("CSV row %1 has %2 fields, the header %3\n%4")
                                    .arg(i)
                                    .arg(rows[i].size())
                                    .arg(rows[0].size())
                                    .arg(r.describe())));
        if (what == "tokens") // one row per token
            QVERIFY2(rows.size() == m_ids.size() + 1, qPrintable(r.describe()));
    }
    if (what == "tokens")
        for (int32_t id : m_ids)
            QVERIFY2(r.out.contains(QByteArray::number(id)), qPrintable(r.describe()));
}

void TestCli::exportToFile()
{
    const QString out = path("lens.csv");
    Run r = cli({"export", m_good, "--trace", "trace-1", "--what", "lens", "--site", "resid_mid",
                 "--format", "csv", "-o", out});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY(QFileInfo(out).size() > 0);
    const Run s = cli({"export", m_good, "--trace", "trace-1", "--what", "lens", "--site",
                       "resid_mid", "--format", "csv"});
    QVERIFY2(s.code == 0, qPrintable(s.describe()));
    QCOMPARE(fileBytes(out), s.out);
    r = cli({"export", m_good, "--trace", "no-such-trace", "--what", "tokens"});
    QVERIFY2(r.code == 3, qPrintable(r.describe()));
    QVERIFY2(r.err.contains("no-such-trace"), qPrintable(r.describe()));
}

void TestCli::tokenize()
{
    if (!m_haveStories) QSKIP(qPrintable(kStories + " not found: tok512.bin is needed"));
    const QString tok = kStories + "/tok512.bin";
    Run r = cli({"tokenize", tok, "--text", "Once upon a time"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QCOMPARE(QString::fromUtf8(r.out).simplified(), QString("1 403 407 261 378"));
    r = cli({"tokenize", tok, "--text", "Once upon a time", "--no-bos"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QCOMPARE(QString::fromUtf8(r.out).simplified(), QString("403 407 261 378"));
    // A model folder with a tokenizer inside.
    r = cli({"tokenize", m_hfTok, "--text", "Once upon a time"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QCOMPARE(QString::fromUtf8(r.out).simplified(), QString("1 403 407 261 378"));
    r = cli({"tokenize", path("no-such-tokenizer.bin"), "--text", "x"});
    QVERIFY2(r.code == 3, qPrintable(r.describe()));
}

void TestCli::generateIds()
{
    const std::vector<int32_t> prompt = {1, 5, 9};
    const std::vector<int32_t> want = naiveGreedy(m_w, prompt, 6);
    for (const QString &model : {m_hf, m_l2c}) {
        const Run r = cli({"generate", model, "--token-ids", idList(prompt), "-n", "6", "--ids"});
        QVERIFY2(r.code == 0, qPrintable(r.describe()));
        std::vector<int32_t> got = intsIn(r.out);
        // EOS (id 2) may end the run early.
        QVERIFY2(!got.empty() && got.size() <= want.size(), qPrintable(r.describe()));
        QVERIFY2(std::equal(got.begin(), got.end(), want.begin()),
                 qPrintable(
                     QString("generated %1, reference greedy %2").arg(idList(got), idList(want))));
        if (got.size() < want.size()) QCOMPARE(got.back(), 2);
    }
}

void TestCli::storiesPromptAndStory()
{
    if (!m_haveStories) QSKIP(qPrintable(kStories + " not found"));
    const QString model = kStories + "/stories260K.bin", tok = kStories + "/tok512.bin";
    Run r =
        cli({"generate", model, "--tokenizer", tok, "--prompt", "Once upon a time", "-n", "40"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.out.contains("Lily"), qPrintable(r.describe()));
    QVERIFY2(!r.out.contains("Once upon a time"), "generate prints only the text after the prompt");

    const QString p = path("stories.hlproj");
    r = cli({"trace", model, "--tokenizer", tok, "--prompt", "Once upon a time", "--generate", "5",
             "-o", p});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    // An HF folder with tokenizer.bin inside takes a prompt without --tokenizer.
    r = cli({"trace", m_hfTok, "--prompt", "Once upon a time", "-o", p, "--name", "hf-tok"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    if (!m_haveH5py) QSKIP("python3 with h5py not available: contents not checked");
    const nlohmann::json t = readTrace(p, "trace-1");
    const std::vector<int32_t> ids = t["ids"].get<std::vector<int32_t>>();
    QCOMPARE(int(ids.size()), 10);
    QCOMPARE(std::vector<int32_t>(ids.begin(), ids.begin() + 5),
             (std::vector<int32_t>{1, 403, 407, 261, 378}));
    QCOMPARE(t["attrs"]["n_prompt_tokens"].get<int>(), 5);
    QCOMPARE(t["attrs"]["prompt"].get<std::string>(), std::string("Once upon a time"));
    QCOMPARE(t["offsets"][0].get<std::vector<int>>(), (std::vector<int>{-1, -1}));
    QCOMPARE(t["offsets"][4][1].get<int>(), 16);
    for (int i = 5; i < 10; ++i)
        QCOMPARE(t["offsets"][size_t(i)].get<std::vector<int>>(), (std::vector<int>{-1, -1}));
    r = runProgram(kPython, {kChecker, "--values", p});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
}

void TestCli::checkProjectFile(const QString &project)
{
    const Run r = runProgram(kPython, {kChecker, "--values", project});
    QVERIFY2(r.code == 0, qPrintable(project + ": " + r.describe()));
}

void TestCli::checkHlproj()
{
    if (!m_haveH5py) QSKIP("python3 with h5py not available: check_hlproj.py not run");
    QVERIFY2(QFileInfo::exists(kChecker), qPrintable(kChecker + " is missing"));
    const QString p = path("check.hlproj");
    const QStringList base = {"trace", m_hf, "--token-ids", idList(m_ids), "-o", p};
    const QList<QStringList> variants = {
        {},
        {"--attention", "none", "--residuals", "none"},
        {"--attention", "f32", "--residuals", "f32", "--store-z"},
        {"--store-z", "--topk", "1"},
        {"--lens-norm", "unit", "--lens-decoder", "quadratic", "--generate", "3"},
        {"--lens-norm", "none", "--lens-decoder", "linear", "--dtype", "f32"},
        // over the attention budget: stored sparsely (attention/sparse), checked with --values
        {"--attention-budget", "0", "--generate", "20"},
        {"--attention", "f32", "--attention-budget", "0.000001"},
    };
    for (const QStringList &v : variants) {
        const Run r = cli(base + v);
        QVERIFY2(r.code == 0, qPrintable(v.join(' ') + ": " + r.describe()));
    }
    QVERIFY2(cli({"trace", m_l2c, "--token-ids", "1,2,3", "-o", p}).code == 0, "llama2.c trace");
    checkProjectFile(p);
    checkProjectFile(m_good);
}

std::vector<BadCase> TestCli::badCases() const
{
    // Each case gets its own folder %D holding a copy of the good project (proj.hlproj).
    const std::string hf = m_hf.toStdString();
    const LlamaWeights w = m_w;
    auto copyModel = [hf](const QString &dir) {
        QDir().mkpath(dir + "/m");
        for (const QString &f : QDir(QString::fromStdString(hf)).entryList(QDir::Files))
            copyFile(QString::fromStdString(hf) + "/" + f, dir + "/m/" + f);
    };
    auto editHeader = [](const QString &file, const std::function<void(nlohmann::json &)> &edit) {
        std::vector<uint8_t> b = readFileBytes(file.toStdString());
        uint64_t n;
        std::memcpy(&n, b.data(), 8);
        nlohmann::json hj =
            nlohmann::json::parse(std::string(b.begin() + 8, b.begin() + 8 + long(n)));
        edit(hj);
        std::string s = hj.dump();
        while (s.size() % 8)
            s.push_back(' ');
        const uint64_t m = s.size();
        std::vector<uint8_t> out(8);
        std::memcpy(out.data(), &m, 8);
        out.insert(out.end(), s.begin(), s.end());
        out.insert(out.end(), b.begin() + 8 + long(n), b.end());
        writeFileBytes(file.toStdString(), out.data(), out.size());
    };
    const QStringList traceM = {"trace", "%D/m", "--token-ids", "1,5,9", "-o", "%D/proj.hlproj"};
    const QString ids = idList(m_ids);
    std::vector<BadCase> c;
    c.push_back({"missing model",
                 nullptr,
                 {"trace", "%D/no-such-model", "--token-ids", "1,2", "-o", "%D/proj.hlproj"},
                 {"no-such-model"}});
    c.push_back({"broken config.json",
                 [=](const QString &d) {
                     copyModel(d);
                     writeTextFile((d + "/m/config.json").toStdString(), "{ \"hidden_size\": 32,");
                 },
                 traceM,
                 {"config.json"}});
    c.push_back({"config missing a field",
                 [=](const QString &d) {
                     copyModel(d);
                     auto j = nlohmann::json::parse(hfConfigJson(w.config));
                     j.erase("num_hidden_layers");
                     writeTextFile((d + "/m/config.json").toStdString(), j.dump());
                 },
                 traceM,
                 {"num_hidden_layers"}});
    c.push_back({"config value out of range (1e999)",
                 [=](const QString &d) {
                     copyModel(d);
                     auto j = nlohmann::json::parse(hfConfigJson(w.config));
                     j["rms_norm_eps"] = "OVERFLOW";
                     std::string text = j.dump();
                     text.replace(text.find("\"OVERFLOW\""), 10, "1e999");
                     writeTextFile((d + "/m/config.json").toStdString(), text);
                 },
                 traceM,
                 {"1e999"}});
    c.push_back({"output is a symbolic link loop",
                 [=](const QString &d) {
                     copyModel(d);
                     QFile::link(d + "/loop-b", d + "/loop-a");
                     QFile::link(d + "/loop-a", d + "/loop-b");
                 },
                 {"trace", "%D/m", "--token-ids", "1,5,9", "-o", "%D/loop-a"},
                 {"symbolic links"}});
    // Found by tests/python/test_servefuzz.py: serve called this (and an empty output path) an
    // internal error, with HDF5's message.
    c.push_back({"output in a folder that does not exist",
                 nullptr,
                 {"trace", m_hf, "--token-ids", "1,5,9", "-o", "%D/missing/proj.hlproj"},
                 {"missing does not exist"}});
    // Special files are refused before they are opened: a FIFO would block, a device never end.
    auto fifo = [](const QString &d) {
        QVERIFY2(::mkfifo(qPrintable(d + "/fifo"), 0600) == 0, "mkfifo");
    };
    c.push_back({"prompt file is a FIFO",
                 fifo,
                 {"trace", m_hf, "--prompt-file", "%D/fifo", "-o", "%D/proj.hlproj"},
                 {"not a regular file"}});
    c.push_back({"prompt file is /dev/zero",
                 nullptr,
                 {"trace", m_hf, "--prompt-file", "/dev/zero", "-o", "%D/proj.hlproj"},
                 {"not a regular file"}});
    c.push_back({"prompt file is a folder",
                 nullptr,
                 {"trace", m_hf, "--prompt-file", "%D", "-o", "%D/proj.hlproj"},
                 {"is a folder"}});
    c.push_back(
        {"tokenizer is /dev/zero",
         nullptr,
         {"trace", m_hf, "--tokenizer", "/dev/zero", "--prompt", "hi", "-o", "%D/proj.hlproj"},
         {"not a regular file"}});
    c.push_back({"project is a FIFO", fifo, {"info", "%D/fifo"}, {"not a regular file"}});
    c.push_back({"model file is a FIFO",
                 fifo,
                 {"trace", "%D/fifo", "--token-ids", "1,2", "--tokenizer", "%D/fifo", "-o",
                  "%D/proj.hlproj"},
                 {"fifo"}});
    c.push_back({"config value of 100 KB",
                 [=](const QString &d) {
                     copyModel(d);
                     auto j = nlohmann::json::parse(hfConfigJson(w.config));
                     j["architectures"] = {std::string(100000, 'x')};
                     writeTextFile((d + "/m/config.json").toStdString(), j.dump());
                 },
                 traceM,
                 {"not supported"}});
    // A NaN in a weight: the pass says where the numbers stop being finite instead of
    // tracing NaN (generate used to print "0 0 0 0").
    auto poison = [](const QString &file, const std::string &tensor) {
        std::vector<uint8_t> b = readFileBytes(file.toStdString());
        uint64_t n;
        std::memcpy(&n, b.data(), 8);
        const auto h = nlohmann::json::parse(std::string(b.begin() + 8, b.begin() + 8 + long(n)));
        const size_t at = 8 + n + h.at(tensor).at("data_offsets").at(0).get<size_t>();
        const float nan = std::numeric_limits<float>::quiet_NaN();
        std::memcpy(b.data() + at, &nan, sizeof nan); // the test model is f32
        writeFileBytes(file.toStdString(), b.data(), b.size());
    };
    c.push_back({"a NaN weight in layer 1",
                 [=](const QString &d) {
                     copyModel(d);
                     poison(d + "/m/model.safetensors", "model.layers.1.mlp.up_proj.weight");
                 },
                 traceM,
                 {"not finite) at layer 1", "stop being finite (NaN or infinity) at layer 1"}});
    c.push_back({"generate with a NaN in the output matrix",
                 [=](const QString &d) {
                     copyModel(d);
                     poison(d + "/m/model.safetensors", "lm_head.weight");
                 },
                 {"generate", "%D/m", "--token-ids", "1,5,9", "-n", "4"},
                 {"logits are not finite"}});
    // Config and weights that disagree are refused, naming both sides.
    c.push_back({"config counts fewer layers than the weights hold",
                 [=](const QString &d) {
                     copyModel(d);
                     auto j = nlohmann::json::parse(hfConfigJson(w.config));
                     j["num_hidden_layers"] = 1; // the weights hold 2
                     writeTextFile((d + "/m/config.json").toStdString(), j.dump());
                 },
                 traceM,
                 {"the config and the weights disagree"}});
    c.push_back({"a shard's tensor missing from weight_map",
                 [=](const QString &d) {
                     HfWriteOptions o;
                     o.shards = 2;
                     writeHfFolder((d + "/m").toStdString(), w, o);
                     const std::string index =
                         (d + "/m/model.safetensors.index.json").toStdString();
                     const std::vector<uint8_t> b = readFileBytes(index);
                     auto j = nlohmann::json::parse(std::string(b.begin(), b.end()));
                     j["weight_map"].erase("model.norm.weight");
                     writeTextFile(index, j.dump());
                 },
                 traceM,
                 {"missing from the weight_map"}});
    c.push_back({"a tokenizer of another model (512 of 1024 tokens)",
                 [=](const QString &d) {
                     // A 1024-token model, and a tokenizer.bin of 512 tokens.
                     writeHfFolder((d + "/big").toStdString(),
                                   randomLlama(llamaConfig(1, 32, 4, 2, 64, 1024, 64), 7));
                 },
                 {"trace", "%D/big", "--tokenizer",
                  QStringLiteral(HEADLENS_SOURCE_DIR "/resources/examples/stories260K/tok512.bin"),
                  "--prompt", "Once", "-o", "%D/proj.hlproj"},
                 {"do not belong to the same model"}});
    c.push_back({"config.json followed by a NUL byte and garbage",
                 [=](const QString &d) {
                     copyModel(d);
                     QFile f(d + "/m/config.json");
                     QVERIFY(f.open(QIODevice::Append));
                     f.write(QByteArray("\0{garbage", 9));
                 },
                 traceM,
                 {"NUL byte"}});
    c.push_back({"safetensors data with bytes that belong to no tensor",
                 [=](const QString &d) {
                     copyModel(d);
                     QFile f(d + "/m/model.safetensors");
                     QVERIFY(f.open(QIODevice::Append));
                     f.write(QByteArray(64, '\x7f'));
                 },
                 traceM,
                 {"belong to none"}});
    c.push_back(
        {"a prompt that is not UTF-8",
         nullptr,
         {"trace",
          QStringLiteral(HEADLENS_SOURCE_DIR "/resources/examples/stories260K/stories260K.bin"),
          "--tokenizer",
          QStringLiteral(HEADLENS_SOURCE_DIR "/resources/examples/stories260K/tok512.bin"),
          "--prompt-file", "%D/prompt.txt", "-o", "%D/proj.hlproj"},
         {"not valid UTF-8: byte 5"}});
    c.back().setup = [](const QString &d) {
        QFile f(d + "/prompt.txt");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("Once \xff upon a time");
    };
    c.push_back({"vocab.json with every id 0",
                 [=](const QString &d) {
                     copyModel(d);
                     writeTextFile((d + "/m/vocab.json").toStdString(),
                                   "{\"a\": 0, \"b\": 0, \"ab\": 0}");
                     writeTextFile((d + "/m/merges.txt").toStdString(), "#version: 0.2\na b\n");
                 },
                 {"trace", "%D/m", "--tokenizer", "%D/m/vocab.json", "--prompt", "ab", "-o",
                  "%D/proj.hlproj"},
                 {"have the same id 0"}});
    c.push_back({"unsupported architecture",
                 [=](const QString &d) {
                     copyModel(d);
                     auto j = nlohmann::json::parse(hfConfigJson(w.config));
                     j["architectures"] = {"MambaForCausalLM"};
                     j["model_type"] = "mamba";
                     writeTextFile((d + "/m/config.json").toStdString(), j.dump());
                 },
                 traceM,
                 {"MambaForCausalLM", "mamba"}});
    c.push_back({"truncated safetensors",
                 [=](const QString &d) {
                     copyModel(d);
                     QFile f(d + "/m/model.safetensors");
                     f.resize(f.size() / 2);
                 },
                 traceM,
                 {"model.safetensors"}});
    c.push_back({"safetensors header cut short",
                 [=](const QString &d) {
                     copyModel(d);
                     QFile f(d + "/m/model.safetensors");
                     f.resize(100);
                 },
                 traceM,
                 {"model.safetensors"}});
    c.push_back({"safetensors header inconsistent with sizes",
                 [=](const QString &d) {
                     copyModel(d);
                     editHeader(d + "/m/model.safetensors", [](nlohmann::json &h) {
                         auto &e = h["model.embed_tokens.weight"];
                         e["shape"] = {e["shape"][0], e["shape"][1].get<int>() * 2};
                     });
                 },
                 traceM,
                 {"model.safetensors", "embed_tokens"}});
    c.push_back({"safetensors offsets beyond the file",
                 [=](const QString &d) {
                     copyModel(d);
                     editHeader(d + "/m/model.safetensors", [](nlohmann::json &h) {
                         auto &e = h["model.norm.weight"];
                         e["data_offsets"][1] = e["data_offsets"][1].get<int64_t>() + 1000000;
                     });
                 },
                 traceM,
                 {"model.safetensors", "model.norm.weight"}});
    c.push_back({"tensor with the wrong shape",
                 [=](const QString &d) {
                     QDir().mkpath(d + "/m");
                     writeHfFolder((d + "/m").toStdString(), w);
                     editHeader(d + "/m/model.safetensors", [](nlohmann::json &h) {
                         auto &e = h["model.layers.1.mlp.gate_proj.weight"];
                         const auto s = e["shape"];
                         e["shape"] = {s[1], s[0]}; // same size, transposed shape
                     });
                 },
                 traceM,
                 {"gate_proj"}});
    c.push_back({"missing tensor",
                 [=](const QString &d) {
                     QDir().mkpath(d + "/m");
                     writeTextFile((d + "/m/config.json").toStdString(), hfConfigJson(w.config));
                     auto t = hfTensors(w);
                     t.erase(std::remove_if(t.begin(), t.end(),
                                            [](const HfTensor &x) {
                                                return x.name ==
                                                       "model.layers.1.self_attn.v_proj.weight";
                                            }),
                             t.end());
                     writeSafetensors((d + "/m/model.safetensors").toStdString(), t, "F32");
                 },
                 traceM,
                 {"model.layers.1.self_attn.v_proj.weight"}});
    c.push_back({"missing shard",
                 [=](const QString &d) {
                     HfWriteOptions o;
                     o.shards = 2;
                     writeHfFolder((d + "/m").toStdString(), w, o);
                     QFile::remove(d + "/m/model-00002-of-00002.safetensors");
                 },
                 traceM,
                 {"model-00002-of-00002.safetensors"}});
    c.push_back({"pytorch_model.bin only",
                 [=](const QString &d) {
                     QDir().mkpath(d + "/m");
                     writeTextFile((d + "/m/config.json").toStdString(), hfConfigJson(w.config));
                     writeTextFile((d + "/m/pytorch_model.bin").toStdString(),
                                   std::string("PK\x03\x04 not really a pickle"));
                 },
                 traceM,
                 {"pytorch_model.bin"}});
    c.push_back({"empty folder",
                 [](const QString &d) { QDir().mkpath(d + "/m"); },
                 traceM,
                 {"config.json", "/m"}});
    c.push_back({"truncated llama2.c file",
                 [=](const QString &d) {
                     writeLlama2c((d + "/m.bin").toStdString(), w, 0);
                     QFile f(d + "/m.bin");
                     f.resize(f.size() - 999);
                 },
                 {"trace", "%D/m.bin", "--token-ids", "1,2", "-o", "%D/proj.hlproj"},
                 {"m.bin"}});
    c.push_back({"token id >= vocab",
                 nullptr,
                 {"trace", m_hf, "--token-ids", "1,5,61", "-o", "%D/proj.hlproj"},
                 {"61"}});
    c.push_back({"negative token id",
                 nullptr,
                 {"trace", m_hf, "--token-ids", "1,-5", "-o", "%D/proj.hlproj"},
                 {"-5"}});
    c.push_back({"token ids not numbers",
                 nullptr,
                 {"trace", m_hf, "--token-ids", "1,x7", "-o", "%D/proj.hlproj"},
                 {"x7"}});
    QStringList many;
    for (int i = 0; i < 65; ++i)
        many << "5";
    c.push_back({"prompt longer than the context",
                 nullptr,
                 {"trace", m_hf, "--token-ids", many.join(','), "-o", "%D/proj.hlproj"},
                 {"65", "64"}});
    c.push_back({"generation beyond the context",
                 nullptr,
                 {"trace", m_hf, "--token-ids", QStringList(many.mid(0, 60)).join(','),
                  "--generate", "10", "-o", "%D/proj.hlproj"},
                 {"64", "70"}});
    c.push_back({"prompt text without a tokenizer",
                 nullptr,
                 {"trace", m_hf, "--prompt", "hello", "-o", "%D/proj.hlproj"},
                 {"tokenizer"}});
    c.push_back({"project is not HDF5",
                 [](const QString &d) {
                     writeTextFile((d + "/proj.hlproj").toStdString(), "just some text\n");
                 },
                 {"trace", m_hf, "--token-ids", ids, "-o", "%D/proj.hlproj"},
                 {"proj.hlproj"}});
    c.push_back({"info: project is not HDF5",
                 [](const QString &d) {
                     writeTextFile((d + "/proj.hlproj").toStdString(), "just some text\n");
                 },
                 {"info", "%D/proj.hlproj"},
                 {"proj.hlproj"}});
    c.push_back({"truncated project",
                 [](const QString &d) {
                     QFile f(d + "/proj.hlproj");
                     f.resize(f.size() / 2);
                 },
                 {"trace", m_hf, "--token-ids", ids, "-o", "%D/proj.hlproj"},
                 {"proj.hlproj"}});
    c.push_back({"info: truncated project",
                 [](const QString &d) {
                     QFile f(d + "/proj.hlproj");
                     f.resize(f.size() / 2);
                 },
                 {"info", "%D/proj.hlproj"},
                 {"proj.hlproj"}});
    const QString py = kPython;
    auto schema2 = [py](const QString &d) {
        runProgram(py, {"-c",
                        "import sys, h5py\n"
                        "f = h5py.File(sys.argv[1], 'r+')\n"
                        "f.attrs['schema_version'] = 2\n"
                        "f.close()\n",
                        d + "/proj.hlproj"});
    };
    c.push_back({"project of schema version 2",
                 schema2,
                 {"trace", m_hf, "--token-ids", ids, "-o", "%D/proj.hlproj"},
                 {"proj.hlproj"},
                 true});
    c.push_back({"info: project of schema version 2",
                 schema2,
                 {"info", "%D/proj.hlproj"},
                 {"proj.hlproj"},
                 true});
    c.push_back({"export: project of schema version 2",
                 schema2,
                 {"export", "%D/proj.hlproj", "--trace", "trace-1", "--what", "tokens"},
                 {"proj.hlproj"},
                 true});
    c.push_back({"trace name already taken",
                 nullptr,
                 {"trace", m_hf, "--token-ids", ids, "-o", "%D/proj.hlproj", "--name", "trace-1"},
                 {"trace-1"}});
    c.push_back({"info: missing project", nullptr, {"info", "%D/none.hlproj"}, {"none.hlproj"}});
    // An export never replaces the project it reads, nor another HDF5 file.
    c.push_back({"export onto its own project",
                 nullptr,
                 {"export", "%D/proj.hlproj", "--trace", "trace-1", "--what", "tokens", "-o",
                  "%D/proj.hlproj"},
                 {"is the project being read"}});
    c.push_back({"export onto another project",
                 [=](const QString &d) { copyFile(m_good, d + "/other.hlproj"); },
                 {"export", "%D/other.hlproj", "--trace", "trace-1", "--what", "lens", "-o",
                  "%D/proj.hlproj"},
                 {"is an HDF5 file"}});
    BadCase fresh{"bad model, new project",
                  [=](const QString &d) {
                      copyModel(d);
                      writeTextFile((d + "/m/config.json").toStdString(), "not json");
                  },
                  {"trace", "%D/m", "--token-ids", "1,2", "-o", "%D/new.hlproj"},
                  {"config.json"}};
    fresh.projectMustNotAppear = true;
    c.push_back(fresh);
    return c;
}

void TestCli::badInput_data()
{
    QTest::addColumn<QString>("name");
    for (const BadCase &b : badCases())
        QTest::newRow(qPrintable(b.name)) << b.name;
}

void TestCli::badInput()
{
    QFETCH(QString, name);
    const std::vector<BadCase> cases = badCases();
    const auto it =
        std::find_if(cases.begin(), cases.end(), [&](const BadCase &b) { return b.name == name; });
    QVERIFY(it != cases.end());
    if (it->needsH5py && !m_haveH5py) QSKIP("python3 with h5py not available to make this project");

    const QString dir = path("bad-" + QString::number(it - cases.begin()));
    QDir(dir).removeRecursively();
    QVERIFY(QDir().mkpath(dir));
    const QString proj = dir + "/proj.hlproj";
    QVERIFY(copyFile(m_good, proj));
    if (it->setup) it->setup(dir);
    const QByteArray before = fileBytes(proj);
    const QStringList listing =
        QDir(dir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
    QStringList args = it->args;
    for (QString &a : args)
        a.replace("%D", dir);

    const Run r = cli(args);
    QVERIFY2(!r.crashed && !r.timedOut, qPrintable(r.describe()));
    QVERIFY2(r.code == 3, qPrintable("expected exit 3: " + r.describe()));
    const QStringList lines = nonEmptyLines(r.err);
    QVERIFY2(lines.size() == 1,
             qPrintable(QString("expected exactly one stderr line, got %1: ").arg(lines.size()) +
                        r.describe()));
    QVERIFY2(lines[0].startsWith("headlens-cli: error:"), qPrintable(r.describe()));
    QVERIFY2(lines[0].toUtf8().size() < 600, qPrintable("a long error line: " + r.describe()));
    qInfo("%s", qPrintable(lines[0]));
    bool mentioned = false;
    for (const QString &m : it->mentions)
        mentioned = mentioned || lines[0].contains(m);
    QVERIFY2(mentioned, qPrintable("the error does not mention any of [" + it->mentions.join(", ") +
                                   "]: " + lines[0]));
    QVERIFY2(fileBytes(proj) == before, "the existing project was changed");
    QCOMPARE(QDir(dir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             listing); // nothing left beside it
    if (it->projectMustNotAppear)
        QVERIFY2(!QFileInfo::exists(dir + "/new.hlproj"), "a failed trace created a project");
}

// A trace that needs more disk or memory than there is exits 3 with the figures before any
// heavy work, and leaves nothing behind. The disk is a 64 KB tmpfs (a 60-token trace of the
// test model is estimated at 460 kB); the memory, a memory cgroup (v1 or v2) limited to 150 MB,
// where the loaded engine leaves about 90 MB and the trace is estimated at 180 MB. Both need
// root; each part skips without it.
void TestCli::traceRefusesWhatCannotFit()
{
    std::vector<int32_t> ids;
    for (int i = 0; i < 60; ++i)
        ids.push_back(1 + (i * 7) % 60);
    int parts = 0;

    const QString small = path("small-disk");
    QVERIFY(QDir().mkpath(small));
    if (runProgram("mount", {"-t", "tmpfs", "-o", "size=64k", "tmpfs", small}).code == 0) {
        ++parts;
        const QString out = small + "/p.hlproj";
        const Run r = cli({"trace", m_hf, "--token-ids", idList(ids), "-o", out});
        // merge (and every whole-project save) measures first too: libhdf5 crashed when the
        // disk filled up under its object copy.
        const QString big = path("big-for-merge.hlproj");
        QVERIFY(copyFile(m_good, big));
        const Run merge =
            cli({"trace", m_hf, "--token-ids", idList(ids), "-o", big, "--name", "long"});
        QVERIFY2(merge.code == 0, qPrintable(merge.describe()));
        const Run m = cli({"merge", "-o", small + "/m.hlproj", big});
        const QStringList left = QDir(small).entryList(QDir::Files | QDir::Hidden);
        runProgram("umount", {small});
        QVERIFY2(r.code == 3, qPrintable(r.describe()));
        const QString err = QString::fromUtf8(r.err).trimmed();
        QVERIFY2(
            err.contains(QRegularExpression("^headlens-cli: error: the trace needs about "
                                            "\\d+ [kMG]B on " +
                                            QRegularExpression::escape(small) + ", \\d+ kB free")),
            qPrintable(err));
        QVERIFY2(left.isEmpty(), qPrintable(left.join(", ")));
        qInfo("%s", qPrintable(err));
        QVERIFY2(m.code == 3 && !m.crashed && m.err.contains("needs about"),
                 qPrintable(m.describe()));
        qInfo("%s", m.err.trimmed().constData());
    }

    // This process's memory cgroup, and a child of it with a limit. Not for an engine built
    // with AddressSanitizer (tests/sanitizers/run.sh ENGINE=1), whose shadow memory alone
    // passes 150 MB: the kernel kills it before it can estimate anything.
#ifdef __SANITIZE_ADDRESS__
    const bool memoryPart = false;
#else
    const bool memoryPart = true;
#endif
    QFile self("/proc/self/cgroup");
    QString dir, limitFile;
    if (self.open(QIODevice::ReadOnly)) {
        for (const QString &line : QString::fromUtf8(self.readAll()).split('\n')) {
            const QStringList f = line.split(':');
            if (f.size() < 3) continue;
            if (f[1].split(',').contains("memory")) {
                dir = "/sys/fs/cgroup/memory" + f[2];
                limitFile = "memory.limit_in_bytes";
            } else if (f[1].isEmpty() && dir.isEmpty() &&
                       QFileInfo::exists("/sys/fs/cgroup/cgroup.controllers")) {
                dir = "/sys/fs/cgroup" + f[2];
                limitFile = "memory.max";
            }
        }
    }
    const QString child =
        dir + "/headlens-test-" + QString::number(QCoreApplication::applicationPid());
    if (memoryPart && !dir.isEmpty() && QDir().mkpath(child)) {
        QFile limit(child + "/" + limitFile);
        if (limit.open(QIODevice::WriteOnly) && limit.write("150000000") > 0 && limit.flush()) {
            limit.close();
            ++parts;
            const QString out = path("mem.hlproj");
            const Run r = runProgram(
                "sh", {"-c", "echo $$ > \"$1/cgroup.procs\" && shift && exec \"$@\"", "sh", child,
                       kCli, "trace", m_hf, "--token-ids", idList(ids), "-o", out});
            QVERIFY2(r.code == 3, qPrintable(r.describe()));
            const QString err = QString::fromUtf8(r.err).trimmed();
            QVERIFY2(err.contains(QRegularExpression(
                         "^headlens-cli: error: the trace needs about \\d+ MB of memory, "
                         "\\d+ MB available \\(60 tokens")),
                     qPrintable(err));
            QVERIFY(!QFileInfo::exists(out));
            qInfo("%s", qPrintable(err));
        }
        QDir().rmdir(child);
    }
    if (parts == 0) QSKIP("neither a tmpfs nor a memory cgroup could be made here (needs root)");
}

// batch over a prompts file, and the same file in three shards joined by merge, give the same
// traces in the same order with the same contents (everything export prints); a bad line is
// refused, with its line number, before anything is computed.
void TestCli::batchShardsMergeLikeOneBatch()
{
    const QString dir = path("batch");
    QVERIFY(QDir().mkpath(dir));
    const QString prompts = dir + "/prompts.jsonl";
    {
        QFile f(prompts);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"token_ids\": [1, 5, 9, 3]}\n"
                "\n"
                "{\"name\": \"named\", \"token_ids\": [2, 7, 7, 40, 11]}\n"
                "{\"token_ids\": [1, 22, 23]}\n"
                "{\"token_ids\": [9, 8, 7, 6, 5, 4]}\n"
                "{\"token_ids\": [3, 30]}\n");
    }
    const QStringList common{"--prompts", prompts, "--generate", "2", "--topk", "3"};
    Run r = cli(QStringList{"batch", m_hf, "-o", dir + "/all.hlproj"} + common);
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    QVERIFY2(r.err.contains("batch: [5/5] prompt-5: 4 tokens"), qPrintable(r.describe()));
    QStringList parts;
    for (int i = 0; i < 3; ++i) {
        parts << dir + QString("/part-%1.hlproj").arg(i);
        r = cli(QStringList{"batch", m_hf, "-o", parts.last(), "--shard", QString("%1/3").arg(i)} +
                common);
        QVERIFY2(r.code == 0, qPrintable(r.describe()));
    }
    r = cli(QStringList{"merge", "-o", dir + "/merged.hlproj"} + parts);
    QVERIFY2(r.code == 0, qPrintable(r.describe()));

    auto listing = [&](const QString &project) {
        const Run info = cli({"info", project, "--json"});
        QStringList names;
        const auto j = nlohmann::json::parse(info.out.toStdString(), nullptr, false);
        if (j.is_object() && j.contains("traces"))
            for (const auto &t : j["traces"])
                names << QString::fromStdString(t.value("name", ""));
        return names;
    };
    const QStringList names = listing(dir + "/all.hlproj");
    QCOMPARE(names, (QStringList{"prompt-1", "named", "prompt-3", "prompt-4", "prompt-5"}));
    QCOMPARE(listing(dir + "/merged.hlproj"), names);
    for (const QString &name : names) {
        for (const char *what : {"tokens", "lens", "logits", "heads", "attention"}) {
            const QStringList args{"--trace", name, "--what", what, "--format", "json"};
            const Run one = cli(QStringList{"export", dir + "/all.hlproj"} + args);
            const Run merged = cli(QStringList{"export", dir + "/merged.hlproj"} + args);
            QVERIFY2(one.code == 0 && !one.out.isEmpty(), qPrintable(one.describe()));
            QVERIFY2(one.out == merged.out, qPrintable(name + " " + what + " differs"));
        }
    }

    // Merging refuses two parts with the same trace; batch refuses a bad line up front.
    r = cli({"merge", "-o", dir + "/twice.hlproj", parts[1], parts[1]});
    QVERIFY2(r.code == 3 && r.err.contains("is in both"), qPrintable(r.describe()));
    QVERIFY(!QFileInfo::exists(dir + "/twice.hlproj"));
    {
        QFile f(prompts);
        QVERIFY(f.open(QIODevice::Append));
        f.write("{\"token_ids\": [1, 99999]}\n");
    }
    const QString existing = dir + "/existing.hlproj";
    QVERIFY(copyFile(m_good, existing));
    const QByteArray before = fileBytes(existing);
    r = cli(QStringList{"batch", m_hf, "-o", existing} + common);
    QVERIFY2(r.code == 3 && r.err.contains("prompts.jsonl:7: token id 99999"),
             qPrintable(r.describe()));
    QCOMPARE(fileBytes(existing), before);
    QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden).filter(".tmp-"), QStringList());
}

// kill -9 at 20 moments spread over appending a trace (loading, tracing layer by layer into
// the file beside the project, copying it in, renaming) always leaves the project as it was or
// with the new trace complete: every trace it lists reads whole, and it still takes traces.
// serve answers a request whose "cmd" is not a string with a usage error and goes on (a
// JSON type error in its reader thread used to abort the engine).
void TestCli::serveRefusesNonStringCommands()
{
    QProcess p;
    p.start(kCli, {"serve"});
    QVERIFY(p.waitForStarted(30000));
    p.write("{\"id\":1,\"cmd\":5}\n{\"id\":2,\"cmd\":null}\n{\"id\":3,\"cmd\":[\"hello\"]}\n"
            "[1]\n{\"id\":5,\"cmd\":\"hello\"}\n");
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 0);
    int refused = 0, hello = 0;
    for (const QByteArray &line : p.readAllStandardOutput().split('\n')) {
        const auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
        if (!j.is_object() || j.contains("event")) continue;
        if (j.value("ok", true) == false && j.value("kind", "") == "usage") ++refused;
        if (j.value("ok", false) == true && j.value("id", 0) == 5) ++hello;
    }
    QCOMPARE(refused, 4);
    QCOMPARE(hello, 1);
}

// serve refuses what the command line refuses: counts out of range or not whole numbers.
void TestCli::serveKeepsTheCommandLinesLimits()
{
    QProcess p;
    p.start(kCli, {"serve"});
    QVERIFY(p.waitForStarted(30000));
    const QByteArray out = path("limits.hlproj").toUtf8();
    p.write("{\"id\":1,\"cmd\":\"load\",\"model\":\"" + m_hf.toUtf8() + "\"}\n");
    p.write("{\"id\":2,\"cmd\":\"generate\",\"token_ids\":[1,5],\"n\":-3}\n");
    p.write("{\"id\":3,\"cmd\":\"generate\",\"token_ids\":[1,5],\"n\":1e300}\n");
    p.write("{\"id\":4,\"cmd\":\"trace\",\"token_ids\":[1,5],\"topk\":2147483647,\"output\":\"" +
            out + "\"}\n");
    p.write("{\"id\":5,\"cmd\":\"decompose\",\"token_ids\":[1,5],\"layer\":0,\"pos\":1,"
            "\"steps\":2147483647}\n");
    p.write("{\"id\":6,\"cmd\":\"generate\",\"token_ids\":[1,5],\"n\":2}\n");
    // Floats where whole numbers belong are refused, not converted (1e300 as an int is undefined).
    p.write("{\"id\":7,\"cmd\":\"decompose\",\"token_ids\":[1,5],\"layer\":1e300,\"pos\":1}\n");
    p.write("{\"id\":8,\"cmd\":\"generate\",\"token_ids\":[1,2.5e40],\"n\":1}\n");
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    std::map<int, nlohmann::json> answers;
    for (const QByteArray &line : p.readAllStandardOutput().split('\n')) {
        const auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
        if (j.is_object() && !j.contains("event") && j.contains("id") && j["id"].is_number())
            answers[j["id"].get<int>()] = j;
    }
    QVERIFY(answers[1].value("ok", false));
    for (int id : {2, 3, 4, 5, 7, 8}) {
        QVERIFY2(
            answers[id].value("kind", "") == "usage",
            qPrintable(QString::number(id) + ": " + QString::fromStdString(answers[id].dump())));
        QVERIFY(answers[id].value("error", "").find("must be a whole number from") !=
                std::string::npos);
    }
    QVERIFY(answers[6].value("ok", false));
    QCOMPARE(answers[6]["result"]["ids"].size(), size_t(2));
    QVERIFY(!QFileInfo::exists(QString::fromUtf8(out)));
}

void TestCli::killedAppendsLeaveOldTracesReadable()
{
    const QString dir = path("kills");
    QVERIFY(QDir().mkpath(dir));
    const QString project = dir + "/p.hlproj";
    QVERIFY(copyFile(m_good, project));
    std::vector<int32_t> ids;
    for (int i = 0; i < 60; ++i)
        ids.push_back(1 + (i * 13) % 60);
    // How long one append takes here, to spread the kills over it.
    QElapsedTimer clock;
    clock.start();
    Run r = cli(
        {"trace", m_hf, "--token-ids", idList(ids), "-o", project, "--store-z", "--name", "timed"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
    const qint64 full = std::max<qint64>(clock.elapsed(), 50);
    int finished = 0;
    for (int k = 0; k < 20; ++k) {
        QProcess p;
        p.start(kCli, {"trace", m_hf, "--token-ids", idList(ids), "-o", project, "--store-z",
                       "--name", QString("k%1").arg(k)});
        QVERIFY(p.waitForStarted(30000));
        QTest::qSleep(int(full * (k + 1) / 21));
        if (p.state() == QProcess::Running) {
            ::kill(pid_t(p.processId()), SIGKILL);
            p.waitForFinished(30000);
        } else {
            p.waitForFinished(30000);
            ++finished;
        }
        // Every trace the project lists reads whole, the first one as it was.
        const Run info = cli({"info", project, "--json"});
        QVERIFY2(info.code == 0, qPrintable(QString("after kill %1: ").arg(k) + info.describe()));
        const auto j = nlohmann::json::parse(info.out.toStdString(), nullptr, false);
        QVERIFY(j.is_object() && j.contains("traces"));
        for (const auto &t : j["traces"]) {
            const QString name = QString::fromStdString(t.value("name", ""));
            const Run e = cli({"export", project, "--trace", name, "--what", "attention"});
            QVERIFY2(
                e.code == 0 && !e.out.isEmpty(),
                qPrintable(QString("after kill %1, trace %2: ").arg(k).arg(name) + e.describe()));
        }
    }
    qInfo("%d of 20 appends finished before their kill", finished);
    r = cli({"trace", m_hf, "--token-ids", idList(m_ids), "-o", project, "--name", "after"});
    QVERIFY2(r.code == 0, qPrintable(r.describe()));
}

// An error is one line of a few hundred bytes, on the command line and from serve, however
// long the value it is about (a 100 KB config value, a 20 KB path); its end, which says what
// to do, is kept.
void TestCli::errorsAreOneShortLine()
{
    const QString dir = path("longerror");
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(QFile::copy(m_hf + "/model.safetensors", dir + "/model.safetensors"));
    QFile cfgIn(m_hf + "/config.json");
    QVERIFY(cfgIn.open(QIODevice::ReadOnly));
    auto cfg = nlohmann::json::parse(cfgIn.readAll().toStdString());
    cfg["torch_dtype"] = std::string(100000, 'x');
    cfg["num_hidden_layers"] = std::string(100000, 'y');
    QFile cfgOut(dir + "/config.json");
    QVERIFY(cfgOut.open(QIODevice::WriteOnly));
    cfgOut.write(QByteArray::fromStdString(cfg.dump()));
    cfgOut.close();
    const Run r = cli({"trace", dir, "--token-ids", "1,2", "-o", path("longerror.hlproj")});
    QCOMPARE(r.code, 3);
    const QString err = r.err.trimmed();
    QVERIFY2(err.size() < 600 && !err.contains('\n') && err.contains("num_hidden_layers"),
             qPrintable(err.left(700)));

    QProcess p;
    p.start(kCli, {"serve"});
    QVERIFY(p.waitForStarted(30000));
    const QByteArray longPath = "/no/such/" + QByteArray(20000, 'z');
    p.write("{\"id\":1,\"cmd\":\"load\",\"model\":\"" + longPath + "\"}\n");
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(60000));
    bool answered = false;
    for (const QByteArray &line : p.readAllStandardOutput().split('\n')) {
        const auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
        if (!j.is_object() || j.contains("event") || j.value("id", 0) != 1) continue;
        answered = true;
        const std::string e = j.value("error", "");
        QVERIFY2(!e.empty() && e.size() < 600 && e.find("bytes left out") != std::string::npos,
                 e.substr(0, 700).c_str());
    }
    QVERIFY(answered);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
