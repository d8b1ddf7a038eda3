// fit-lens and lens-kl: the tuned lens (modules/model tunedlens.h) fitted on a prompts file,
// and the KL to the model's final distribution of the logit lens and a tuned lens on one.

#include "args.h"
#include "enginememory.h"
#include "prompts.h"
#include "requests.h"

#include "headlens/model/model.h"
#include "headlens/model/tunedlens.h"
#include "headlens/trace/error.h"
#include "headlens/trace/numbertext.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace HeadLens::Cli {

namespace {

using json = nlohmann::json;

// The token ids of every prompt of a prompts file (text with BOS, or token_ids as given).
std::vector<std::vector<int32_t>> promptIds(const Model &model, const std::string &path)
{
    std::vector<std::vector<int32_t>> out;
    for (const BatchPrompt &p : readPrompts(path)) {
        try {
            std::vector<int32_t> ids = p.ids;
            if (ids.empty())
                for (const TokenInfo &t : model.tokenize(p.text, true))
                    ids.push_back(t.id);
            model.checkIds(ids);
            out.push_back(std::move(ids));
        } catch (const InputError &e) {
            throw InputError(path + ":" + std::to_string(p.line) + ": " + e.what());
        }
    }
    return out;
}

std::string placeName(int i, int nLayers)
{
    const auto [site, layer] = LensKl::place(i, nLayers);
    return std::string(siteName(site)) + " " + std::to_string(layer);
}

json klJson(const LensKl &kl, int nLayers, size_t prompts)
{
    json places = json::array();
    for (size_t i = 0; i < kl.logit.size(); ++i) {
        const auto [site, layer] = LensKl::place(int(i), nLayers);
        json p = {{"site", siteName(site)}, {"layer", layer}, {"logit_kl", kl.logit[i]}};
        if (!kl.tuned.empty()) p["tuned_kl"] = kl.tuned[i];
        places.push_back(p);
    }
    return {{"prompts", prompts}, {"positions", kl.positions}, {"places", places}};
}

void printKl(const LensKl &kl, int nLayers, size_t prompts, const std::string &what)
{
    std::printf("%s: KL(final || lens) in nats, mean over %lld positions of %zu prompts\n",
                what.c_str(), static_cast<long long>(kl.positions), prompts);
    std::printf("  %-16s %12s", "place", "logit lens");
    if (!kl.tuned.empty()) std::printf(" %12s", "tuned lens");
    std::printf("\n");
    for (size_t i = 0; i < kl.logit.size(); ++i) {
        std::printf("  %-16s %12.4f", placeName(int(i), nLayers).c_str(), kl.logit[i]);
        if (!kl.tuned.empty()) std::printf(" %12.4f", kl.tuned[i]);
        std::printf("%s\n", i + 1 == kl.logit.size() ? "   (the model's output)" : "");
    }
}

void klProgress(int done, int total)
{
    reportProgress("held-out prompts", done, total);
}

} // namespace

int cmdFitLens(const std::vector<std::string> &argv)
{
    const Args a =
        parseArgs(argv,
                  {"--prompts", "-o", "--output", "--held-out", "--seed", "--steps",
                   "--batch-tokens", "--learning-rate", "--tokenizer", "--dtype", "--threads"},
                  {"--json"});
    const std::string modelPath = onePositional(a, "MODEL");
    const std::string promptsPath = a.value("--prompts", "");
    if (promptsPath.empty()) throw UsageError("fit-lens needs --prompts FILE");
    const std::string out = a.value("-o", a.value("--output", ""));
    if (out.empty()) throw UsageError("fit-lens needs -o LENS.safetensors");
    FitLensOptions o;
    o.seed = uint64_t(a.intValue("--seed", 1, 1, 2147483647));
    o.steps = a.intValue("--steps", 500, 0, 10000000);
    o.batchTokens = a.intValue("--batch-tokens", 512, 1, 1 << 20);
    if (auto lr = a.value("--learning-rate")) {
        const std::optional<double> v = decimalNumberIn(*lr);
        if (!v || !(*v > 0 && *v < 100))
            throw UsageError("--learning-rate takes a number above 0 (e.g. 0.003), not '" + *lr +
                             "'");
        o.learningRate = *v;
    }
    const bool asJson = a.has("--json");
    // Progress goes to stdout as lines, or to stderr when stdout carries the JSON.
    std::ostream &log = asJson ? std::cerr : std::cout;

    std::unique_ptr<Model> model = loadModel(modelPath, loadOptions(a));
    const std::vector<std::vector<int32_t>> train = promptIds(*model, promptsPath);
    std::vector<std::vector<int32_t>> heldOut;
    if (auto h = a.value("--held-out")) heldOut = promptIds(*model, *h);

    o.preparing = [](const std::string &stage, int done, int total) {
        reportProgress(stage, done, total);
    };
    o.progress = [&log](const FitLensProgress &p) {
        endProgress();
        // The time left from the share of all translators' steps done (the passes that
        // gather a later group's vectors are not counted).
        const double done = double(p.translator - 1) * p.steps + p.step,
                     total = double(p.translators) * p.steps;
        const double eta = p.seconds / done * (total - done);
        char buf[200];
        std::snprintf(buf, sizeof buf, "translator %3d/%d  step %6d/%d  KL %.4f  %s", p.translator,
                      p.translators, p.step, p.steps, p.loss, duration(p.seconds).c_str());
        log << buf;
        if (done < total) log << "  about " << duration(eta) << " left";
        log << std::endl;
    };
    const auto t0 = std::chrono::steady_clock::now();
    double seconds = 0;
    {
        const TunedLens lens = fitTunedLens(*model, train, o);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        endProgress();
        saveTunedLens(out, lens);
    } // gone before the file is read back: a Llama-2-7B lens is 4.3 GB
    const std::shared_ptr<const TunedLens> saved = loadTunedLens(out); // its path and hash

    json j = {{"lens", saved->path},
              {"sha256", saved->sha256},
              {"model", model->name()},
              {"model_fingerprint", model->fingerprint()},
              {"seed", o.seed},
              {"steps", o.steps},
              {"batch_tokens", o.batchTokens},
              {"learning_rate", o.learningRate},
              {"train_prompts", train.size()},
              {"train_tokens", saved->trainTokens},
              {"seconds", seconds}};
    if (!asJson)
        std::printf("wrote %s (%s, %d steps on %lld positions of %zu prompts, seed %llu, %s)\n",
                    out.c_str(), model->name().c_str(), o.steps,
                    static_cast<long long>(saved->trainTokens), train.size(),
                    static_cast<unsigned long long>(o.seed), duration(seconds).c_str());
    if (!heldOut.empty()) {
        const LensKl kl = lensKl(*model, heldOut, saved.get(), klProgress);
        endProgress();
        j["held_out"] = klJson(kl, model->config().nLayers, heldOut.size());
        if (!asJson) printKl(kl, model->config().nLayers, heldOut.size(), "held-out");
    }
    if (asJson) std::cout << j.dump(1) << "\n";
    return 0;
}

int cmdLensKl(const std::vector<std::string> &argv)
{
    const Args a =
        parseArgs(argv, {"--prompts", "--lens", "--tokenizer", "--dtype", "--threads"}, {"--json"});
    const std::string modelPath = onePositional(a, "MODEL");
    const std::string promptsPath = a.value("--prompts", "");
    if (promptsPath.empty()) throw UsageError("lens-kl needs --prompts FILE");
    std::shared_ptr<const TunedLens> lens;
    if (auto f = a.value("--lens")) lens = loadTunedLens(*f);
    std::unique_ptr<Model> model = loadModel(modelPath, loadOptions(a));
    if (lens) lens->checkFits(model->config(), model->name());
    const std::vector<std::vector<int32_t>> prompts = promptIds(*model, promptsPath);
    const LensKl kl = lensKl(*model, prompts, lens.get(), klProgress);
    endProgress();
    const int L = model->config().nLayers;
    if (a.has("--json")) {
        json j = klJson(kl, L, prompts.size());
        j["model"] = model->name();
        if (lens) {
            j["lens"] = lens->path;
            j["sha256"] = lens->sha256;
        }
        std::cout << j.dump(1) << "\n";
    } else {
        printKl(kl, L, prompts.size(), promptsPath);
    }
    return 0;
}

} // namespace HeadLens::Cli
