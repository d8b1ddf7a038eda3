// Builds a Trace from what the engine hands a CaptureSink. No torch here: the engine speaks
// to this file only through model.h's CaptureSink.

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/model/tunedlens.h"
#include "headlens/trace/error.h"
#include "headlens/trace/tracecost.h"
#include "headlens/trace/version.h"

#include <algorithm>
#include <cstring>

namespace HeadLens {

namespace {

// The first n code points of UTF-8 text.
std::string utf8Prefix(const std::string &s, int32_t n)
{
    size_t i = 0;
    for (int32_t c = 0; c < n && i < s.size(); ++c) {
        ++i;
        while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
            ++i;
    }
    return s.substr(0, i);
}

// Copies a [n] block into the slice starting at `offset` of dst.
void put(FloatArray &dst, int64_t offset, const float *src, int64_t n)
{
    std::memcpy(dst.data.data() + offset, src, size_t(n) * sizeof(float));
}

class TraceBuilder : public CaptureSink {
public:
    TraceBuilder(Trace &t, const TraceOptions &o) : m_t(t), m_o(o)
    {
        const ModelConfig &c = t.config;
        const int64_t L = c.nLayers, H = c.nHeads, T = t.nTokens(), D = c.dModel;
        const int64_t K = std::min(o.lens.topk, c.vocabSize);
        for (Site s : allSites()) {
            LensSite &ls = t.lens[size_t(s)];
            ls.topkIds.reset({L, T, K});
            ls.topkProbs.reset({L, T, K});
            ls.entropy.reset({L, T});
        }
        t.logitsTopkIds.reset({T, K});
        t.logitsTopkProbs.reset({T, K});
        t.logitsEntropy.reset({T});
        t.changeCosine.reset({L, T});
        t.changeKl.reset({L, T});
        for (FloatArray *a : {&t.contribNorm, &t.contribCosine, &t.contribProjection,
                              &t.attnEntropy, &t.valueNorm, &t.residRatio, &t.residProjection})
            a->reset({L, H, T});
        t.attnResidRatio.reset({L, T});
        t.mlpResidRatio.reset({L, T});
        t.contribSimilarity.reset({L, H, H});
        if (o.stream) return; // the large data go to the stream, layer by layer
        if (o.attention != StoreType::None) t.attentionPattern.reset({L, H, T, T});
        if (o.residuals != StoreType::None)
            for (auto &r : t.residual)
                r.reset({L, T, D});
        if (o.z != StoreType::None) t.z.reset({L, T, H, int64_t(c.dHead)});
    }

    bool wants(Tap tap, int) override
    {
        switch (tap) {
        case Tap::Pattern:
            return m_o.attention != StoreType::None;
        case Tap::Z:
            return m_o.z != StoreType::None;
        case Tap::HeadMetrics:
        case Tap::Change:
            return true;
        default:
            return m_o.residuals != StoreType::None;
        }
    }
    bool wantsLens(Site, int) override { return true; }
    bool wantsAttentionRows() override { return true; }

    void attentionRows(int layer, int64_t q0, const TensorView &v) override
    {
        const int64_t H = v.shape[0], rows = v.shape[1], T = v.shape[2];
        if (m_o.stream) {
            m_o.stream->attention(layer, q0, rows, v.data);
            return;
        }
        float *dst = m_t.attentionPattern.data.data();
        for (int64_t h = 0; h < H; ++h)
            std::memcpy(dst + ((layer * H + h) * T + q0) * T, v.data + h * rows * T,
                        size_t(rows * T) * sizeof(float));
    }

    void tensor(Tap tap, int layer, const TensorView &v) override
    {
        if (m_o.stream) {
            if (tap == Tap::Z)
                m_o.stream->z(layer, v.data);
            else
                m_o.stream->residual(Site(int(tap)), layer, v.data);
            return;
        }
        const int64_t n = Array<float>::count(v.shape);
        FloatArray *dst = nullptr;
        if (tap == Tap::Pattern)
            dst = &m_t.attentionPattern;
        else if (tap == Tap::Z)
            dst = &m_t.z;
        else
            dst = &m_t.residual[size_t(tap)];
        put(*dst, layer * n, v.data, n);
    }

    void heads(int layer, const HeadMetricsView &m) override
    {
        const int64_t n = Array<float>::count(m.contribNorm.shape);
        put(m_t.contribNorm, layer * n, m.contribNorm.data, n);
        put(m_t.contribCosine, layer * n, m.contribCosine.data, n);
        put(m_t.contribProjection, layer * n, m.contribProjection.data, n);
        put(m_t.attnEntropy, layer * n, m.attnEntropy.data, n);
        put(m_t.valueNorm, layer * n, m.valueNorm.data, n);
        put(m_t.residRatio, layer * n, m.residRatio.data, n);
        put(m_t.residProjection, layer * n, m.residProjection.data, n);
        const int64_t hh = Array<float>::count(m.contribSimilarity.shape);
        put(m_t.contribSimilarity, layer * hh, m.contribSimilarity.data, hh);
        const int64_t T = Array<float>::count(m.attnResidRatio.shape);
        put(m_t.attnResidRatio, layer * T, m.attnResidRatio.data, T);
        put(m_t.mlpResidRatio, layer * T, m.mlpResidRatio.data, T);
    }

    void lens(Site site, int layer, const LensView &v) override
    {
        LensSite &ls = m_t.lens[size_t(site)];
        const int64_t nk = int64_t(v.nPos) * v.k;
        std::copy(v.topkIds, v.topkIds + nk, ls.topkIds.data.begin() + layer * nk);
        put(ls.topkProbs, layer * nk, v.topkProbs, nk);
        put(ls.entropy, int64_t(layer) * v.nPos, v.entropy, v.nPos);
    }

    void logits(const LensView &v) override
    {
        const int64_t nk = int64_t(v.nPos) * v.k;
        std::copy(v.topkIds, v.topkIds + nk, m_t.logitsTopkIds.data.begin());
        put(m_t.logitsTopkProbs, 0, v.topkProbs, nk);
        put(m_t.logitsEntropy, 0, v.entropy, v.nPos);
    }

    bool wantsAttribution() override { return true; }
    void attribution(const LogitAttribution &a) override { m_t.dla = a; }

    void change(int layer, const float *cosd, const float *kl, int nPos) override
    {
        put(m_t.changeCosine, int64_t(layer) * nPos, cosd, nPos);
        put(m_t.changeKl, int64_t(layer) * nPos, kl, nPos);
    }

    bool cancelled() override { return m_o.cancelled && m_o.cancelled(); }
    void progress(int done, int total) override
    {
        if (m_o.progress) m_o.progress("trace", done, total);
    }

private:
    Trace &m_t;
    const TraceOptions &m_o;
};

} // namespace

Trace traceTokens(Model &model, std::vector<TokenInfo> tokens, const std::string &prompt,
                  const TraceOptions &opts)
{
    std::vector<int32_t> ids;
    for (const TokenInfo &t : tokens)
        ids.push_back(t.id);
    model.checkIds(ids, opts.generate);
    if (opts.lens.topk < 1) throw InputError("--topk must be at least 1");
    // A tuned lens of another model is refused before anything is generated.
    if (opts.lens.decoder == LensDecoder::Tuned) {
        if (!opts.lens.tuned) throw InputError("the tuned lens decoder needs a lens file");
        opts.lens.tuned->checkFits(model.config(), model.name());
    }

    Trace t;
    t.prompt = prompt;
    t.nPromptTokens = int(tokens.size());
    if (opts.generate > 0) {
        if (opts.progress) opts.progress("generate", 0, opts.generate);
        std::function<void(int)> generated;
        if (opts.progress)
            generated = [&opts](int k) { opts.progress("generate", k, opts.generate); };
        const std::vector<int32_t> gen = model.generate(ids, opts.generate, true, opts.cancelled,
                                                        opts.edit, opts.lens, generated);
        std::vector<TokenInfo> more = model.tokensFromIds(gen);
        tokens.insert(tokens.end(), more.begin(), more.end());
        ids.insert(ids.end(), gen.begin(), gen.end());
    }
    t.tokens = std::move(tokens);
    t.modelName = model.name();
    t.modelPath = model.path();
    t.modelFingerprint = model.fingerprint();
    t.config = model.config();
    t.lensNorm = opts.lens.norm;
    t.lensDecoder = opts.lens.decoder;
    if (opts.lens.decoder == LensDecoder::Tuned) {
        t.tunedLensPath = opts.lens.tuned->path;
        t.tunedLensSha256 = opts.lens.tuned->sha256;
    }
    t.topk = std::min(opts.lens.topk, t.config.vocabSize);
    t.computeDtype = model.computeDtype();
    t.created = isoNowUtc();
    t.appVersion = HEADLENS_VERSION;

    t.attentionStore = opts.attention;
    t.attentionSparse =
        attentionIsSparse(t.config, t.nTokens(), opts.attention, opts.attentionBudgetBytes);
    t.residualStore = opts.residuals;
    t.zStore = opts.z;
    if (opts.stream) opts.stream->begin(t);
    TraceBuilder sink(t, opts);
    LensOptions lo = opts.lens;
    lo.topk = t.topk;
    model.run(ids, &sink, lo, opts.edit);

    std::vector<int32_t> seen = ids;
    for (const LensSite &ls : t.lens)
        seen.insert(seen.end(), ls.topkIds.data.begin(), ls.topkIds.data.end());
    seen.insert(seen.end(), t.logitsTopkIds.data.begin(), t.logitsTopkIds.data.end());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (const TokenInfo &ti : model.tokensFromIds(seen))
        t.vocab[ti.id] = ti.text;
    return t;
}

Trace propagate(Model &model, const Trace &parent, const VectorEdit &edit, int n,
                const TraceOptions &opts)
{
    if (edit.pos < 0 || edit.pos >= parent.nTokens())
        throw InputError("position " + std::to_string(edit.pos) + " is outside trace '" +
                         parent.name + "' (" + std::to_string(parent.nTokens()) + " tokens)");
    std::vector<TokenInfo> tokens(parent.tokens.begin(), parent.tokens.begin() + edit.pos + 1);
    std::string prompt = parent.prompt;
    // Keep the prompt text that the kept tokens cover, so their offsets stay true.
    int32_t end = -1;
    for (const TokenInfo &t : tokens)
        end = std::max(end, t.end);
    if (end >= 0) prompt = utf8Prefix(prompt, end);
    TraceOptions o = opts;
    o.generate = n;
    o.edit = &edit;
    Trace t = traceTokens(model, std::move(tokens), prompt, o);
    t.parent = parent.name;
    t.edit = edit.toJson();
    return t;
}

} // namespace HeadLens
