// The tuned lens (tunedlens.h): its file, its fitting with the engine's own autograd, and the
// KL of a lens to the model's final distribution.
//
// Fitting follows Belrose et al. (2023): one forward pass per prompt gathers the residual
// vectors at every place and the model's final log-probabilities; then every translator
// (W = I, b = 0 at first) is trained by Adam on random positions to minimise
// KL(final || softmax(U N(W h + b))), N the final norm and U the output matrix, both held
// fixed. The translators do not interact, so their losses are simply summed.

#include "headlens/model/tunedlens.h"

#include "headlens/model/model.h"
#include "headlens/model/trainer.h"
#include "headlens/trace/error.h"

#include "llamaimpl.h"
#include "weightformats.h"

#include <torch/optim/adam.h>

#include <chrono>
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

// Captures the residual places of one forward pass as float32 [T, D]: 2L translator places
// and, at 2L, the last layer's resid_post (the model's output before the final norm).
class PlaceCapture : public CaptureSink {
public:
    explicit PlaceCapture(int nLayers) : m_L(nLayers), places(size_t(2 * nLayers + 1)) {}
    bool wants(Tap tap, int layer) override
    {
        return tap == Tap::ResidPre || tap == Tap::ResidMid ||
               (tap == Tap::ResidPost && layer == m_L - 1);
    }
    bool wantsLens(Site, int) override { return false; }
    bool wantsLogits() override { return false; }
    void tensor(Tap tap, int layer, const TensorView &v) override
    {
        const size_t i =
            tap == Tap::ResidPost ? size_t(2 * m_L) : size_t(2 * layer + (tap == Tap::ResidMid));
        places[i] = at::from_blob(const_cast<float *>(v.data), v.shape, at::kFloat).clone();
    }
    void heads(int, const HeadMetricsView &) override {}
    void lens(Site, int, const LensView &) override {}
    void logits(const LensView &) override {}

private:
    int m_L;

public:
    std::vector<at::Tensor> places;
};

// One forward pass over ids: the places (as PlaceCapture) and the final logits [T, V] float32.
at::Tensor capturePlaces(Model &model, const std::vector<int32_t> &ids, PlaceCapture &cap)
{
    model.checkIds(ids);
    at::NoGradGuard noGrad;
    Model::Impl &d = model.impl();
    const at::Tensor hidden = d.forward(ids, &cap, {}, nullptr);
    return linear(hidden, d.lmHead, at::Tensor()).to(at::kFloat);
}

// The output matrix [V, D] in float32 (a view when stored so).
at::Tensor unembedding(const Model::Impl &d)
{
    return d.lmHead.scalar_type() == at::kFloat ? d.lmHead : d.lmHead.to(at::kFloat);
}

// Lens logits of rows h [N, D] (float32) through the final norm and the output matrix.
at::Tensor lensLogits(const Model::Impl &d, const at::Tensor &h, const at::Tensor &U)
{
    return at::matmul(d.lensNorm(h, LensNorm::Full).to(at::kFloat), U.t());
}

void checkNotEmpty(const std::vector<std::vector<int32_t>> &prompts)
{
    int64_t n = 0;
    for (const auto &p : prompts)
        n += int64_t(p.size());
    if (n == 0) throw InputError("the prompts have no tokens to fit or measure a lens on");
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

std::pair<Site, int> LensKl::place(int i, int nLayers)
{
    if (i >= 2 * nLayers) return {Site::ResidPost, nLayers - 1};
    return {i % 2 ? Site::ResidMid : Site::ResidPre, i / 2};
}

void saveTunedLens(const std::string &path, const TunedLens &lens)
{
    std::vector<NamedTensor> tensors;
    const int64_t D = lens.dModel;
    for (size_t i = 0; i < lens.weight.size(); ++i) {
        const std::string n = TunedLens::translatorName(int(i));
        tensors.push_back({n + ".weight", {D, D}, lens.weight[i]});
        tensors.push_back({n + ".bias", {D}, lens.bias[i]});
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
        size_t used = 0;
        long long n = -1;
        try {
            n = std::stoll(v, &used);
        } catch (const std::exception &) {
            used = 0;
        }
        if (used != v.size() || v.empty() || n < 0)
            throw InputError(path + ": metadata " + key + " is '" + v + "', not a count");
        return n;
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
        const float *p = static_cast<const float *>(e.data);
        return std::vector<float>(p, p + e.nbytes / 4);
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

// ---------------------------------------------------------------------------------------------
// Fitting.

TunedLens fitTunedLens(Model &model, const std::vector<std::vector<int32_t>> &prompts,
                       const FitLensOptions &opts)
{
    checkNotEmpty(prompts);
    Model::Impl &d = model.impl();
    const ModelConfig &cfg = d.cfg;
    const int L = cfg.nLayers, P = 2 * L;
    TunedLens lens = TunedLens::identity(cfg);
    lens.modelName = model.name();
    lens.modelFingerprint = model.fingerprint();
    lens.seed = opts.seed;
    lens.steps = std::max(0, opts.steps);

    // Every position's residual vectors and the model's final log-probabilities.
    std::vector<std::vector<at::Tensor>> parts(static_cast<size_t>(P));
    std::vector<at::Tensor> finals;
    for (size_t k = 0; k < prompts.size(); ++k) {
        if (prompts[k].empty()) continue;
        PlaceCapture cap(L);
        finals.push_back(at::log_softmax(capturePlaces(model, prompts[k], cap), -1));
        for (int i = 0; i < P; ++i)
            parts[size_t(i)].push_back(cap.places[size_t(i)]);
        if (opts.preparing) opts.preparing("forward", int(k + 1), int(prompts.size()));
    }
    const at::Tensor logP = at::cat(finals, 0);
    const int64_t N = logP.size(0);
    lens.trainTokens = N;
    if (opts.steps <= 0) return lens;
    std::vector<at::Tensor> hs;
    for (auto &p : parts)
        hs.push_back(at::cat(p, 0));
    parts.clear();

    const at::Tensor U = unembedding(d);
    std::vector<at::Tensor> W, B;
    std::vector<torch::Tensor> params;
    for (int i = 0; i < P; ++i) {
        W.push_back(at::eye(cfg.dModel, at::kFloat).set_requires_grad(true));
        B.push_back(at::zeros({cfg.dModel}, at::kFloat).set_requires_grad(true));
        params.push_back(W.back());
        params.push_back(B.back());
    }
    torch::optim::Adam opt(params, torch::optim::AdamOptions(opts.learningRate));
    Examples::Rng rng(opts.seed);
    const int64_t batch = std::min<int64_t>(std::max(1, opts.batchTokens), N);
    const int every = std::max(1, opts.steps / 50);
    const auto t0 = std::chrono::steady_clock::now();
    double sum = 0;
    int summed = 0;
    for (int step = 1; step <= opts.steps; ++step) {
        std::vector<int64_t> pick(static_cast<size_t>(batch));
        for (int64_t &j : pick)
            j = int64_t(rng.next() % uint64_t(N));
        const at::Tensor idx = at::tensor(pick, at::kLong);
        const at::Tensor lp = logP.index_select(0, idx);
        const at::Tensor p = lp.exp();
        const at::Tensor negEntropy = (p * lp).sum(-1).mean();
        opt.zero_grad();
        at::Tensor loss = at::zeros({}, at::kFloat);
        for (int i = 0; i < P; ++i) {
            const at::Tensor y =
                at::addmm(B[size_t(i)], hs[size_t(i)].index_select(0, idx), W[size_t(i)].t());
            const at::Tensor lq = at::log_softmax(lensLogits(d, y, U), -1);
            loss = loss + (negEntropy - (p * lq).sum(-1).mean());
        }
        loss.backward();
        opt.step();
        sum += loss.item<double>() / P;
        ++summed;
        if (opts.progress && (step % every == 0 || step == opts.steps)) {
            FitLensProgress pr;
            pr.step = step;
            pr.steps = opts.steps;
            pr.loss = sum / summed;
            pr.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            opts.progress(pr);
            sum = 0;
            summed = 0;
        }
    }
    for (int i = 0; i < P; ++i) {
        const at::Tensor w = W[size_t(i)].detach().contiguous(),
                         b = B[size_t(i)].detach().contiguous();
        std::copy(w.data_ptr<float>(), w.data_ptr<float>() + w.numel(),
                  lens.weight[size_t(i)].begin());
        std::copy(b.data_ptr<float>(), b.data_ptr<float>() + b.numel(),
                  lens.bias[size_t(i)].begin());
    }
    return lens;
}

// ---------------------------------------------------------------------------------------------
// KL to the final distribution.

LensKl lensKl(Model &model, const std::vector<std::vector<int32_t>> &prompts, const TunedLens *lens,
              const std::function<void(int, int)> &progress)
{
    checkNotEmpty(prompts);
    Model::Impl &d = model.impl();
    const int L = d.cfg.nLayers, P = 2 * L;
    if (lens) lens->checkFits(d.cfg, model.name());
    at::NoGradGuard noGrad;
    const at::Tensor U = unembedding(d);
    LensKl r;
    r.logit.assign(size_t(P + 1), 0.0);
    if (lens) r.tuned.assign(size_t(P + 1), 0.0);
    // KL(final || lens) summed over rows, in float64 from the float32 logits.
    auto klSum = [](const at::Tensor &logP, const at::Tensor &lensLogit) {
        const at::Tensor lq = at::log_softmax(lensLogit.to(at::kDouble), -1);
        return (logP.exp() * (logP - lq)).sum().item<double>();
    };
    for (size_t k = 0; k < prompts.size(); ++k) {
        if (!prompts[k].empty()) {
            PlaceCapture cap(L);
            const at::Tensor logP =
                at::log_softmax(capturePlaces(model, prompts[k], cap).to(at::kDouble), -1);
            for (int i = 0; i <= P; ++i) {
                const at::Tensor &h = cap.places[size_t(i)];
                r.logit[size_t(i)] += klSum(logP, lensLogits(d, h, U));
                if (!lens) continue;
                at::Tensor y = h;
                if (i < P) {
                    const at::Tensor w =
                        at::from_blob(const_cast<float *>(lens->weight[size_t(i)].data()),
                                      {d.cfg.dModel, d.cfg.dModel}, at::kFloat);
                    const at::Tensor b =
                        at::from_blob(const_cast<float *>(lens->bias[size_t(i)].data()),
                                      {d.cfg.dModel}, at::kFloat);
                    y = at::addmm(b, h, w.t());
                }
                r.tuned[size_t(i)] += klSum(logP, lensLogits(d, y, U));
            }
            r.positions += int64_t(prompts[k].size());
        }
        if (progress) progress(int(k + 1), int(prompts.size()));
    }
    for (double &v : r.logit)
        v /= double(r.positions);
    for (double &v : r.tuned)
        v /= double(r.positions);
    return r;
}

} // namespace HeadLens
