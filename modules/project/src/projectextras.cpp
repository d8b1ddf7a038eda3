// The workbench's additions to a project (notes, view settings) and writing a whole project
// in one go (Save / Save As of the workbench). Like every writer here, writeProject never
// modifies a file in place: it builds the new version beside the target, flushes and fsyncs
// it and renames it over (HLPROJ.md "Saving").

#include "headlens/project/project.h"

#include "analysisgroup.h"
#include "h5util.h"
#include "hlprojlayout.h"
#include "savefile.h"
#include "sparseattention.h"

#include "headlens/trace/error.h"
#include "headlens/trace/tracecost.h"
#include "headlens/trace/version.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>

namespace HeadLens {

namespace fs = std::filesystem;

namespace {

constexpr const char *kWorkbenchGroup = "workbench";
constexpr const char *kNotes = "workbench/notes";
constexpr const char *kViewSettings = "workbench/view_settings";

std::string firstString(hid_t file, const char *path)
{
    auto info = H5::openDataset(file, path);
    if (!info) return {};
    const auto values = H5::readStringDataset(*info);
    return values.empty() ? std::string() : values.front();
}

void setParent(hid_t group, const std::string &parent)
{
    if (parent.empty()) {
        if (H5::hasAttr(group, "parent"))
            H5::checkStatus(H5Adelete(group, "parent"), "cannot remove attribute parent");
    } else {
        H5::writeStringAttr(group, "parent", parent);
    }
}

// Bytes the datasets under a group take in their file, as stored (compressed).
herr_t addStorage(hid_t obj, const char *name, const H5O_info_t *info, void *total)
{
    if (info->type == H5O_TYPE_DATASET) {
        const hid_t ds = H5Dopen2(obj, name, H5P_DEFAULT);
        if (ds >= 0) {
            *static_cast<hsize_t *>(total) += H5Dget_storage_size(ds);
            H5Dclose(ds);
        }
    }
    return 0;
}

hsize_t storedBytes(hid_t group)
{
    hsize_t total = 0;
    H5Ovisit(group, H5_INDEX_NAME, H5_ITER_NATIVE, addStorage, &total);
    H5::takeErrorStack();
    return total;
}

// libhdf5 1.10 can crash inside H5Ocopy when the disk fills up under it: the copies a
// project is rebuilt from are measured first, and refused with the figures when the folder
// lacks the room.
void checkRoomFor(const std::string &path, const std::vector<ProjectTraceSource> &traces,
                  const std::string &keepFrom)
{
    int64_t need = int64_t(64) << 10; // the skeleton, attributes, listings
    for (const auto &t : traces) {
        if (t.file.empty()) continue;
        H5::File in = H5::openReadOnly(t.file);
        need += int64_t(storedBytes(
            H5::openGroup(in, std::string("/") + HlProj::kTracesGroup + "/" + t.fileTrace)));
    }
    if (!keepFrom.empty()) { // its other groups (comparisons, analyses) are copied too
        H5::File in = H5::openReadOnly(keepFrom);
        H5::Group root = H5::openGroup(in, "/");
        for (const auto &name : H5::childLinks(root))
            if (name != HlProj::kTracesGroup && H5::isGroup(root, name))
                need += int64_t(storedBytes(H5::openGroup(root, name)));
    }
    std::error_code ec;
    const fs::path dir = fs::absolute(path, ec).parent_path();
    const int64_t free = freeDiskBytes(dir.string());
    if (free >= 0 && need > free)
        throw InputError("saving " + path + " needs about " + formatBytes(need) + " on " +
                         dir.string() + ", " + formatBytes(free) + " free");
}

void copyTrace(const std::string &file, const std::string &fileTrace, hid_t dstTraces,
               const ProjectTraceSource &src)
{
    {
        ProjectReader check(file); // the same validation as opening the project
        if (!check.hasTrace(fileTrace))
            throw InputError(file + ": there is no trace '" + fileTrace + "'");
    }
    H5::File in = H5::openReadOnly(file);
    H5::Group traces = H5::openGroup(in, std::string("/") + HlProj::kTracesGroup);
    H5::copyObject(traces, fileTrace, dstTraces, src.name);
    H5::Group g = H5::openGroup(dstTraces, src.name);
    H5::writeStringAttr(g, "name", src.name);
    setParent(g, src.parent);
}

// The results measured for a trace since its project was opened, written into its copy.
void writeTraceResults(hid_t file, const ProjectTraceSource &src)
{
    if (src.headRoles)
        replaceAnalysisGroup(file, traceAnalysisGroup(src.name, HlProj::kHeadRolesGroup),
                             headRolesRecord(*src.headRoles));
}

} // namespace

ProjectExtras readProjectExtras(const std::string &path)
{
    H5::Guard guard;
    try {
        H5::File file = H5::openReadOnly(path);
        ProjectExtras e;
        e.notes = firstString(file, kNotes);
        e.viewSettings = firstString(file, kViewSettings);
        return e;
    } catch (const H5::H5Error &e) {
        throw InputError(path + ": " + e.what());
    }
}

void writeProject(const std::string &path, const std::vector<ProjectTraceSource> &traces,
                  const ProjectExtras &extras, const std::string &keepFrom)
{
    std::set<std::string> names;
    for (const auto &t : traces) {
        if (auto problem = traceNameProblem(t.name); !problem.empty())
            throw InputError("invalid trace name '" + t.name + "': " + problem);
        if (!names.insert(t.name).second) throw InputError("two traces are named '" + t.name + "'");
        if (t.file.empty() && !t.load)
            throw std::invalid_argument("writeProject: trace '" + t.name + "' has no source");
    }

    guardedSave(path, [&] {
        checkRoomFor(path, traces, keepFrom);
        SaveFile save(path);
        {
            H5::File out = createProjectFile(save.temp());
            H5::Group root = H5::openGroup(out, "/");

            std::string created;
            std::map<std::string, std::string> renamed; // keepFrom's name -> new name
            if (!keepFrom.empty()) {
                ProjectReader check(keepFrom);
                created = check.info().created;
                for (const auto &t : traces)
                    if (t.file == keepFrom && t.fileTrace != t.name) renamed[t.fileTrace] = t.name;
            }
            const std::string now = isoNowUtc();
            H5::writeStringAttr(root, "format", kProjectFormat);
            H5::writeIntAttr(root, "schema_version", kProjectSchemaVersion);
            H5::writeStringAttr(root, "app_version", HEADLENS_VERSION);
            H5::writeStringAttr(root, "created", created.empty() ? now : created);
            H5::writeStringAttr(root, "modified", now);

            H5::Group dstTraces = H5::createGroup(root, HlProj::kTracesGroup, true);
            int scratchFiles = 0;
            for (const auto &t : traces) {
                if (!t.file.empty()) {
                    copyTrace(t.file, t.fileTrace, dstTraces, t);
                    writeTraceResults(out, t);
                    continue;
                }
                Trace trace = t.load();
                trace.name = t.name;
                trace.parent = t.parent;
                // The trace writer lives with addTrace; a scratch project holds the trace for
                // the moment it takes to copy it over.
                const std::string scratch =
                    save.scratch(std::to_string(scratchFiles++) + ".hlproj");
                addTrace(scratch, trace, true);
                trace = Trace(); // give the memory back before copying
                copyTrace(scratch, t.name, dstTraces, t);
                save.dropScratch(scratch);
                writeTraceResults(out, t);
            }

            if (!keepFrom.empty()) {
                H5::File in = H5::openReadOnly(keepFrom);
                H5::Group srcRoot = H5::openGroup(in, "/");
                for (const auto &name : H5::childLinks(srcRoot)) {
                    if (name == HlProj::kTracesGroup || name == kWorkbenchGroup) continue;
                    H5::copyObject(srcRoot, name, root, name);
                }
                if (H5::isGroup(root, HlProj::kComparisonsGroup) && !renamed.empty()) {
                    H5::Group comparisons = H5::openGroup(root, HlProj::kComparisonsGroup);
                    for (const auto &name : H5::childGroups(comparisons)) {
                        H5::Group c = H5::openGroup(comparisons, name);
                        for (const char *key : {"left", "right"}) {
                            const auto v = H5::readStringAttr(c, key);
                            if (!v) continue;
                            auto it = renamed.find(*v);
                            if (it != renamed.end()) H5::writeStringAttr(c, key, it->second);
                        }
                    }
                }
            }
            if (!H5::linkExists(root, HlProj::kComparisonsGroup))
                H5::createGroup(root, HlProj::kComparisonsGroup, true);

            if (!extras.notes.empty()) H5::writeStringDataset(root, kNotes, {extras.notes});
            if (!extras.viewSettings.empty())
                H5::writeStringDataset(root, kViewSettings, {extras.viewSettings});

            dstTraces.reset();
            root.reset();
            finishProjectFile(out, save.temp());
        }
        save.commit();
    });
}

FloatArray readAttentionRow(const std::string &path, const std::string &trace, int layer, int query)
{
    H5::Guard guard;
    try {
        H5::File file = H5::openReadOnly(path);
        const std::string where = std::string("/") + HlProj::kTracesGroup + "/" + trace;
        if (!H5::isGroup(file, where))
            throw InputError(path + ": there is no trace '" + trace + "'");
        H5::Group g = H5::openGroup(file, where);
        auto info = H5::openDataset(g, HlProj::kAttention);
        if (!info && SparseAttention::present(g)) {
            const auto ids = H5::openDataset(g, HlProj::kTokenIds);
            const auto config = H5::readStringAttr(g, "model_config");
            if (!ids || ids->dims.size() != 1 || !config)
                throw InputError(path + ": trace '" + trace + "' lacks tokens or model_config");
            const ModelConfig c = modelConfigFromJson(*config);
            const int64_t T = ids->dims[0];
            if (layer < 0 || layer >= c.nLayers || query < 0 || query >= T)
                throw InputError(path + ": trace '" + trace + "': layer " + std::to_string(layer) +
                                 ", position " + std::to_string(query) + " is outside the trace");
            return SparseAttention::readRow(g, c.nLayers, c.nHeads, T, layer, query);
        }
        if (!info) throw InputError(path + ": trace '" + trace + "' stores no attention");
        if (info->dims.size() != 4 || info->dims[2] != info->dims[3])
            throw InputError(path + ": trace '" + trace + "': attention/pattern has shape " +
                             shapeString(info->dims) + ", expected [L, H, T, T]");
        const int64_t L = info->dims[0], H = info->dims[1], T = info->dims[2];
        if (layer < 0 || layer >= L || query < 0 || query >= T)
            throw InputError(path + ": trace '" + trace + "': layer " + std::to_string(layer) +
                             ", position " + std::to_string(query) + " is outside the attention " +
                             shapeString(info->dims));
        FloatArray row({H, T});
        H5::readFloatHyperslab(*info, {layer, 0, query, 0}, {1, H, 1, T}, row.data.data());
        return row;
    } catch (const H5::H5Error &e) {
        throw InputError(path + ": trace '" + trace + "': " + e.what());
    }
}

std::string hdf5LibraryVersion()
{
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

std::string jsonLibraryVersion()
{
    return std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
           std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
           std::to_string(NLOHMANN_JSON_VERSION_PATCH);
}

} // namespace HeadLens
