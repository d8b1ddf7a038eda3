// Model: loading, the public forward-pass entry points, generation, decomposition. The maths
// lives in llamaimpl.h; torch headers stay inside modules/model (ARCHITECTURE.md). Tensors
// wrap the memory-mapped weight files without copies when the stored dtype is the compute one.

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/trace/error.h"
#include "unicodetext.h"
#include "weights.h"

#include "llamaimpl.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace HeadLens {

CaptureSink::~CaptureSink() = default;

Tap tapForSite(Site s)
{
    return static_cast<Tap>(static_cast<int>(s));
}

int setEngineThreads(int n)
{
    if (n <= 0) n = std::max(1u, std::thread::hardware_concurrency());
    at::set_num_threads(n);
    return at::get_num_threads();
}

double timePlainMatmul(int64_t rows, int64_t inner, int64_t cols, const std::string &dtype,
                       int repeat)
{
    at::NoGradGuard noGrad;
    const at::ScalarType ct = dtype == "bf16" ? at::kBFloat16 : at::kFloat;
    at::Tensor a = at::randn({rows, inner}).to(ct), b = at::randn({cols, inner}).to(ct);
    double best = 1e300;
    for (int i = 0; i < std::max(1, repeat); ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        at::Tensor c = at::matmul(a, b.t());
        (void)c.data_ptr();
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

namespace {

void loadLlama(Model::Impl &impl)
{
    Model::Impl *d = &impl;
    const ModelConfig &c = d->cfg;
    const at::ScalarType ct = d->ct;
    const WeightSet &ws = d->ws;
    // Matrices stay in their stored dtype (stored(): the mapped bytes); linear() converts.
    d->embed = stored(ws.get("model.embed_tokens.weight", {c.vocabSize, c.dModel}));
    d->finalNorm = weight(ws.get("model.norm.weight", {c.dModel}), ct);
    d->lmHead =
        c.tiedEmbeddings ? d->embed : stored(ws.get("lm_head.weight", {c.vocabSize, c.dModel}));
    const int64_t qd = int64_t(c.nHeads) * c.dHead, kvd = int64_t(c.nKvHeads) * c.dHead;
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string pre = "model.layers." + std::to_string(l) + ".";
        LayerWeights w;
        w.attnNorm = weight(ws.get(pre + "input_layernorm.weight", {c.dModel}), ct);
        w.ffnNorm = weight(ws.get(pre + "post_attention_layernorm.weight", {c.dModel}), ct);
        w.wq = stored(ws.get(pre + "self_attn.q_proj.weight", {qd, c.dModel}));
        w.wk = stored(ws.get(pre + "self_attn.k_proj.weight", {kvd, c.dModel}));
        w.wv = stored(ws.get(pre + "self_attn.v_proj.weight", {kvd, c.dModel}));
        w.wo = stored(ws.get(pre + "self_attn.o_proj.weight", {c.dModel, qd}));
        w.wGate = stored(ws.get(pre + "mlp.gate_proj.weight", {c.dFfn, c.dModel}));
        w.wUp = stored(ws.get(pre + "mlp.up_proj.weight", {c.dFfn, c.dModel}));
        w.wDown = stored(ws.get(pre + "mlp.down_proj.weight", {c.dModel, c.dFfn}));
        if (c.attnBias) {
            w.bq = weight(ws.get(pre + "self_attn.q_proj.bias", {qd}), ct);
            w.bk = weight(ws.get(pre + "self_attn.k_proj.bias", {kvd}), ct);
            w.bv = weight(ws.get(pre + "self_attn.v_proj.bias", {kvd}), ct);
        }
        if (c.attnOutBias) w.bo = weight(ws.get(pre + "self_attn.o_proj.bias", {c.dModel}), ct);
        if (c.mlpBias) {
            w.bGate = weight(ws.get(pre + "mlp.gate_proj.bias", {c.dFfn}), ct);
            w.bUp = weight(ws.get(pre + "mlp.up_proj.bias", {c.dFfn}), ct);
            w.bDown = weight(ws.get(pre + "mlp.down_proj.bias", {c.dModel}), ct);
        }
        if (ws.ropeAdjacentPairs) {
            w.wq = adjacentToHalves(w.wq, c.nHeads, c.dHead);
            w.wk = adjacentToHalves(w.wk, c.nKvHeads, c.dHead);
            if (w.bq.defined())
                w.bq = adjacentToHalves(w.bq.unsqueeze(1), c.nHeads, c.dHead).squeeze(1);
            if (w.bk.defined())
                w.bk = adjacentToHalves(w.bk.unsqueeze(1), c.nKvHeads, c.dHead).squeeze(1);
        }
        d->layers.push_back(std::move(w));
    }
}

// GPT-2 (GPT2LMHeadModel): Conv1D weights are stored [in, out]; as Linear weights [out, in]
// they are transposed views, except W_o, which the head metrics slice and need contiguous.
void loadGpt2(Model::Impl &d)
{
    const ModelConfig &c = d.cfg;
    const at::ScalarType ct = d.ct;
    const WeightSet &ws = d.ws;
    const int64_t D = c.dModel, F = c.dFfn;
    d.gpt2 = true;
    d.embed = weight(ws.get("transformer.wte.weight", {c.vocabSize, D}), ct);
    d.lmHead = d.embed;
    d.posEmbed = weight(ws.get("transformer.wpe.weight", {c.maxSeqLen, D}), ct);
    d.finalNorm = weight(ws.get("transformer.ln_f.weight", {D}), ct);
    d.finalNormB = weight(ws.get("transformer.ln_f.bias", {D}), ct);
    for (int l = 0; l < c.nLayers; ++l) {
        const std::string pre = "transformer.h." + std::to_string(l) + ".";
        LayerWeights w;
        w.attnNorm = weight(ws.get(pre + "ln_1.weight", {D}), ct);
        w.attnNormB = weight(ws.get(pre + "ln_1.bias", {D}), ct);
        w.ffnNorm = weight(ws.get(pre + "ln_2.weight", {D}), ct);
        w.ffnNormB = weight(ws.get(pre + "ln_2.bias", {D}), ct);
        at::Tensor qkv = weight(ws.get(pre + "attn.c_attn.weight", {D, 3 * D}), ct).t();
        at::Tensor qkvB = weight(ws.get(pre + "attn.c_attn.bias", {3 * D}), ct);
        w.wq = qkv.narrow(0, 0, D);
        w.wk = qkv.narrow(0, D, D);
        w.wv = qkv.narrow(0, 2 * D, D);
        w.bq = qkvB.narrow(0, 0, D);
        w.bk = qkvB.narrow(0, D, D);
        w.bv = qkvB.narrow(0, 2 * D, D);
        w.wo = weight(ws.get(pre + "attn.c_proj.weight", {D, D}), ct).t().contiguous();
        w.bo = weight(ws.get(pre + "attn.c_proj.bias", {D}), ct);
        w.wUp = weight(ws.get(pre + "mlp.c_fc.weight", {D, F}), ct).t();
        w.bUp = weight(ws.get(pre + "mlp.c_fc.bias", {F}), ct);
        w.wDown = weight(ws.get(pre + "mlp.c_proj.weight", {F, D}), ct).t();
        w.bDown = weight(ws.get(pre + "mlp.c_proj.bias", {D}), ct);
        d.layers.push_back(std::move(w));
    }
}

} // namespace

Model::Model(std::unique_ptr<Impl> impl) : d(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string &path, const LoadOptions &opts)
{
    setEngineThreads(opts.threads);
    auto d = std::make_unique<Impl>();
    if (opts.dtype == "f32")
        d->ct = at::kFloat;
    else if (opts.dtype == "bf16")
        d->ct = at::kBFloat16;
    else if (opts.dtype == "f16")
        d->ct = at::kHalf;
    else
        throw InputError("unknown compute dtype '" + opts.dtype + "' (use f32, bf16 or f16)");
    // Not every CPU build of libtorch multiplies in every dtype: ask before loading.
    try {
        at::Tensor probe = at::ones({2, 2}, at::TensorOptions().dtype(d->ct));
        (void)at::linear(probe, probe);
    } catch (const std::exception &) {
        throw InputError("compute dtype " + opts.dtype +
                         " is not supported by this libtorch on the CPU; use f32 or bf16");
    }
    d->dtypeName = opts.dtype;
    d->attnBlockBytes = std::max<int64_t>(1, opts.attentionBlockBytes);
    d->headBlockBytes = std::max<int64_t>(1, opts.headBlockBytes);

    d->ws = openWeights(path);
    d->cfg = d->ws.config;
    d->format = d->ws.format;
    std::error_code ec;
    d->path = fs::absolute(path, ec).lexically_normal().string();
    fs::path p(d->path);
    d->name = p.filename().empty() ? p.parent_path().filename().string() : p.filename().string();
    if (d->format == "hf-safetensors" && !d->name.empty() && d->name.back() == '/')
        d->name.pop_back();

    // Tokenizer: the explicit one, else whatever the folder holds.
    std::string tokPath = opts.tokenizerPath;
    if (tokPath.empty() && fs::is_directory(path)) tokPath = findTokenizerInFolder(path);
    if (!tokPath.empty()) {
        d->tokenizer = loadTokenizer(tokPath);
        if (d->tokenizer->vocabSize() > d->cfg.vocabSize)
            throw InputError(
                "tokenizer " + tokPath + " has " + std::to_string(d->tokenizer->vocabSize()) +
                " tokens but the model's vocabulary has only " + std::to_string(d->cfg.vocabSize));
        // Models pad their vocabulary a little past the tokenizer's (to a multiple of 64 or
        // 128); a tokenizer with far fewer tokens belongs to another model and would split
        // prompts into the wrong tokens.
        if (d->tokenizer->vocabSize() < d->cfg.vocabSize - std::max(128, d->cfg.vocabSize / 20))
            throw InputError(
                "tokenizer " + tokPath + " has " + std::to_string(d->tokenizer->vocabSize()) +
                " tokens but the model's vocabulary has " + std::to_string(d->cfg.vocabSize) +
                ": they do not belong to the same model");
        if (d->cfg.bosId < 0) d->cfg.bosId = d->tokenizer->bosId();
        if (d->cfg.eosId < 0) d->cfg.eosId = d->tokenizer->eosId();
    }

    const ModelConfig &c = d->cfg;
    if (c.architecture != "gpt2" && c.activation != "silu")
        throw InputError("activation " + c.activation + " is not supported for " + c.architecture);
    if (c.architecture == "gpt2")
        loadGpt2(*d);
    else
        loadLlama(*d);
    return std::unique_ptr<Model>(new Model(std::move(d)));
}

const ModelConfig &Model::config() const
{
    return d->cfg;
}
const std::string &Model::name() const
{
    return d->name;
}
const std::string &Model::path() const
{
    return d->path;
}
const std::string &Model::fingerprint() const
{
    return d->ws.fingerprint;
}
const std::string &Model::computeDtype() const
{
    return d->dtypeName;
}
const std::string &Model::format() const
{
    return d->format;
}
const Tokenizer *Model::tokenizer() const
{
    return d->tokenizer.get();
}
int64_t Model::weightBytes() const
{
    return d->ws.totalBytes;
}
bool Model::convertsWeights() const
{
    return d->embed.scalar_type() != d->ct || d->lmHead.scalar_type() != d->ct;
}

std::vector<TokenInfo> Model::tokenize(const std::string &text, bool addBos) const
{
    // A prompt is stored as UTF-8 text in the project: bytes that are not UTF-8 are refused
    // here, where they enter, with where they are.
    for (size_t i = 0; i < text.size();) {
        const size_t n = Unicode::sequenceLength(text, i);
        if (n == 0)
            throw InputError("the prompt is not valid UTF-8: byte " + std::to_string(i) + " (0x" +
                             "0123456789abcdef"[(unsigned char)text[i] >> 4] +
                             "0123456789abcdef"[(unsigned char)text[i] & 15] +
                             ") does not begin a character");
        i += n;
    }
    if (!d->tokenizer)
        throw InputError("model " + d->path +
                         " has no tokenizer this build can read; give --tokenizer or --token-ids");
    return d->tokenizer->encode(text, addBos);
}

std::vector<TokenInfo> Model::tokensFromIds(const std::vector<int32_t> &ids) const
{
    std::vector<TokenInfo> out;
    out.reserve(ids.size());
    for (int32_t id : ids) {
        TokenInfo t;
        t.id = id;
        if (d->tokenizer && id >= 0 && id < d->tokenizer->vocabSize())
            t.text = d->tokenizer->displayText(id);
        else
            t.text = "[" + std::to_string(id) + "]";
        out.push_back(std::move(t));
    }
    return out;
}

std::string Model::decode(const std::vector<int32_t> &ids) const
{
    if (d->tokenizer) return d->tokenizer->decode(ids);
    std::string s;
    for (int32_t id : ids)
        s += "[" + std::to_string(id) + "]";
    return s;
}

void Model::checkIds(const std::vector<int32_t> &ids, int extraTokens) const
{
    if (ids.empty()) throw InputError("the prompt has no tokens");
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= d->cfg.vocabSize)
            throw InputError("token id " + std::to_string(ids[i]) + " at position " +
                             std::to_string(i) + " is outside the vocabulary [0, " +
                             std::to_string(d->cfg.vocabSize) + ") of " + d->path);
    const int64_t need = int64_t(ids.size()) + std::max(0, extraTokens);
    if (d->cfg.maxSeqLen > 0 && need > d->cfg.maxSeqLen)
        throw InputError("the prompt has " + std::to_string(ids.size()) + " tokens" +
                         (extraTokens > 0 ? " (+" + std::to_string(extraTokens) + " to generate)"
                                          : std::string()) +
                         ", more than the model's context of " + std::to_string(d->cfg.maxSeqLen) +
                         " tokens");
}

void Model::run(const std::vector<int32_t> &ids, CaptureSink *sink, const LensOptions &lens,
                const VectorEdit *edit)
{
    checkIds(ids);
    at::NoGradGuard noGrad;
    EditHook hook;
    if (edit) hook = d->makeEdit(*edit, lens);
    DlaCapture dla;
    const bool wantDla = sink && sink->wantsAttribution();
    at::Tensor hidden = d->forward(ids, sink, lens, nullptr, edit ? &hook : nullptr, nullptr,
                                   wantDla ? &dla : nullptr);
    // The plain forward ends in the logits too.
    const at::Tensor logits = linear(hidden, d->lmHead, at::Tensor()).to(at::kFloat);
    d->checkFiniteLogits(logits);
    if (sink && sink->wantsLogits()) {
        const LensBlock b = Impl::lensOfLogits(logits, std::min(lens.topk, d->cfg.vocabSize));
        sink->logits(b.view(0, int64_t(ids.size())));
    }
    if (wantDla) {
        const at::Tensor top = logits.argmax(-1).to(at::kInt).contiguous();
        const std::vector<int32_t> tokens(top.data_ptr<int32_t>(),
                                          top.data_ptr<int32_t>() + top.numel());
        sink->attribution(d->attribute(dla, hidden, tokens, {}));
    }
}

LogitAttribution Model::attribute(const std::vector<int32_t> &ids, int32_t token, int32_t minus)
{
    checkIds(ids);
    for (int32_t id : {token, minus})
        if (id < -1 || id >= d->cfg.vocabSize)
            throw InputError("token id " + std::to_string(id) +
                             " to attribute is outside the vocabulary [0, " +
                             std::to_string(d->cfg.vocabSize) + ")");
    at::NoGradGuard noGrad;
    DlaCapture dla;
    const at::Tensor hidden = d->forward(ids, nullptr, {}, nullptr, nullptr, nullptr, &dla);
    std::vector<int32_t> tokens(ids.size(), token);
    if (token < 0) {
        const at::Tensor logits = linear(hidden, d->lmHead, at::Tensor()).to(at::kFloat);
        d->checkFiniteLogits(logits);
        const at::Tensor top = logits.argmax(-1).to(at::kInt).contiguous();
        tokens.assign(top.data_ptr<int32_t>(), top.data_ptr<int32_t>() + top.numel());
    }
    return d->attribute(dla, hidden, tokens,
                        minus < 0 ? std::vector<int32_t>()
                                  : std::vector<int32_t>(ids.size(), minus));
}

FloatArray Model::logits(const std::vector<int32_t> &ids)
{
    checkIds(ids);
    at::NoGradGuard noGrad;
    at::Tensor out = linear(d->forward(ids, nullptr, {}, nullptr), d->lmHead, at::Tensor())
                         .to(at::kFloat)
                         .contiguous();
    d->checkFiniteLogits(out);
    FloatArray a({out.size(0), out.size(1)});
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + out.numel(), a.data.begin());
    return a;
}

std::vector<int32_t> Model::generate(const std::vector<int32_t> &ids, int n, bool stopAtEos,
                                     const std::function<bool()> &cancelled, const VectorEdit *edit,
                                     const LensOptions &lens,
                                     const std::function<void(int)> &generated)
{
    checkIds(ids, n);
    at::NoGradGuard noGrad;
    EditHook hook;
    if (edit) hook = d->makeEdit(*edit, lens);
    KvCache cache;
    std::vector<int32_t> out;
    at::Tensor hidden = d->forward(ids, nullptr, {}, &cache, edit ? &hook : nullptr);
    for (int i = 0; i < n; ++i) {
        if (cancelled && cancelled()) throw Cancelled();
        at::Tensor last = hidden.narrow(0, hidden.size(0) - 1, 1);
        at::Tensor logits = linear(last, d->lmHead, at::Tensor()).to(at::kFloat);
        d->checkFiniteLogits(logits);
        const int32_t next = int32_t(logits.argmax(-1).item<int64_t>());
        out.push_back(next);
        if (generated) generated(int(out.size()));
        if (stopAtEos && next == d->cfg.eosId) break;
        if (i + 1 < n) hidden = d->forward({next}, nullptr, {}, &cache);
    }
    return out;
}

std::vector<DecodeStep> Model::decompose(const std::vector<int32_t> &ids, Site site, int layer,
                                         int pos, const LensOptions &lens, int maxSteps)
{
    checkIds(ids);
    at::NoGradGuard noGrad;
    at::Tensor v = d->siteVector(ids, site, layer, pos);
    const double depth = siteDepth(site, layer, d->cfg.nLayers);
    // With the tuned lens, the translated vector is decoded by the output matrix.
    at::Tensor e = d->lensNorm(d->translate(v.unsqueeze(0), site, layer, lens), lens.norm)
                       .to(at::kDouble)
                       .squeeze(0);
    std::vector<DecodeStep> steps;
    const double start = e.norm().item<double>();
    double last = start;
    for (int i = 0; i < maxSteps; ++i) {
        at::Tensor logp = at::log_softmax(d->decoderTimes(lens.decoder, depth, e), 0);
        const int64_t top = logp.argmax().item<int64_t>();
        const double norm = e.norm().item<double>();
        steps.push_back({int32_t(top), float(std::exp(logp[top].item<double>())), float(norm)});
        at::Tensor row = d->decoderRows(lens.decoder, depth, top, 1, at::kDouble)[0];
        e = e - ((e * row).sum() / (row * row).sum().clamp_min(1e-300)) * row;
        const double next = e.norm().item<double>();
        // TRACE.md: stop when the rest is below 1% of the start or stops shrinking.
        if (next < 0.01 * start || next >= last - 1e-12 * start) break;
        last = next;
    }
    return steps;
}

std::string VectorEdit::toJson() const
{
    std::string j = std::string("{\"kind\":\"") + editKindName(kind) + "\",\"site\":\"" +
                    siteName(site) + "\",\"layer\":" + std::to_string(layer) +
                    ",\"pos\":" + std::to_string(pos);
    if (kind == Kind::Subtract) j += ",\"count\":" + std::to_string(subtractCount);
    if (kind == Kind::Inject) j += ",\"token_id\":" + std::to_string(injectId);
    return j + "}";
}

} // namespace HeadLens
