// Trains the example models through the engine's own forward pass (Model::Impl::forward in
// llamaforward.cpp): the weights are trainable leaf tensors, the pass runs without NoGradGuard and
// without a sink or cache, and autograd differentiates the same at:: operations that later
// serve the lens. forward takes one sequence, so a step runs several sequences and sums their
// gradients: one sum per sequence for the adder (as at inference; packing sums into one
// sequence trained far slower, each sum's attention diluted over the sums before it), and
// several short documents per sequence for the facts.

#include "headlens/model/trainer.h"

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/trace/error.h"

#include "llamaimpl.h"

#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace HeadLens {

namespace {

using Clock = std::chrono::steady_clock;
using Examples::Rng;

// A normal(0, std) tensor from the portable generator, so initial weights are the same on
// every machine and every libtorch version.
at::Tensor normalTensor(Rng &rng, std::vector<int64_t> shape, double std)
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; i += 2) {
        const double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
        const double r = std::sqrt(-2.0 * std::log(u1)) * std;
        v[size_t(i)] = float(r * std::cos(2 * M_PI * u2));
        if (i + 1 < n) v[size_t(i + 1)] = float(r * std::sin(2 * M_PI * u2));
    }
    return at::tensor(v, at::kFloat).view(shape).clone();
}

at::Tensor trainable(at::Tensor t)
{
    return t.set_requires_grad(true);
}

// A Model::Impl whose weights are fresh trainable tensors (GPT-2 style initialisation: normal
// 0.02, the residual-writing projections scaled down by sqrt(2 L)).
std::unique_ptr<Model::Impl> makeTrainable(const ModelConfig &c, Rng &rng)
{
    auto d = std::make_unique<Model::Impl>();
    d->cfg = c;
    d->ct = at::kFloat;
    d->dtypeName = "f32";
    d->format = "hf-safetensors";
    const double s = 0.02, sOut = 0.02 / std::sqrt(2.0 * c.nLayers);
    const int64_t D = c.dModel, F = c.dFfn, qd = int64_t(c.nHeads) * c.dHead,
                  kvd = int64_t(c.nKvHeads) * c.dHead;
    d->embed = trainable(normalTensor(rng, {c.vocabSize, D}, s));
    for (int l = 0; l < c.nLayers; ++l) {
        LayerWeights w;
        w.attnNorm = trainable(at::ones({D}));
        w.wq = trainable(normalTensor(rng, {qd, D}, s));
        w.wk = trainable(normalTensor(rng, {kvd, D}, s));
        w.wv = trainable(normalTensor(rng, {kvd, D}, s));
        w.wo = trainable(normalTensor(rng, {D, qd}, sOut));
        w.ffnNorm = trainable(at::ones({D}));
        w.wGate = trainable(normalTensor(rng, {F, D}, s));
        w.wUp = trainable(normalTensor(rng, {F, D}, s));
        w.wDown = trainable(normalTensor(rng, {D, F}, sOut));
        d->layers.push_back(std::move(w));
    }
    d->finalNorm = trainable(at::ones({D}));
    d->lmHead = trainable(normalTensor(rng, {c.vocabSize, D}, s));
    return d;
}

// Hugging Face names and the tensors they hold.
std::vector<std::pair<std::string, at::Tensor>> namedWeights(const Model::Impl &d)
{
    std::vector<std::pair<std::string, at::Tensor>> out;
    out.emplace_back("model.embed_tokens.weight", d.embed);
    for (size_t l = 0; l < d.layers.size(); ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        const LayerWeights &w = d.layers[l];
        out.emplace_back(p + "input_layernorm.weight", w.attnNorm);
        out.emplace_back(p + "self_attn.q_proj.weight", w.wq);
        out.emplace_back(p + "self_attn.k_proj.weight", w.wk);
        out.emplace_back(p + "self_attn.v_proj.weight", w.wv);
        out.emplace_back(p + "self_attn.o_proj.weight", w.wo);
        out.emplace_back(p + "post_attention_layernorm.weight", w.ffnNorm);
        out.emplace_back(p + "mlp.gate_proj.weight", w.wGate);
        out.emplace_back(p + "mlp.up_proj.weight", w.wUp);
        out.emplace_back(p + "mlp.down_proj.weight", w.wDown);
    }
    out.emplace_back("model.norm.weight", d.finalNorm);
    out.emplace_back("lm_head.weight", d.lmHead);
    return out;
}

// The weights to write, as views of float32 tensors that storage keeps.
std::vector<NamedTensor> toNamedTensors(const Model::Impl &d, std::vector<at::Tensor> &storage)
{
    std::vector<NamedTensor> out;
    for (const auto &[name, t] : namedWeights(d)) {
        storage.push_back(t.detach().to(at::kFloat).contiguous());
        const at::Tensor &c = storage.back();
        NamedTensor n;
        n.name = name;
        n.shape.assign(c.sizes().begin(), c.sizes().end());
        n.values = c.data_ptr<float>();
        n.count = size_t(c.numel());
        out.push_back(std::move(n));
    }
    return out;
}

std::vector<int32_t> ids(const std::vector<TokenInfo> &toks)
{
    std::vector<int32_t> v;
    v.reserve(toks.size());
    for (const TokenInfo &t : toks)
        v.push_back(t.id);
    return v;
}

// A packed training sequence: ids and, per position, the id to predict there (-100: none).
struct Packed {
    std::vector<int32_t> ids;
    std::vector<int64_t> targets;
    void add(const std::vector<int32_t> &seq, size_t firstTarget)
    {
        const size_t base = ids.size();
        ids.insert(ids.end(), seq.begin(), seq.end());
        targets.resize(ids.size(), -100);
        for (size_t i = firstTarget; i + 1 < seq.size(); ++i)
            targets[base + i] = seq[i + 1];
    }
};

// The task of one example: what a training step sees and what a quick check measures.
class Task {
public:
    virtual ~Task() = default;
    virtual Packed batch(Rng &rng, int examples) = 0;
    // Fraction of quick held-out checks the model gets right (one teacher-forced pass each;
    // all argmax predictions right is the same as greedy decoding being right).
    virtual double quickCheck(Model::Impl &d) = 0;
};

bool allRight(Model::Impl &d, const std::vector<int32_t> &seq, size_t firstTarget)
{
    at::Tensor logits = at::matmul(d.forward(seq, nullptr, {}, nullptr), d.lmHead.t());
    at::Tensor pred = logits.argmax(-1);
    const int64_t *p = pred.data_ptr<int64_t>();
    for (size_t i = firstTarget; i + 1 < seq.size(); ++i)
        if (p[i] != seq[i + 1]) return false;
    return true;
}

class AdderTask : public Task {
public:
    explicit AdderTask(const Tokenizer &tok) : m_tok(tok) {}

    // "a+b=" + four digits + EOS; the loss covers the answer digits and EOS.
    std::vector<int32_t> sequence(int a, int b, size_t &firstTarget) const
    {
        const std::string prompt = Examples::adderPrompt(a, b);
        firstTarget = m_tok.encode(prompt, true).size() - 1; // '=' predicts the first digit
        std::vector<int32_t> s = ids(m_tok.encode(prompt + Examples::adderAnswer(a, b), true));
        s.push_back(m_tok.eosId());
        return s;
    }

    Packed batch(Rng &rng, int examples) override
    {
        Packed p;
        for (int i = 0; i < examples;) {
            int a, b;
            if (rng.below(4) == 0) {
                // In a quarter of the sums each column adds up to 9 with even odds, so carries
                // that run through several columns (199+801) are common enough to learn.
                int da[3], db[3];
                for (int k = 0; k < 3; ++k) {
                    da[k] = rng.below(10);
                    db[k] = rng.below(2) ? 9 - da[k] : rng.below(10);
                }
                a = da[0] * 100 + da[1] * 10 + da[2];
                b = db[0] * 100 + db[1] * 10 + db[2];
            } else {
                a = rng.below(1000);
                b = rng.below(1000);
            }
            if (Examples::adderHeldOut(a, b)) continue;
            size_t first;
            const std::vector<int32_t> s = sequence(a, b, first);
            p.add(s, first);
            ++i;
        }
        return p;
    }

    double quickCheck(Model::Impl &d) override
    {
        int right = 0, n = 0;
        for (const auto &[a, b] : Examples::adderCases(0xC0FFEE, 200, true)) {
            size_t first;
            const std::vector<int32_t> s = sequence(a, b, first);
            right += allRight(d, std::vector<int32_t>(s.begin(), s.end() - 1), first) ? 1 : 0;
            ++n;
        }
        return double(right) / n;
    }

private:
    const Tokenizer &m_tok;
};

class FactsTask : public Task {
public:
    explicit FactsTask(const Tokenizer &tok) : m_tok(tok), m_facts(Examples::facts()) {}

    // A document: a few sentences, about half of them facts, then EOS. The loss covers every
    // next token (plain language modelling), so facts are learnt in any context.
    std::vector<int32_t> document(Rng &rng) const
    {
        const int n = 1 + rng.below(5);
        std::string text;
        for (int i = 0; i < n; ++i) {
            if (i) text += " ";
            text += rng.below(2) ? m_facts[size_t(rng.below(int(m_facts.size())))].sentence
                                 : Examples::fillerSentence(rng);
        }
        std::vector<int32_t> s = ids(m_tok.encode(text, true));
        s.push_back(m_tok.eosId());
        return s;
    }

    Packed batch(Rng &rng, int examples) override
    {
        Packed p;
        for (int i = 0; i < examples; ++i)
            p.add(document(rng), 0);
        return p;
    }

    double quickCheck(Model::Impl &d) override
    {
        int right = 0;
        for (const Examples::Fact &f : m_facts) {
            std::vector<int32_t> s = ids(m_tok.encode(f.prompt + " " + f.answer, true));
            right += allRight(d, s, s.size() - 2) ? 1 : 0;
        }
        return double(right) / double(m_facts.size());
    }

private:
    const Tokenizer &m_tok;
    std::vector<Examples::Fact> m_facts;
};

double learningRate(const Examples::Recipe &r, int step, int steps)
{
    if (step < r.warmup) return r.learningRate * (step + 1) / r.warmup;
    const double t = double(step - r.warmup) / std::max(1, steps - r.warmup);
    return r.learningRate * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * std::min(1.0, t))));
}

std::string formatSeconds(double s)
{
    std::ostringstream o;
    o.precision(1);
    o << std::fixed << s << " s";
    return o.str();
}

} // namespace

TrainReport trainExample(const TrainOptions &opts)
{
    Examples::Recipe r = Examples::recipe(opts.name);
    if (opts.seed) r.seed = opts.seed;
    if (opts.steps > 0) r.steps = opts.steps;
    if (opts.outDir.empty()) throw InputError("train-example needs an output folder");
    auto log = [&](const std::string &s) {
        if (opts.log) opts.log(s);
    };

    TrainReport rep;
    rep.name = r.name;
    rep.outDir = opts.outDir;
    rep.seed = r.seed;
    rep.steps = r.steps;
    rep.threads = setEngineThreads(opts.threads);

    // The tokenizer first: training text is encoded by the very loader users get.
    std::error_code ec;
    fs::create_directories(opts.outDir, ec);
    if (ec) throw InputError("cannot create " + opts.outDir + ": " + ec.message());
    // The adder's characters go into a standard tokenizer.json; the facts' words need merges,
    // which llama2.c's tokenizer.bin states most simply (pieces with scores).
    const bool adder = r.name == "adder";
    const std::string tokFile = adder ? "tokenizer.json" : "tokenizer.bin";
    for (const char *other :
         {"tokenizer.json", "tokenizer.model", "tokenizer.bin", "model.safetensors.index.json"})
        if (other != tokFile && fs::exists(fs::path(opts.outDir) / other, ec))
            throw InputError(opts.outDir + " holds " + other +
                             ", which does not belong to the model train-example writes; choose "
                             "an empty folder");
    const std::string tokPath = (fs::path(opts.outDir) / tokFile).string();
    if (adder) {
        writeCharTokenizerJson(tokPath, Examples::adderVocabulary(), 0, 1, 2);
    } else {
        std::vector<std::string> pieces;
        std::vector<float> scores;
        Examples::factsVocabulary(pieces, scores);
        writeLlama2cTokenizer(tokPath, pieces, scores);
    }
    std::unique_ptr<Tokenizer> tok = loadTokenizer(tokPath);
    if (tok->bosId() != 1 || tok->eosId() != 2)
        throw std::logic_error("the example tokenizer " + tokPath +
                               " does not read back with "
                               "<s> = 1 and </s> = 2");
    r.config.vocabSize = tok->vocabSize();
    r.config.bosId = tok->bosId();
    r.config.eosId = tok->eosId();

    std::unique_ptr<Task> task;
    if (adder)
        task = std::make_unique<AdderTask>(*tok);
    else
        task = std::make_unique<FactsTask>(*tok);

    Rng initRng(r.seed * 0x100000001B3ull + 1);
    Rng dataRng(r.seed * 0x9E3779B97F4A7C15ull + 2);
    std::unique_ptr<Model::Impl> d = makeTrainable(r.config, initRng);

    std::vector<at::Tensor> decay, noDecay;
    for (const auto &[name, t] : namedWeights(*d))
        (t.dim() == 1 ? noDecay : decay).push_back(t);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(r.learningRate)
                                       .betas({0.9, 0.98})
                                       .weight_decay(r.weightDecay)));
    groups.emplace_back(
        noDecay,
        std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(r.learningRate).betas({0.9, 0.98}).weight_decay(0.0)));
    torch::optim::AdamW opt(std::move(groups));
    std::vector<at::Tensor> all = decay;
    all.insert(all.end(), noDecay.begin(), noDecay.end());

    log("training " + r.name + ": " + std::to_string(r.config.nLayers) + " layers, " +
        std::to_string(r.config.nHeads) + " heads, d_model " + std::to_string(r.config.dModel) +
        ", vocabulary " + std::to_string(r.config.vocabSize) + ", seed " + std::to_string(r.seed) +
        ", " + std::to_string(r.steps) + " steps, " + std::to_string(rep.threads) + " threads");

    const auto t0 = Clock::now();
    const int reportEvery = 50, checkEvery = 500;
    double lossSum = 0;
    int lossN = 0;
    for (int step = 0; step < r.steps; ++step) {
        const double lr = learningRate(r, step, r.steps);
        for (auto &g : opt.param_groups())
            static_cast<torch::optim::AdamWOptions &>(g.options()).lr(lr);

        opt.zero_grad();
        double stepLoss = 0;
        for (int q = 0; q < r.sequencesPerStep; ++q) {
            Packed p = task->batch(dataRng, r.examplesPerSequence);
            std::vector<int64_t> rows;
            std::vector<int64_t> tg;
            for (size_t i = 0; i < p.targets.size(); ++i)
                if (p.targets[i] >= 0) {
                    rows.push_back(int64_t(i));
                    tg.push_back(p.targets[i]);
                }
            at::Tensor hidden = d->forward(p.ids, nullptr, {}, nullptr);
            at::Tensor logits =
                at::matmul(hidden.index_select(0, at::tensor(rows, at::kLong)), d->lmHead.t());
            at::Tensor loss = at::nll_loss(at::log_softmax(logits, -1), at::tensor(tg, at::kLong)) /
                              double(r.sequencesPerStep);
            loss.backward();
            stepLoss += loss.item<double>();
        }
        {
            // Clip the global gradient norm at 1.
            at::NoGradGuard g;
            at::Tensor sq = at::zeros({}, at::kDouble);
            for (const at::Tensor &t : all)
                if (t.grad().defined()) sq += t.grad().to(at::kDouble).pow(2).sum();
            const double norm = std::sqrt(sq.item<double>());
            if (norm > 1.0)
                for (const at::Tensor &t : all)
                    if (t.grad().defined()) t.grad().mul_(1.0 / norm);
        }
        opt.step();
        lossSum += stepLoss;
        ++lossN;

        const bool last = step + 1 == r.steps;
        if ((step + 1) % reportEvery == 0 || last) {
            TrainProgress pr;
            pr.step = step + 1;
            pr.steps = r.steps;
            pr.loss = lossSum / lossN;
            pr.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
            if ((step + 1) % checkEvery == 0 || last) {
                at::NoGradGuard g;
                pr.accuracy = task->quickCheck(*d);
            }
            rep.finalLoss = pr.loss;
            lossSum = 0;
            lossN = 0;
            if (opts.progress) opts.progress(pr);
        }
    }
    rep.trainSeconds = std::chrono::duration<double>(Clock::now() - t0).count();

    // The folder: config.json, model.safetensors, training.json (the tokenizer is there).
    writeLlamaConfig((fs::path(opts.outDir) / "config.json").string(), r.config);
    {
        std::vector<at::Tensor> storage;
        writeSafetensors((fs::path(opts.outDir) / "model.safetensors").string(),
                         toNamedTensors(*d, storage),
                         {{"format", "pt"}, {"headlens_example", r.name}});
    }
    d.reset();

    // Score what was written, through the public API.
    std::unique_ptr<Model> m = Model::load(opts.outDir, LoadOptions{{}, "f32", opts.threads});
    if (r.name == "adder") {
        rep.heldOut = Examples::scoreAdder(*m, 0xADD5EED, 2000);
    } else {
        rep.heldOut = Examples::scoreFacts(*m, 0xFAC75EED, 0);
        rep.heldOutFiller = Examples::scoreFacts(*m, 0xFAC75EED, 2);
    }

    nlohmann::ordered_json j;
    j["example"] = r.name;
    j["command"] = "headlens-cli train-example " + r.name + " -o DIR --seed " +
                   std::to_string(r.seed) + " --steps " + std::to_string(r.steps);
    j["seed"] = r.seed;
    j["steps"] = r.steps;
    j["sequences_per_step"] = r.sequencesPerStep;
    j["examples_per_sequence"] = r.examplesPerSequence;
    j["learning_rate"] = r.learningRate;
    j["weight_decay"] = r.weightDecay;
    j["warmup_steps"] = r.warmup;
    j["threads"] = rep.threads;
    j["train_seconds"] = std::round(rep.trainSeconds);
    j["final_loss"] = rep.finalLoss;
    j["held_out_cases"] = rep.heldOut.cases;
    j["held_out_correct"] = rep.heldOut.correct;
    if (rep.heldOutFiller.cases) {
        j["held_out_filler_cases"] = rep.heldOutFiller.cases;
        j["held_out_filler_correct"] = rep.heldOutFiller.correct;
    }
    writeTextFile((fs::path(opts.outDir) / "training.json").string(), j.dump(2) + "\n");
    log("trained in " + formatSeconds(rep.trainSeconds));
    return rep;
}

} // namespace HeadLens
