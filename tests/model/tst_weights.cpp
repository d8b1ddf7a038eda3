// Model files without torch: SHA-256, safetensors (single and sharded) with config.json, and
// llama2.c checkpoints. Every broken file must end in an InputError that names the file.

#include "weights.h"

#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <functional>

using namespace HeadLens;
using json = nlohmann::json;

namespace {

QString storiesDir()
{
    return QStringLiteral(HEADLENS_SHARED_DIR "/models/stories260K");
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    QCOMPARE(f.write(bytes), bytes.size());
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

// The message of the InputError f throws; "(no error)" or "(other: ...)" otherwise.
QString inputErrorOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const InputError &e) {
        return QString::fromStdString(e.what());
    } catch (const std::exception &e) {
        return QStringLiteral("(other: %1)").arg(QString::fromStdString(e.what()));
    }
    return QStringLiteral("(no error)");
}

// --- a tiny safetensors writer, independent of the reader under test

struct StTensor {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    QByteArray bytes;
};

QByteArray safetensorsFrom(const std::string &header, const QByteArray &data)
{
    std::string h = header;
    while (h.size() % 8 != 0)
        h += ' ';
    QByteArray out;
    const uint64_t n = h.size();
    for (int i = 0; i < 8; ++i)
        out.append(char((n >> (8 * i)) & 0xff));
    out.append(h.data(), int(h.size()));
    out.append(data);
    return out;
}

QByteArray safetensors(const std::vector<StTensor> &ts)
{
    json h = json::object();
    h["__metadata__"] = {{"format", "pt"}};
    QByteArray data;
    for (const StTensor &t : ts) {
        h[t.name] = {{"dtype", t.dtype},
                     {"shape", t.shape},
                     {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
        data.append(t.bytes);
    }
    return safetensorsFrom(h.dump(), data);
}

QByteArray floats(int64_t n, float start)
{
    QByteArray b(int(n * 4), '\0');
    for (int64_t i = 0; i < n; ++i) {
        const float v = start + float(i) * 0.25f;
        std::memcpy(b.data() + i * 4, &v, 4);
    }
    return b;
}

int64_t count(const std::vector<int64_t> &s)
{
    int64_t n = 1;
    for (int64_t d : s)
        n *= d;
    return n;
}

// A complete tiny Llama: 1 layer, 2 heads of 4, 1 kv head, ffn 12, vocab 16.
json tinyConfig()
{
    return {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"num_hidden_layers", 1},
            {"num_attention_heads", 2},
            {"num_key_value_heads", 1},
            {"hidden_size", 8},
            {"intermediate_size", 12},
            {"vocab_size", 16},
            {"rms_norm_eps", 1e-5},
            {"bos_token_id", 1},
            {"eos_token_id", {2, 7}},
            {"tie_word_embeddings", false}};
}

std::vector<StTensor> tinyTensors()
{
    const std::vector<std::pair<std::string, std::vector<int64_t>>> specs = {
        {"model.embed_tokens.weight", {16, 8}},
        {"model.norm.weight", {8}},
        {"lm_head.weight", {16, 8}},
        {"model.layers.0.input_layernorm.weight", {8}},
        {"model.layers.0.post_attention_layernorm.weight", {8}},
        {"model.layers.0.self_attn.q_proj.weight", {8, 8}},
        {"model.layers.0.self_attn.k_proj.weight", {4, 8}},
        {"model.layers.0.self_attn.v_proj.weight", {4, 8}},
        {"model.layers.0.self_attn.o_proj.weight", {8, 8}},
        {"model.layers.0.mlp.gate_proj.weight", {12, 8}},
        {"model.layers.0.mlp.up_proj.weight", {12, 8}},
        {"model.layers.0.mlp.down_proj.weight", {8, 12}},
    };
    std::vector<StTensor> ts;
    float start = 1.0f;
    for (const auto &[name, shape] : specs) {
        ts.push_back({name, "F32", shape, floats(count(shape), start)});
        start += 100.0f;
    }
    return ts;
}

StTensor *tensorNamed(std::vector<StTensor> &ts, const std::string &name)
{
    for (StTensor &t : ts)
        if (t.name == name) return &t;
    return nullptr;
}

void writeTinyModel(const QString &dir, const json &config, const std::vector<StTensor> &ts)
{
    writeFile(dir + "/config.json", QByteArray::fromStdString(config.dump(2)));
    writeFile(dir + "/model.safetensors", safetensors(ts));
}

// Splits the tensors over two shards with an index.
void writeShardedModel(const QString &dir, const std::vector<StTensor> &ts)
{
    writeFile(dir + "/config.json", QByteArray::fromStdString(tinyConfig().dump()));
    std::vector<StTensor> a, b;
    json map = json::object();
    for (size_t i = 0; i < ts.size(); ++i) {
        const bool first = i % 2 == 0;
        (first ? a : b).push_back(ts[i]);
        map[ts[i].name] =
            first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    writeFile(dir + "/model-00001-of-00002.safetensors", safetensors(a));
    writeFile(dir + "/model-00002-of-00002.safetensors", safetensors(b));
    const json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", map}};
    writeFile(dir + "/model.safetensors.index.json", QByteArray::fromStdString(index.dump()));
}

// --- a tiny llama2.c writer: the same logical weights in v0 or v1 layout

struct TinyL2c {
    int dim = 8, hidden = 12, layers = 2, heads = 2, kvHeads = 1, vocab = 16, seqLen = 4;
    bool shared = false;
};

QByteArray llama2cFile(const TinyL2c &c, int version)
{
    const int hs = c.dim / c.heads, kvDim = c.kvHeads * hs, L = c.layers;
    // Each logical array gets its own value range, so that a mix-up cannot go unseen.
    auto arr = [](int64_t n, float base) { return floats(n, base); };
    const QByteArray embed = arr(int64_t(c.vocab) * c.dim, 1000);
    const QByteArray rmsAtt = arr(int64_t(L) * c.dim, 2000);
    const QByteArray wq = arr(int64_t(L) * c.dim * c.dim, 3000);
    const QByteArray wk = arr(int64_t(L) * kvDim * c.dim, 4000);
    const QByteArray wv = arr(int64_t(L) * kvDim * c.dim, 5000);
    const QByteArray wo = arr(int64_t(L) * c.dim * c.dim, 6000);
    const QByteArray rmsFfn = arr(int64_t(L) * c.dim, 7000);
    const QByteArray w1 = arr(int64_t(L) * c.hidden * c.dim, 8000);
    const QByteArray w2 = arr(int64_t(L) * c.dim * c.hidden, 9000);
    const QByteArray w3 = arr(int64_t(L) * c.hidden * c.dim, 10000);
    const QByteArray rmsFinal = arr(c.dim, 11000);
    const QByteArray cls = arr(int64_t(c.vocab) * c.dim, 12000);
    QByteArray out;
    auto i32 = [&](int32_t v) { out.append(reinterpret_cast<const char *>(&v), 4); };
    if (version == 1) {
        i32(0x616b3432);
        i32(1);
    }
    i32(c.dim);
    i32(c.hidden);
    i32(c.layers);
    i32(c.heads);
    i32(c.kvHeads);
    i32(version == 0 && !c.shared ? -c.vocab : c.vocab);
    i32(c.seqLen);
    if (version == 1) {
        out.append(char(c.shared ? 1 : 0));
        out.append(QByteArray(256 - out.size(), '\0'));
        out += rmsAtt + rmsFfn + rmsFinal + embed + wq + wk + wv + wo + w1 + w2 + w3;
    } else {
        out += embed + rmsAtt + wq + wk + wv + wo + rmsFfn + w1 + w2 + w3 + rmsFinal;
        out += arr(int64_t(c.seqLen) * hs, -5); // the old RoPE table
    }
    if (!c.shared) out += cls;
    return out;
}

} // namespace

class TestWeights : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void sha256Vectors_data();
    void sha256Vectors();
    void sha256Chunks();
    void dtypes();
    void singleFile();
    void halfPrecision();
    void sharded();
    void linksStayInsideTheFolder();
    void configDefaults();
    void configFields();
    void refusals_data();
    void refusals();
    void llama2cTiny_data();
    void llama2cTiny();
    void llama2cRefusals();
    void stories260K();
};

void TestWeights::sha256Vectors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("digest");
    QTest::newRow("empty") << QByteArray()
                           << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    QTest::newRow("abc") << QByteArray("abc")
                         << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    QTest::newRow("448 bits") << QByteArray(
                                     "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                              << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    QTest::newRow("896 bits")
        << QByteArray("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
                      "nopqklmnopqrlmnopqrsmnopqrstnopqrstu")
        << "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
    QTest::newRow("million a")
        << QByteArray(1000000, 'a')
        << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
}

void TestWeights::sha256Vectors()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, digest);
    QCOMPARE(QString::fromStdString(sha256Hex(input.constData(), size_t(input.size()))), digest);
}

void TestWeights::sha256Chunks()
{
    // Feeding odd-sized pieces must give the same digest as one update.
    const QByteArray data(1000000, 'a');
    for (size_t step : {size_t(1), size_t(7), size_t(63), size_t(64), size_t(65), size_t(4099)}) {
        Sha256 s;
        for (size_t off = 0; off < size_t(data.size()); off += step)
            s.update(data.constData() + off, std::min(step, size_t(data.size()) - off));
        QCOMPARE(
            QString::fromStdString(s.hexDigest()),
            QStringLiteral("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }
    // Lengths around the padding boundary (55, 56, 64 bytes) against a one-shot digest of a
    // known value.
    QCOMPARE(QString::fromStdString(sha256Hex(QByteArray(55, 'a').constData(), 55)),
             QStringLiteral("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"));
    QCOMPARE(QString::fromStdString(sha256Hex(QByteArray(56, 'a').constData(), 56)),
             QStringLiteral("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"));
    QCOMPARE(QString::fromStdString(sha256Hex(QByteArray(64, 'a').constData(), 64)),
             QStringLiteral("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
}

void TestWeights::dtypes()
{
    QCOMPARE(QString(dtypeName(DType::BF16)), QStringLiteral("BF16"));
    QCOMPARE(QString(dtypeName(DType::BOOL)), QStringLiteral("BOOL"));
    QCOMPARE(dtypeSize(DType::F32), size_t(4));
    QCOMPARE(dtypeSize(DType::F16), size_t(2));
    QCOMPARE(dtypeSize(DType::BF16), size_t(2));
    QCOMPARE(dtypeSize(DType::F64), size_t(8));
    QCOMPARE(dtypeSize(DType::I64), size_t(8));
    QCOMPARE(dtypeSize(DType::U8), size_t(1));
}

void TestWeights::singleFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto ts = tinyTensors();
    writeTinyModel(dir.path(), tinyConfig(), ts);
    const WeightSet ws = openWeights(dir.path().toStdString());
    QCOMPARE(QString::fromStdString(ws.format), QStringLiteral("hf-safetensors"));
    QVERIFY(!ws.ropeAdjacentPairs);
    QCOMPARE(ws.config.nLayers, 1);
    QCOMPARE(ws.config.nHeads, 2);
    QCOMPARE(ws.config.nKvHeads, 1);
    QCOMPARE(ws.config.dModel, 8);
    QCOMPARE(ws.config.dHead, 4);
    QCOMPARE(ws.config.dFfn, 12);
    QCOMPARE(ws.config.vocabSize, 16);
    QCOMPARE(ws.config.eosId, 2);
    QVERIFY(!ws.config.tiedEmbeddings);
    QCOMPARE(ws.tensors.size(), ts.size());
    int64_t total = 0;
    for (const StTensor &t : ts) {
        const TensorEntry *e = ws.find(t.name);
        QVERIFY2(e, t.name.c_str());
        QCOMPARE(e->dtype, DType::F32);
        QCOMPARE(e->shape, t.shape);
        QCOMPARE(e->nbytes, size_t(t.bytes.size()));
        QVERIFY(std::memcmp(e->data, t.bytes.constData(), e->nbytes) == 0);
        QVERIFY(QString::fromStdString(e->file).endsWith("model.safetensors"));
        total += int64_t(e->nbytes);
    }
    QCOMPARE(ws.totalBytes, total);
    QCOMPARE(ws.fingerprint.size(), size_t(64));
    QCOMPARE(openWeights(dir.path().toStdString()).fingerprint, ws.fingerprint);

    // get(): shape checks and the missing-tensor message.
    QCOMPARE(ws.get("model.norm.weight", {8}).nbytes, size_t(32));
    QVERIFY(inputErrorOf([&] { ws.get("model.norm.weight", {9}); }).contains("has shape [8]"));
    const QString missing = inputErrorOf([&] { ws.get("nope", {1}); });
    QVERIFY2(missing.contains("tensor nope is missing") && missing.contains(dir.path()),
             qPrintable(missing));

    // A changed config changes the fingerprint.
    json cfg = tinyConfig();
    cfg["rope_theta"] = 500000.0;
    writeFile(dir.path() + "/config.json", QByteArray::fromStdString(cfg.dump(2)));
    QVERIFY(openWeights(dir.path().toStdString()).fingerprint != ws.fingerprint);
}

void TestWeights::halfPrecision()
{
    QTemporaryDir dir;
    auto ts = tinyTensors();
    // F16 and BF16 tensors keep their dtype and bytes; the reader converts nothing.
    StTensor *q = tensorNamed(ts, "model.layers.0.self_attn.q_proj.weight");
    q->dtype = "F16";
    q->bytes = q->bytes.left(q->bytes.size() / 2);
    StTensor *e = tensorNamed(ts, "model.embed_tokens.weight");
    e->dtype = "BF16";
    e->bytes = e->bytes.left(e->bytes.size() / 2);
    ts.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", "I64", {2}, QByteArray(16, 1)});
    writeTinyModel(dir.path(), tinyConfig(), ts);
    const WeightSet ws = openWeights(dir.path().toStdString());
    QCOMPARE(ws.find(q->name)->dtype, DType::F16);
    QCOMPARE(ws.find(q->name)->nbytes, size_t(128));
    QCOMPARE(ws.find(e->name)->dtype, DType::BF16);
    QVERIFY(std::memcmp(ws.find(e->name)->data, e->bytes.constData(), 256) == 0);
    QCOMPARE(ws.find("model.layers.0.self_attn.rotary_emb.inv_freq")->dtype, DType::I64);
}

void TestWeights::sharded()
{
    QTemporaryDir dir;
    const auto ts = tinyTensors();
    writeShardedModel(dir.path(), ts);
    const WeightSet ws = openWeights(dir.path().toStdString());
    QCOMPARE(ws.tensors.size(), ts.size());
    QCOMPARE(ws.files.size(), size_t(2));
    for (const StTensor &t : ts) {
        const TensorEntry *e = ws.find(t.name);
        QVERIFY2(e, t.name.c_str());
        QVERIFY(std::memcmp(e->data, t.bytes.constData(), e->nbytes) == 0);
    }
    QVERIFY(QString::fromStdString(ws.find("model.norm.weight")->file)
                .endsWith("model-00002-of-00002.safetensors"));
}

// A model folder reads only files inside itself: a link (or a shard named by the index) that
// leads elsewhere is refused, naming both, without quoting the file's bytes. The layout of the
// Hugging Face hub cache (snapshots/<rev>/* linked to ../../blobs/<hash>) still loads.
void TestWeights::linksStayInsideTheFolder()
{
    QTemporaryDir tmp;
    const QString root = tmp.path();
    const auto ts = tinyTensors();
    // Hub cache: every file of the snapshot is a relative link into the repository's blobs.
    const QString repo = root + "/models--tiny--llama";
    const QString snap = repo + "/snapshots/0123abc";
    QVERIFY(QDir().mkpath(repo + "/blobs/build") && QDir().mkpath(snap));
    writeTinyModel(repo + "/blobs/build", tinyConfig(), ts);
    for (const char *name : {"config.json", "model.safetensors"}) {
        const QString blob = repo + "/blobs/" + QString(name).section('.', 0, 0) + "-blob";
        QVERIFY(QFile::rename(repo + "/blobs/build/" + name, blob));
        QVERIFY(QFile::link("../../blobs/" + QFileInfo(blob).fileName(), snap + "/" + name));
    }
    const WeightSet cached = openWeights(snap.toStdString());
    QCOMPARE(cached.tensors.size(), ts.size());

    // The same weights linked from a folder that is not a snapshot: refused.
    const QString secret = root + "/secret";
    QVERIFY(QDir().mkpath(secret));
    writeTinyModel(secret, tinyConfig(), ts);
    const QString folder = root + "/model";
    QVERIFY(QDir().mkpath(folder));
    QVERIFY(QFile::copy(secret + "/config.json", folder + "/config.json"));
    QVERIFY(QFile::link(secret + "/model.safetensors", folder + "/model.safetensors"));
    auto refusal = [](const QString &dir) {
        try {
            openWeights(dir.toStdString());
        } catch (const InputError &e) {
            return QString::fromStdString(e.what());
        }
        return QString("loaded");
    };
    QString msg = refusal(folder);
    QVERIFY2(msg.contains("outside the model folder") &&
                 msg.contains(secret + "/model.safetensors") && msg.contains(folder),
             qPrintable(msg));

    // A shard of an index linked out of the folder; and /etc/passwd as a shard.
    const QString sharded = root + "/sharded";
    QVERIFY(QDir().mkpath(sharded));
    writeShardedModel(sharded, ts);
    const QString shard = sharded + "/model-00002-of-00002.safetensors";
    QVERIFY(QFile::rename(shard, root + "/elsewhere.safetensors"));
    QVERIFY(QFile::link(root + "/elsewhere.safetensors", shard));
    msg = refusal(sharded);
    QVERIFY2(msg.contains("a shard named by the index") && msg.contains("outside the model folder"),
             qPrintable(msg));
    QFile::remove(shard);
    QVERIFY(QFile::link("/etc/passwd", shard));
    msg = refusal(sharded);
    QVERIFY2(msg.contains("outside the model folder") && !msg.contains("root"), qPrintable(msg));
}

void TestWeights::configDefaults()
{
    QTemporaryDir dir;
    const json minimal = {{"model_type", "mistral"},  {"num_hidden_layers", 2},
                          {"num_attention_heads", 4}, {"hidden_size", 32},
                          {"intermediate_size", 64},  {"vocab_size", 100},
                          {"rope_scaling", nullptr}};
    const QString path = dir.path() + "/config.json";
    writeFile(path, QByteArray::fromStdString(minimal.dump()));
    const ModelConfig c = parseHfConfig(path.toStdString());
    QCOMPARE(QString::fromStdString(c.architecture), QStringLiteral("llama"));
    QCOMPARE(c.nKvHeads, 4);
    QCOMPARE(c.dHead, 8);
    QCOMPARE(c.maxSeqLen, 2048);
    QCOMPARE(c.ropeTheta, 10000.0);
    QCOMPARE(c.ropeScaling, 1.0);
    QCOMPARE(c.normEps, 1e-6);
    QVERIFY(!c.tiedEmbeddings && !c.attnBias && !c.attnOutBias && !c.mlpBias);
    QCOMPARE(c.bosId, -1);
    QCOMPARE(c.eosId, -1);
}

void TestWeights::configFields()
{
    QTemporaryDir dir;
    json cfg = tinyConfig();
    cfg["architectures"] = {"MistralForCausalLM"};
    cfg["head_dim"] = 6;
    cfg["max_position_embeddings"] = 4096;
    cfg["rope_theta"] = 1e6;
    cfg["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 4.0}};
    cfg["tie_word_embeddings"] = true;
    cfg["attention_bias"] = true;
    cfg["mlp_bias"] = true;
    const QString path = dir.path() + "/config.json";
    writeFile(path, QByteArray::fromStdString(cfg.dump()));
    const ModelConfig c = parseHfConfig(path.toStdString());
    QCOMPARE(c.dHead, 6);
    QCOMPARE(c.maxSeqLen, 4096);
    QCOMPARE(c.ropeTheta, 1e6);
    QCOMPARE(c.ropeScaling, 4.0);
    QCOMPARE(c.normEps, 1e-5);
    QVERIFY(c.tiedEmbeddings && c.attnBias && c.attnOutBias && c.mlpBias);
    QCOMPARE(c.bosId, 1);
    QCOMPARE(c.eosId, 2);

    // Biases the config announces are required, with their shapes; tied needs no lm_head.
    auto ts = tinyTensors();
    ts.erase(ts.begin() + 2); // lm_head
    cfg = tinyConfig();
    cfg["tie_word_embeddings"] = true;
    cfg["attention_bias"] = true;
    writeTinyModel(dir.path(), cfg, ts);
    QVERIFY(inputErrorOf([&] {
                openWeights(dir.path().toStdString());
            }).contains("self_attn.q_proj.bias is missing"));
    const std::string p = "model.layers.0.self_attn.";
    ts.push_back({p + "q_proj.bias", "F32", {8}, floats(8, 0)});
    ts.push_back({p + "k_proj.bias", "F32", {4}, floats(4, 0)});
    ts.push_back({p + "v_proj.bias", "F32", {4}, floats(4, 0)});
    ts.push_back({p + "o_proj.bias", "F32", {8}, floats(8, 0)});
    writeTinyModel(dir.path(), cfg, ts);
    const WeightSet ws = openWeights(dir.path().toStdString());
    QVERIFY(ws.config.tiedEmbeddings && ws.config.attnOutBias);
    QVERIFY(!ws.find("lm_head.weight"));
}

enum Broken {
    TruncatedFile,
    TruncatedData,
    HeaderBeyondFile,
    BadJsonHeader,
    HeaderNotObject,
    UnknownDtype,
    OffsetsBeyondData,
    ByteCountMismatch,
    NegativeShape,
    Overlap,
    MissingTensorInShard,
    MissingShard,
    PickleOnly,
    NoSafetensors,
    NoConfig,
    ConfigBadJson,
    ConfigHeadsNotDivisible,
    ConfigArchitecture,
    ConfigModelType,
    ConfigRopeScaling,
    ConfigOddHeadDim,
    ConfigMissingField,
    ConfigNegativeField,
    MissingLmHead,
    WrongShape,
    IntegerWeight,
};

void TestWeights::refusals_data()
{
    QTest::addColumn<int>("broken");
    QTest::addColumn<QString>("where"); // must be named by the message ("" = the folder)
    QTest::addColumn<QString>("fragment");
    auto row = [](const char *name, Broken b, const char *where, const char *fragment) {
        QTest::newRow(name) << int(b) << QString(where) << QString(fragment);
    };
    row("truncated file", TruncatedFile, "model.safetensors", "too short");
    row("truncated data", TruncatedData, "model.safetensors", "beyond the end of the data");
    row("header length beyond file", HeaderBeyondFile, "model.safetensors", "runs past the end");
    row("bad JSON header", BadJsonHeader, "model.safetensors", "not valid JSON");
    row("header not an object", HeaderNotObject, "model.safetensors", "not a JSON object");
    row("unknown dtype", UnknownDtype, "model.safetensors", "unknown dtype F8_E4M3");
    row("offsets beyond data", OffsetsBeyondData, "model.safetensors",
        "beyond the end of the data");
    row("byte count mismatch", ByteCountMismatch, "model.safetensors",
        "tensor 'model.norm.weight' declares 28 bytes, but its shape [8] of F32 needs 32");
    row("negative shape", NegativeShape, "model.safetensors", "non-negative");
    row("overlapping tensors", Overlap, "model.safetensors", "overlap");
    row("missing tensor in shard", MissingTensorInShard, "model-00002-of-00002.safetensors",
        "tensor 'model.norm.weight' is missing in shard");
    row("missing shard", MissingShard, "model-00002-of-00002.safetensors",
        "named by model.safetensors.index.json is missing in");
    row("pytorch_model.bin only", PickleOnly, "pytorch_model.bin",
        "(a pickle, which can carry code and is never loaded); convert it to model.safetensors");
    row("no safetensors", NoSafetensors, "", "holds neither model.safetensors");
    row("no config.json", NoConfig, "", "neither a model folder with config.json");
    row("config bad JSON", ConfigBadJson, "config.json", "is not valid JSON: parse error at line");
    row("config heads not divisible", ConfigHeadsNotDivisible, "config.json",
        "num_attention_heads (2) must divide by num_key_value_heads (3)");
    row("config architecture", ConfigArchitecture, "config.json",
        "model type GPTNeoXForCausalLM is not supported (supported: LlamaForCausalLM, "
        "MistralForCausalLM, GPT2LMHeadModel)");
    row("config model_type", ConfigModelType, "config.json",
        "model type gpt_neox is not supported");
    row("config rope_scaling", ConfigRopeScaling, "config.json",
        "rope_scaling type dynamic is not supported");
    row("config odd head_dim", ConfigOddHeadDim, "config.json", "head_dim (5) must be even");
    row("config missing field", ConfigMissingField, "config.json", "vocab_size is missing");
    row("config negative field", ConfigNegativeField, "config.json",
        "num_hidden_layers must be a positive integer");
    row("missing lm_head", MissingLmHead, "", "tensor lm_head.weight is missing");
    row("wrong shape", WrongShape, "model.safetensors",
        "model.layers.0.self_attn.k_proj.weight in");
    row("integer weight", IntegerWeight, "model.safetensors", "has dtype I8");
}

void TestWeights::refusals()
{
    QFETCH(int, broken);
    QFETCH(QString, where);
    QFETCH(QString, fragment);
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString dir = tmp.path();
    const QString st = dir + "/model.safetensors";
    json cfg = tinyConfig();
    auto ts = tinyTensors();
    writeTinyModel(dir, cfg, ts);
    const QByteArray good = readFile(st);
    const std::string norm = R"("model.norm.weight":{"dtype":"F32","shape":[8],)";

    switch (Broken(broken)) {
    case TruncatedFile:
        writeFile(st, good.left(5));
        break;
    case TruncatedData:
        writeFile(st, good.left(good.size() - 10));
        break;
    case HeaderBeyondFile: {
        QByteArray b = good.left(200);
        b[0] = char(0x40);
        b[1] = char(0x42);
        b[2] = char(0x0f); // a million bytes of header in a 200-byte file
        writeFile(st, b);
        break;
    }
    case BadJsonHeader:
        writeFile(st, safetensorsFrom("{\"a\": [1, 2", QByteArray(8, '\0')));
        break;
    case HeaderNotObject:
        writeFile(st, safetensorsFrom("[1, 2, 3]", QByteArray()));
        break;
    case UnknownDtype:
        tensorNamed(ts, "model.norm.weight")->dtype = "F8_E4M3";
        tensorNamed(ts, "model.norm.weight")->bytes.truncate(8);
        writeFile(st, safetensors(ts));
        break;
    case OffsetsBeyondData:
        writeFile(
            st, safetensorsFrom("{" + norm + R"("data_offsets":[16,48]}})", QByteArray(40, '\0')));
        break;
    case ByteCountMismatch:
        writeFile(st,
                  safetensorsFrom("{" + norm + R"("data_offsets":[0,28]}})", QByteArray(40, '\0')));
        break;
    case NegativeShape:
        writeFile(
            st, safetensorsFrom(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", {}));
        break;
    case Overlap:
        writeFile(st, safetensorsFrom("{" + norm + R"("data_offsets":[0,32]},)" +
                                          R"("b":{"dtype":"F32","shape":[4],)" +
                                          R"("data_offsets":[16,32]}})",
                                      QByteArray(32, '\0')));
        break;
    case MissingTensorInShard: {
        QFile::remove(st);
        writeShardedModel(dir, ts);
        // Rewrite shard 2 without one of the tensors the index places there.
        std::vector<StTensor> b;
        for (size_t i = 3; i < ts.size(); i += 2) // ts[1], model.norm.weight, left out
            b.push_back(ts[i]);
        writeFile(dir + "/model-00002-of-00002.safetensors", safetensors(b));
        break;
    }
    case MissingShard:
        QFile::remove(st);
        writeShardedModel(dir, ts);
        QFile::remove(dir + "/model-00002-of-00002.safetensors");
        break;
    case PickleOnly:
        QFile::remove(st);
        writeFile(dir + "/pytorch_model.bin", QByteArray("PK\x03\x04 not really", 16));
        break;
    case NoSafetensors:
        QFile::remove(st);
        break;
    case NoConfig:
        QFile::remove(dir + "/config.json");
        break;
    case ConfigBadJson:
        writeFile(dir + "/config.json", "{\n  \"vocab_size\": 16,\n  \"hidden_size\": \n}");
        break;
    case ConfigHeadsNotDivisible:
        cfg["num_key_value_heads"] = 3;
        break;
    case ConfigArchitecture:
        cfg["architectures"] = {"GPTNeoXForCausalLM"};
        break;
    case ConfigModelType:
        cfg.erase("architectures");
        cfg["model_type"] = "gpt_neox";
        break;
    case ConfigRopeScaling:
        cfg["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
        break;
    case ConfigOddHeadDim:
        cfg["head_dim"] = 5;
        break;
    case ConfigMissingField:
        cfg.erase("vocab_size");
        break;
    case ConfigNegativeField:
        cfg["num_hidden_layers"] = -1;
        break;
    case MissingLmHead:
        ts.erase(ts.begin() + 2);
        writeFile(st, safetensors(ts));
        break;
    case WrongShape:
        tensorNamed(ts, "model.layers.0.self_attn.k_proj.weight")->shape = {8, 4};
        writeFile(st, safetensors(ts));
        break;
    case IntegerWeight: {
        StTensor *t = tensorNamed(ts, "model.layers.0.mlp.up_proj.weight");
        t->dtype = "I8";
        t->bytes.truncate(12 * 8);
        writeFile(st, safetensors(ts));
        break;
    }
    }
    if (broken >= ConfigHeadsNotDivisible && broken <= ConfigNegativeField)
        writeFile(dir + "/config.json", QByteArray::fromStdString(cfg.dump(2)));

    const QString msg = inputErrorOf([&] { openWeights(dir.toStdString()); });
    QVERIFY2(msg.contains(where.isEmpty() ? dir : where), qPrintable(msg));
    QVERIFY2(msg.contains(fragment), qPrintable(msg));
}

void TestWeights::llama2cTiny_data()
{
    QTest::addColumn<bool>("shared");
    QTest::newRow("separate classifier") << false;
    QTest::newRow("shared classifier") << true;
}

void TestWeights::llama2cTiny()
{
    QFETCH(bool, shared);
    QTemporaryDir dir;
    TinyL2c c;
    c.shared = shared;
    const QString v0 = dir.path() + "/tiny_v0.bin", v1 = dir.path() + "/tiny_v1.bin";
    writeFile(v0, llama2cFile(c, 0));
    writeFile(v1, llama2cFile(c, 1));
    const WeightSet a = openWeights(v0.toStdString());
    const WeightSet b = openWeights(v1.toStdString());
    QCOMPARE(QString::fromStdString(a.format), QStringLiteral("llama2c-v0"));
    QCOMPARE(QString::fromStdString(b.format), QStringLiteral("llama2c-v1"));
    QVERIFY(a.ropeAdjacentPairs && b.ropeAdjacentPairs);
    QVERIFY(a.config == b.config);
    QCOMPARE(a.config.tiedEmbeddings, shared);
    QCOMPARE(a.config.vocabSize, 16);
    QCOMPARE(a.config.maxSeqLen, 4);
    QCOMPARE(a.tensors.size(), size_t(2 + 9 * c.layers + (shared ? 0 : 1)));
    QCOMPARE(a.totalBytes, b.totalBytes);
    for (const auto &[name, t] : a.tensors) {
        const TensorEntry *u = b.find(name);
        QVERIFY2(u, name.c_str());
        QCOMPARE(u->shape, t.shape);
        QVERIFY2(std::memcmp(u->data, t.data, t.nbytes) == 0, name.c_str());
    }
    // Spot checks against the writer's value ranges: layer 1 of wk, the classifier.
    float first;
    std::memcpy(&first, a.find("model.layers.1.self_attn.k_proj.weight")->data, 4);
    QCOMPARE(first, 4000.0f + 0.25f * float(4 * 8));
    std::memcpy(&first, a.find("model.layers.1.mlp.down_proj.weight")->data, 4);
    QCOMPARE(first, 9000.0f + 0.25f * float(8 * 12));
    if (!shared) {
        std::memcpy(&first, a.find("lm_head.weight")->data, 4);
        QCOMPARE(first, 12000.0f);
    }
}

void TestWeights::llama2cRefusals()
{
    QTemporaryDir dir;
    TinyL2c c;
    const QByteArray good = llama2cFile(c, 1);
    const QString p = dir.path() + "/bad.bin";

    writeFile(p, good.left(good.size() - 4));
    QString msg = inputErrorOf([&] { openWeights(p.toStdString()); });
    QVERIFY2(msg.contains("bad.bin is truncated: expected " + QString::number(good.size()) +
                          " bytes, file has " + QString::number(good.size() - 4)),
             qPrintable(msg));

    writeFile(p, good + QByteArray(4, '\0'));
    msg = inputErrorOf([&] { openWeights(p.toStdString()); });
    QVERIFY2(msg.contains("bad.bin") && msg.contains("needs exactly"), qPrintable(msg));

    QByteArray v2 = good;
    v2[4] = 2;
    writeFile(p, v2);
    msg = inputErrorOf([&] { openWeights(p.toStdString()); });
    QVERIFY2(msg.contains("bad.bin") && msg.contains("version 2"), qPrintable(msg));

    QByteArray badHeads = llama2cFile(c, 0);
    const int32_t three = 3; // n_heads 2, n_kv_heads 3
    std::memcpy(badHeads.data() + 16, &three, 4);
    writeFile(p, badHeads);
    msg = inputErrorOf([&] { openWeights(p.toStdString()); });
    QVERIFY2(msg.contains("bad.bin") && msg.contains("n_heads must divide by n_kv_heads"),
             qPrintable(msg));

    writeFile(p, QByteArray("this is a text file, not a model at all, really"));
    msg = inputErrorOf([&] { openWeights(p.toStdString()); });
    QVERIFY2(msg.contains("bad.bin is neither a model folder with config.json nor a llama2.c"),
             qPrintable(msg));

    writeFile(p, QByteArray());
    msg = inputErrorOf([&] { openWeights(p.toStdString()); });
    QVERIFY2(msg.contains("bad.bin is neither"), qPrintable(msg));

    msg = inputErrorOf([&] { openWeights((dir.path() + "/absent.bin").toStdString()); });
    QVERIFY2(msg.contains("cannot open model file") && msg.contains("absent.bin") &&
                 msg.contains("No such file"),
             qPrintable(msg));
}

void TestWeights::stories260K()
{
    const QString d = storiesDir();
    if (!QFile::exists(d + "/stories260K.bin") || !QFile::exists(d + "/stories260K_v1.bin"))
        QSKIP(qPrintable("stories260K is not available (looked in " + d + ")"));
    const WeightSet a = openWeights((d + "/stories260K.bin").toStdString());
    const WeightSet b = openWeights((d + "/stories260K_v1.bin").toStdString());
    QCOMPARE(QString::fromStdString(a.format), QStringLiteral("llama2c-v0"));
    QCOMPARE(QString::fromStdString(b.format), QStringLiteral("llama2c-v1"));
    for (const WeightSet *ws : {&a, &b}) {
        const ModelConfig &c = ws->config;
        QCOMPARE(c.dModel, 64);
        QCOMPARE(c.dFfn, 172);
        QCOMPARE(c.nLayers, 5);
        QCOMPARE(c.nHeads, 8);
        QCOMPARE(c.nKvHeads, 4);
        QCOMPARE(c.dHead, 8);
        QCOMPARE(c.vocabSize, 512);
        QCOMPARE(c.maxSeqLen, 512);
        QVERIFY(c.tiedEmbeddings);
        QCOMPARE(c.bosId, 1);
        QCOMPARE(c.eosId, 2);
        QCOMPARE(c.normEps, 1e-5);
        QVERIFY(ws->ropeAdjacentPairs);
        QCOMPARE(ws->tensors.size(), size_t(2 + 9 * 5));
        QCOMPARE(ws->fingerprint.size(), size_t(64));
    }
    QVERIFY(a.config == b.config);
    QCOMPARE(a.totalBytes, b.totalBytes);
    for (const auto &[name, t] : a.tensors) {
        const TensorEntry *u = b.find(name);
        QVERIFY2(u, name.c_str());
        QCOMPARE(u->shape, t.shape);
        QCOMPARE(u->nbytes, t.nbytes);
        QVERIFY2(std::memcmp(u->data, t.data, t.nbytes) == 0, name.c_str());
    }
    // The whole files against the README's digests, through our own SHA-256.
    const QByteArray v0 = readFile(d + "/stories260K.bin");
    QCOMPARE(QString::fromStdString(sha256Hex(v0.constData(), size_t(v0.size()))),
             QStringLiteral("b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"));

    QTemporaryDir dir;
    const QString cut = dir.path() + "/stories260K_cut.bin";
    writeFile(cut, v0.left(v0.size() - 1000));
    const QString msg = inputErrorOf([&] { openWeights(cut.toStdString()); });
    QVERIFY2(msg.contains("stories260K_cut.bin is truncated: expected 1056540 bytes, file has "
                          "1055540"),
             qPrintable(msg));
}

QTEST_GUILESS_MAIN(TestWeights)
#include "tst_weights.moc"
