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
#include "tracegroupwriter.h"

#include "headlens/trace/error.h"
#include "headlens/trace/version.h"

#include <filesystem>
#include <functional>
#include <set>

namespace HeadLens {

namespace fs = std::filesystem;
using TraceGroup::checkTrace;
using TraceGroup::StreamedGroup;
using TraceGroup::writeTrace;

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

void StreamedTraceWriter::attention(int layer, int64_t q0, int64_t rows, const float *pattern)
{
    guardedSave(fileName(), [&] { group().attention(layer, q0, rows, pattern); });
}

void StreamedTraceWriter::residual(Site site, int layer, const float *v)
{
    guardedSave(fileName(), [&] { group().residual(site, layer, v); });
}

void StreamedTraceWriter::z(int layer, const float *v)
{
    guardedSave(fileName(), [&] { group().z(layer, v); });
}

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

StreamedGroup &TraceStreamWriter::group()
{
    return d->group;
}

const std::string &TraceStreamWriter::fileName() const
{
    return d->file;
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

StreamedGroup &ProjectBatchWriter::group()
{
    return d->group;
}

const std::string &ProjectBatchWriter::fileName() const
{
    return d->path;
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
