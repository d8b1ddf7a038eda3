// One trace's group in a project file: the checks a trace passes before anything is written,
// its datasets' layout, and the group written whole or filled a layer at a time as the engine
// computes the trace. projectwriter.cpp decides which file and journal the group goes into.

#include "tracegroupwriter.h"

#include "hlprojlayout.h"

#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/trace/version.h"

namespace HeadLens::TraceGroup {

namespace {

[[noreturn]] void badTrace(const Trace &t, const std::string &msg)
{
    throw std::invalid_argument("cannot save trace '" + t.name + "': " + msg);
}

template <typename T>
void expectShape(const Trace &t, const Array<T> &a, const char *what,
                 const std::vector<int64_t> &shape)
{
    if (a.shape != shape || a.size() != size_t(Array<T>::count(shape)))
        badTrace(t, std::string(what) + " has shape " + shapeString(a.shape) + ", expected " +
                        shapeString(shape));
}

void writeFloats(hid_t g, const std::string &path, const FloatArray &a, hid_t fileType,
                 const H5::Layout &layout = {})
{
    H5::writeFloatDataset(g, path, fileType, a.shape, a.data.data(), layout);
}

void writeInts(hid_t g, const std::string &path, const IntArray &a, const H5::Layout &layout = {})
{
    H5::writeDataset(g, path, H5T_STD_I32LE, H5T_NATIVE_INT32, a.shape, a.data.data(), layout);
}

// One chunk per outer index (layer, or layer-head for attention): what a lazy reader asks for.
H5::Layout chunkedBy(const std::vector<int64_t> &shape, int outerDims, int deflate = 4)
{
    H5::Layout l;
    for (size_t i = 0; i < shape.size(); ++i)
        l.chunk.push_back(int(i) < outerDims ? 1 : hsize_t(shape[i]));
    l.deflate = deflate;
    return l;
}

// The large per-layer datasets of a trace: where, which shape, how chunked and compressed.
// Compression as measured on real trace data (SCHEMA-ADDITIONS.md "Storage"): attention
// patterns are half zeros (the causal mask) and shrink well at the fastest deflate level;
// residual vectors and z are dense floats that deflate shrinks to ~85-90% at 20-60 MB/s, a
// cost that would dominate a large trace, so they are stored as they are.
struct LargeDataset {
    std::string path;
    std::vector<int64_t> shape;
    H5::Layout layout;
};

LargeDataset attentionDataset(int64_t L, int64_t H, int64_t T)
{
    return {HlProj::kAttention, {L, H, T, T}, chunkedBy({L, H, T, T}, 2, 1)};
}

LargeDataset residualDataset(Site s, int64_t L, int64_t T, int64_t D)
{
    return {HlProj::residual(s), {L, T, D}, chunkedBy({L, T, D}, 1, 0)};
}

LargeDataset zDataset(int64_t L, int64_t T, int64_t H, int64_t dh)
{
    return {HlProj::kZ, {L, T, H, dh}, chunkedBy({L, T, H, dh}, 1, 0)};
}

hid_t storageType(StoreType s, const H5::Type &f16)
{
    return s == StoreType::F16 ? hid_t(f16) : H5T_IEEE_F32LE;
}

} // namespace

void checkTrace(const Trace &t, bool streamed)
{
    if (auto problem = traceNameProblem(t.name); !problem.empty())
        throw InputError("invalid trace name '" + t.name + "': " + problem);
    const int64_t L = t.config.nLayers, H = t.config.nHeads, T = t.nTokens(), K = t.topk;
    const int64_t D = t.config.dModel, dh = t.config.dHead;
    try {
        modelConfigFromJson(modelConfigToJson(t.config));
    } catch (const InputError &e) {
        badTrace(t, e.what());
    }
    if (T < 1) badTrace(t, "it has no tokens");
    if (K < 1) badTrace(t, "topk is " + std::to_string(K));
    if (t.nPromptTokens < 0 || t.nPromptTokens > T)
        badTrace(t, "nPromptTokens is " + std::to_string(t.nPromptTokens));
    for (Site s : allSites()) {
        const LensSite &l = t.lens[size_t(s)];
        if (l.empty()) continue;
        expectShape(t, l.topkIds, "lens topk_ids", {L, T, K});
        expectShape(t, l.topkProbs, "lens topk_probs", {L, T, K});
        expectShape(t, l.entropy, "lens entropy", {L, T});
    }
    expectShape(t, t.logitsTopkIds, "logitsTopkIds", {T, K});
    expectShape(t, t.logitsTopkProbs, "logitsTopkProbs", {T, K});
    expectShape(t, t.logitsEntropy, "logitsEntropy", {T});
    for (const auto &m : HlProj::headMetrics())
        expectShape(t, t.*(m.field), m.path, {L, H, T});
    for (const auto &m : HlProj::optionalHeadMetrics())
        if (!(t.*(m.field)).empty()) expectShape(t, t.*(m.field), m.path, {L, H, T});
    if (!t.contribSimilarity.empty())
        expectShape(t, t.contribSimilarity, "contribSimilarity", {L, H, H});
    if (!t.attnResidRatio.empty()) expectShape(t, t.attnResidRatio, "attnResidRatio", {L, T});
    if (!t.mlpResidRatio.empty()) expectShape(t, t.mlpResidRatio, "mlpResidRatio", {L, T});
    if (!t.dla.empty()) {
        expectShape(t, t.dla.heads, HlProj::kDlaHeads, {L, H, T});
        expectShape(t, t.dla.blocks, HlProj::kDlaBlocks, {L, 2, T});
        expectShape(t, t.dla.embed, HlProj::kDlaEmbed, {T});
        expectShape(t, t.dla.rest, HlProj::kDlaRest, {T});
        expectShape(t, t.dla.logit, HlProj::kDlaLogit, {T});
        expectShape(t, t.dla.tokenIds, HlProj::kDlaTokenIds, {T});
    }
    if (!t.changeCosine.empty()) expectShape(t, t.changeCosine, "changeCosine", {L, T});
    if (!t.changeKl.empty()) expectShape(t, t.changeKl, "changeKl", {L, T});
    if (streamed) return;
    if (t.attentionStore != StoreType::None) {
        if (t.attentionPattern.empty())
            badTrace(t, "attentionStore is set but attentionPattern is empty (read the trace "
                        "with readTraceFull before saving it)");
        expectShape(t, t.attentionPattern, "attentionPattern", {L, H, T, T});
    }
    if (t.residualStore != StoreType::None) {
        bool any = false;
        for (Site s : allSites()) {
            const FloatArray &r = t.residual[size_t(s)];
            if (r.empty()) continue;
            any = true;
            expectShape(t, r, "residual", {L, T, D});
        }
        if (!any) badTrace(t, "residualStore is set but no residual site is filled");
    }
    if (t.zStore != StoreType::None) {
        if (t.z.empty()) badTrace(t, "zStore is set but z is empty");
        if (dh < 1) badTrace(t, "the model config has no d_head");
        expectShape(t, t.z, "z", {L, T, H, dh});
    }
}

namespace {

// Everything of a trace into its (new, empty) group g; the large data too unless streamed.
void writeTraceInto(hid_t g, const Trace &t, bool streamed)
{
    H5::writeStringAttr(g, "name", t.name);
    H5::writeStringAttr(g, "prompt", t.prompt);
    H5::writeStringAttr(g, "model_name", t.modelName);
    H5::writeStringAttr(g, "model_path", t.modelPath);
    H5::writeStringAttr(g, "model_fingerprint", t.modelFingerprint);
    H5::writeStringAttr(g, "model_config", modelConfigToJson(t.config));
    H5::writeStringAttr(g, "lens_norm", lensNormName(t.lensNorm));
    H5::writeStringAttr(g, "lens_decoder", lensDecoderName(t.lensDecoder));
    H5::writeIntAttr(g, "topk", t.topk);
    H5::writeStringAttr(g, "compute_dtype", t.computeDtype);
    H5::writeStringAttr(g, "created", t.created.empty() ? isoNowUtc() : t.created);
    H5::writeStringAttr(g, "app_version", t.appVersion.empty() ? HEADLENS_VERSION : t.appVersion);
    H5::writeIntAttr(g, "n_prompt_tokens", t.nPromptTokens);
    if (!t.parent.empty()) H5::writeStringAttr(g, "parent", t.parent);
    if (!t.edit.empty()) H5::writeStringAttr(g, "edit", t.edit);
    if (!t.tunedLensPath.empty())
        H5::writeStringAttr(g, HlProj::kTunedLensPathAttr, t.tunedLensPath);
    if (!t.tunedLensSha256.empty())
        H5::writeStringAttr(g, HlProj::kTunedLensSha256Attr, t.tunedLensSha256);

    const int64_t T = t.nTokens();
    IntArray ids({T});
    IntArray offsets({T, 2});
    std::vector<std::string> texts;
    texts.reserve(size_t(T));
    for (size_t i = 0; i < t.tokens.size(); ++i) {
        ids.data[i] = t.tokens[i].id;
        offsets.data[2 * i] = t.tokens[i].begin;
        offsets.data[2 * i + 1] = t.tokens[i].end;
        texts.push_back(t.tokens[i].text);
    }
    writeInts(g, HlProj::kTokenIds, ids);
    H5::writeStringDataset(g, HlProj::kTokenText, texts);
    writeInts(g, HlProj::kTokenOffsets, offsets);

    for (Site s : allSites()) {
        const LensSite &l = t.lens[size_t(s)];
        if (l.empty()) continue;
        writeInts(g, HlProj::lensTopkIds(s), l.topkIds, chunkedBy(l.topkIds.shape, 1));
        writeFloats(g, HlProj::lensTopkProbs(s), l.topkProbs, H5T_IEEE_F32LE,
                    chunkedBy(l.topkProbs.shape, 1));
        writeFloats(g, HlProj::lensEntropy(s), l.entropy, H5T_IEEE_F32LE,
                    chunkedBy(l.entropy.shape, 1));
    }

    writeInts(g, HlProj::kLogitsTopkIds, t.logitsTopkIds);
    writeFloats(g, HlProj::kLogitsTopkProbs, t.logitsTopkProbs, H5T_IEEE_F32LE);
    writeFloats(g, HlProj::kLogitsEntropy, t.logitsEntropy, H5T_IEEE_F32LE);
    for (const auto &m : HlProj::headMetrics())
        writeFloats(g, m.path, t.*(m.field), H5T_IEEE_F32LE);
    for (const auto &m : HlProj::optionalHeadMetrics())
        if (!(t.*(m.field)).empty()) writeFloats(g, m.path, t.*(m.field), H5T_IEEE_F32LE);
    if (!t.contribSimilarity.empty())
        writeFloats(g, HlProj::kContribSimilarity, t.contribSimilarity, H5T_IEEE_F32LE);
    if (!t.attnResidRatio.empty())
        writeFloats(g, HlProj::kAttnResidRatio, t.attnResidRatio, H5T_IEEE_F32LE);
    if (!t.mlpResidRatio.empty())
        writeFloats(g, HlProj::kMlpResidRatio, t.mlpResidRatio, H5T_IEEE_F32LE);
    if (!t.dla.empty()) {
        writeFloats(g, HlProj::kDlaHeads, t.dla.heads, H5T_IEEE_F32LE);
        writeFloats(g, HlProj::kDlaBlocks, t.dla.blocks, H5T_IEEE_F32LE);
        writeFloats(g, HlProj::kDlaEmbed, t.dla.embed, H5T_IEEE_F32LE);
        writeFloats(g, HlProj::kDlaRest, t.dla.rest, H5T_IEEE_F32LE);
        writeFloats(g, HlProj::kDlaLogit, t.dla.logit, H5T_IEEE_F32LE);
        writeInts(g, HlProj::kDlaTokenIds, t.dla.tokenIds);
    }
    if (!t.changeCosine.empty())
        writeFloats(g, HlProj::kChangeCosine, t.changeCosine, H5T_IEEE_F32LE);
    if (!t.changeKl.empty()) writeFloats(g, HlProj::kChangeKl, t.changeKl, H5T_IEEE_F32LE);
    if (!t.vocab.empty()) {
        IntArray vids({int64_t(t.vocab.size())});
        std::vector<std::string> vtext;
        vtext.reserve(t.vocab.size());
        size_t i = 0;
        for (const auto &[id, text] : t.vocab) {
            vids.data[i++] = id;
            vtext.push_back(text);
        }
        writeInts(g, HlProj::kVocabIds, vids);
        H5::writeStringDataset(g, HlProj::kVocabText, vtext);
    }

    if (streamed) return;
    const int64_t L = t.config.nLayers, H = t.config.nHeads, D = t.config.dModel;
    const H5::Type f16 = H5::float16Type();
    auto put = [&](const LargeDataset &ld, const FloatArray &a, StoreType s) {
        writeFloats(g, ld.path, a, storageType(s, f16), ld.layout);
    };
    if (t.attentionStore != StoreType::None && t.attentionSparse) {
        SparseAttention::Writer w(g, L, H, T, t.attentionStore);
        for (int l = 0; l < L; ++l)
            w.rows(l, 0, T, t.attentionPattern.data.data() + int64_t(l) * H * T * T);
        w.close();
    } else if (t.attentionStore != StoreType::None) {
        put(attentionDataset(L, H, T), t.attentionPattern, t.attentionStore);
    }
    if (t.residualStore != StoreType::None) {
        for (Site s : allSites()) {
            const FloatArray &r = t.residual[size_t(s)];
            if (!r.empty()) put(residualDataset(s, L, T, D), r, t.residualStore);
        }
    }
    if (t.zStore != StoreType::None) put(zDataset(L, T, H, t.config.dHead), t.z, t.zStore);
}

} // namespace

void writeTrace(hid_t traces, const Trace &t)
{
    H5::Group g = H5::createGroup(traces, t.name);
    writeTraceInto(g, t, false);
}

// ---------------------------------------------------------------- streamed

void StreamedGroup::create(hid_t traces, const std::string &name, const Trace &t)
{
    close();
    m_name = name;
    m_config = t.config;
    m_T = t.nTokens();
    m_attention = t.attentionStore;
    m_residuals = t.residualStore;
    m_zStore = t.zStore;
    const int64_t L = m_config.nLayers, H = m_config.nHeads, D = m_config.dModel, T = m_T;
    m_g = H5::createGroup(traces, name);
    m_f16 = H5::float16Type();
    auto make = [&](const LargeDataset &ld, StoreType s) {
        return H5::createDataset(m_g, ld.path, storageType(s, m_f16), ld.shape, ld.layout);
    };
    m_sparse = t.attentionSparse;
    if (m_attention != StoreType::None && m_sparse)
        m_sparseWriter = std::make_unique<SparseAttention::Writer>(m_g, L, H, T, m_attention);
    else if (m_attention != StoreType::None)
        m_att = make(attentionDataset(L, H, T), m_attention);
    if (m_residuals != StoreType::None)
        for (Site s : allSites())
            m_res[size_t(s)] = make(residualDataset(s, L, T, D), m_residuals);
    if (m_zStore != StoreType::None) m_z = make(zDataset(L, T, H, m_config.dHead), m_zStore);
}

void StreamedGroup::attention(int layer, int64_t q0, int64_t rows, const float *p)
{
    if (q0 < 0 || rows < 1 || q0 + rows > m_T)
        throw std::invalid_argument("trace stream: attention rows out of range");
    if (m_sparseWriter)
        m_sparseWriter->rows(layer, q0, rows, p);
    else
        write(m_att, m_attention, layer, {m_config.nHeads, rows, m_T}, p, {0, q0, 0});
}

void StreamedGroup::residual(Site site, int layer, const float *v)
{
    write(m_res[size_t(site)], m_residuals, layer, {m_T, m_config.dModel}, v, {0, 0});
}

void StreamedGroup::z(int layer, const float *v)
{
    write(m_z, m_zStore, layer, {m_T, m_config.nHeads, m_config.dHead}, v, {0, 0, 0});
}

void StreamedGroup::finish(const Trace &t)
{
    if (!open() || t.name != m_name || t.nTokens() != m_T || t.config.nLayers != m_config.nLayers ||
        t.attentionStore != m_attention || t.attentionSparse != m_sparse ||
        t.residualStore != m_residuals || t.zStore != m_zStore)
        throw std::invalid_argument("cannot save trace '" + t.name +
                                    "': it is not the trace this stream was begun for");
    checkTrace(t, true);
    if (m_sparseWriter) m_sparseWriter->close();
    writeTraceInto(m_g, t, true);
    close();
}

void StreamedGroup::close()
{
    m_sparseWriter.reset();
    m_att.reset();
    m_z.reset();
    for (auto &r : m_res)
        r.reset();
    m_g.reset();
}

void StreamedGroup::write(const H5::Dataset &ds, StoreType s, int layer, std::vector<int64_t> count,
                          const float *data, std::vector<int64_t> start)
{
    if (!ds.valid() || layer < 0 || layer >= m_config.nLayers)
        throw std::invalid_argument("trace stream: layer " + std::to_string(layer) +
                                    " was not expected");
    start.insert(start.begin(), layer);
    count.insert(count.begin(), 1);
    H5::writeFloatSlab(ds, storageType(s, m_f16), start, count, data);
}

} // namespace HeadLens::TraceGroup
