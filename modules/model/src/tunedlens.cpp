// The tuned lens (tunedlens.h): its fitting with the engine's own autograd, and the KL of a
// lens to the model's final distribution (its file: tunedlensfile.cpp).
//
// Fitting follows Belrose et al. (2023): forward passes over the prompts gather the residual
// vectors at the translators' places and the model's final log-probabilities; then every
// translator (W = I, b = 0 at first) is trained by Adam on random positions to minimise
// KL(final || softmax(U N(W h + b))), N the final norm and U the output matrix, both held
// fixed. The translators do not interact (their losses add, their parameters are disjoint and
// Adam works per parameter), so each is trained alone on the same sequence of batches and ends
// where training them all together would: only one translator's parameters, gradients, Adam
// moments and autograd graph are held at a time. The residual vectors are gathered for as many
// translators per pass over the prompts as FitLensOptions::gatherBudgetBytes allows.

#include "headlens/model/tunedlens.h"

#include "headlens/model/model.h"
#include "headlens/model/trainer.h"
#include "headlens/trace/error.h"

#include "llamaimpl.h"

#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>

namespace HeadLens {

namespace {

// Captures the residual places of one forward pass as float32 [T, D]: 2L translator places
// and, at 2L, the last layer's resid_post (the model's output before the final norm).
// Captures residual places of one forward pass as float32 [T, D]: the 2L translator places
// and, at 2L, the last layer's resid_post (the model's output before the final norm); only
// places [first, last) are kept.
class PlaceCapture : public CaptureSink {
public:
    explicit PlaceCapture(int nLayers, int first = 0, int last = -1)
        : m_L(nLayers), m_first(first), m_last(last < 0 ? 2 * nLayers + 1 : last),
          places(size_t(2 * nLayers + 1))
    {
    }
    bool wants(Tap tap, int layer) override
    {
        const int i = placeOf(tap, layer);
        return i >= m_first && i < m_last;
    }
    bool wantsLens(Site, int) override { return false; }
    bool wantsLogits() override { return false; }
    void tensor(Tap tap, int layer, const TensorView &v) override
    {
        places[size_t(placeOf(tap, layer))] =
            at::from_blob(const_cast<float *>(v.data), v.shape, at::kFloat).clone();
    }
    void heads(int, const HeadMetricsView &) override {}
    void lens(Site, int, const LensView &) override {}
    void logits(const LensView &) override {}

private:
    int placeOf(Tap tap, int layer) const
    {
        if (tap == Tap::ResidPre) return 2 * layer;
        if (tap == Tap::ResidMid) return 2 * layer + 1;
        if (tap == Tap::ResidPost && layer == m_L - 1) return 2 * m_L;
        return -1;
    }
    int m_L, m_first, m_last;

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

std::pair<Site, int> LensKl::place(int i, int nLayers)
{
    if (i >= 2 * nLayers) return {Site::ResidPost, nLayers - 1};
    return {i % 2 ? Site::ResidMid : Site::ResidPre, i / 2};
}

// ---------------------------------------------------------------------------------------------
// Fitting.

namespace {

// Trains translator i from the identity on h [N, D] (its place's residual vectors) against
// logP [N, V], into lens.weight[i] and lens.bias[i].
void trainTranslator(const Model::Impl &d, const at::Tensor &h, const at::Tensor &logP,
                     const at::Tensor &U, int i, const FitLensOptions &opts,
                     std::chrono::steady_clock::time_point t0, TunedLens &lens)
{
    const int64_t D = d.cfg.dModel, N = logP.size(0);
    at::Tensor W = at::eye(D, at::kFloat).set_requires_grad(true);
    at::Tensor B = at::zeros({D}, at::kFloat).set_requires_grad(true);
    torch::optim::Adam opt(std::vector<torch::Tensor>{W, B},
                           torch::optim::AdamOptions(opts.learningRate));
    Examples::Rng rng(opts.seed); // every translator sees the same batches
    const int64_t batch = std::min<int64_t>(std::max(1, opts.batchTokens), N);
    const int every = std::max(1, opts.steps / 50);
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
        const at::Tensor y = at::addmm(B, h.index_select(0, idx), W.t());
        const at::Tensor lq = at::log_softmax(lensLogits(d, y, U), -1);
        at::Tensor loss = negEntropy - (p * lq).sum(-1).mean();
        loss.backward();
        opt.step();
        sum += loss.item<double>();
        ++summed;
        if (opts.progress && (step % every == 0 || step == opts.steps)) {
            FitLensProgress pr;
            pr.translator = i + 1;
            pr.translators = int(lens.weight.size());
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
    const at::Tensor w = W.detach().contiguous(), b = B.detach().contiguous();
    std::copy(w.data_ptr<float>(), w.data_ptr<float>() + w.numel(), lens.weight[size_t(i)].begin());
    std::copy(b.data_ptr<float>(), b.data_ptr<float>() + b.numel(), lens.bias[size_t(i)].begin());
}

} // namespace

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
    int64_t N = 0;
    for (const auto &p : prompts) {
        model.checkIds(p);
        N += int64_t(p.size());
    }
    lens.trainTokens = N;
    if (opts.steps <= 0) return lens;

    // Translators whose residual vectors one pass over the prompts gathers.
    const int64_t placeBytes = N * cfg.dModel * int64_t(sizeof(float));
    const int group =
        int(std::clamp<int64_t>(opts.gatherBudgetBytes / std::max<int64_t>(1, placeBytes), 1, P));
    const at::Tensor U = unembedding(d);
    at::Tensor logP; // [N, V], from the first pass
    const auto t0 = std::chrono::steady_clock::now();
    for (int g0 = 0; g0 < P; g0 += group) {
        const int g1 = std::min(P, g0 + group);
        std::vector<std::vector<at::Tensor>> parts(static_cast<size_t>(g1 - g0));
        std::vector<at::Tensor> finals;
        const std::string stage = group >= P
                                      ? std::string("forward passes")
                                      : "forward passes for translators " + std::to_string(g0 + 1) +
                                            "-" + std::to_string(g1) + " of " + std::to_string(P);
        for (size_t k = 0; k < prompts.size(); ++k) {
            if (prompts[k].empty()) continue;
            PlaceCapture cap(L, g0, g1);
            const at::Tensor logits = capturePlaces(model, prompts[k], cap);
            if (!logP.defined()) finals.push_back(at::log_softmax(logits, -1));
            for (int i = g0; i < g1; ++i)
                parts[size_t(i - g0)].push_back(cap.places[size_t(i)]);
            if (opts.preparing) opts.preparing(stage, int(k + 1), int(prompts.size()));
        }
        if (!logP.defined()) logP = at::cat(finals, 0);
        for (int i = g0; i < g1; ++i) {
            const at::Tensor h = at::cat(parts[size_t(i - g0)], 0);
            parts[size_t(i - g0)].clear();
            trainTranslator(d, h, logP, U, i, opts, t0, lens);
        }
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
