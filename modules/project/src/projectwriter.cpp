// Writing projects. Adding a trace to a project appends it in place under an undo journal
// (appendjournal.h), so its cost does not grow with the project. Every other change builds
// the new version in a temp file beside the original, flushes and fsyncs it and renames it
// over the original (HLPROJ.md "Saving"), as does an append while another program has the
// project open: removing, replacing and renaming rebuild the file object by object (H5Ocopy,
// which copies compressed chunks as they are), so the space of a removed trace is given back
// and the listing order is kept.

#include "headlens/project/project.h"

#include "appendjournal.h"
#include "h5util.h"
#include "hlprojlayout.h"
#include "savefile.h"
#include "sparseattention.h"

#include "headlens/trace/error.h"
#include "headlens/trace/version.h"

#include <filesystem>
#include <functional>
#include <set>

namespace HeadLens {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- root

void writeRootAttributes(hid_t root, bool creating)
{
    const std::string now = isoNowUtc();
    H5::writeStringAttr(root, "format", kProjectFormat);
    H5::writeIntAttr(root, "schema_version", kProjectSchemaVersion);
    H5::writeStringAttr(root, "app_version", HEADLENS_VERSION);
    if (creating || !H5::hasAttr(root, "created")) H5::writeStringAttr(root, "created", now);
    H5::writeStringAttr(root, "modified", now);
}

// Root attributes and the groups every project has.
void completeSkeleton(hid_t file, bool creating)
{
    H5::Group root = H5::openGroup(file, "/");
    writeRootAttributes(root, creating);
    if (!H5::linkExists(root, HlProj::kTracesGroup))
        H5::createGroup(root, HlProj::kTracesGroup, true);
    if (!H5::linkExists(root, HlProj::kComparisonsGroup))
        H5::createGroup(root, HlProj::kComparisonsGroup, true);
}

// Copies everything of src into the fresh file dst; `each` is called for every link in
// /traces, in listing order, and decides what becomes of it (without opening it first, so a
// damaged trace can be dropped).
using TraceAction = std::function<void(hid_t srcTraces, hid_t dstTraces, const std::string &name)>;

void rebuild(hid_t srcFile, hid_t dstFile, const TraceAction &each)
{
    H5::Group srcRoot = H5::openGroup(srcFile, "/");
    H5::Group dstRoot = H5::openGroup(dstFile, "/");
    H5::copyAttributes(srcRoot, dstRoot);
    for (const auto &name : H5::childLinks(srcRoot)) {
        if (name != HlProj::kTracesGroup) {
            H5::copyObject(srcRoot, name, dstRoot, name);
            continue;
        }
        H5::Group srcTraces = H5::openGroup(srcRoot, name);
        H5::Group dstTraces = H5::createGroup(dstRoot, name, true);
        H5::copyAttributes(srcTraces, dstTraces);
        for (const auto &child : H5::childLinks(srcTraces, true))
            each(srcTraces, dstTraces, child);
    }
}

// ---------------------------------------------------------------- one trace

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

// The writer refuses what a reader would refuse, so nothing it writes is unreadable. With
// streamed, the large data were written layer by layer and are not in t.
void checkTrace(const Trace &t, bool streamed = false)
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

void writeTrace(hid_t traces, const Trace &t)
{
    H5::Group g = H5::createGroup(traces, t.name);
    writeTraceInto(g, t, false);
}

// Points references to a renamed trace at its new name.
void renameReferences(hid_t file, const std::string &from, const std::string &to)
{
    auto update = [&](hid_t obj, const char *attr) {
        if (H5::readStringAttr(obj, attr) == std::optional<std::string>(from))
            H5::writeStringAttr(obj, attr, to);
    };
    H5::Group root = H5::openGroup(file, "/");
    H5::Group traces = H5::openGroup(root, HlProj::kTracesGroup);
    for (const auto &name : H5::childGroups(traces)) {
        H5::Group g = H5::openGroup(traces, name);
        if (name == to) H5::writeStringAttr(g, "name", to);
        update(g, "parent");
    }
    if (H5::isGroup(root, HlProj::kComparisonsGroup)) {
        H5::Group comparisons = H5::openGroup(root, HlProj::kComparisonsGroup);
        for (const auto &name : H5::childGroups(comparisons)) {
            H5::Group c = H5::openGroup(comparisons, name);
            update(c, "left");
            update(c, "right");
        }
    }
}

// The new version of a project (save's temp file, returned open) with the trace `name` put in
// by put(traces group): a new project; the existing one rebuilt with the trace replaced where
// it was listed (taken); or a byte copy of the existing one with the trace added.
H5::File withTrace(const SaveFile &save, bool exists, bool taken, const std::string &name,
                   const std::function<void(hid_t traces)> &put)
{
    H5::File out;
    if (!exists) {
        out = createProjectFile(save.temp());
        completeSkeleton(out, true);
        put(H5::openGroup(out, std::string("/") + HlProj::kTracesGroup));
    } else if (taken) {
        out = createProjectFile(save.temp());
        H5::File in = H5::openReadOnly(save.target().string());
        rebuild(in, out, [&](hid_t src, hid_t dst, const std::string &child) {
            if (child == name)
                put(dst);
            else
                H5::copyObject(src, child, dst, child);
        });
        completeSkeleton(out, false);
    } else {
        fs::copy_file(save.target(), save.temp(), fs::copy_options::overwrite_existing);
        out = openProjectForWriting(save.temp());
        completeSkeleton(out, false);
        put(H5::openGroup(out, std::string("/") + HlProj::kTracesGroup));
    }
    return out;
}

// Validates an existing project as ProjectReader does and returns whether it holds `name`.
bool validateAndFind(const std::string &path, const std::string &name)
{
    ProjectReader reader(path);
    return reader.hasTrace(name);
}

// Whether the project at path exists (validated as ProjectReader does) and holds `name`;
// InputError when it does and force is not given, and when path cannot name a new project
// (empty, or in a folder that does not exist). Call with HDF5 locked.
std::pair<bool, bool> checkTarget(const std::string &path, const std::string &name, bool force)
{
    if (path.empty()) throw InputError("no project file given (the path is empty)");
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    const fs::path folder = fs::path(path).parent_path();
    if (!exists && !folder.empty() && !fs::is_directory(folder, ec))
        throw InputError("cannot save " + path + ": the folder " + folder.string() +
                         " does not exist");
    const bool taken = exists && validateAndFind(path, name);
    if (taken && !force)
        throw InputError("trace '" + name + "' already exists in " + path +
                         "; use --force to replace it");
    return {exists, taken};
}

// Appends to the existing project at path in place: put(traces group) under an undo journal.
// False, with nothing done, when the project cannot be changed in place now.
bool appendInPlace(const std::string &path, const std::function<void(hid_t traces)> &put)
{
    auto journal = AppendJournal::begin(path);
    if (!journal) return false;
    {
        H5::File out = journal->open();
        completeSkeleton(out, false);
        put(H5::openGroup(out, std::string("/") + HlProj::kTracesGroup));
        finishProjectFile(out, path);
    }
    journal->commit();
    return true;
}

} // namespace

void addTrace(const std::string &path, const Trace &t, bool force)
{
    checkTrace(t);
    guardedSave(path, [&] {
        const auto [exists, taken] = checkTarget(path, t.name, force);
        auto put = [&](hid_t traces) { writeTrace(traces, t); };
        if (exists && !taken && appendInPlace(path, put)) return;
        SaveFile save(path);
        {
            H5::File out = withTrace(save, exists, taken, t.name, put);
            finishProjectFile(out, save.temp());
        }
        save.commit();
    });
}

void removeTrace(const std::string &path, const std::string &name)
{
    guardedSave(path, [&] {
        if (!validateAndFind(path, name))
            throw InputError(path + ": there is no trace '" + name + "'");
        SaveFile save(path);
        {
            H5::File out = createProjectFile(save.temp());
            {
                H5::File in = H5::openReadOnly(save.target().string());
                rebuild(in, out, [&](hid_t src, hid_t dst, const std::string &child) {
                    if (child != name) H5::copyObject(src, child, dst, child);
                });
            }
            completeSkeleton(out, false);
            finishProjectFile(out, save.temp());
        }
        save.commit();
    });
}

void renameTrace(const std::string &path, const std::string &from, const std::string &to)
{
    if (auto problem = traceNameProblem(to); !problem.empty())
        throw InputError("invalid trace name '" + to + "': " + problem);
    guardedSave(path, [&] {
        {
            ProjectReader reader(path);
            if (!reader.hasTrace(from))
                throw InputError(path + ": there is no trace '" + from + "'");
            if (from == to) return;
            if (reader.hasTrace(to))
                throw InputError("trace '" + to + "' already exists in " + path);
        }
        SaveFile save(path);
        {
            H5::File out = createProjectFile(save.temp());
            {
                H5::File in = H5::openReadOnly(save.target().string());
                rebuild(in, out, [&](hid_t src, hid_t dst, const std::string &child) {
                    H5::copyObject(src, child, dst, child == from ? to : child);
                });
            }
            renameReferences(out, from, to);
            completeSkeleton(out, false);
            finishProjectFile(out, save.temp());
        }
        save.commit();
    });
}

// ---------------------------------------------------------------- traces streamed in

namespace {

// The group of one trace being written while the engine computes it: its large datasets are
// created up front and filled a layer at a time; finish() writes the rest of the trace.
class StreamedGroup {
public:
    void create(hid_t traces, const std::string &name, const Trace &t)
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
    bool open() const { return m_g.valid(); }

    void attention(int layer, int64_t q0, int64_t rows, const float *p)
    {
        if (q0 < 0 || rows < 1 || q0 + rows > m_T)
            throw std::invalid_argument("trace stream: attention rows out of range");
        if (m_sparseWriter)
            m_sparseWriter->rows(layer, q0, rows, p);
        else
            write(m_att, m_attention, layer, {m_config.nHeads, rows, m_T}, p, {0, q0, 0});
    }
    void residual(Site site, int layer, const float *v)
    {
        write(m_res[size_t(site)], m_residuals, layer, {m_T, m_config.dModel}, v, {0, 0});
    }
    void z(int layer, const float *v)
    {
        write(m_z, m_zStore, layer, {m_T, m_config.nHeads, m_config.dHead}, v, {0, 0, 0});
    }

    // Writes the rest of t (the trace this group was created for) and closes the group.
    void finish(const Trace &t)
    {
        if (!open() || t.name != m_name || t.nTokens() != m_T ||
            t.config.nLayers != m_config.nLayers || t.attentionStore != m_attention ||
            t.attentionSparse != m_sparse || t.residualStore != m_residuals || t.zStore != m_zStore)
            throw std::invalid_argument("cannot save trace '" + t.name +
                                        "': it is not the trace this stream was begun for");
        checkTrace(t, true);
        if (m_sparseWriter) m_sparseWriter->close();
        writeTraceInto(m_g, t, true);
        close();
    }

    void close()
    {
        m_sparseWriter.reset();
        m_att.reset();
        m_z.reset();
        for (auto &r : m_res)
            r.reset();
        m_g.reset();
    }

private:
    // count and start: the slab within the layer.
    void write(const H5::Dataset &ds, StoreType s, int layer, std::vector<int64_t> count,
               const float *data, std::vector<int64_t> start)
    {
        if (!ds.valid() || layer < 0 || layer >= m_config.nLayers)
            throw std::invalid_argument("trace stream: layer " + std::to_string(layer) +
                                        " was not expected");
        start.insert(start.begin(), layer);
        count.insert(count.begin(), 1);
        H5::writeFloatSlab(ds, storageType(s, m_f16), start, count, data);
    }

    std::string m_name;
    ModelConfig m_config;
    int64_t m_T = 0;
    StoreType m_attention = StoreType::None, m_residuals = StoreType::None,
              m_zStore = StoreType::None;
    H5::Group m_g;
    H5::Type m_f16;
    H5::Dataset m_att, m_z;
    std::array<H5::Dataset, kSiteCount> m_res;
    bool m_sparse = false;
    std::unique_ptr<SparseAttention::Writer> m_sparseWriter;
};

} // namespace

struct TraceStreamWriter::Private {
    std::string path, name;
    bool force = false, exists = false, taken = false, committed = false;
    // The project's new version. A new project is streamed straight into its temp file; an
    // existing one gets the trace streamed into a scratch file, copied in by commit().
    std::unique_ptr<SaveFile> save;
    std::string file; // the stream file
    H5::File h;
    StreamedGroup group;

    void discard()
    {
        group.close();
        h.reset();
        save.reset(); // removes the stream file, and the temp file unless committed
        file.clear();
    }
};

TraceStreamWriter::TraceStreamWriter(const std::string &path, const std::string &name, bool force)
    : d(std::make_unique<Private>())
{
    if (auto problem = traceNameProblem(name); !problem.empty())
        throw InputError("invalid trace name '" + name + "': " + problem);
    d->path = path;
    d->name = name;
    d->force = force;
    guardedSave(path, [&] { std::tie(d->exists, d->taken) = checkTarget(path, name, force); });
}

TraceStreamWriter::~TraceStreamWriter()
{
    if (d->committed) return;
    H5::Guard guard;
    d->discard();
}

const std::string &TraceStreamWriter::name() const
{
    return d->name;
}

void TraceStreamWriter::begin(const Trace &t)
{
    guardedSave(d->path, [&] {
        d->discard();
        d->save = std::make_unique<SaveFile>(d->path);
        d->file = d->exists ? d->save->scratch("trace") : d->save->temp();
        d->h = createProjectFile(d->file);
        completeSkeleton(d->h, true);
        H5::Group traces = H5::openGroup(d->h, std::string("/") + HlProj::kTracesGroup);
        d->group.create(traces, d->name, t);
    });
}

void TraceStreamWriter::attention(int layer, int64_t q0, int64_t rows, const float *pattern)
{
    guardedSave(d->file, [&] { d->group.attention(layer, q0, rows, pattern); });
}

void TraceStreamWriter::residual(Site site, int layer, const float *v)
{
    guardedSave(d->file, [&] { d->group.residual(site, layer, v); });
}

void TraceStreamWriter::z(int layer, const float *v)
{
    guardedSave(d->file, [&] { d->group.z(layer, v); });
}

void TraceStreamWriter::commit(const Trace &t)
{
    guardedSave(d->path, [&] {
        if (!d->h.valid())
            throw std::invalid_argument("cannot save trace '" + t.name +
                                        "': begin() was not called");
        d->group.finish(t);
        finishProjectFile(d->h, d->file);
        if (d->exists) {
            H5::File in = H5::openReadOnly(d->file);
            H5::Group srcTraces = H5::openGroup(in, std::string("/") + HlProj::kTracesGroup);
            auto put = [&](hid_t traces) { H5::copyObject(srcTraces, d->name, traces, d->name); };
            if (!d->taken && appendInPlace(d->path, put)) {
                d->committed = true;
                d->save.reset(); // the stream file goes
                return;
            }
            H5::File out = withTrace(*d->save, true, d->taken, d->name, put);
            finishProjectFile(out, d->save->temp());
        }
        d->save->commit();
        d->committed = true;
        d->save.reset(); // the stream file goes
    });
}

// ---------------------------------------------------------------- many traces, one save

struct ProjectBatchWriter::Private {
    std::string path;
    // An existing project takes the traces in place under a journal; a new one (or one that
    // another program has open) is written to a temp file renamed over it by finish().
    std::unique_ptr<AppendJournal> journal;
    std::unique_ptr<SaveFile> save;
    H5::File out;
    H5::Group traces;
    std::set<std::string> names;
    std::string pending; // the trace named by next(), until commit()
    StreamedGroup group;
};

ProjectBatchWriter::ProjectBatchWriter(const std::string &path) : d(std::make_unique<Private>())
{
    d->path = path;
    guardedSave(path, [&] {
        std::error_code ec;
        const bool exists = fs::exists(path, ec);
        if (exists) {
            ProjectReader reader(path); // validates it
            for (const auto &l : reader.info().traces)
                d->names.insert(l.name);
        }
        if (exists) d->journal = AppendJournal::begin(path);
        if (d->journal) {
            d->out = d->journal->open();
            completeSkeleton(d->out, false);
        } else if (exists) {
            d->save = std::make_unique<SaveFile>(path);
            fs::copy_file(d->save->target(), d->save->temp(), fs::copy_options::overwrite_existing);
            d->out = openProjectForWriting(d->save->temp());
            completeSkeleton(d->out, false);
        } else {
            d->save = std::make_unique<SaveFile>(path);
            d->out = createProjectFile(d->save->temp());
            completeSkeleton(d->out, true);
        }
        d->traces = H5::openGroup(d->out, std::string("/") + HlProj::kTracesGroup);
    });
}

ProjectBatchWriter::~ProjectBatchWriter()
{
    H5::Guard guard;
    d->group.close();
    d->traces.reset();
    d->out.reset();
    d->journal.reset(); // undoes an append that was not finished
    d->save.reset();    // removes the temp file unless finished
}

bool ProjectBatchWriter::hasTrace(const std::string &name) const
{
    return d->names.count(name) > 0;
}

void ProjectBatchWriter::begin(const Trace &t)
{
    if (d->pending.empty())
        throw std::invalid_argument("ProjectBatchWriter: name the trace with next() first");
    guardedSave(d->path, [&] { d->group.create(d->traces, d->pending, t); });
}

void ProjectBatchWriter::next(const std::string &name)
{
    if (auto problem = traceNameProblem(name); !problem.empty())
        throw InputError("invalid trace name '" + name + "': " + problem);
    if (d->names.count(name)) throw InputError("trace '" + name + "' already exists in " + d->path);
    guardedSave(d->path, [&] { d->group.close(); });
    d->pending = name;
}

void ProjectBatchWriter::attention(int layer, int64_t q0, int64_t rows, const float *pattern)
{
    guardedSave(d->path, [&] { d->group.attention(layer, q0, rows, pattern); });
}

void ProjectBatchWriter::residual(Site site, int layer, const float *v)
{
    guardedSave(d->path, [&] { d->group.residual(site, layer, v); });
}

void ProjectBatchWriter::z(int layer, const float *v)
{
    guardedSave(d->path, [&] { d->group.z(layer, v); });
}

void ProjectBatchWriter::commit(const Trace &t)
{
    guardedSave(d->path, [&] { d->group.finish(t); });
    d->names.insert(d->pending);
    d->pending.clear();
}

void ProjectBatchWriter::finish()
{
    guardedSave(d->path, [&] {
        d->group.close();
        d->traces.reset();
        writeRootAttributes(H5::openGroup(d->out, "/"), false);
        if (d->journal) {
            finishProjectFile(d->out, d->path);
            d->journal->commit();
            return;
        }
        finishProjectFile(d->out, d->save->temp());
        d->save->commit();
    });
}

} // namespace HeadLens
