#pragma once
// The tuned lens (Belrose et al., 2023, "Eliciting Latent Predictions from Transformers with
// the Tuned Lens"): per residual site an affine translator h -> W h + b, learned so that the
// final norm and unembedding of the translated vector give the model's own final distribution
// (minimising KL(final || lens) over the positions of training prompts). Initialised to the
// identity, where it is the logit lens. Torch-free, like model.h.
//
// Which translator decodes which site: the residual stream has 2L + 1 distinct places, the
// input of each layer (resid_pre[l], which is resid_post[l-1]), the middle of each layer
// (resid_mid[l]) and the model's output (resid_post[L-1], whose lens is the model's own
// prediction and needs no translator). Translator 2l belongs to resid_pre[l], 2l + 1 to
// resid_mid[l]. A block's output is a summand of the residual it is added to, so attn_out[l]
// and mlp_out[l] are decoded with the linear part W (no bias) of the translator of resid_mid[l]
// and resid_post[l]: translating the sum is translating each summand plus b once.

#include "headlens/trace/trace.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace HeadLens {

class Model;

struct TunedLens {
    // What the lens was fitted to (the file's metadata).
    std::string modelName, modelFingerprint, architecture;
    int nLayers = 0, dModel = 0, vocabSize = 0;
    uint64_t seed = 0;
    int steps = 0;
    int64_t trainTokens = 0;
    // Where it was read from (empty for a lens made in memory) and the SHA-256 of its bytes.
    std::string path, sha256;
    // 2L translators: weight [D*D] row-major (y = W h + b), bias [D].
    std::vector<std::vector<float>> weight, bias;

    // The identity lens of a model of this config: the logit lens.
    static TunedLens identity(const ModelConfig &cfg);
    // The translator that decodes a site (-1: none, the site is the model's output), and
    // whether only its linear part applies (the block outputs attn_out, mlp_out).
    static int translatorOf(Site s, int layer, int nLayers);
    static bool linearOnly(Site s) { return s == Site::AttnOut || s == Site::MlpOut; }
    // The tensor names of translator i in the file: "resid_pre.<l>" or "resid_mid.<l>".
    static std::string translatorName(int i);
    // InputError naming both when the lens was fitted to a model of another shape.
    void checkFits(const ModelConfig &cfg, const std::string &modelName) const;
};

// Reads a lens file (safetensors, as saveTunedLens writes it) and records its path and
// SHA-256. InputError naming the file and the problem.
std::shared_ptr<const TunedLens> loadTunedLens(const std::string &path);
// Writes lens to path (beside-and-rename), with its metadata.
void saveTunedLens(const std::string &path, const TunedLens &lens);

// The translators are trained one after another (1..translators), each for `steps` steps.
struct FitLensProgress {
    int translator = 0, translators = 0;
    int step = 0, steps = 0;
    double loss = 0;    // the translator's mean KL (nats) over the last interval
    double seconds = 0; // since training began
};

struct FitLensOptions {
    uint64_t seed = 1;
    int steps = 500;
    double learningRate = 3e-3; // Adam
    int batchTokens = 512;      // positions per step (the same for every translator)
    // Residual vectors gathered per pass over the prompts (positions x d_model x 4 bytes per
    // translator): as many translators as fit are gathered together, at least one.
    int64_t gatherBudgetBytes = int64_t(2) << 30;
    std::function<void(const FitLensProgress &)> progress; // about every 1/50 of the steps
    std::function<void(const std::string &stage, int done, int total)> preparing; // forward passes
};

// Fits a tuned lens of model on the positions of prompts (token ids), from the identity,
// translator by translator. With steps = 0 the result is the identity lens. InputError when
// the prompts have no position. Memory, besides the model and the lens itself (2L x d_model^2
// floats): the final log-probabilities (positions x vocabulary floats), the gathered residual
// vectors (at most gatherBudgetBytes, at least one translator's), one translator's parameters,
// gradients and Adam moments (4 d_model^2 floats) and one batch's logits.
TunedLens fitTunedLens(Model &model, const std::vector<std::vector<int32_t>> &prompts,
                       const FitLensOptions &opts);

// Mean KL(final || lens) in nats over all positions of prompts, at every residual place of
// the translators (index i as in TunedLens) and at the output (index 2L), for the logit lens
// (the final norm and the output matrix) and, when lens is given, for the tuned lens.
struct LensKl {
    std::vector<double> logit, tuned; // [2L + 1]; tuned empty without a lens
    int64_t positions = 0;
    // The site and layer of place i: (resid_pre, l), (resid_mid, l), (resid_post, L-1).
    static std::pair<Site, int> place(int i, int nLayers);
};
LensKl lensKl(Model &model, const std::vector<std::vector<int32_t>> &prompts, const TunedLens *lens,
              const std::function<void(int done, int total)> &progress = {});

} // namespace HeadLens
