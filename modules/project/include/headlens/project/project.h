#pragma once
// Reading and writing .hlproj project files (shared/design/HLPROJ.md, schema version 1).
// This module is the only code in HeadLens that touches HDF5; everything it hands out is plain
// trace data. All functions may be called from any thread (HDF5 use is serialized inside).
//
// Errors: InputError when a file cannot be used as a project (not found, not HDF5, truncated,
// from a newer schema, a trace missing a required dataset or with a wrong shape) or when a
// request names something that is not there; the message names the file and, where it
// applies, the trace and the dataset. std::invalid_argument when a Trace handed to the writer
// is inconsistent (a bug in the caller); std::runtime_error when writing fails (disk full,
// no permission).

#include "headlens/trace/headroles.h"
#include "headlens/trace/layerstream.h"
#include "headlens/trace/trace.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace HeadLens {

constexpr const char *kProjectFormat = "headlens-project";
constexpr int kProjectSchemaVersion = 1;

// JSON text of HLPROJ's `model_config` attribute. Keys: architecture, n_layers, n_heads,
// n_kv_heads, d_model, d_head, d_ffn, vocab_size, max_seq_len, rope_theta, rope_scaling,
// norm_eps, tied_embeddings, attn_bias, attn_out_bias, mlp_bias, bos_id, eos_id.
std::string modelConfigToJson(const ModelConfig &c);
// Reverse of modelConfigToJson. n_layers, n_heads and d_model are required; other keys fall
// back to ModelConfig's defaults (d_head to d_model / n_heads, n_kv_heads to n_heads), null
// counts as absent and unknown keys are ignored. InputError on bad JSON or a wrong type.
ModelConfig modelConfigFromJson(const std::string &json);

// One line of a project's table of contents; read without touching any dataset but
// tokens/ids' shape. Values the file lacks are left empty / 0.
struct TraceListing {
    std::string name;
    std::string prompt;
    std::string modelName;
    std::string created;
    std::string parent;
    int nTokens = 0;
    int nLayers = 0;
    int nHeads = 0;
};

struct ProjectInfo {
    int schemaVersion = 0;
    std::string appVersion;
    std::string created;
    std::string modified;
    std::vector<TraceListing> traces; // in the order they were added
};

// A check a process runs on a project file before ProjectReader opens it (after the file is
// known to be a regular file, before libhdf5 reads it); it throws InputError to refuse the
// file. libhdf5 1.10 can crash on a damaged file's structure, which no check of ours can
// prevent in the process that reads it: the command-line engine sets a check that reads the
// structure in a child process first (app/cli/projectguard.cpp); the workbench sets none and
// runs headlens-check instead. Empty: no check.
void setProjectOpenCheck(std::function<void(const std::string &path)> check);

// Reads a project lazily: the constructor reads only the root attributes and the trace
// listings; trace data is read on request. Keeps the file open (read-only) until destroyed.
// Writers never modify a file in place (they rename a new one over it), so an open reader
// keeps seeing the version it opened.
class ProjectReader {
public:
    // InputError: not found / not HDF5 / truncated / format attribute not "headlens-project"
    // / schema_version > 1 ("written by a newer HeadLens (schema N); this version reads
    // schema 1"). Every message names the file.
    explicit ProjectReader(const std::string &path);
    ~ProjectReader();
    ProjectReader(ProjectReader &&) noexcept;
    ProjectReader &operator=(ProjectReader &&) noexcept;
    ProjectReader(const ProjectReader &) = delete;
    ProjectReader &operator=(const ProjectReader &) = delete;

    const std::string &path() const;
    const ProjectInfo &info() const;
    bool hasTrace(const std::string &name) const;

    // Metadata, tokens, logits and the [L,H,T] head metrics. Lens and large data are not
    // loaded: lens sites are left empty, attentionPattern/residual/z empty with their
    // StoreType set to what the file holds (None if absent). InputError when the trace is
    // missing, or a required dataset is missing or has the wrong shape or type (the message
    // names the dataset and the trace); the shapes of the optional datasets are checked too.
    Trace readTrace(const std::string &name) const;
    // Which lens sites the trace stores.
    std::vector<Site> lensSites(const std::string &name) const;
    // [L,T,K] lens of one site; empty when the trace does not store that site.
    LensSite readLens(const std::string &name, Site site) const;
    // [H,T,T] attention of one layer (read as a hyperslab). InputError if not stored.
    FloatArray readAttention(const std::string &name, int layer) const;
    // [T,D] one site of one layer. InputError if not stored.
    FloatArray readResidual(const std::string &name, Site site, int layer) const;
    // [T,H,dh] per-head attention outputs of one layer. InputError if not stored.
    FloatArray readZ(const std::string &name, int layer) const;
    // Everything: readTrace plus the lens of every stored site and all optional data.
    Trace readTraceFull(const std::string &name) const;
    // Opens every object of the file, and every dataset's and attribute's type and shape (the
    // checks of readTrace's datasets included), reading no data: the metadata that reading any
    // part touches. InputError naming the file and the object where one is damaged. Where
    // libhdf5 would crash on damaged metadata, it crashes here: readProjectStructure calls this,
    // in the child processes that check a project before it is opened for good.
    void visitMetadata() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

namespace TraceGroup {
class StreamedGroup;
}

// The writers below: a trace's layers written, as the engine computes them, into the trace
// group being streamed (an HDF5 or file system failure: std::runtime_error "cannot save
// <fileName()>: ...").
class StreamedTraceWriter : public LayerStream {
public:
    void attention(int layer, int64_t q0, int64_t rows, const float *pattern) override;
    void residual(Site site, int layer, const float *v) override;
    void z(int layer, const float *z) override;

protected:
    virtual TraceGroup::StreamedGroup &group() = 0;
    // The file the layers are written into.
    virtual const std::string &fileName() const = 0;
};

// Adds trace t to the project at path, creating the file if absent. t.name must be a valid
// trace name (traceNameProblem). If the name is taken: InputError ("trace 'x' already exists in
// P; use --force to replace it") unless force, which replaces it in place in the listing.
// The existing file is validated first (as ProjectReader does). A new trace is appended to it
// in place under an undo journal (".<file>.journal" beside it), in time that does not grow
// with the project; a replaced one, or one added while another program has the project open,
// goes into a new version written beside it (".<file>.tmp-<pid>"), flushed, fsync'ed and
// renamed over it. On any failure, or a kill (undone by the next opener), the original is
// left byte-identical. t's optional large data is written when its StoreType is not None (and
// must then be present: read traces with readTraceFull before re-saving them).
void addTrace(const std::string &path, const Trace &t, bool force);
// addTrace for a trace that is being computed: its large per-layer data (attention,
// residuals, z) are written to the file as the engine hands them over (LayerStream), so memory
// never holds more than one layer of them. The constructor checks the project and the name as
// addTrace does (before any heavy work); begin() creates the new trace's file beside the
// project (".<file>.tmp-<pid>"; when the project does not exist yet, that file becomes it);
// commit() writes the rest of the trace and puts it into the project as addTrace does.
// Destroyed without commit(), or when anything fails, it removes what it wrote and the
// project is left byte-identical.
class TraceStreamWriter : public StreamedTraceWriter {
public:
    TraceStreamWriter(const std::string &path, const std::string &name, bool force);
    ~TraceStreamWriter() override;
    TraceStreamWriter(const TraceStreamWriter &) = delete;
    TraceStreamWriter &operator=(const TraceStreamWriter &) = delete;

    const std::string &name() const;
    // Creates the datasets for t's model, tokens and StoreTypes.
    void begin(const Trace &t) override;
    // t: the trace the engine returned for this stream (t.name == name(); its large arrays
    // are empty, its StoreTypes as given to begin()).
    void commit(const Trace &t);

private:
    TraceGroup::StreamedGroup &group() override;
    const std::string &fileName() const override;

    struct Private;
    std::unique_ptr<Private> d;
};

// Many traces into a project in one save (headlens-cli batch): the project, when it exists, is
// validated and appended to in place under an undo journal, as addTrace does (or, while
// another program has it open, copied once into a file beside it); each trace is named with
// next() and then streamed into it as the engine computes it; finish() completes the batch.
// A trace that fails midway leaves its group unfinished, so end the batch then (destroy the
// writer): destroyed without finish(), the project is left byte-identical.
class ProjectBatchWriter : public StreamedTraceWriter {
public:
    explicit ProjectBatchWriter(const std::string &path);
    ~ProjectBatchWriter() override;
    ProjectBatchWriter(const ProjectBatchWriter &) = delete;
    ProjectBatchWriter &operator=(const ProjectBatchWriter &) = delete;

    bool hasTrace(const std::string &name) const;
    // The name of the next trace; InputError when it is taken or invalid.
    void next(const std::string &name);
    void begin(const Trace &t) override;
    void commit(const Trace &t); // t.name == the name given to next()
    void finish();

private:
    TraceGroup::StreamedGroup &group() override;
    const std::string &fileName() const override;

    struct Private;
    std::unique_ptr<Private> d;
};

// Removes a trace (InputError if absent). The file is rewritten compactly, atomically.
void removeTrace(const std::string &path, const std::string &name);
// Renames a trace, keeping its place in the listing, and updates the references to it
// (other traces' `parent`, comparisons' `left`/`right`). InputError if `from` is absent,
// `to` is taken or invalid. Atomic.
void renameTrace(const std::string &path, const std::string &from, const std::string &to);
// The first of "trace-1", "trace-2", ... not taken in the project (path may not exist).
std::string nextFreeTraceName(const std::string &path);
// Empty when name can be used for a trace, else why not ("must not contain '/'", ...).
std::string traceNameProblem(const std::string &name);

} // namespace HeadLens

// ------------------------------------------------------------------------------------------
// Workbench extras and whole-project writing (projectextras.cpp).

#include <functional>

namespace HeadLens {

// What the workbench keeps in a project besides traces: free-text notes and its view
// settings (a JSON object as text). Stored as one-element UTF-8 string datasets
// /workbench/notes and /workbench/view_settings; files written by the CLI lack them, and then
// both are empty.
struct ProjectExtras {
    std::string notes;
    std::string viewSettings;
};

// InputError when the file cannot be read (use ProjectReader first to validate a project).
ProjectExtras readProjectExtras(const std::string &path);

// Reads what opening a project in the workbench reads (ProjectDocument::openFile): the file's
// metadata, the listing of its traces and the extras; and opens every object, dataset and
// attribute (ProjectReader::visitMetadata), which is what showing any trace reads, less its
// data. Throws InputError where that fails. The checks run before a project is opened for good
// (headlens-check, the engine's forked check) call this, so that a file whose metadata crashes
// libhdf5 crashes them, not the program.
void readProjectStructure(const std::string &path);

// One trace of a project written by writeProject: copied from a trace in a project file
// (dataset contents copied as stored, without decompressing), or, when file is empty, taken
// from load(), which is called once, right when the trace is written, so that only one trace
// at a time needs to be held in memory.
struct ProjectTraceSource {
    std::string name;            // its name in the new file
    std::string parent;          // its `parent` attribute ("" removes it)
    std::string file;            // a project file holding it...
    std::string fileTrace;       // ...under this name
    std::function<Trace()> load; // used when file is empty
    // When set, written as the trace's head roles (headrolesstore.h), replacing any it holds:
    // roles measured in the workbench since the project was opened.
    std::shared_ptr<const HeadRoles> headRoles;
};

// Writes a complete project to path: the traces in the given order, the extras, and, when
// keepFrom names a project, every other root group of it (comparisons and the like, with
// `left`/`right` following the traces renamed from keepFrom) and its `created` time. Atomic
// like addTrace: written beside path, flushed, fsync'ed and renamed over it; on failure path
// is untouched. InputError for a bad or duplicate trace name or an unreadable source;
// std::runtime_error when writing fails.
void writeProject(const std::string &path, const std::vector<ProjectTraceSource> &traces,
                  const ProjectExtras &extras, const std::string &keepFrom = {});

// [H, T] attention of one query position of one layer of a trace in the project at path: a
// hyperslab of attention/pattern, for a click on a large trace where a whole layer
// ([H, T, T], read by ProjectReader::readAttention) is tens of MB to read and decompress
// (about 0.1 s per 8 M values here). InputError when
// the trace or its attention is not there, or layer / query is out of range.
FloatArray readAttentionRow(const std::string &path, const std::string &trace, int layer,
                            int query);

// Versions of the libraries the project module is built on ("1.10.8", "3.11.2"), for About.
std::string hdf5LibraryVersion();
std::string jsonLibraryVersion();

} // namespace HeadLens
