// Tests of modules/project: .hlproj round trips, atomic saves, lazy reads and refusals of bad
// files. Hand-made traces are tiny (L=2, H=2, T=3, K=2, D=4, dh=2) with distinct values;
// broken files are made with the HDF5 C API directly.

#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/trace/float16.h"
#include "headlens/trace/version.h"

#include <hdf5.h>

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tuple>
#include <unistd.h>

using namespace HeadLens;

namespace {

constexpr int64_t kL = 2, kH = 2, kT = 3, kK = 2, kD = 4, kDh = 2;
constexpr double kF16Tolerance = 1e-3; // relative

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

void fill(FloatArray &a, std::vector<int64_t> shape, float base, float step = 0.0123f)
{
    a.reset(std::move(shape));
    for (size_t i = 0; i < a.size(); ++i)
        a.data[i] = base + step * float(i);
}

void fill(IntArray &a, std::vector<int64_t> shape, int base)
{
    a.reset(std::move(shape));
    for (size_t i = 0; i < a.size(); ++i)
        a.data[i] = base + int(i);
}

struct Storage {
    StoreType attention = StoreType::F16;
    StoreType residual = StoreType::F32;
    StoreType z = StoreType::F16;
};

// A trace with every field set to a distinct, plausible value (probabilities in [0, 1], ids
// below vocab_size), so check_hlproj.py --values accepts it. seed in [0, 0.05) shifts values.
// It also defines the content of the committed fixture data/v1.hlproj: do not change it.
Trace makeTrace(const std::string &name, float seed = 0.0f, Storage storage = {})
{
    Trace t;
    t.name = name;
    t.prompt = "Hé ↵世界"; // 6 code points
    t.modelName = "tiny-gpt";
    t.modelPath = "/models/tiny-gpt";
    t.modelFingerprint = "sha256:0123abcd";
    ModelConfig &c = t.config;
    c.architecture = "gpt2";
    c.nLayers = int(kL);
    c.nHeads = int(kH);
    c.nKvHeads = 1;
    c.dModel = int(kD);
    c.dHead = int(kDh);
    c.dFfn = 16;
    c.vocabSize = 50;
    c.maxSeqLen = 128;
    c.ropeTheta = 500000.5;
    c.ropeScaling = 2.0;
    c.normEps = 1e-6;
    c.tiedEmbeddings = true;
    c.attnBias = true;
    c.attnOutBias = false;
    c.mlpBias = true;
    c.bosId = 1;
    c.eosId = 2;
    t.lensNorm = LensNorm::Unit;
    t.lensDecoder = LensDecoder::Linear;
    t.topk = int(kK);
    t.computeDtype = "bf16";
    t.created = "2026-01-02T03:04:05Z";
    t.appVersion = "0.0.9-test";
    t.nPromptTokens = 2;
    t.tokens = {{1, "<s>", -1, -1}, {7, "Hé", 0, 2}, {9, " ↵世界", 2, 6}};

    for (Site s : {Site::ResidPre, Site::MlpOut, Site::ResidPost}) {
        const int i = int(s);
        LensSite &l = t.lens[size_t(i)];
        fill(l.topkIds, {kL, kT, kK}, 3 + 2 * i);
        fill(l.topkProbs, {kL, kT, kK}, 0.05f + seed + 0.01f * float(i), 0.0371f);
        fill(l.entropy, {kL, kT}, 1.5f + seed + 0.1f * float(i));
    }
    fill(t.logitsTopkIds, {kT, kK}, 20);
    fill(t.logitsTopkProbs, {kT, kK}, 0.1f + seed, 0.05f);
    fill(t.logitsEntropy, {kT}, 2.25f + seed);
    fill(t.contribNorm, {kL, kH, kT}, 10.0f + seed);
    fill(t.contribCosine, {kL, kH, kT}, -0.5f + seed, 0.07f);
    fill(t.contribProjection, {kL, kH, kT}, -3.0f + seed, 0.31f);
    fill(t.attnEntropy, {kL, kH, kT}, 0.75f + seed);
    fill(t.valueNorm, {kL, kH, kT}, 5.0f + seed, 0.17f);

    t.attentionStore = storage.attention;
    if (storage.attention != StoreType::None)
        fill(t.attentionPattern, {kL, kH, kT, kT}, 0.02f + seed, 0.025f);
    t.residualStore = storage.residual;
    if (storage.residual != StoreType::None) {
        fill(t.residual[size_t(Site::ResidPre)], {kL, kT, kD}, -1.0f + seed, 0.083f);
        fill(t.residual[size_t(Site::ResidPost)], {kL, kT, kD}, 4.0f + seed, -0.21f);
    }
    t.zStore = storage.z;
    if (storage.z != StoreType::None) fill(t.z, {kL, kT, kH, kDh}, 0.3f + seed, 0.047f);
    return t;
}

double toleranceFor(StoreType s)
{
    return s == StoreType::F16 ? kF16Tolerance : 0.0;
}

template <typename T>
QString diffArray(const QString &what, const Array<T> &want, const Array<T> &got, double relTol = 0)
{
    if (want.shape != got.shape)
        return QString("%1: shape %2, expected %3")
            .arg(what, q(shapeString(got.shape)), q(shapeString(want.shape)));
    if (want.data.size() != got.data.size()) return what + ": data size differs from shape";
    for (size_t i = 0; i < want.data.size(); ++i) {
        const double w = double(want.data[i]), g = double(got.data[i]);
        const bool same = relTol == 0 ? w == g : std::abs(w - g) <= relTol * std::abs(w);
        if (!same)
            return QString("%1[%2]: %3, expected %4")
                .arg(what)
                .arg(i)
                .arg(g, 0, 'g', 9)
                .arg(w, 0, 'g', 9);
    }
    return {};
}

// Empty when got matches want. full: lens and large data must be loaded too; else (lazy
// readTrace) they must be empty while the StoreTypes still say what the file holds.
QString diffTrace(const Trace &want, const Trace &got, bool full)
{
    auto str = [](const char *what, const std::string &w, const std::string &g) {
        return w == g ? QString() : QString("%1: '%2', expected '%3'").arg(what, q(g), q(w));
    };
    QStringList d;
    d << str("name", want.name, got.name) << str("prompt", want.prompt, got.prompt)
      << str("modelName", want.modelName, got.modelName)
      << str("modelPath", want.modelPath, got.modelPath)
      << str("modelFingerprint", want.modelFingerprint, got.modelFingerprint)
      << str("computeDtype", want.computeDtype, got.computeDtype)
      << str("created", want.created, got.created)
      << str("appVersion", want.appVersion, got.appVersion)
      << str("parent", want.parent, got.parent) << str("edit", want.edit, got.edit)
      << str("config", modelConfigToJson(want.config), modelConfigToJson(got.config));
    if (!(want.config == got.config)) d << "config differs";
    if (want.lensNorm != got.lensNorm || want.lensDecoder != got.lensDecoder)
        d << "lens norm/decoder differ";
    if (want.topk != got.topk || want.nPromptTokens != got.nPromptTokens)
        d << QString("topk %1 / nPromptTokens %2, expected %3 / %4")
                 .arg(got.topk)
                 .arg(got.nPromptTokens)
                 .arg(want.topk)
                 .arg(want.nPromptTokens);
    if (want.tokens.size() != got.tokens.size()) {
        d << "token count differs";
    } else {
        for (size_t i = 0; i < want.tokens.size(); ++i) {
            const auto &w = want.tokens[i], &g = got.tokens[i];
            if (w.id != g.id || w.text != g.text || w.begin != g.begin || w.end != g.end)
                d << QString("token %1: %2 '%3' [%4, %5)")
                         .arg(i)
                         .arg(g.id)
                         .arg(q(g.text))
                         .arg(g.begin)
                         .arg(g.end);
        }
    }
    d << diffArray("logitsTopkIds", want.logitsTopkIds, got.logitsTopkIds)
      << diffArray("logitsTopkProbs", want.logitsTopkProbs, got.logitsTopkProbs)
      << diffArray("logitsEntropy", want.logitsEntropy, got.logitsEntropy)
      << diffArray("contribNorm", want.contribNorm, got.contribNorm)
      << diffArray("contribCosine", want.contribCosine, got.contribCosine)
      << diffArray("contribProjection", want.contribProjection, got.contribProjection)
      << diffArray("attnEntropy", want.attnEntropy, got.attnEntropy)
      << diffArray("valueNorm", want.valueNorm, got.valueNorm);
    if (want.attentionStore != got.attentionStore || want.residualStore != got.residualStore ||
        want.zStore != got.zStore)
        d << QString("store types %1/%2/%3, expected %4/%5/%6")
                 .arg(storeTypeName(got.attentionStore), storeTypeName(got.residualStore),
                      storeTypeName(got.zStore), storeTypeName(want.attentionStore),
                      storeTypeName(want.residualStore), storeTypeName(want.zStore));
    for (Site s : allSites()) {
        const QString site = siteName(s);
        const LensSite &w = want.lens[size_t(s)], &g = got.lens[size_t(s)];
        if (!full) {
            if (!g.empty() || !g.topkProbs.empty() || !g.entropy.empty())
                d << "lazy read loaded lens " + site;
            if (!got.residual[size_t(s)].empty()) d << "lazy read loaded residual " + site;
            continue;
        }
        d << diffArray("lens topk_ids " + site, w.topkIds, g.topkIds)
          << diffArray("lens topk_probs " + site, w.topkProbs, g.topkProbs)
          << diffArray("lens entropy " + site, w.entropy, g.entropy);
    }
    if (full) {
        d << diffArray("attentionPattern", want.attentionPattern, got.attentionPattern,
                       toleranceFor(want.attentionStore))
          << diffArray("z", want.z, got.z, toleranceFor(want.zStore));
        for (Site s : allSites())
            d << diffArray(QString("residual ") + siteName(s), want.residual[size_t(s)],
                           got.residual[size_t(s)], toleranceFor(want.residualStore));
    } else if (!got.attentionPattern.empty() || !got.z.empty()) {
        d << "lazy read loaded attention or z";
    }
    d.removeAll(QString());
    return d.join("; ");
}

// What a float becomes when stored as a half: halfToFloat(floatToHalf(x)) for every value.
FloatArray halfRounded(const FloatArray &a)
{
    FloatArray out = a;
    for (float &x : out.data)
        x = halfToFloat(floatToHalf(x));
    return out;
}

// Empty when got holds exactly the bits of want (so -0 is not 0).
QString diffBits(const QString &what, const FloatArray &want, const FloatArray &got)
{
    if (want.shape != got.shape)
        return QString("%1: shape %2, expected %3")
            .arg(what, q(shapeString(got.shape)), q(shapeString(want.shape)));
    for (size_t i = 0; i < want.data.size(); ++i)
        if (std::memcmp(&want.data[i], &got.data[i], sizeof(float)) != 0)
            return QString("%1[%2]: %3, expected %4")
                .arg(what)
                .arg(i)
                .arg(double(got.data[i]), 0, 'g', 9)
                .arg(double(want.data[i]), 0, 'g', 9);
    return {};
}

// Values that test a conversion to halves: edges of the range and beyond it, signed zeros,
// subnormal halves, exact ties between neighbouring halves, and ordinary values of many
// magnitudes.
void fillTricky(FloatArray &a, std::mt19937 &rng)
{
    const float inf = std::numeric_limits<float>::infinity();
    const float ulp = std::ldexp(1.0f, -24);
    const float edges[] = {0.0f,     -0.0f,   65504.0f,   std::nextafter(65520.0f, 0.0f),
                           65520.0f, -1e6f,   inf,        -inf,
                           ulp,      ulp / 2, 1.5f * ulp, -std::ldexp(1.0f, -14),
                           1.0f / 3, 0.1f,    2049.0f,    1.0f + std::ldexp(1.0f, -11)};
    std::uniform_int_distribution<int> pattern(0, 0x7bfe), decade(-8, 4);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> unit;
    for (size_t i = 0; i < a.data.size(); ++i) {
        float &x = a.data[i];
        switch (i % 4) {
        case 0:
            x = edges[(i / 4) % (sizeof edges / sizeof edges[0])];
            break;
        case 1:
            x = normal(rng) * std::pow(10.0f, float(decade(rng)));
            break;
        case 2: { // halfway between two halves, either sign
            const uint16_t h = uint16_t(pattern(rng));
            x = (halfToFloat(h) + halfToFloat(uint16_t(h + 1))) / 2;
            if (rng() & 1) x = -x;
            break;
        }
        default:
            x = unit(rng);
        }
    }
}

bool writeFloatFile(const QString &path, const FloatArray &a)
{
    QFile f(path);
    const auto bytes = qint64(a.data.size() * sizeof(float));
    return f.open(QIODevice::WriteOnly) &&
           f.write(reinterpret_cast<const char *>(a.data.data()), bytes) == bytes;
}

// One layer (the outer index) of an array.
FloatArray layerOf(const FloatArray &a, int layer)
{
    FloatArray out(std::vector<int64_t>(a.shape.begin() + 1, a.shape.end()));
    std::copy_n(a.data.begin() + int64_t(layer) * int64_t(out.size()), out.size(),
                out.data.begin());
    return out;
}

QByteArray fileBytes(const std::string &path)
{
    QFile f(q(path));
    if (!f.open(QIODevice::ReadOnly)) return QByteArray("<unreadable>");
    return f.readAll();
}

bool writeBytes(const std::string &path, const QByteArray &bytes)
{
    QFile f(q(path));
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// What an operation threw: "InputError: <message>", "<other type>: <message>" or "" if nothing.
template <typename F> QString thrown(F &&f)
{
    try {
        f();
    } catch (const InputError &e) {
        return QString("InputError: ") + e.what();
    } catch (const std::invalid_argument &e) {
        return QString("invalid_argument: ") + e.what();
    } catch (const std::exception &e) {
        return QString("exception: ") + e.what();
    }
    return {};
}

// ---- direct HDF5 edits, to make broken files

bool h5Edit(const std::string &path, const std::function<bool(hid_t)> &edit)
{
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return false;
    const bool ok = edit(f);
    return H5Fclose(f) >= 0 && ok;
}

// Sets the first element of a dataset to value (converted to the dataset's type).
template <typename T> bool h5PokeFirst(const std::string &path, const char *dataset, T value)
{
    return h5Edit(path, [&](hid_t f) {
        const hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
        if (d < 0) return false;
        const hid_t space = H5Dget_space(d);
        std::vector<double> all(size_t(H5Sget_simple_extent_npoints(space)));
        bool ok = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()) >= 0;
        all.at(0) = double(value);
        ok = ok && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()) >= 0;
        H5Sclose(space);
        H5Dclose(d);
        return ok;
    });
}

bool h5SetIntAttr(hid_t loc, const char *obj, const char *name, int value)
{
    if (H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) > 0)
        H5Adelete_by_name(loc, obj, name, H5P_DEFAULT);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate_by_name(loc, obj, name, H5T_STD_I32LE, space, H5P_DEFAULT,
                                      H5P_DEFAULT, H5P_DEFAULT);
    const bool ok = a >= 0 && H5Awrite(a, H5T_NATIVE_INT, &value) >= 0;
    H5Aclose(a);
    H5Sclose(space);
    return ok;
}

bool h5SetStringAttr(hid_t loc, const char *obj, const char *name, const char *value)
{
    if (H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) > 0)
        H5Adelete_by_name(loc, obj, name, H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a =
        H5Acreate_by_name(loc, obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const bool ok = a >= 0 && H5Awrite(a, type, &value) >= 0;
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return ok;
}

bool h5Delete(const std::string &path, const char *link)
{
    return h5Edit(path, [&](hid_t f) { return H5Ldelete(f, link, H5P_DEFAULT) >= 0; });
}

bool h5ReplaceWithFloats(const std::string &path, const char *link, std::vector<hsize_t> dims)
{
    return h5Edit(path, [&](hid_t f) {
        if (H5Ldelete(f, link, H5P_DEFAULT) < 0) return false;
        hsize_t n = 1;
        for (hsize_t x : dims)
            n *= x;
        std::vector<float> data(n, 1.0f);
        const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
        const hid_t ds =
            H5Dcreate2(f, link, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        const bool ok = ds >= 0 && H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                            data.data()) >= 0;
        H5Dclose(ds);
        H5Sclose(space);
        return ok;
    });
}

// Replaces a dataset with one of the same shape whose values are `base` resized to `size`
// bytes, as a damaged datatype message reads (the fuzz finding: a float of 4 GB per value). It
// is not written: libhdf5 converts its fill value to what a reader asks for.
bool h5ReplaceWithResizedType(const std::string &path, const char *link, std::vector<hsize_t> dims,
                              hid_t base, size_t size)
{
    return h5Edit(path, [&](hid_t f) {
        if (H5Ldelete(f, link, H5P_DEFAULT) < 0) return false;
        const hid_t type = H5Tcopy(base);
        const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
        const bool sized = H5Tset_size(type, size) >= 0;
        const hid_t ds = H5Dcreate2(f, link, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        const bool ok = sized && ds >= 0;
        H5Dclose(ds);
        H5Sclose(space);
        H5Tclose(type);
        return ok;
    });
}

bool makeHdf5WithoutFormat(const std::string &path)
{
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return false;
    const hid_t g1 = H5Gcreate2(f, "traces", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t g2 = H5Gcreate2(f, "comparisons", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const bool ok = g1 >= 0 && g2 >= 0;
    H5Gclose(g1);
    H5Gclose(g2);
    return H5Fclose(f) >= 0 && ok;
}

} // namespace

class TestProject : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::string m_path; // a project path in m_dir that does not exist yet

    std::string pathIn(const char *file) const
    {
        return (m_dir->path() + "/" + file).toStdString();
    }
    QStringList leftovers() const
    {
        return QDir(m_dir->path()).entryList(QDir::Files | QDir::Hidden).filter(".tmp-");
    }
    QStringList listing(const std::string &path) const
    {
        QStringList names;
        const ProjectReader reader(path);
        for (const auto &l : reader.info().traces)
            names << q(l.name);
        return names;
    }
    // Writes m_path with one good trace "t1", then breaks it as `kind` says.
    bool makeBrokenFile(const QString &kind);
    bool haveH5py(QString *python);

private Q_SLOTS:
    void init();
    void cleanup();

    void modelConfigJson();
    void modelConfigJsonRefusals_data();
    void modelConfigJsonRefusals();
    void roundTrip();
    void lazyReader();
    void appendSecondTrace();
    void nameTakenLeavesFileUntouched();
    void forceReplacesInPlace();
    void streamedTraceEqualsAddTrace();
    void unfinishedStreamLeavesProjectUntouched();
    void appendsInPlaceUnlessTheProjectIsOpen();
    void failedBatchAppendIsUndone();
    void killedAppendIsUndoneByTheNextOpener();
    void sparseAttentionKeepsTheHeavyKeys();
    void staleTempFilesGoOnTheNextSave();
    void removeTrace();
    void renameTrace();
    void nextFreeTraceName();
    void writerRefusesBadTraces();
    void openReaderKeepsItsVersion();
    void refusals_data();
    void refusals();
    void lensValuesAreChecked();
    void pythonChecker();
    void readsProjectWrittenByH5py();
    void halfStorageIsExact();
    void committedFixture();
};

void TestProject::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = pathIn("p.hlproj");
}

void TestProject::cleanup()
{
    m_dir.reset();
}

void TestProject::modelConfigJson()
{
    const ModelConfig c = makeTrace("x").config;
    const std::string json = modelConfigToJson(c);
    for (const char *key :
         {"architecture", "n_layers", "n_heads", "n_kv_heads", "d_model", "d_head", "d_ffn",
          "vocab_size", "max_seq_len", "rope_theta", "rope_scaling", "norm_eps", "tied_embeddings",
          "attn_bias", "attn_out_bias", "mlp_bias", "bos_id", "eos_id"})
        QVERIFY2(json.find(std::string("\"") + key + "\":") != std::string::npos, key);
    QVERIFY(modelConfigFromJson(json) == c);

    // Minimal JSON (from Python, say): defaults and derived values fill the rest.
    const ModelConfig m = modelConfigFromJson(
        R"({"n_layers": 3, "n_heads": 4, "d_model": 64, "bos_id": null, "future_key": [1]})");
    QCOMPARE(m.nLayers, 3);
    QCOMPARE(m.nKvHeads, 4);
    QCOMPARE(m.dHead, 16);
    QCOMPARE(m.bosId, -1);
    QCOMPARE(q(m.architecture), QString("llama"));
}

void TestProject::modelConfigJsonRefusals_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("not json") << "{n_layers: 2"
                              << "not valid JSON";
    QTest::newRow("not an object") << "[1, 2]"
                                   << "not a JSON object";
    QTest::newRow("missing n_layers") << R"({"n_heads": 2, "d_model": 4})"
                                      << "'n_layers' is missing";
    QTest::newRow("string count") << R"({"n_layers": "2", "n_heads": 2, "d_model": 4})"
                                  << "'n_layers' must be an integer";
    QTest::newRow("zero heads") << R"({"n_layers": 2, "n_heads": 0, "d_model": 4})"
                                << "'n_heads' must be a positive integer";
    QTest::newRow("bool as number")
        << R"({"n_layers": 2, "n_heads": 2, "d_model": 4, "rope_theta": true})"
        << "'rope_theta' must be a number";
    QTest::newRow("number as bool")
        << R"({"n_layers": 2, "n_heads": 2, "d_model": 4, "mlp_bias": 1})"
        << "'mlp_bias' must be true or false";
}

void TestProject::modelConfigJsonRefusals()
{
    QFETCH(QString, json);
    QFETCH(QString, message);
    const QString err = thrown([&] { modelConfigFromJson(json.toStdString()); });
    QVERIFY2(err.startsWith("InputError: ") && err.contains(message), qPrintable(err));
}

void TestProject::roundTrip()
{
    Trace t1 = makeTrace("t1");
    Trace t2 = makeTrace("über ✓", 0.02f, {StoreType::F32, StoreType::F16, StoreType::F32});
    t2.parent = "t1";
    t2.edit = R"({"kind":"inject","layer":1})";
    t2.lensNorm = LensNorm::None;
    t2.lensDecoder = LensDecoder::Quadratic;
    addTrace(m_path, t1, false);
    addTrace(m_path, t2, false);
    QVERIFY(leftovers().isEmpty());

    ProjectReader r(m_path);
    QCOMPARE(q(r.path()), q(m_path));
    const ProjectInfo &info = r.info();
    QCOMPARE(info.schemaVersion, 1);
    QCOMPARE(q(info.appVersion), QString(HEADLENS_VERSION));
    QVERIFY(QDateTime::fromString(q(info.created), Qt::ISODate).isValid());
    QVERIFY(QDateTime::fromString(q(info.modified), Qt::ISODate).isValid());
    QCOMPARE(info.traces.size(), size_t(2));
    const TraceListing &l = info.traces[1];
    QCOMPARE(q(l.name), q(t2.name));
    QCOMPARE(q(l.prompt), q(t2.prompt));
    QCOMPARE(q(l.modelName), q(t2.modelName));
    QCOMPARE(q(l.created), q(t2.created));
    QCOMPARE(q(l.parent), QString("t1"));
    QCOMPARE(l.nTokens, int(kT));
    QCOMPARE(l.nLayers, int(kL));
    QCOMPARE(l.nHeads, int(kH));
    QVERIFY(info.traces[0].parent.empty());
    QVERIFY(r.hasTrace("t1") && r.hasTrace(t2.name) && !r.hasTrace("t3"));

    for (const Trace *want : {&t1, &t2}) {
        const QString full = diffTrace(*want, r.readTraceFull(want->name), true);
        QVERIFY2(full.isEmpty(), qPrintable(q(want->name) + ": " + full));
        const QString lazy = diffTrace(*want, r.readTrace(want->name), false);
        QVERIFY2(lazy.isEmpty(), qPrintable(q(want->name) + " (lazy): " + lazy));
    }

    // A trace without any optional data reads back with StoreType None everywhere.
    Trace bare = makeTrace("bare", 0.01f, {StoreType::None, StoreType::None, StoreType::None});
    for (auto &l2 : bare.lens)
        l2 = LensSite();
    addTrace(m_path, bare, false);
    const Trace back = ProjectReader(m_path).readTraceFull("bare");
    const QString d = diffTrace(bare, back, true);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    QVERIFY(ProjectReader(m_path).lensSites("bare").empty());
}

void TestProject::lazyReader()
{
    const Trace t = makeTrace("t1");
    addTrace(m_path, t, false);
    ProjectReader r(m_path);

    const Trace lazy = r.readTrace("t1");
    for (Site s : allSites())
        QVERIFY(lazy.lens[size_t(s)].empty());
    QVERIFY(lazy.attentionPattern.empty() && lazy.z.empty());
    QCOMPARE(lazy.attentionStore, StoreType::F16);

    const std::vector<Site> sites = r.lensSites("t1");
    QCOMPARE(sites, (std::vector<Site>{Site::ResidPre, Site::MlpOut, Site::ResidPost}));
    for (Site s : allSites()) {
        const LensSite want = t.lens[size_t(s)];
        const LensSite got = r.readLens("t1", s);
        QCOMPARE(got.empty(), want.empty());
        QVERIFY(diffArray("ids", want.topkIds, got.topkIds).isEmpty());
        QVERIFY(diffArray("probs", want.topkProbs, got.topkProbs).isEmpty());
        QVERIFY(diffArray("entropy", want.entropy, got.entropy).isEmpty());
    }

    for (int layer = 0; layer < kL; ++layer) {
        QString d = diffArray("attention", layerOf(t.attentionPattern, layer),
                              r.readAttention("t1", layer), kF16Tolerance);
        QVERIFY2(d.isEmpty(), qPrintable(d));
        QCOMPARE(r.readAttention("t1", layer).shape, (std::vector<int64_t>{kH, kT, kT}));
        d = diffArray("residual", layerOf(t.residual[size_t(Site::ResidPost)], layer),
                      r.readResidual("t1", Site::ResidPost, layer));
        QVERIFY2(d.isEmpty(), qPrintable(d));
        QCOMPARE(r.readResidual("t1", Site::ResidPre, layer).shape, (std::vector<int64_t>{kT, kD}));
        d = diffArray("z", layerOf(t.z, layer), r.readZ("t1", layer), kF16Tolerance);
        QVERIFY2(d.isEmpty(), qPrintable(d));
        QCOMPARE(r.readZ("t1", layer).shape, (std::vector<int64_t>{kT, kH, kDh}));
    }

    QString err = thrown([&] { r.readResidual("t1", Site::MlpOut, 0); });
    QVERIFY2(err.startsWith("InputError") && err.contains("residual/mlp_out"), qPrintable(err));
    err = thrown([&] { r.readAttention("t1", 2); });
    QVERIFY2(err.startsWith("InputError") && err.contains("layer 2 is out of range"),
             qPrintable(err));
    err = thrown([&] { r.readZ("nope", 0); });
    QVERIFY2(err.startsWith("InputError") && err.contains("no trace 'nope'"), qPrintable(err));
    err = thrown([&] { r.readTrace("nope"); });
    QVERIFY2(err.startsWith("InputError") && err.contains(q(m_path)), qPrintable(err));

    addTrace(m_path, makeTrace("plain", 0, {StoreType::None, StoreType::None, StoreType::None}),
             false);
    ProjectReader r2(m_path);
    err = thrown([&] { r2.readAttention("plain", 0); });
    QVERIFY2(err.startsWith("InputError") && err.contains("attention/pattern") &&
                 err.contains("'plain'"),
             qPrintable(err));
    err = thrown([&] { r2.readZ("plain", 0); });
    QVERIFY2(err.startsWith("InputError") && err.contains("heads/z"), qPrintable(err));
}

void TestProject::appendSecondTrace()
{
    addTrace(m_path, makeTrace("t1"), false);
    const std::string created = ProjectReader(m_path).info().created;
    addTrace(m_path, makeTrace("t2", 0.03f), false);
    addTrace(m_path, makeTrace("a0", 0.04f), false);
    QCOMPARE(listing(m_path), (QStringList{"t1", "t2", "a0"})); // order added, not by name
    ProjectReader r(m_path);
    QCOMPARE(q(r.info().created), q(created));
    for (const char *name : {"t1", "t2", "a0"})
        QCOMPARE(q(r.readTrace(name).name), QString(name));
    const QString d = diffTrace(makeTrace("t2", 0.03f), r.readTraceFull("t2"), true);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    QVERIFY(leftovers().isEmpty());
}

void TestProject::nameTakenLeavesFileUntouched()
{
    addTrace(m_path, makeTrace("t1"), false);
    const QByteArray before = fileBytes(m_path);
    const QString err = thrown([&] { addTrace(m_path, makeTrace("t1", 0.01f), false); });
    QVERIFY2(err.startsWith("InputError: trace 't1' already exists in " + q(m_path) +
                            "; use --force to replace it"),
             qPrintable(err));
    QCOMPARE(fileBytes(m_path), before);
    QVERIFY(leftovers().isEmpty());
}

void TestProject::forceReplacesInPlace()
{
    addTrace(m_path, makeTrace("t1"), false);
    addTrace(m_path, makeTrace("t2", 0.01f), false);
    const qint64 size = QFileInfo(q(m_path)).size();
    Trace t1b = makeTrace("t1", 0.02f);
    t1b.prompt = "another prompt, longer than the first one";
    for (int i = 0; i < 3; ++i) // repeated replacing must not grow the file
        addTrace(m_path, t1b, true);
    QCOMPARE(listing(m_path), (QStringList{"t1", "t2"}));
    ProjectReader r(m_path);
    const QString d = diffTrace(t1b, r.readTraceFull("t1"), true);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    QVERIFY(diffTrace(makeTrace("t2", 0.01f), r.readTraceFull("t2"), true).isEmpty());
    QVERIFY2(QFileInfo(q(m_path)).size() < size * 11 / 10,
             qPrintable(QString("%1 -> %2 bytes").arg(size).arg(QFileInfo(q(m_path)).size())));
    QVERIFY(leftovers().isEmpty());
}

// The engine streams every residual site: a hand-made trace with all five filled.
Trace withAllSites(Trace t)
{
    if (t.residualStore != StoreType::None)
        for (Site s : allSites())
            if (t.residual[size_t(s)].empty())
                fill(t.residual[size_t(s)], {kL, kT, kD}, 0.7f * float(int(s)), 0.031f);
    return t;
}

// The trace the engine hands to commit(): full without its large arrays.
Trace withoutLargeData(Trace t)
{
    t.attentionPattern = FloatArray();
    t.z = FloatArray();
    for (auto &r : t.residual)
        r = FloatArray();
    return t;
}

// Feeds a trace's large data to a writer layer by layer, as the engine does; false when it
// stops before layer layersBeforeStop, as when the engine fails midway.
bool feedLayers(LayerStream &w, const Trace &full, int layersBeforeStop = -1)
{
    w.begin(withoutLargeData(full));
    const int64_t L = full.config.nLayers;
    for (int l = 0; l < L; ++l) {
        if (l == layersBeforeStop) return false;
        auto layerOf = [&](const FloatArray &a) { return a.data.data() + l * (a.size() / L); };
        if (full.attentionStore != StoreType::None)
            w.attention(l, 0, kT, layerOf(full.attentionPattern));
        if (full.residualStore != StoreType::None)
            for (Site s : allSites())
                w.residual(s, l, layerOf(full.residual[size_t(s)]));
        if (full.zStore != StoreType::None) w.z(l, layerOf(full.z));
    }
    return true;
}

// Streams a trace through a TraceStreamWriter and commits the rest of it; destroys the writer
// unfinished when stopped before layer layersBeforeStop.
void streamTrace(const std::string &path, const Trace &full, bool force, int layersBeforeStop = -1)
{
    TraceStreamWriter w(path, full.name, force);
    if (feedLayers(w, full, layersBeforeStop)) w.commit(withoutLargeData(full));
}

void TestProject::streamedTraceEqualsAddTrace()
{
    // A new project, an appended trace, and a replaced one (kept where it was listed).
    const Trace t2 =
        withAllSites(makeTrace("t2", 0.01f, {StoreType::F32, StoreType::F16, StoreType::F32}));
    const Trace t1b = withAllSites(makeTrace("t1", 0.02f));
    streamTrace(m_path, withAllSites(makeTrace("t1")), false);
    streamTrace(m_path, t2, false);
    streamTrace(m_path, t1b, true);
    QCOMPARE(listing(m_path), (QStringList{"t1", "t2"}));
    ProjectReader r(m_path);
    QString d = diffTrace(t1b, r.readTraceFull("t1"), true);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    d = diffTrace(t2, r.readTraceFull("t2"), true);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    QVERIFY(leftovers().isEmpty());
    // A taken name is refused before anything is computed.
    const QString err = thrown([&] { TraceStreamWriter w(m_path, "t2", false); });
    QVERIFY2(err.startsWith("InputError: trace 't2' already exists"), qPrintable(err));
}

void TestProject::unfinishedStreamLeavesProjectUntouched()
{
    // A failure midway: in a new project nothing is left; in an existing one, every byte.
    streamTrace(m_path, withAllSites(makeTrace("t1")), false, 1);
    QVERIFY(!QFileInfo::exists(q(m_path)));
    QVERIFY(leftovers().isEmpty());
    addTrace(m_path, makeTrace("t1"), false);
    const QByteArray before = fileBytes(m_path);
    streamTrace(m_path, withAllSites(makeTrace("t2", 0.01f)), false, 1);
    streamTrace(m_path, withAllSites(makeTrace("t1", 0.01f)), true, 0);
    QCOMPARE(fileBytes(m_path), before);
    QVERIFY(leftovers().isEmpty());
}

// A new trace is appended to the project file itself (the same inode, no journal left
// behind); while a reader has the project open, the append writes a new version beside it
// instead, and the reader goes on reading the version it opened.
void TestProject::appendsInPlaceUnlessTheProjectIsOpen()
{
    auto inode = [&] {
        struct stat st {};
        return ::stat(m_path.c_str(), &st) == 0 ? st.st_ino : ino_t(0);
    };
    const QString journal =
        QFileInfo(q(m_path)).absolutePath() + "/." + QFileInfo(q(m_path)).fileName() + ".journal";
    addTrace(m_path, makeTrace("t1"), false);
    const ino_t first = inode();
    addTrace(m_path, makeTrace("t2", 0.01f), false);
    streamTrace(m_path, withAllSites(makeTrace("t3", 0.02f)), false);
    QCOMPARE(inode(), first);
    QVERIFY(!QFileInfo::exists(journal));
    QCOMPARE(listing(m_path), (QStringList{"t1", "t2", "t3"}));
    QCOMPARE(diffTrace(withAllSites(makeTrace("t3", 0.02f)),
                       ProjectReader(m_path).readTraceFull("t3"), true),
             QString());
    {
        const ProjectReader open(m_path);
        addTrace(m_path, makeTrace("t4", 0.03f), false);
        QVERIFY(inode() != first);
        QCOMPARE(diffTrace(makeTrace("t2", 0.01f), open.readTrace("t2"), false), QString());
    }
    QCOMPARE(listing(m_path), (QStringList{"t1", "t2", "t3", "t4"}));
    QVERIFY(leftovers().isEmpty());
}

// A batch that fails midway (its writer destroyed before finish()) leaves the existing
// project byte-identical, though it had streamed into the file itself.
void TestProject::failedBatchAppendIsUndone()
{
    addTrace(m_path, makeTrace("t1"), false);
    const QByteArray before = fileBytes(m_path);
    {
        ProjectBatchWriter w(m_path);
        w.next("b1");
        QVERIFY(feedLayers(w, withAllSites(makeTrace("b1", 0.01f))));
        w.commit(withoutLargeData(makeTrace("b1", 0.01f)));
        w.next("b2");
        QVERIFY(!feedLayers(w, withAllSites(makeTrace("b2", 0.02f)), 1));
    }
    QCOMPARE(fileBytes(m_path), before);
    QCOMPARE(QDir(m_dir->path()).entryList(QDir::Files | QDir::Hidden).filter(".journal"),
             QStringList());
}

// A process killed in the middle of an append leaves its journal; the next opener undoes the
// append (ignoring a journal record the kill cut short) and finds the project as it was.
void TestProject::killedAppendIsUndoneByTheNextOpener()
{
    addTrace(m_path, makeTrace("t1"), false);
    const QByteArray before = fileBytes(m_path);
    const pid_t child = ::fork();
    if (child == 0) {
        ProjectBatchWriter w(m_path);
        for (int i = 0; i < 3; ++i) {
            const Trace t = withAllSites(makeTrace("b" + std::to_string(i), 0.01f * float(i)));
            w.next(t.name);
            feedLayers(w, t);
            w.commit(withoutLargeData(t));
        }
        ::_exit(0); // no destructor runs: as a kill -9 before finish()
    }
    QVERIFY(child > 0);
    ::waitpid(child, nullptr, 0);
    const QString journal =
        QFileInfo(q(m_path)).absolutePath() + "/." + QFileInfo(q(m_path)).fileName() + ".journal";
    QVERIFY(QFileInfo::exists(journal));
    QVERIFY(fileBytes(m_path) != before);
    {
        QFile j(journal);
        QVERIFY(j.open(QIODevice::Append));
        j.write(QByteArray(40, '\x07')); // a record torn by the kill
    }
    QCOMPARE(listing(m_path), QStringList{"t1"});
    QCOMPARE(fileBytes(m_path), before);
    QVERIFY(!QFileInfo::exists(journal));
    addTrace(m_path, makeTrace("t2", 0.01f), false);
    QCOMPARE(listing(m_path), (QStringList{"t1", "t2"}));
}

// Attention over the budget is stored as the heaviest keys of each row until they hold 99% of
// its weight (at most 128); read back, the keys left out are 0. Written from memory (addTrace)
// and streamed in blocks of rows, the same rows are kept, and a row reads the same alone.
void TestProject::sparseAttentionKeepsTheHeavyKeys()
{
    Trace t = withAllSites(makeTrace("s", 0.0f, {StoreType::F32, StoreType::F16, StoreType::None}));
    t.attentionSparse = true;
    FloatArray &p = t.attentionPattern;
    // Causal rows [L, H, T, T]: query 0 sees one key; the others mix a dominant key with
    // small ones, some rows past 99% with one key, some needing two or three.
    const float rows[2][3][3] = {{{1, 0, 0}, {0.995f, 0.005f, 0}, {0.004f, 0.991f, 0.005f}},
                                 {{1, 0, 0}, {0.6f, 0.4f, 0}, {0.2f, 0.009f, 0.791f}}};
    for (int64_t l = 0; l < kL; ++l)
        for (int64_t h = 0; h < kH; ++h)
            for (int64_t q = 0; q < kT; ++q)
                for (int64_t k = 0; k < kT; ++k)
                    p.data[size_t(((l * kH + h) * kT + q) * kT + k)] = rows[(l + h) % 2][q][k];
    // The expected kept weights: 0.005 and the like dropped where the rest reach 99%.
    FloatArray want = p;
    auto drop = [&](int64_t l, int64_t h, int64_t q, int64_t k) {
        want.data[size_t(((l * kH + h) * kT + q) * kT + k)] = 0;
    };
    for (int64_t l = 0; l < kL; ++l)
        for (int64_t h = 0; h < kH; ++h) {
            if ((l + h) % 2 == 0) {
                drop(l, h, 1, 1); // 0.995 alone holds 99%
                drop(l, h, 2, 0); // so does 0.991: the 0.005 and the 0.004 go
                drop(l, h, 2, 2);
            } else {
                drop(l, h, 2, 1); // 0.791 + 0.2 hold 99.1%: the 0.009 goes
            }
        }

    addTrace(m_path, t, false);
    Trace streamed = t;
    streamed.name = "streamed";
    streamTrace(m_path, streamed, false);
    ProjectReader r(m_path);
    for (const char *name : {"s", "streamed"}) {
        const Trace back = r.readTrace(name);
        QVERIFY(back.attentionSparse);
        QCOMPARE(back.attentionStore, StoreType::F32);
        for (int l = 0; l < kL; ++l) {
            const FloatArray layer = r.readAttention(name, l);
            for (int64_t i = 0; i < kH * kT * kT; ++i)
                QCOMPARE(layer.data[size_t(i)], want.data[size_t(l * kH * kT * kT + i)]);
            for (int q = 0; q < kT; ++q) {
                const FloatArray row = readAttentionRow(m_path, name, l, q);
                for (int64_t h = 0; h < kH; ++h)
                    for (int64_t k = 0; k < kT; ++k)
                        QCOMPARE(row.data[size_t(h * kT + k)],
                                 want.data[size_t(((l * kH + h) * kT + q) * kT + k)]);
            }
        }
        const Trace full = r.readTraceFull(name);
        QVERIFY(full.attentionPattern.data == want.data);
    }
    // Stored again from what was read (a workbench save), the rows keep the same keys.
    Trace again = r.readTraceFull("s");
    again.name = "again";
    addTrace(m_path, again, false);
    QVERIFY(ProjectReader(m_path).readTraceFull("again").attentionPattern.data == want.data);
    QVERIFY(leftovers().isEmpty());
}

// Temp files of killed saves go on the next save of the project, when their process is gone
// and they were not written for an hour; a live process's file, or a recent one, stays.
void TestProject::staleTempFilesGoOnTheNextSave()
{
    addTrace(m_path, makeTrace("t1"), false);
    const pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    QVERIFY(dead > 0);
    ::waitpid(dead, nullptr, 0);
    const QString dir = QFileInfo(q(m_path)).absolutePath();
    const QString base = dir + "/." + QFileInfo(q(m_path)).fileName() + ".tmp-";
    auto touch = [&](const QString &path, int hoursAgo) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("left by a killed save");
        f.close();
        const auto t = std::filesystem::file_time_type::clock::now() - std::chrono::hours(hoursAgo);
        std::filesystem::last_write_time(path.toStdString(), t);
    };
    const QString oldDead = base + QString::number(dead), oldDeadTrace = oldDead + "-trace";
    const QString recentDead = base + QString::number(dead) + "-1.hlproj";
    const QString oldAlive = base + QString::number(::getppid());
    touch(oldDead, 2);
    touch(oldDeadTrace, 2);
    touch(recentDead, 0);
    touch(oldAlive, 2);
    addTrace(m_path, makeTrace("t2", 0.01f), false);
    QVERIFY(!QFileInfo::exists(oldDead));
    QVERIFY(!QFileInfo::exists(oldDeadTrace));
    QVERIFY(QFileInfo::exists(recentDead));
    QVERIFY(QFileInfo::exists(oldAlive));
    QCOMPARE(listing(m_path), (QStringList{"t1", "t2"}));
    QFile::remove(recentDead);
    QFile::remove(oldAlive);
}

void TestProject::removeTrace()
{
    addTrace(m_path, makeTrace("t1"), false);
    const qint64 oneTrace = QFileInfo(q(m_path)).size();
    addTrace(m_path, makeTrace("t2", 0.01f), false);
    addTrace(m_path, makeTrace("t3", 0.02f), false);
    QFile(q(m_path)).setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup);
    HeadLens::removeTrace(m_path, "t2");
    QCOMPARE(listing(m_path), (QStringList{"t1", "t3"}));
    QCOMPARE(QFile(q(m_path)).permissions() &
                 (QFile::ReadOther | QFile::ReadGroup | QFile::WriteOwner),
             QFile::ReadGroup | QFile::WriteOwner); // rebuilt file keeps the permissions
    HeadLens::removeTrace(m_path, "t3");
    QCOMPARE(listing(m_path), (QStringList{"t1"}));
    // The rewrite gives the space back.
    QVERIFY2(QFileInfo(q(m_path)).size() < oneTrace * 12 / 10,
             qPrintable(QString("%1 vs %2 bytes").arg(QFileInfo(q(m_path)).size()).arg(oneTrace)));
    QVERIFY(diffTrace(makeTrace("t1"), ProjectReader(m_path).readTraceFull("t1"), true).isEmpty());

    const QByteArray before = fileBytes(m_path);
    const QString err = thrown([&] { HeadLens::removeTrace(m_path, "t2"); });
    QVERIFY2(err.startsWith("InputError") && err.contains("no trace 't2'"), qPrintable(err));
    QCOMPARE(fileBytes(m_path), before);
    HeadLens::removeTrace(m_path, "t1");
    QVERIFY(ProjectReader(m_path).info().traces.empty());
    QVERIFY(leftovers().isEmpty());
}

void TestProject::renameTrace()
{
    addTrace(m_path, makeTrace("t1"), false);
    Trace child = makeTrace("t2", 0.01f);
    child.parent = "t1";
    child.edit = "{}";
    addTrace(m_path, child, false);
    addTrace(m_path, makeTrace("t3", 0.02f), false);

    HeadLens::renameTrace(m_path, "t1", "base");
    QCOMPARE(listing(m_path), (QStringList{"base", "t2", "t3"})); // keeps its place
    ProjectReader r(m_path);
    Trace want = makeTrace("base");
    QString d = diffTrace(want, r.readTraceFull("base"), true);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    QCOMPARE(q(r.readTrace("t2").parent), QString("base"));
    QCOMPARE(q(r.info().traces[1].parent), QString("base"));

    const QByteArray before = fileBytes(m_path);
    for (auto [from, to, message] :
         {std::tuple<const char *, const char *, const char *>{"base", "t3", "already exists"},
          {"nope", "x", "no trace 'nope'"},
          {"t3", "a/b", "must not contain '/'"},
          {"t3", "", "must not be empty"}}) {
        const QString err = thrown([&] { HeadLens::renameTrace(m_path, from, to); });
        QVERIFY2(err.startsWith("InputError") && err.contains(message), qPrintable(err));
    }
    HeadLens::renameTrace(m_path, "t3", "t3"); // nothing to do
    QCOMPARE(fileBytes(m_path), before);
    QVERIFY(leftovers().isEmpty());
}

void TestProject::nextFreeTraceName()
{
    QCOMPARE(q(HeadLens::nextFreeTraceName(m_path)), QString("trace-1"));
    addTrace(m_path, makeTrace("trace-1"), false);
    QCOMPARE(q(HeadLens::nextFreeTraceName(m_path)), QString("trace-2"));
    addTrace(m_path, makeTrace("trace-3"), false);
    QCOMPARE(q(HeadLens::nextFreeTraceName(m_path)), QString("trace-2"));
    addTrace(m_path, makeTrace("trace-2"), false);
    QCOMPARE(q(HeadLens::nextFreeTraceName(m_path)), QString("trace-4"));
}

void TestProject::writerRefusesBadTraces()
{
    QString err = thrown([&] { addTrace(m_path, makeTrace(""), false); });
    QVERIFY2(err.startsWith("InputError") && err.contains("must not be empty"), qPrintable(err));
    err = thrown([&] { addTrace(m_path, makeTrace("a/b"), false); });
    QVERIFY2(err.startsWith("InputError"), qPrintable(err));

    Trace t = makeTrace("t");
    t.contribNorm.reset({kL, kH, kT + 1});
    err = thrown([&] { addTrace(m_path, t, false); });
    QVERIFY2(err.startsWith("invalid_argument") && err.contains("heads/contrib_norm"),
             qPrintable(err));

    // A lazily read trace cannot be saved as if it held its attention.
    t = makeTrace("t");
    t.attentionPattern.clear();
    err = thrown([&] { addTrace(m_path, t, false); });
    QVERIFY2(err.startsWith("invalid_argument") && err.contains("readTraceFull"), qPrintable(err));

    t = makeTrace("t");
    t.config.nKvHeads = 0; // what the reader would refuse
    err = thrown([&] { addTrace(m_path, t, false); });
    QVERIFY2(err.startsWith("invalid_argument") && err.contains("n_kv_heads"), qPrintable(err));

    t = makeTrace("t");
    t.lens[0].entropy.reset({kL, kT + 1});
    err = thrown([&] { addTrace(m_path, t, false); });
    QVERIFY2(err.startsWith("invalid_argument"), qPrintable(err));

    QVERIFY(!QFileInfo::exists(q(m_path)));
    QVERIFY(leftovers().isEmpty());

    // A folder that does not exist: an input error naming it (the CLI's exit 3, serve's kind
    // "input"), before anything is written.
    err = thrown([&] { addTrace(pathIn("no/such/dir.hlproj"), makeTrace("t"), false); });
    QVERIFY2(err.startsWith("InputError") && err.contains("dir.hlproj") &&
                 err.contains("no/such does not exist"),
             qPrintable(err));
    QVERIFY(!QFileInfo::exists(q(pathIn("no"))));
    err = thrown([&] { addTrace("", makeTrace("t"), false); });
    QVERIFY2(err.startsWith("InputError") && err.contains("empty"), qPrintable(err));
}

void TestProject::openReaderKeepsItsVersion()
{
    addTrace(m_path, makeTrace("t1"), false);
    ProjectReader old(m_path);
    Trace t1b = makeTrace("t1", 0.04f);
    t1b.prompt = "replaced";
    addTrace(m_path, t1b, true);
    addTrace(m_path, makeTrace("t2"), false);
    // The old reader still sees the file it opened, whole.
    QCOMPARE(old.info().traces.size(), size_t(1));
    const QString d = diffTrace(makeTrace("t1"), old.readTraceFull("t1"), true);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    QCOMPARE(q(ProjectReader(m_path).readTrace("t1").prompt), QString("replaced"));
}

bool TestProject::makeBrokenFile(const QString &kind)
{
    if (kind == "missing") return true;
    if (kind == "empty") return writeBytes(m_path, QByteArray());
    if (kind == "text") return writeBytes(m_path, "name,value\nthis is not HDF5,1\n");
    if (kind == "no format") return makeHdf5WithoutFormat(m_path);

    addTrace(m_path, makeTrace("t1"), false);
    if (kind == "truncated half" || kind == "truncated 1k") {
        const QByteArray all = fileBytes(m_path);
        return writeBytes(m_path, all.left(kind == "truncated half" ? all.size() / 2 : 1024));
    }
    if (kind == "wrong format")
        return h5Edit(m_path,
                      [](hid_t f) { return h5SetStringAttr(f, "/", "format", "other-tool"); });
    if (kind == "schema 2")
        return h5Edit(m_path, [](hid_t f) { return h5SetIntAttr(f, "/", "schema_version", 2); });
    if (kind == "schema text")
        return h5Edit(m_path,
                      [](hid_t f) { return h5SetStringAttr(f, "/", "schema_version", "1"); });
    if (kind == "format number")
        return h5Edit(m_path, [](hid_t f) { return h5SetIntAttr(f, "/", "format", 1); });
    if (kind == "no traces group") return h5Delete(m_path, "/traces");
    if (kind == "missing contrib_norm") return h5Delete(m_path, "/traces/t1/heads/contrib_norm");
    if (kind == "missing tokens/text") return h5Delete(m_path, "/traces/t1/tokens/text");
    if (kind == "missing logits/entropy") return h5Delete(m_path, "/traces/t1/logits/entropy");
    if (kind == "incomplete lens site") return h5Delete(m_path, "/traces/t1/lens/mlp_out/entropy");
    if (kind == "wrong shape value_norm")
        return h5ReplaceWithFloats(m_path, "/traces/t1/heads/value_norm", {kL, kH, kT + 1});
    if (kind == "wrong shape attention")
        return h5ReplaceWithFloats(m_path, "/traces/t1/attention/pattern", {kL, kH, kT, kT - 1});
    if (kind == "negative token id") return h5PokeFirst(m_path, "/traces/t1/tokens/ids", -7);
    if (kind == "token id past the vocabulary")
        return h5PokeFirst(m_path, "/traces/t1/logits/topk_ids", 2147483647);
    if (kind == "NaN probability")
        return h5PokeFirst(m_path, "/traces/t1/logits/topk_probs", std::nan(""));
    if (kind == "probability above 1")
        return h5PokeFirst(m_path, "/traces/t1/logits/topk_probs", 1.5);
    if (kind == "negative entropy") return h5PokeFirst(m_path, "/traces/t1/logits/entropy", -2.0);
    if (kind == "float token ids")
        return h5ReplaceWithFloats(m_path, "/traces/t1/logits/topk_ids", {kT, kK});
    if (kind == "float of 4 GB")
        return h5ReplaceWithResizedType(m_path, "/traces/t1/heads/contrib_projection", {kL, kH, kT},
                                        H5T_IEEE_F32LE, 0xfffffffbu);
    if (kind == "integer of 3 bytes")
        return h5ReplaceWithResizedType(m_path, "/traces/t1/logits/topk_ids", {kT, kK},
                                        H5T_STD_I32LE, 3);
    if (kind == "shape past its storage") // K is then read from this shape
        return h5ReplaceWithResizedType(m_path, "/traces/t1/logits/topk_ids",
                                        {kT, hsize_t(1) << 28}, H5T_STD_I32LE, 4) &&
               h5Edit(m_path, [](hid_t f) {
                   return H5Adelete_by_name(f, "/traces/t1", "topk", H5P_DEFAULT) >= 0;
               });
    if (kind == "bad model_config")
        return h5Edit(m_path, [](hid_t f) {
            return h5SetStringAttr(f, "/traces/t1", "model_config", "{\"n_layers\": 2,");
        });
    if (kind == "unknown lens_norm")
        return h5Edit(m_path, [](hid_t f) {
            return h5SetStringAttr(f, "/traces/t1", "lens_norm", "sideways");
        });
    return false;
}

void TestProject::refusals_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<bool>("atOpen"); // refused by ProjectReader itself, else by readTrace
    QTest::addColumn<QString>("message");
    QTest::newRow("missing file") << "missing" << true << "no such file";
    QTest::newRow("empty file") << "empty" << true << "not an HDF5 file";
    QTest::newRow("text file") << "text" << true << "not an HDF5 file";
    QTest::newRow("truncated half") << "truncated half" << true << "is damaged or truncated";
    QTest::newRow("truncated 1k") << "truncated 1k" << true << "is damaged or truncated";
    QTest::newRow("no format attribute") << "no format" << true << "no 'format' attribute";
    QTest::newRow("wrong format") << "wrong format" << true << "format is 'other-tool'";
    QTest::newRow("schema 2")
        << "schema 2" << true
        << "written by a newer HeadLens (schema 2); this version reads schema 1";
    QTest::newRow("schema as text")
        << "schema text" << true << "attribute 'schema_version' is not a single integer";
    QTest::newRow("format as a number")
        << "format number" << true << "attribute 'format' is not a single string";
    QTest::newRow("no traces group") << "no traces group" << true << "no /traces group";
    QTest::newRow("missing heads/contrib_norm")
        << "missing contrib_norm" << false << "heads/contrib_norm is missing";
    QTest::newRow("missing tokens/text")
        << "missing tokens/text" << false << "tokens/text is missing";
    QTest::newRow("missing logits/entropy")
        << "missing logits/entropy" << false << "logits/entropy is missing";
    QTest::newRow("incomplete lens site")
        << "incomplete lens site" << false << "lens/mlp_out/entropy is missing";
    QTest::newRow("wrong shape heads/value_norm")
        << "wrong shape value_norm" << false
        << "heads/value_norm has shape [2, 2, 4], expected [2, 2, 3] ([L, H, T])";
    QTest::newRow("wrong shape attention")
        << "wrong shape attention" << false << "attention/pattern has shape [2, 2, 3, 2]";
    QTest::newRow("negative token id")
        << "negative token id" << false
        << "tokens/ids holds the token id -7 at [0], which cannot be a token id";
    QTest::newRow("token id past the vocabulary")
        << "token id past the vocabulary" << false
        << "logits/topk_ids holds the token id 2147483647 at [0, 0], outside the model's "
           "vocabulary (0 to 49)";
    QTest::newRow("NaN probability")
        << "NaN probability" << false
        << "logits/topk_probs holds NaN at [0, 0], which is not a probability";
    QTest::newRow("probability above 1")
        << "probability above 1" << false << "logits/topk_probs holds 1.5";
    QTest::newRow("negative entropy") << "negative entropy" << false << "logits/entropy holds -2";
    QTest::newRow("float token ids")
        << "float token ids" << false << "logits/topk_ids holds float values, expected integer";
    // Found by fuzz_hlproj: libhdf5 allocated 4 GB per value to convert them (4.3 GB for 16
    // values), then read zeros.
    QTest::newRow("float of 4 GB per value")
        << "float of 4 GB" << false
        << "dataset heads/contrib_projection holds floats of 4294967291 bytes (32 bits at offset "
           "0), a type no HeadLens writer makes: the file is damaged";
    QTest::newRow("integer of 3 bytes per value")
        << "integer of 3 bytes" << false << "dataset logits/topk_ids holds integers of 3 bytes";
    // Found by fuzz_hlproj: the reader allocated the 128 GB a shape claimed in a 36 KB file.
    QTest::newRow("shape past its storage")
        << "shape past its storage" << false
        << "dataset logits/topk_ids has shape [3, 268435456] (3072 MiB) but stores 0 bytes: the "
           "file is damaged";
    QTest::newRow("bad model_config")
        << "bad model_config" << false << "model_config is not valid JSON";
    QTest::newRow("unknown lens_norm") << "unknown lens_norm" << false << "lens_norm is 'sideways'";
}

void TestProject::refusals()
{
    QFETCH(QString, kind);
    QFETCH(bool, atOpen);
    QFETCH(QString, message);
    QVERIFY(makeBrokenFile(kind));
    const QByteArray before = fileBytes(m_path);
    auto expectRefusal = [&](const QString &what, const QString &err, const QString &text) {
        QVERIFY2(err.startsWith("InputError: "), qPrintable(what + ": " + err));
        QVERIFY2(err.contains(text), qPrintable(what + ": " + err));
        QVERIFY2(err.contains(q(m_path)), qPrintable(what + " does not name the file: " + err));
    };

    if (atOpen) {
        expectRefusal("open", thrown([&] { ProjectReader r(m_path); }), message);
        expectRefusal("remove", thrown([&] { HeadLens::removeTrace(m_path, "t1"); }), message);
        expectRefusal("rename", thrown([&] { HeadLens::renameTrace(m_path, "t1", "t9"); }),
                      message);
        if (kind != "missing") {
            expectRefusal("add", thrown([&] { addTrace(m_path, makeTrace("t2"), false); }),
                          message);
            expectRefusal("add --force", thrown([&] { addTrace(m_path, makeTrace("t1"), true); }),
                          message);
            expectRefusal("next name", thrown([&] { HeadLens::nextFreeTraceName(m_path); }),
                          message);
        }
    } else {
        std::unique_ptr<ProjectReader> r;
        QCOMPARE(thrown([&] { r = std::make_unique<ProjectReader>(m_path); }), QString());
        QVERIFY(r->hasTrace("t1"));
        QCOMPARE(r->info().traces.at(0).nTokens, int(kT));
        for (auto read : {std::function<void()>([&] { r->readTrace("t1"); }),
                          std::function<void()>([&] { r->readTraceFull("t1"); })}) {
            const QString err = thrown(read);
            expectRefusal("read", err, message);
            QVERIFY2(err.contains("trace 't1'"), qPrintable(err));
        }
    }
    QCOMPARE(fileBytes(m_path), before);
    QCOMPARE(QFileInfo::exists(q(m_path)), kind != "missing");
    QVERIFY(leftovers().isEmpty());

    if (!atOpen) {
        // A broken trace can still be removed, which repairs the project.
        HeadLens::removeTrace(m_path, "t1");
        QVERIFY(ProjectReader(m_path).info().traces.empty());
    }
}

// A lens site's values are checked as it is read: the rest of the trace still reads.
void TestProject::lensValuesAreChecked()
{
    addTrace(m_path, makeTrace("t1"), false);
    QVERIFY(h5PokeFirst(m_path, "/traces/t1/lens/mlp_out/topk_probs", std::nan("")));
    QVERIFY(h5PokeFirst(m_path, "/traces/t1/lens/resid_post/topk_ids", -1));
    const ProjectReader r(m_path);
    QCOMPARE(thrown([&] { r.readTrace("t1"); }), QString());
    QCOMPARE(thrown([&] { r.readLens("t1", Site::ResidPre); }), QString());
    QString err = thrown([&] { r.readLens("t1", Site::MlpOut); });
    QVERIFY2(err.startsWith("InputError: ") &&
                 err.contains("lens/mlp_out/topk_probs holds NaN at [0, 0, 0]"),
             qPrintable(err));
    err = thrown([&] { r.readLens("t1", Site::ResidPost); });
    QVERIFY2(err.contains("lens/resid_post/topk_ids holds the token id -1 at [0, 0, 0]"),
             qPrintable(err));
}

bool TestProject::haveH5py(QString *python)
{
    *python = QString(HEADLENS_SYSTEM_PYTHON);
    if (python->isEmpty() || !QFileInfo(*python).isExecutable()) return false;
    QProcess probe;
    probe.start(*python, {"-c", "import h5py, numpy"});
    return probe.waitForFinished(120000) && probe.exitStatus() == QProcess::NormalExit &&
           probe.exitCode() == 0;
}

void TestProject::pythonChecker()
{
    QString python;
    if (!haveH5py(&python))
        QSKIP("needs /usr/bin/python3 with h5py and numpy (Debian: python3-h5py) to run "
              "tests/project/check_hlproj.py");
    const QString script = QString(HEADLENS_SOURCE_DIR) + "/tests/project/check_hlproj.py";
    QVERIFY(QFileInfo::exists(script));

    Trace child = makeTrace("child ✓", 0.01f, {StoreType::F32, StoreType::F16, StoreType::F32});
    child.parent = "t1";
    child.edit = R"({"kind":"propagate"})";
    addTrace(m_path, makeTrace("t1"), false);
    addTrace(m_path, child, false);
    addTrace(m_path, makeTrace("bare", 0.02f, {StoreType::None, StoreType::None, StoreType::None}),
             false);

    auto run = [&](const QStringList &args, QString *out) {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(python, args);
        if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit) return -1;
        *out = QString::fromUtf8(p.readAll());
        return p.exitCode();
    };
    QString out;
    int rc = run({script, "--values", q(m_path)}, &out);
    QVERIFY2(rc == 0, qPrintable(out));
    QCOMPARE(out.trimmed(), QString("ok: 3 traces"));

    // What Python users see: float16 where asked, str attributes and token texts.
    rc = run({"-c",
              "import sys, h5py\n"
              "f = h5py.File(sys.argv[1], 'r')\n"
              "a, b = f['traces/t1'], f['traces/child ✓']\n"
              "print(a['attention/pattern'].dtype, a['heads/z'].dtype, "
              "a['residual/resid_pre'].dtype, b['attention/pattern'].dtype, "
              "b['residual/resid_post'].dtype, type(a.attrs['prompt']).__name__, "
              "a.attrs['prompt'] == 'Hé ↵世界', a['tokens/text'].asstr()[2] == ' ↵世界', "
              "a.attrs['topk'].dtype, f.attrs['schema_version'].dtype, "
              "a['attention/pattern'].chunks, a['attention/pattern'].compression)\n",
              q(m_path)},
             &out);
    QVERIFY2(rc == 0, qPrintable(out));
    QCOMPARE(out.trimmed(), QString("float16 float16 float32 float32 float16 str True True int32 "
                                    "int32 (1, 1, 3, 3) gzip"));

    // The checker finds problems, one line each.
    QVERIFY(h5Delete(m_path, "/traces/child ✓/heads/contrib_norm"));
    QVERIFY(h5Edit(m_path, [](hid_t f) { return h5SetIntAttr(f, "/traces/t1", "topk", 3); }));
    rc = run({script, q(m_path)}, &out);
    QVERIFY2(rc == 1, qPrintable(out));
    QVERIFY2(out.contains("/traces/child ✓/heads/contrib_norm: required dataset is missing"),
             qPrintable(out));
    QVERIFY2(out.contains("/traces/t1/logits/topk_ids: shape [3, 2], expected [3, 3]"),
             qPrintable(out));
    QVERIFY2(!out.contains("ok:"), qPrintable(out));
}

void TestProject::readsProjectWrittenByH5py()
{
    // Someone follows HLPROJ.md in Python with h5py's defaults: int64 attributes, float64 and
    // int64 data, fixed-length byte strings, a /traces group without creation order.
    QString python;
    if (!haveH5py(&python))
        QSKIP("needs /usr/bin/python3 with h5py and numpy (Debian: python3-h5py)");
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(python, {"-c", R"(
import sys, json, h5py, numpy as np
L, H, T, K, D = 2, 2, 3, 2, 4
with h5py.File(sys.argv[1], 'w') as f:
    f.attrs['format'] = 'headlens-project'
    f.attrs['schema_version'] = 1
    f.attrs['created'] = f.attrs['modified'] = '2026-01-01T00:00:00Z'
    f.create_group('comparisons')
    g = f.create_group('traces/from-python')
    g.attrs['model_config'] = json.dumps({'n_layers': L, 'n_heads': H, 'd_model': D})
    g.attrs['prompt'] = 'héllo'
    g.attrs['topk'] = K
    g['tokens/ids'] = np.arange(T, dtype=np.int64)
    g['tokens/text'] = np.array([b'a', b'bb', b'ccc'])
    g['tokens/offsets'] = np.array([[-1, -1], [0, 1], [1, 5]], dtype=np.int32)
    g['logits/topk_ids'] = np.arange(T * K).reshape(T, K)
    g['logits/topk_probs'] = np.full((T, K), 0.5)
    g['logits/entropy'] = np.ones(T, np.float32)
    for m in ['contrib_norm', 'contrib_cosine', 'contrib_projection', 'attn_entropy', 'value_norm']:
        g['heads/' + m] = np.full((L, H, T), 2.0, np.float32)
    g['attention/pattern'] = np.full((L, H, T, T), 0.25, np.float16)
    g['lens/attn_out/topk_ids'] = np.ones((L, T, K), np.int32)
    g['lens/attn_out/topk_probs'] = np.full((L, T, K), 0.125, np.float32)
    g['lens/attn_out/entropy'] = np.full((L, T), 3.0, np.float32)
    f['notes'] = 'kept across saves'
)",
                     q(m_path)});
    QVERIFY(p.waitForFinished(120000));
    QVERIFY2(p.exitCode() == 0, p.readAll().constData());

    {
        ProjectReader r(m_path);
        QCOMPARE(r.info().schemaVersion, 1);
        QCOMPARE(r.info().traces.at(0).nTokens, int(kT));
        QCOMPARE(r.info().traces.at(0).nLayers, int(kL));
        const Trace t = r.readTraceFull("from-python");
        QCOMPARE(q(t.prompt), QString("héllo"));
        QCOMPARE(t.topk, int(kK));
        QCOMPARE(t.nPromptTokens, int(kT)); // absent: all tokens are the prompt
        QCOMPARE(t.config.dHead, int(kD / kH));
        QCOMPARE(q(t.tokens.at(2).text), QString("ccc"));
        QCOMPARE(t.tokens.at(2).id, 2);
        QCOMPARE(t.tokens.at(2).end, 5);
        QCOMPARE(t.logitsTopkIds.at({2, 1}), 5);
        QCOMPARE(t.logitsTopkProbs.at({1, 1}), 0.5f);
        QCOMPARE(t.attentionStore, StoreType::F16);
        QCOMPARE(t.residualStore, StoreType::None);
        QCOMPARE(r.readAttention("from-python", 1).at({1, 2, 0}), 0.25f);
        QVERIFY(t.lens[size_t(Site::ResidPre)].empty());
        QCOMPARE(t.lens[size_t(Site::AttnOut)].entropy.at({1, 2}), 3.0f);
    }

    // Our saves keep what they do not know (the /notes dataset) and the Python trace.
    addTrace(m_path, makeTrace("t2"), false);
    QCOMPARE(listing(m_path), (QStringList{"from-python", "t2"}));
    HeadLens::renameTrace(m_path, "from-python", "py");
    QCOMPARE(listing(m_path), (QStringList{"py", "t2"}));
    QCOMPARE(ProjectReader(m_path).readTraceFull("py").attentionStore, StoreType::F16);
    HeadLens::removeTrace(m_path, "py");
    QCOMPARE(listing(m_path), (QStringList{"t2"}));
    QVERIFY(diffTrace(makeTrace("t2"), ProjectReader(m_path).readTraceFull("t2"), true).isEmpty());
    p.start(python,
            {"-c", "import sys, h5py; print(h5py.File(sys.argv[1], 'r')['notes'].asstr()[()])",
             q(m_path)});
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(QString::fromUtf8(p.readAll()).trimmed(), QString("kept across saves"));
}

void TestProject::halfStorageIsExact()
{
    // Attention, residuals and z stored as f16 read back as exactly the halves floatToHalf
    // makes of the values written, whole and layer by layer. d_model is large so that a
    // residual layer is converted in several blocks with a remainder.
    Trace t = makeTrace("h", 0.0f, {StoreType::F16, StoreType::F16, StoreType::F16});
    t.config.dModel = 5003;
    t.config.dHead = int(kDh);
    std::mt19937 rng(42);
    fillTricky(t.attentionPattern, rng);
    for (Site s : {Site::ResidPre, Site::ResidPost}) {
        t.residual[size_t(s)].reset({kL, kT, t.config.dModel});
        fillTricky(t.residual[size_t(s)], rng);
    }
    fillTricky(t.z, rng);
    addTrace(m_path, t, false);

    const FloatArray attention = halfRounded(t.attentionPattern);
    const FloatArray z = halfRounded(t.z);
    const ProjectReader r(m_path);
    const Trace full = r.readTraceFull("h");
    QCOMPARE(full.attentionStore, StoreType::F16);
    QCOMPARE(full.residualStore, StoreType::F16);
    QCOMPARE(full.zStore, StoreType::F16);
    QString d = diffBits("attention", attention, full.attentionPattern);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    d = diffBits("z", z, full.z);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    for (Site s : allSites()) {
        const FloatArray want = halfRounded(t.residual[size_t(s)]);
        d = diffBits(QString("residual ") + siteName(s), want, full.residual[size_t(s)]);
        QVERIFY2(d.isEmpty(), qPrintable(d));
        for (int layer = 0; layer < kL && !want.empty(); ++layer) {
            d = diffBits("residual layer", layerOf(want, layer), r.readResidual("h", s, layer));
            QVERIFY2(d.isEmpty(), qPrintable(d));
        }
    }
    for (int layer = 0; layer < kL; ++layer) {
        d = diffBits("attention layer", layerOf(attention, layer), r.readAttention("h", layer));
        QVERIFY2(d.isEmpty(), qPrintable(d));
        d = diffBits("z layer", layerOf(z, layer), r.readZ("h", layer));
        QVERIFY2(d.isEmpty(), qPrintable(d));
        for (int query = 0; query < kT; ++query) {
            FloatArray row({kH, kT});
            for (int64_t h = 0; h < kH; ++h)
                for (int64_t k = 0; k < kT; ++k)
                    row.at({h, k}) = attention.at({layer, h, query, k});
            d = diffBits("attention row", row, readAttentionRow(m_path, "h", layer, query));
            QVERIFY2(d.isEmpty(), qPrintable(d));
        }
    }
    // Re-saving what was read (a rebuild copies the trace; a replace writes it again) keeps
    // every half.
    Trace again = full;
    again.name = "h2";
    addTrace(m_path, again, false);
    d = diffBits("rewritten attention", attention,
                 ProjectReader(m_path).readTraceFull("h2").attentionPattern);
    QVERIFY2(d.isEmpty(), qPrintable(d));

    // numpy agrees on every half, and the datasets are what they were: float16, one chunk per
    // layer (per layer and head for attention), shuffled and deflated.
    QString python;
    if (!haveH5py(&python))
        QSKIP("needs /usr/bin/python3 with h5py and numpy (Debian: python3-h5py)");
    const QString dir = m_dir->path();
    QVERIFY(writeFloatFile(dir + "/attention.f32", t.attentionPattern));
    QVERIFY(writeFloatFile(dir + "/resid_pre.f32", t.residual[size_t(Site::ResidPre)]));
    QVERIFY(writeFloatFile(dir + "/z.f32", t.z));
    QProcess p;
    p.start(python, {"-c", R"(
import sys, h5py, numpy as np
g = h5py.File(sys.argv[1], 'r')['traces/h']
for name, raw in zip(['attention/pattern', 'residual/resid_pre', 'heads/z'], sys.argv[2:]):
    d = g[name]
    x = np.fromfile(raw, dtype='<f4')
    with np.errstate(over='ignore'):
        want = x.astype(np.float16).view('<u2')
    same = np.array_equal(want, d[...].reshape(-1).view('<u2'))
    print(name, d.dtype, d.chunks, d.compression, d.compression_opts, d.shuffle, same)
)",
                     q(m_path), dir + "/attention.f32", dir + "/resid_pre.f32", dir + "/z.f32"});
    QVERIFY(p.waitForFinished(120000));
    const QString out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    // Attention shuffled and deflated at level 1; dense float vectors stored as they are.
    QCOMPARE(out, QString("attention/pattern float16 (1, 1, 3, 3) gzip 1 True True\n"
                          "residual/resid_pre float16 (1, 3, 5003) None None False True\n"
                          "heads/z float16 (1, 3, 2, 2) None None False True"));
}

void TestProject::committedFixture()
{
    // A v1 file written once and committed: every later version must still read it. Rewrite it
    // (only when the writer changed on purpose and only within schema 1) with
    // HEADLENS_WRITE_FIXTURE=1.
    const std::string fixture = HEADLENS_SOURCE_DIR "/tests/project/data/v1.hlproj";
    Trace child = makeTrace("child", 0.01f, {StoreType::F32, StoreType::F16, StoreType::F32});
    child.parent = "t1";
    child.edit = R"({"kind":"propagate"})";
    if (qEnvironmentVariableIntValue("HEADLENS_WRITE_FIXTURE") == 1) {
        QDir().mkpath(QFileInfo(q(fixture)).path());
        QFile::remove(q(fixture));
        addTrace(fixture, makeTrace("t1"), false);
        addTrace(fixture, child, false);
    }
    if (!QFileInfo::exists(q(fixture))) QFAIL(qPrintable("missing fixture " + q(fixture)));
    ProjectReader r(fixture);
    QCOMPARE(r.info().schemaVersion, 1);
    QCOMPARE(listing(fixture), (QStringList{"t1", "child"}));
    QString d = diffTrace(makeTrace("t1"), r.readTraceFull("t1"), true);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    d = diffTrace(child, r.readTraceFull("child"), true);
    QVERIFY2(d.isEmpty(), qPrintable(d));

    // Its halves were rounded by HDF5 when it was written; they are the halves floatToHalf
    // makes, read back exactly.
    const Trace t1 = makeTrace("t1");
    d = diffBits("t1 attention", halfRounded(t1.attentionPattern),
                 r.readTraceFull("t1").attentionPattern);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    d = diffBits("t1 z", halfRounded(t1.z), r.readTraceFull("t1").z);
    QVERIFY2(d.isEmpty(), qPrintable(d));
    for (Site s : {Site::ResidPre, Site::ResidPost}) {
        d = diffBits("child residual", halfRounded(child.residual[size_t(s)]),
                     r.readTraceFull("child").residual[size_t(s)]);
        QVERIFY2(d.isEmpty(), qPrintable(d));
    }
}

QTEST_GUILESS_MAIN(TestProject)
#include "tst_project.moc"
