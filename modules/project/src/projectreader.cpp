#include "headlens/project/project.h"

#include "appendjournal.h"
#include "h5util.h"
#include "hlprojlayout.h"
#include "sparseattention.h"

#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

namespace HeadLens {

namespace {

// An open trace group and the sizes every shape check needs (from model_config, tokens/ids
// and topk).
struct OpenTrace {
    const std::string *file = nullptr;
    std::string name;
    H5::Group group;
    ModelConfig config;
    int64_t L = 0, H = 0, T = 0, K = 0, D = 0, dh = 0;

    [[noreturn]] void fail(const std::string &msg) const
    {
        throw InputError(*file + ": trace '" + name + "': " + msg);
    }
    void checkLayer(int layer) const
    {
        if (layer < 0 || layer >= L)
            fail("layer " + std::to_string(layer) + " is out of range (the trace has " +
                 std::to_string(L) + " layers)");
    }
};

const char *className(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER:
        return "integer";
    case H5T_FLOAT:
        return "float";
    case H5T_STRING:
        return "string";
    default:
        return "non-numeric";
    }
}

void checkDataset(const OpenTrace &tr, const H5::DatasetInfo &info, H5T_class_t cls,
                  const std::vector<int64_t> &shape, const char *legend)
{
    if (info.typeClass != cls)
        tr.fail("dataset " + info.path + " holds " + className(info.typeClass) +
                " values, expected " + className(cls));
    if (info.dims != shape)
        tr.fail("dataset " + info.path + " has shape " + shapeString(info.dims) + ", expected " +
                shapeString(shape) + " (" + legend + ")");
}

H5::DatasetInfo requiredDataset(const OpenTrace &tr, const std::string &path, H5T_class_t cls,
                                const std::vector<int64_t> &shape, const char *legend)
{
    auto info = H5::openDataset(tr.group, path);
    if (!info) tr.fail("required dataset " + path + " is missing");
    checkDataset(tr, *info, cls, shape, legend);
    return std::move(*info);
}

std::optional<H5::DatasetInfo> optionalDataset(const OpenTrace &tr, const std::string &path,
                                               H5T_class_t cls, const std::vector<int64_t> &shape,
                                               const char *legend)
{
    auto info = H5::openDataset(tr.group, path);
    if (info) checkDataset(tr, *info, cls, shape, legend);
    return info;
}

FloatArray readFloats(const H5::DatasetInfo &info)
{
    FloatArray a(info.dims);
    if (a.size() > 0) H5::readFloats(info, a.data.data());
    return a;
}

IntArray readInts(const H5::DatasetInfo &info)
{
    IntArray a(info.dims);
    if (a.size() > 0) H5::readDataset(info, H5T_NATIVE_INT32, a.data.data());
    return a;
}

// A project's own values are checked where they are read, so that a damaged or hand-edited
// file is refused, saying where, instead of being drawn or exported as it is: token ids inside
// the model's vocabulary, probabilities in [0, 1], entropies finite and not negative (with
// room for float16 rounding).
std::string indexString(const std::vector<int64_t> &dims, size_t flat)
{
    std::vector<int64_t> idx(dims.size());
    for (size_t k = dims.size(); k-- > 0;) {
        const int64_t n = std::max<int64_t>(dims[k], 1);
        idx[k] = int64_t(flat) % n;
        flat /= size_t(n);
    }
    std::string s = "[";
    for (size_t k = 0; k < idx.size(); ++k)
        s += (k ? ", " : "") + std::to_string(idx[k]);
    return s + "]";
}

void checkIds(const OpenTrace &tr, const IntArray &a, const std::string &path)
{
    // A file written by hand may leave vocab_size out of its model_config: ids are then only
    // checked to be ids.
    const int64_t V = tr.config.vocabSize > 0 ? tr.config.vocabSize : INT64_MAX;
    for (size_t i = 0; i < a.data.size(); ++i)
        if (a.data[i] < 0 || a.data[i] >= V)
            tr.fail("dataset " + path + " holds the token id " + std::to_string(a.data[i]) +
                    " at " + indexString(a.shape, i) +
                    (a.data[i] < 0 ? std::string(", which cannot be a token id")
                                   : ", outside the model's vocabulary (0 to " +
                                         std::to_string(V - 1) + ")"));
}

void checkRange(const OpenTrace &tr, const FloatArray &a, const std::string &path, float lo,
                float hi, const char *what)
{
    for (size_t i = 0; i < a.data.size(); ++i) {
        const float v = a.data[i];
        if (!(v >= lo && v <= hi)) // NaN fails both
            tr.fail("dataset " + path + " holds " + (std::isnan(v) ? "NaN" : std::to_string(v)) +
                    " at " + indexString(a.shape, i) + ", which is not " + what);
    }
}

void checkProbabilities(const OpenTrace &tr, const FloatArray &a, const std::string &path)
{
    checkRange(tr, a, path, 0.0f, 1.001f, "a probability");
}

void checkEntropies(const OpenTrace &tr, const FloatArray &a, const std::string &path)
{
    checkRange(tr, a, path, -0.001f, std::numeric_limits<float>::max(), "an entropy (nats)");
}

// One layer (the outermost index) of a dataset.
FloatArray readLayer(const H5::DatasetInfo &info, int layer)
{
    std::vector<int64_t> start(info.dims.size(), 0);
    std::vector<int64_t> count = info.dims;
    start[0] = layer;
    count[0] = 1;
    FloatArray a(std::vector<int64_t>(info.dims.begin() + 1, info.dims.end()));
    if (a.size() > 0) H5::readFloatHyperslab(info, start, count, a.data.data());
    return a;
}

StoreType storeTypeOf(const H5::DatasetInfo &info)
{
    return info.typeSize <= 2 ? StoreType::F16 : StoreType::F32;
}

struct LensDatasets {
    H5::DatasetInfo ids, probs, entropy;
};

} // namespace

struct ProjectReader::Private {
    std::string path;
    H5::File file;
    ProjectInfo info;

    ~Private()
    {
        H5::Guard guard;
        file.reset();
    }

    // Runs f with HDF5 locked; HDF5 failures become InputErrors that name the file and trace.
    template <typename F> auto guarded(const std::string &trace, F &&f) const -> decltype(f())
    {
        H5::Guard guard;
        try {
            return f();
        } catch (const H5::H5Error &e) {
            throw InputError(path + ": trace '" + trace + "': " + e.what());
        }
    }

    bool hasTrace(const std::string &name) const
    {
        return std::any_of(info.traces.begin(), info.traces.end(),
                           [&](const TraceListing &l) { return l.name == name; });
    }

    OpenTrace openTrace(const std::string &name) const
    {
        if (!hasTrace(name)) throw InputError(path + ": there is no trace '" + name + "'");
        OpenTrace tr;
        tr.file = &path;
        tr.name = name;
        tr.group = H5::openGroup(file, std::string("/") + HlProj::kTracesGroup + "/" + name);
        const auto configText = H5::readStringAttr(tr.group, "model_config");
        if (!configText) tr.fail("attribute model_config is missing");
        try {
            tr.config = modelConfigFromJson(*configText);
        } catch (const InputError &e) {
            tr.fail(e.what());
        }
        tr.L = tr.config.nLayers;
        tr.H = tr.config.nHeads;
        tr.D = tr.config.dModel;
        tr.dh = tr.config.dHead;

        auto ids = H5::openDataset(tr.group, HlProj::kTokenIds);
        if (!ids) tr.fail(std::string("required dataset ") + HlProj::kTokenIds + " is missing");
        if (ids->dims.size() != 1)
            tr.fail(std::string("dataset ") + HlProj::kTokenIds + " has shape " +
                    shapeString(ids->dims) + ", expected [T]");
        tr.T = ids->dims[0];

        if (const auto topk = H5::readIntAttr(tr.group, "topk")) {
            if (*topk < 1 || *topk > 1000000) tr.fail("attribute topk is " + std::to_string(*topk));
            tr.K = *topk;
        } else if (auto logits = H5::openDataset(tr.group, HlProj::kLogitsTopkIds);
                   logits && logits->dims.size() == 2) {
            tr.K = logits->dims[1];
        } else {
            tr.fail("attribute topk is missing");
        }
        return tr;
    }

    std::optional<LensDatasets> openLens(const OpenTrace &tr, Site s) const
    {
        if (!H5::linkExists(tr.group, HlProj::lensGroup(s))) return std::nullopt;
        LensDatasets l{
            requiredDataset(tr, HlProj::lensTopkIds(s), H5T_INTEGER, {tr.L, tr.T, tr.K},
                            "[L, T, K]"),
            requiredDataset(tr, HlProj::lensTopkProbs(s), H5T_FLOAT, {tr.L, tr.T, tr.K},
                            "[L, T, K]"),
            requiredDataset(tr, HlProj::lensEntropy(s), H5T_FLOAT, {tr.L, tr.T}, "[L, T]"),
        };
        return l;
    }

    std::optional<H5::DatasetInfo> openAttention(const OpenTrace &tr) const
    {
        return optionalDataset(tr, HlProj::kAttention, H5T_FLOAT, {tr.L, tr.H, tr.T, tr.T},
                               "[L, H, T, T]");
    }
    std::optional<H5::DatasetInfo> openResidual(const OpenTrace &tr, Site s) const
    {
        return optionalDataset(tr, HlProj::residual(s), H5T_FLOAT, {tr.L, tr.T, tr.D}, "[L, T, D]");
    }
    std::optional<H5::DatasetInfo> openZ(const OpenTrace &tr) const
    {
        return optionalDataset(tr, HlProj::kZ, H5T_FLOAT, {tr.L, tr.T, tr.H, tr.dh},
                               "[L, T, H, dh]");
    }

    Trace readTrace(const OpenTrace &tr) const
    {
        Trace t;
        t.name = tr.name;
        t.config = tr.config;
        auto text = [&](const char *attr, std::string &out) {
            if (auto v = H5::readStringAttr(tr.group, attr)) out = *v;
        };
        text("prompt", t.prompt);
        text("model_name", t.modelName);
        text("model_path", t.modelPath);
        text("model_fingerprint", t.modelFingerprint);
        text("compute_dtype", t.computeDtype);
        text("created", t.created);
        text("app_version", t.appVersion);
        text("parent", t.parent);
        text("edit", t.edit);
        text(HlProj::kTunedLensPathAttr, t.tunedLensPath);
        text(HlProj::kTunedLensSha256Attr, t.tunedLensSha256);
        if (auto v = H5::readStringAttr(tr.group, "lens_norm")) {
            const auto norm = lensNormFromName(*v);
            if (!norm) tr.fail("attribute lens_norm is '" + *v + "', expected full, unit or none");
            t.lensNorm = *norm;
        }
        if (auto v = H5::readStringAttr(tr.group, "lens_decoder")) {
            const auto decoder = lensDecoderFromName(*v);
            if (!decoder)
                tr.fail("attribute lens_decoder is '" + *v +
                        "', expected output, input, linear, quadratic or tuned");
            t.lensDecoder = *decoder;
        }
        t.topk = int(tr.K);
        t.nPromptTokens = int(tr.T);
        if (auto v = H5::readIntAttr(tr.group, "n_prompt_tokens")) {
            if (*v < 0 || *v > tr.T)
                tr.fail("attribute n_prompt_tokens is " + std::to_string(*v) + ", but there are " +
                        std::to_string(tr.T) + " tokens");
            t.nPromptTokens = int(*v);
        }

        const auto ids =
            readInts(requiredDataset(tr, HlProj::kTokenIds, H5T_INTEGER, {tr.T}, "[T]"));
        const auto texts = H5::readStringDataset(
            requiredDataset(tr, HlProj::kTokenText, H5T_STRING, {tr.T}, "[T]"));
        const auto offsets =
            readInts(requiredDataset(tr, HlProj::kTokenOffsets, H5T_INTEGER, {tr.T, 2}, "[T, 2]"));
        checkIds(tr, ids, HlProj::kTokenIds);
        t.tokens.resize(size_t(tr.T));
        for (size_t i = 0; i < t.tokens.size(); ++i) {
            t.tokens[i].id = ids.data[i];
            t.tokens[i].text = texts[i];
            t.tokens[i].begin = offsets.data[2 * i];
            t.tokens[i].end = offsets.data[2 * i + 1];
        }

        t.logitsTopkIds = readInts(
            requiredDataset(tr, HlProj::kLogitsTopkIds, H5T_INTEGER, {tr.T, tr.K}, "[T, K]"));
        t.logitsTopkProbs = readFloats(
            requiredDataset(tr, HlProj::kLogitsTopkProbs, H5T_FLOAT, {tr.T, tr.K}, "[T, K]"));
        t.logitsEntropy =
            readFloats(requiredDataset(tr, HlProj::kLogitsEntropy, H5T_FLOAT, {tr.T}, "[T]"));
        checkIds(tr, t.logitsTopkIds, HlProj::kLogitsTopkIds);
        checkProbabilities(tr, t.logitsTopkProbs, HlProj::kLogitsTopkProbs);
        checkEntropies(tr, t.logitsEntropy, HlProj::kLogitsEntropy);
        for (const auto &m : HlProj::headMetrics())
            t.*(m.field) =
                readFloats(requiredDataset(tr, m.path, H5T_FLOAT, {tr.L, tr.H, tr.T}, "[L, H, T]"));

        for (const auto &m : HlProj::optionalHeadMetrics())
            if (auto d = optionalDataset(tr, m.path, H5T_FLOAT, {tr.L, tr.H, tr.T}, "[L, H, T]"))
                t.*(m.field) = readFloats(*d);
        if (auto d = optionalDataset(tr, HlProj::kContribSimilarity, H5T_FLOAT, {tr.L, tr.H, tr.H},
                                     "[L, H, H]"))
            t.contribSimilarity = readFloats(*d);
        if (auto d =
                optionalDataset(tr, HlProj::kAttnResidRatio, H5T_FLOAT, {tr.L, tr.T}, "[L, T]"))
            t.attnResidRatio = readFloats(*d);
        if (auto d = optionalDataset(tr, HlProj::kMlpResidRatio, H5T_FLOAT, {tr.L, tr.T}, "[L, T]"))
            t.mlpResidRatio = readFloats(*d);
        if (auto d = optionalDataset(tr, HlProj::kDlaHeads, H5T_FLOAT, {tr.L, tr.H, tr.T},
                                     "[L, H, T]")) {
            // One attribution: where its heads are, its other parts must be too.
            t.dla.heads = readFloats(*d);
            t.dla.blocks = readFloats(
                requiredDataset(tr, HlProj::kDlaBlocks, H5T_FLOAT, {tr.L, 2, tr.T}, "[L, 2, T]"));
            t.dla.embed =
                readFloats(requiredDataset(tr, HlProj::kDlaEmbed, H5T_FLOAT, {tr.T}, "[T]"));
            t.dla.rest =
                readFloats(requiredDataset(tr, HlProj::kDlaRest, H5T_FLOAT, {tr.T}, "[T]"));
            t.dla.logit =
                readFloats(requiredDataset(tr, HlProj::kDlaLogit, H5T_FLOAT, {tr.T}, "[T]"));
            t.dla.tokenIds =
                readInts(requiredDataset(tr, HlProj::kDlaTokenIds, H5T_INTEGER, {tr.T}, "[T]"));
        }
        if (auto c = optionalDataset(tr, HlProj::kChangeCosine, H5T_FLOAT, {tr.L, tr.T}, "[L, T]"))
            t.changeCosine = readFloats(*c);
        if (auto c = optionalDataset(tr, HlProj::kChangeKl, H5T_FLOAT, {tr.L, tr.T}, "[L, T]"))
            t.changeKl = readFloats(*c);
        if (auto vi = H5::openDataset(tr.group, HlProj::kVocabIds)) {
            if (vi->typeClass != H5T_INTEGER || vi->dims.size() != 1)
                tr.fail("dataset vocab/ids must be a 1-D integer dataset");
            const auto vids = readInts(*vi);
            checkIds(tr, vids, HlProj::kVocabIds);
            const auto vtext = H5::readStringDataset(requiredDataset(
                tr, HlProj::kVocabText, H5T_STRING, {int64_t(vids.size())}, "[U] like vocab/ids"));
            for (size_t i = 0; i < vids.size(); ++i)
                t.vocab[vids.data[i]] = vtext[i];
        }

        // Optional data: only check what is there and how it is stored.
        for (Site s : allSites())
            openLens(tr, s);
        if (auto a = openAttention(tr)) {
            t.attentionStore = storeTypeOf(*a);
        } else if (SparseAttention::present(tr.group)) {
            t.attentionStore = SparseAttention::weightsType(tr.group);
            t.attentionSparse = true;
        }
        for (Site s : allSites())
            if (auto r = openResidual(tr, s); r && t.residualStore == StoreType::None)
                t.residualStore = storeTypeOf(*r);
        if (auto z = openZ(tr)) t.zStore = storeTypeOf(*z);
        return t;
    }

    LensSite readLens(const OpenTrace &tr, Site s) const
    {
        LensSite lens;
        if (auto l = openLens(tr, s)) {
            lens.topkIds = readInts(l->ids);
            lens.topkProbs = readFloats(l->probs);
            lens.entropy = readFloats(l->entropy);
            checkIds(tr, lens.topkIds, l->ids.path);
            checkProbabilities(tr, lens.topkProbs, l->probs.path);
            checkEntropies(tr, lens.entropy, l->entropy.path);
        }
        return lens;
    }
};

namespace {
std::function<void(const std::string &)> &openCheck()
{
    static std::function<void(const std::string &)> check;
    return check;
}
} // namespace

void setProjectOpenCheck(std::function<void(const std::string &path)> check)
{
    openCheck() = std::move(check);
}

ProjectReader::ProjectReader(const std::string &path) : d(std::make_unique<Private>())
{
    namespace fs = std::filesystem;
    d->path = path;
    // Not under the library lock (a reader opened by a writer): a check that forks would leave
    // the lock held in its child for good.
    if (openCheck() && !H5::Guard::heldHere()) openCheck()(path);
    H5::Guard guard;

    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) throw InputError(path + ": no such file");
    if (fs::is_directory(status)) throw InputError(path + " is a folder, not a project file");
    checkInputFile(path, "project"); // a FIFO or a device would block HDF5's open
    recoverInterruptedAppend(path);  // a killed append is undone before HDF5 reads the file
    const htri_t isHdf5 = H5Fis_hdf5(path.c_str());
    if (isHdf5 < 0) {
        const std::string detail = H5::takeErrorStack();
        throw InputError("cannot read " + path + (detail.empty() ? "" : " (" + detail + ")"));
    }
    if (isHdf5 == 0) throw InputError(path + " is not a HeadLens project: it is not an HDF5 file");
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        const std::string detail = H5::takeErrorStack();
        if (detail.find("truncated") == std::string::npos &&
            detail.find("unable to lock") != std::string::npos)
            throw InputError("cannot open " + path + ": another program holds it locked (" +
                             detail + ")");
        throw InputError(path + " is damaged or truncated and cannot be opened" +
                         (detail.empty() ? "" : " (" + detail + ")"));
    }
    d->file = H5::File(file);

    try {
        H5::Group root = H5::openGroup(d->file, "/");
        const auto format = H5::readStringAttr(root, "format");
        if (!format)
            throw InputError(path + " is an HDF5 file but not a HeadLens project (it has no "
                                    "'format' attribute)");
        if (*format != kProjectFormat)
            throw InputError(path + " is not a HeadLens project (its format is '" + *format +
                             "', not '" + kProjectFormat + "')");
        const auto schema = H5::readIntAttr(root, "schema_version");
        if (!schema) throw InputError(path + " has no 'schema_version' attribute; it is damaged");
        if (*schema > kProjectSchemaVersion)
            throw InputError(path + " was written by a newer HeadLens (schema " +
                             std::to_string(*schema) + "); this version reads schema " +
                             std::to_string(kProjectSchemaVersion));
        if (*schema < 1)
            throw InputError(path + " has an invalid schema_version " + std::to_string(*schema));
        ProjectInfo &info = d->info;
        info.schemaVersion = int(*schema);
        info.appVersion = H5::readStringAttr(root, "app_version").value_or("");
        info.created = H5::readStringAttr(root, "created").value_or("");
        info.modified = H5::readStringAttr(root, "modified").value_or("");
        if (!H5::isGroup(root, HlProj::kTracesGroup))
            throw InputError(path + " has no /traces group; it is damaged");

        // The listing is forgiving: a broken trace still shows up (and can be removed);
        // readTrace says what is wrong with it.
        H5::Group traces = H5::openGroup(root, HlProj::kTracesGroup);
        for (const auto &name : H5::childGroups(traces)) {
            TraceListing l;
            l.name = name;
            try {
                H5::Group g = H5::openGroup(traces, name);
                auto text = [&](const char *attr, std::string &out) {
                    try {
                        out = H5::readStringAttr(g, attr).value_or("");
                    } catch (const H5::H5Error &) {
                    }
                };
                text("prompt", l.prompt);
                text("model_name", l.modelName);
                text("created", l.created);
                text("parent", l.parent);
                if (auto ids = H5::openDataset(g, HlProj::kTokenIds); ids && ids->dims.size() == 1)
                    l.nTokens = int(ids->dims[0]);
                if (auto cfg = H5::readStringAttr(g, "model_config")) {
                    try {
                        const ModelConfig c = modelConfigFromJson(*cfg);
                        l.nLayers = c.nLayers;
                        l.nHeads = c.nHeads;
                    } catch (const InputError &) {
                    }
                }
            } catch (const H5::H5Error &) {
            }
            info.traces.push_back(std::move(l));
        }
    } catch (const H5::H5Error &e) {
        throw InputError(path + " cannot be read (" + e.what() + "); it is damaged");
    }
}

ProjectReader::~ProjectReader() = default;
ProjectReader::ProjectReader(ProjectReader &&) noexcept = default;
ProjectReader &ProjectReader::operator=(ProjectReader &&) noexcept = default;

const std::string &ProjectReader::path() const
{
    return d->path;
}
const ProjectInfo &ProjectReader::info() const
{
    return d->info;
}
bool ProjectReader::hasTrace(const std::string &name) const
{
    return d->hasTrace(name);
}

void ProjectReader::visitMetadata() const
{
    H5::Guard guard;
    try {
        H5::visitMetadata(d->file);
    } catch (const H5::H5Error &e) {
        throw InputError(d->path + ": " + e.what() + "; the file is damaged");
    }
}

Trace ProjectReader::readTrace(const std::string &name) const
{
    return d->guarded(name, [&] { return d->readTrace(d->openTrace(name)); });
}

std::vector<Site> ProjectReader::lensSites(const std::string &name) const
{
    return d->guarded(name, [&] {
        const OpenTrace tr = d->openTrace(name);
        std::vector<Site> sites;
        for (Site s : allSites())
            if (d->openLens(tr, s)) sites.push_back(s);
        return sites;
    });
}

LensSite ProjectReader::readLens(const std::string &name, Site site) const
{
    return d->guarded(name, [&] { return d->readLens(d->openTrace(name), site); });
}

FloatArray ProjectReader::readAttention(const std::string &name, int layer) const
{
    return d->guarded(name, [&] {
        const OpenTrace tr = d->openTrace(name);
        tr.checkLayer(layer);
        const auto a = d->openAttention(tr);
        if (!a && SparseAttention::present(tr.group))
            return SparseAttention::readLayer(tr.group, tr.L, tr.H, tr.T, layer);
        if (!a) tr.fail(std::string("no attention pattern is stored (") + HlProj::kAttention + ")");
        return readLayer(*a, layer);
    });
}

FloatArray ProjectReader::readResidual(const std::string &name, Site site, int layer) const
{
    return d->guarded(name, [&] {
        const OpenTrace tr = d->openTrace(name);
        tr.checkLayer(layer);
        const auto r = d->openResidual(tr, site);
        if (!r)
            tr.fail(std::string("no residual vectors of ") + siteName(site) + " are stored (" +
                    HlProj::residual(site) + ")");
        return readLayer(*r, layer);
    });
}

FloatArray ProjectReader::readZ(const std::string &name, int layer) const
{
    return d->guarded(name, [&] {
        const OpenTrace tr = d->openTrace(name);
        tr.checkLayer(layer);
        const auto z = d->openZ(tr);
        if (!z) tr.fail(std::string("no per-head outputs are stored (") + HlProj::kZ + ")");
        return readLayer(*z, layer);
    });
}

Trace ProjectReader::readTraceFull(const std::string &name) const
{
    return d->guarded(name, [&] {
        const OpenTrace tr = d->openTrace(name);
        Trace t = d->readTrace(tr);
        for (Site s : allSites())
            t.lens[size_t(s)] = d->readLens(tr, s);
        if (auto a = d->openAttention(tr)) {
            t.attentionPattern = readFloats(*a);
        } else if (t.attentionSparse) {
            t.attentionPattern.reset({tr.L, tr.H, tr.T, tr.T});
            for (int l = 0; l < tr.L; ++l) {
                const FloatArray layer = SparseAttention::readLayer(tr.group, tr.L, tr.H, tr.T, l);
                std::copy(layer.data.begin(), layer.data.end(),
                          t.attentionPattern.data.begin() + int64_t(l) * tr.H * tr.T * tr.T);
            }
        }
        for (Site s : allSites())
            if (auto r = d->openResidual(tr, s)) t.residual[size_t(s)] = readFloats(*r);
        if (auto z = d->openZ(tr)) t.z = readFloats(*z);
        return t;
    });
}

} // namespace HeadLens
