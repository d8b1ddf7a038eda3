// GPT-2 model folders without torch: config.json of GPT2LMHeadModel (fields, defaults, what is
// refused by name), and the tensors under canonical "transformer." names whatever prefix the
// file uses, shapes as stored (Conv1D [in, out]), with the causal-mask buffers and a tied
// lm_head left out. Every broken folder must end in an InputError naming the file.

#include "testgpt2.h"
#include "weights.h"

#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <filesystem>
#include <functional>

using namespace HeadLens;
using namespace HeadLens::Test;
using json = nlohmann::json;

namespace {

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

// The config.json of openai-community/gpt2 (GPT-2 small), as published.
json gpt2SmallConfig()
{
    return json::parse(R"({
  "activation_function": "gelu_new",
  "architectures": ["GPT2LMHeadModel"],
  "attn_pdrop": 0.1,
  "bos_token_id": 50256,
  "embd_pdrop": 0.1,
  "eos_token_id": 50256,
  "initializer_range": 0.02,
  "layer_norm_epsilon": 1e-05,
  "model_type": "gpt2",
  "n_ctx": 1024,
  "n_embd": 768,
  "n_head": 12,
  "n_layer": 12,
  "n_positions": 1024,
  "resid_pdrop": 0.1,
  "summary_activation": null,
  "summary_first_dropout": 0.1,
  "summary_proj_to_labels": true,
  "summary_type": "cls_index",
  "summary_use_proj": true,
  "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
  "vocab_size": 50257
})");
}

ModelConfig parseJson(const QTemporaryDir &dir, const json &j)
{
    const std::string path = dir.path().toStdString() + "/config.json";
    writeTextFile(path, j.dump(2));
    return parseHfConfig(path);
}

// Values of a tensor of the weight set, converted to float from its stored dtype.
std::vector<float> valuesOf(const TensorEntry &t)
{
    size_t n = 1;
    for (int64_t s : t.shape)
        n *= size_t(s);
    std::vector<float> v(n);
    const auto *p = static_cast<const uint8_t *>(t.data);
    for (size_t i = 0; i < n; ++i) {
        if (t.dtype == DType::F32) {
            std::memcpy(&v[i], p + 4 * i, 4);
        } else {
            uint16_t h;
            std::memcpy(&h, p + 2 * i, 2);
            v[i] = t.dtype == DType::F16 ? halfToFloat(h) : bf16ToFloat(h);
        }
    }
    return v;
}

Gpt2Weights smallGpt2(uint64_t seed = 3)
{
    return randomGpt2(gpt2Config(2, 32, 4, 128, 61, 16), seed);
}

} // namespace

class TestGpt2Weights : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void configGpt2Small();
    void configDefaults();
    void configVariants_data();
    void configVariants();
    void configRefusals_data();
    void configRefusals();
    void loadsFolder_data();
    void loadsFolder();
    void fingerprint();
    void tensorRefusals_data();
    void tensorRefusals();
};

void TestGpt2Weights::configGpt2Small()
{
    QTemporaryDir dir;
    const ModelConfig c = parseJson(dir, gpt2SmallConfig());
    QCOMPARE(c.architecture, std::string("gpt2"));
    QCOMPARE(c.nLayers, 12);
    QCOMPARE(c.nHeads, 12);
    QCOMPARE(c.nKvHeads, 12);
    QCOMPARE(c.dModel, 768);
    QCOMPARE(c.dHead, 64);
    QCOMPARE(c.dFfn, 3072); // n_inner absent: 4 * n_embd
    QCOMPARE(c.vocabSize, 50257);
    QCOMPARE(c.maxSeqLen, 1024);
    QCOMPARE(c.normEps, 1e-5);
    QCOMPARE(c.activation, std::string("gelu_new"));
    QVERIFY(c.tiedEmbeddings);
    QVERIFY(c.attnBias && c.attnOutBias && c.mlpBias);
    QCOMPARE(c.bosId, 50256);
    QCOMPARE(c.eosId, 50256);
    QCOMPARE(c.ropeTheta, ModelConfig().ropeTheta);
    QCOMPARE(c.ropeScaling, 1.0);
}

void TestGpt2Weights::configDefaults()
{
    QTemporaryDir dir;
    const json minimal = {{"model_type", "gpt2"}, {"n_layer", 2},       {"n_head", 4},
                          {"n_embd", 32},         {"n_inner", nullptr}, {"vocab_size", 100}};
    const ModelConfig c = parseJson(dir, minimal);
    QCOMPARE(c.architecture, std::string("gpt2"));
    QCOMPARE(c.dHead, 8);
    QCOMPARE(c.dFfn, 128);
    QCOMPARE(c.maxSeqLen, 1024);
    QCOMPARE(c.normEps, 1e-5);
    QCOMPARE(c.activation, std::string("gelu_new"));
    QVERIFY(c.tiedEmbeddings && c.attnBias && c.attnOutBias && c.mlpBias);
    QCOMPARE(c.bosId, -1);
    QCOMPARE(c.eosId, -1);

    // The writer of tests/common round-trips through the parser.
    ModelConfig want = gpt2Config(3, 48, 3, 80, 97, 40);
    want.normEps = 1e-3;
    want.activation = "gelu";
    QCOMPARE(parseJson(dir, json::parse(gpt2ConfigJson(want))), want);
    want.dFfn = 4 * 48; // written as n_inner null
    QCOMPARE(parseJson(dir, json::parse(gpt2ConfigJson(want))), want);
}

void TestGpt2Weights::configVariants_data()
{
    QTest::addColumn<QString>("patch"); // JSON merged over GPT-2 small's config
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    auto row = [](const char *name, const char *patch, const char *field, const char *value) {
        QTest::newRow(name) << QString(patch) << QString(field) << QString(value);
    };
    row("gelu (erf)", R"({"activation_function": "gelu"})", "activation", "gelu");
    row("gelu_pytorch_tanh", R"({"activation_function": "gelu_pytorch_tanh"})", "activation",
        "gelu_new");
    row("activation absent", R"({"activation_function": null})", "activation", "gelu_new");
    row("n_inner", R"({"n_inner": 1000})", "dFfn", "1000");
    row("n_positions", R"({"n_positions": 2048, "n_ctx": 2048})", "maxSeqLen", "2048");
    row("layer_norm_epsilon", R"({"layer_norm_epsilon": 1e-3})", "normEps", "0.001");
    row("eos list", R"({"eos_token_id": [7, 8]})", "eosId", "7");
    row("no bos", R"({"bos_token_id": null})", "bosId", "-1");
    row("model_type only", R"({"architectures": null})", "architecture", "gpt2");
    row("explicit tie", R"({"tie_word_embeddings": true})", "tiedEmbeddings", "1");
    row("generic names", R"({"n_layer": null, "num_hidden_layers": 5, "n_embd": null,
        "hidden_size": 64, "n_head": null, "num_attention_heads": 2})",
        "layers/d/heads", "5/64/2");
}

void TestGpt2Weights::configVariants()
{
    QFETCH(QString, patch);
    QFETCH(QString, field);
    QFETCH(QString, value);
    QTemporaryDir dir;
    json j = gpt2SmallConfig();
    j.merge_patch(json::parse(patch.toStdString()));
    ModelConfig c;
    const QString err = inputErrorOf([&] { c = parseJson(dir, j); });
    QVERIFY2(err == "(no error)", qPrintable(err));
    QString got;
    if (field == "activation") got = QString::fromStdString(c.activation);
    if (field == "dFfn") got = QString::number(c.dFfn);
    if (field == "maxSeqLen") got = QString::number(c.maxSeqLen);
    if (field == "normEps") got = QString::number(c.normEps);
    if (field == "eosId") got = QString::number(c.eosId);
    if (field == "bosId") got = QString::number(c.bosId);
    if (field == "architecture") got = QString::fromStdString(c.architecture);
    if (field == "tiedEmbeddings") got = QString::number(int(c.tiedEmbeddings));
    if (field == "layers/d/heads")
        got = QStringLiteral("%1/%2/%3").arg(c.nLayers).arg(c.dModel).arg(c.nHeads);
    QCOMPARE(got, value);
    QCOMPARE(c.architecture, std::string("gpt2"));
}

void TestGpt2Weights::configRefusals_data()
{
    QTest::addColumn<QString>("patch");
    QTest::addColumn<QString>("fragment");
    auto row = [](const char *name, const char *patch, const char *fragment) {
        QTest::newRow(name) << QString(patch) << QString(fragment);
    };
    row("relu", R"({"activation_function": "relu"})",
        "activation_function relu is not supported (supported: gelu_new, gelu_pytorch_tanh, "
        "gelu)");
    row("quick_gelu", R"({"activation_function": "quick_gelu"})",
        "activation_function quick_gelu is not supported");
    row("activation not a string", R"({"activation_function": 3})",
        "activation_function must be a string");
    row("reorder_and_upcast_attn", R"({"reorder_and_upcast_attn": true})",
        "reorder_and_upcast_attn true is not supported");
    row("scale_attn_by_inverse_layer_idx", R"({"scale_attn_by_inverse_layer_idx": true})",
        "scale_attn_by_inverse_layer_idx true is not supported");
    row("scale_attn_weights false", R"({"scale_attn_weights": false})",
        "scale_attn_weights false is not supported");
    row("untied", R"({"tie_word_embeddings": false})",
        "tie_word_embeddings false is not supported for GPT-2");
    row("cross attention", R"({"add_cross_attention": true})",
        "add_cross_attention true is not supported");
    row("heads do not divide", R"({"n_head": 7})", "n_embd (768) must divide by n_head (7)");
    row("n_layer missing", R"({"n_layer": null})", "n_layer is missing");
    row("vocab_size missing", R"({"vocab_size": null})", "vocab_size is missing");
    row("n_inner negative", R"({"n_inner": -4})", "n_inner must be a positive integer");
    row("eps zero", R"({"layer_norm_epsilon": 0})", "layer_norm_epsilon must be a positive");
    row("other architecture", R"({"architectures": ["GPTNeoXForCausalLM"]})",
        "model type GPTNeoXForCausalLM is not supported (supported: LlamaForCausalLM, "
        "MistralForCausalLM, GPT2LMHeadModel)");
}

void TestGpt2Weights::configRefusals()
{
    QFETCH(QString, patch);
    QFETCH(QString, fragment);
    QTemporaryDir dir;
    json j = gpt2SmallConfig();
    j.merge_patch(json::parse(patch.toStdString()));
    const QString msg = inputErrorOf([&] { parseJson(dir, j); });
    QVERIFY2(msg.contains("config.json at " + dir.path()), qPrintable(msg));
    QVERIFY2(msg.contains(fragment), qPrintable(msg));
}

void TestGpt2Weights::loadsFolder_data()
{
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<bool>("prefix");
    QTest::addColumn<int>("shards");
    QTest::addColumn<bool>("extras"); // causal-mask buffers and a copy of wte as lm_head
    for (const char *dt : {"F32", "F16", "BF16"})
        for (bool prefix : {true, false})
            QTest::addRow("%s/%s", dt, prefix ? "prefix" : "no-prefix")
                << QString(dt) << prefix << 1 << false;
    QTest::newRow("sharded/prefix") << QString("F32") << true << 3 << false;
    QTest::newRow("sharded/no-prefix/extras") << QString("BF16") << false << 2 << true;
    QTest::newRow("extras/prefix") << QString("F16") << true << 1 << true;
}

void TestGpt2Weights::loadsFolder()
{
    QFETCH(QString, dtype);
    QFETCH(bool, prefix);
    QFETCH(int, shards);
    QFETCH(bool, extras);
    QTemporaryDir dir;
    const Gpt2Weights w = smallGpt2();
    Gpt2WriteOptions o;
    o.dtype = dtype.toStdString();
    o.prefix = prefix;
    o.shards = shards;
    o.maskBuffers = o.lmHead = extras;
    writeGpt2Folder(dir.path().toStdString(), w, o);

    WeightSet ws;
    const QString err = inputErrorOf([&] { ws = openWeights(dir.path().toStdString()); });
    QVERIFY2(err == "(no error)", qPrintable(err));
    QCOMPARE(ws.format, std::string("hf-safetensors"));
    QCOMPARE(ws.config, w.config);
    QVERIFY(!ws.fingerprint.empty());

    // Exactly the canonical tensors: no buffers, no lm_head, no prefix-less names.
    const ModelConfig &c = w.config;
    QCOMPARE(ws.tensors.size(), size_t(2 + 12 * c.nLayers + 2));
    int64_t bytes = 0;
    for (const auto &[name, t] : ws.tensors) {
        QVERIFY2(name.rfind("transformer.", 0) == 0, name.c_str());
        QCOMPARE(std::string(dtypeName(t.dtype)), o.dtype);
        bytes += int64_t(t.nbytes);
    }
    QCOMPARE(ws.totalBytes, bytes);

    // Shapes as stored and values as written, tensor by tensor.
    const Gpt2Weights r = roundedTo(w, o.dtype);
    std::vector<std::vector<float>> storage;
    Gpt2WriteOptions canonical;
    canonical.prefix = true;
    for (const HfTensor &t : gpt2Tensors(r, canonical, storage)) {
        const TensorEntry *e = ws.find(t.name);
        QVERIFY2(e, ("missing " + t.name).c_str());
        QCOMPARE(e->shape, t.shape);
        QVERIFY2(valuesOf(*e) == *t.data, ("values of " + t.name).c_str());
        QVERIFY(!e->file.empty());
    }
    const int64_t D = c.dModel;
    QCOMPARE(ws.get("transformer.h.1.attn.c_attn.weight", {D, 3 * D}).shape,
             (std::vector<int64_t>{D, 3 * D}));
}

void TestGpt2Weights::fingerprint()
{
    QTemporaryDir a, b, c;
    const Gpt2Weights w = smallGpt2();
    writeGpt2Folder(a.path().toStdString(), w);
    writeGpt2Folder(b.path().toStdString(), w);
    writeGpt2Folder(c.path().toStdString(), smallGpt2(4));
    const std::string fa = openWeights(a.path().toStdString()).fingerprint;
    QCOMPARE(fa.size(), size_t(64));
    QCOMPARE(openWeights(b.path().toStdString()).fingerprint, fa);
    // Same header, other weights: the fingerprint covers config and headers only, like Llama's.
    QCOMPARE(openWeights(c.path().toStdString()).fingerprint, fa);
    Gpt2Weights other = w;
    other.config.normEps = 1e-3;
    writeGpt2Folder(c.path().toStdString(), other);
    QVERIFY(openWeights(c.path().toStdString()).fingerprint != fa);
}

enum class Broken { Missing, MissingNoPrefix, Transposed, WpeRows, LmHeadShape, Twice };

void TestGpt2Weights::tensorRefusals_data()
{
    QTest::addColumn<int>("broken");
    QTest::addColumn<QString>("where"); // "" = the folder
    QTest::addColumn<QString>("fragment");
    auto row = [](const char *name, Broken b, const char *where, const char *fragment) {
        QTest::newRow(name) << int(b) << QString(where) << QString(fragment);
    };
    row("missing", Broken::Missing, "", "tensor transformer.h.1.mlp.c_fc.bias is missing");
    row("missing, no prefix", Broken::MissingNoPrefix, "",
        "tensor transformer.ln_f.weight is missing");
    row("c_attn stored [out, in]", Broken::Transposed, "model.safetensors",
        "tensor transformer.h.0.attn.c_attn.weight in");
    row("wpe rows", Broken::WpeRows, "model.safetensors",
        "has shape [8, 32], but the model's config needs [16, 32]");
    row("lm_head shape", Broken::LmHeadShape, "model.safetensors", "tensor lm_head.weight in");
    row("stored twice", Broken::Twice, "model.safetensors",
        "tensor transformer.wte.weight is stored twice");
}

void TestGpt2Weights::tensorRefusals()
{
    QFETCH(int, broken);
    QFETCH(QString, where);
    QFETCH(QString, fragment);
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    const Gpt2Weights w = smallGpt2();
    const int64_t D = w.config.dModel, V = w.config.vocabSize;
    Gpt2WriteOptions o;
    o.prefix = Broken(broken) != Broken::MissingNoPrefix;
    writeGpt2Folder(dir, w, o);
    std::vector<std::vector<float>> storage;
    std::vector<HfTensor> ts = gpt2Tensors(w, o, storage);
    auto named = [&ts](const std::string &n) -> HfTensor * {
        for (HfTensor &t : ts)
            if (t.name == n) return &t;
        return nullptr;
    };
    const std::vector<float> half(size_t(8 * D), 0.5f), lm(size_t(V * (D - 1)), 0.25f);
    switch (Broken(broken)) {
    case Broken::Missing:
        ts.erase(ts.begin() + (named("transformer.h.1.mlp.c_fc.bias") - ts.data()));
        break;
    case Broken::MissingNoPrefix:
        ts.erase(ts.begin() + (named("ln_f.weight") - ts.data()));
        break;
    case Broken::Transposed:
        named("transformer.h.0.attn.c_attn.weight")->shape = {3 * D, D};
        break;
    case Broken::WpeRows:
        *named("transformer.wpe.weight") = {"transformer.wpe.weight", {8, D}, &half};
        break;
    case Broken::LmHeadShape:
        ts.push_back({"lm_head.weight", {V, D - 1}, &lm});
        break;
    case Broken::Twice:
        ts.push_back({"wte.weight", {V, D}, &w.wte});
        break;
    }
    writeSafetensors(dir + "/model.safetensors", ts, "F32");
    const QString msg = inputErrorOf([&] { openWeights(dir); });
    QVERIFY2(msg.contains(where.isEmpty() ? tmp.path() : tmp.path() + "/" + where),
             qPrintable(msg));
    QVERIFY2(msg.contains(fragment), qPrintable(msg));
}

QTEST_GUILESS_MAIN(TestGpt2Weights)
#include "tst_gpt2weights.moc"
