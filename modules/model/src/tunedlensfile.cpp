// The tuned lens's file (tunedlens.h): the identity lens, which translator decodes which site,
// and the lens written and read as safetensors with its metadata. Torch-free (headlens_modelio),
// so that the reader of a lens file from outside can be fuzzed with the other readers.

#include "headlens/model/tunedlens.h"

#include "headlens/model/trainer.h"

#include "headlens/trace/error.h"
#include "headlens/trace/numbertext.h"

#include "weightformats.h"

#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace HeadLens {

namespace {

constexpr const char *kFormat = "headlens-tuned-lens";
constexpr const char *kVersion = "1";

std::string shapeText(int L, int D, int V)
{
    return std::to_string(L) + " layers, d_model " + std::to_string(D) + ", vocabulary " +
           std::to_string(V);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// The lens and its file.

TunedLens TunedLens::identity(const ModelConfig &cfg)
{
    TunedLens t;
    t.architecture = cfg.architecture;
    t.nLayers = cfg.nLayers;
    t.dModel = cfg.dModel;
    t.vocabSize = cfg.vocabSize;
    const size_t D = size_t(cfg.dModel);
    for (int i = 0; i < 2 * cfg.nLayers; ++i) {
        std::vector<float> w(D * D, 0.0f);
        for (size_t r = 0; r < D; ++r)
            w[r * D + r] = 1.0f;
        t.weight.push_back(std::move(w));
        t.bias.emplace_back(D, 0.0f);
    }
    return t;
}

int TunedLens::translatorOf(Site s, int layer, int nLayers)
{
    switch (s) {
    case Site::ResidPre:
        return 2 * layer;
    case Site::AttnOut:
    case Site::ResidMid:
        return 2 * layer + 1;
    case Site::MlpOut:
    case Site::ResidPost:
        return layer + 1 < nLayers ? 2 * layer + 2 : -1;
    }
    return -1;
}

std::string TunedLens::translatorName(int i)
{
    return std::string(i % 2 ? "resid_mid." : "resid_pre.") + std::to_string(i / 2);
}

void TunedLens::checkFits(const ModelConfig &cfg, const std::string &model) const
{
    if (cfg.nLayers == nLayers && cfg.dModel == dModel && cfg.vocabSize == vocabSize) return;
    throw InputError("the tuned lens " + (path.empty() ? std::string("given") : path) +
                     " was fitted to " + (modelName.empty() ? "a model" : modelName) + " (" +
                     shapeText(nLayers, dModel, vocabSize) + "), not to " + model + " (" +
                     shapeText(cfg.nLayers, cfg.dModel, cfg.vocabSize) + ")");
}

void saveTunedLens(const std::string &path, const TunedLens &lens)
{
    std::vector<NamedTensor> tensors;
    const int64_t D = lens.dModel;
    for (size_t i = 0; i < lens.weight.size(); ++i) {
        const std::string n = TunedLens::translatorName(int(i));
        tensors.push_back({n + ".weight", {D, D}, lens.weight[i].data(), lens.weight[i].size()});
        tensors.push_back({n + ".bias", {D}, lens.bias[i].data(), lens.bias[i].size()});
    }
    const std::map<std::string, std::string> meta = {
        {"format", kFormat},
        {"version", kVersion},
        {"model_name", lens.modelName},
        {"model_fingerprint", lens.modelFingerprint},
        {"architecture", lens.architecture},
        {"n_layers", std::to_string(lens.nLayers)},
        {"d_model", std::to_string(lens.dModel)},
        {"vocab_size", std::to_string(lens.vocabSize)},
        {"norm", "full"},
        {"seed", std::to_string(lens.seed)},
        {"steps", std::to_string(lens.steps)},
        {"train_tokens", std::to_string(lens.trainTokens)},
    };
    writeSafetensors(path, tensors, meta);
}

std::shared_ptr<const TunedLens> loadTunedLens(const std::string &path)
{
    if (!fs::is_regular_file(path)) throw InputError("tuned lens file " + path + " does not exist");
    const SafetensorsFile f = readSafetensors(path);
    auto meta = [&](const char *key) -> std::string {
        auto it = f.metadata.find(key);
        if (it == f.metadata.end())
            throw InputError(path + " is not a HeadLens tuned lens (its metadata lacks " + key +
                             "; make one with headlens-cli fit-lens)");
        return it->second;
    };
    if (meta("format") != kFormat)
        throw InputError(path + " is not a HeadLens tuned lens (format '" + meta("format") + "')");
    if (meta("version") != kVersion)
        throw InputError(path + " is a tuned lens of version " + meta("version") +
                         ", which this HeadLens does not read (it reads " + kVersion + ")");
    auto number = [&](const char *key) -> int64_t {
        const std::string v = meta(key);
        const std::optional<int64_t> n = wholeNumberIn(v);
        if (!n || *n < 0)
            throw InputError(path + ": metadata " + key + " is '" + v + "', not a count");
        return *n;
    };
    auto t = std::make_shared<TunedLens>();
    t->path = fs::absolute(path).lexically_normal().string();
    t->modelName = meta("model_name");
    t->modelFingerprint = meta("model_fingerprint");
    t->architecture = meta("architecture");
    t->nLayers = int(number("n_layers"));
    t->dModel = int(number("d_model"));
    t->vocabSize = int(number("vocab_size"));
    t->seed = uint64_t(number("seed"));
    t->steps = int(number("steps"));
    t->trainTokens = number("train_tokens");
    if (t->nLayers < 1 || t->nLayers > 100000 || t->dModel < 1 || t->dModel > 1000000)
        throw InputError(path + ": metadata gives " +
                         shapeText(t->nLayers, t->dModel, t->vocabSize));
    const int64_t D = t->dModel;
    auto tensor = [&](const std::string &name, std::vector<int64_t> shape) {
        auto it = f.tensors.find(name);
        if (it == f.tensors.end())
            throw InputError(path + ": tensor " + name + " is missing (" +
                             shapeText(t->nLayers, t->dModel, t->vocabSize) + ")");
        const TensorEntry &e = it->second;
        if (e.dtype != DType::F32 || e.shape != shape)
            throw InputError(path + ": tensor " + name + " is not float32 of shape [" +
                             std::to_string(shape[0]) + (shape.size() > 1 ? ", " : "") +
                             (shape.size() > 1 ? std::to_string(shape[1]) : "") + "]");
        // A safetensors tensor starts wherever its header ends: copy its bytes rather than
        // read floats through a pointer that need not be aligned.
        std::vector<float> v(size_t(e.nbytes / 4));
        if (!v.empty()) std::memcpy(v.data(), e.data, v.size() * sizeof(float));
        return v;
    };
    for (int i = 0; i < 2 * t->nLayers; ++i) {
        const std::string n = TunedLens::translatorName(i);
        t->weight.push_back(tensor(n + ".weight", {D, D}));
        t->bias.push_back(tensor(n + ".bias", {D}));
    }
    if (f.tensors.size() != size_t(4 * t->nLayers))
        throw InputError(path + " holds " + std::to_string(f.tensors.size()) +
                         " tensors, not the " + std::to_string(4 * t->nLayers) + " of a lens of " +
                         std::to_string(t->nLayers) + " layers");
    Sha256 sha;
    sha.update(f.map->data(), f.map->size());
    t->sha256 = sha.hexDigest();
    return t;
}

} // namespace HeadLens
