#pragma once
// One open .hlproj project in the workbench (Tiled's Document): the list of traces, the notes
// and view settings, and the undo stack every edit goes through. Trace data stays in the file
// and is read on demand through ProjectReader (cached), so opening a project with a
// gigabyte trace costs only its table of contents. Traces added in this session live in
// memory or in a scratch project until the document is saved.
//
// Nothing here touches HDF5 or a model: files are read and written by HeadLens::Project.

#include "headlens/document/changeevent.h"
#include "headlens/project/project.h"
#include "headlens/trace/headroles.h"
#include "headlens/trace/patchmap.h"
#include "headlens/trace/trace.h"

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>

#include <list>
#include <map>
#include <memory>

class QTemporaryDir;
class QUndoStack;

namespace HeadLens {

struct TraceEntry;
struct SourceFile;
class AddTrace;
class RemoveTrace;
class RenameTrace;
class ChangeNotes;
class ChangeViewSettings;
class ViewState;

// An open project: traces, notes, view settings, undo stack, and its file.
class ProjectDocument : public QObject {
    Q_OBJECT
public:
    // A new, untitled, empty project.
    explicit ProjectDocument(QObject *parent = nullptr);
    ~ProjectDocument() override;

    // Opens a project file. Returns null and sets *error (a sentence naming the file and what
    // is wrong with it) when the file cannot be used.
    static ProjectDocument *open(const QString &path, QString *error, QObject *parent = nullptr);

    // --- file
    QString fileName() const { return m_fileName; } // absolute; empty while untitled
    // The file's name without folder, or "Untitled" for a new project.
    QString displayName() const;
    bool isModified() const;
    // Marks an unchanged document as modified (a project recovered after a crash: the user
    // must still save it) under fileName, which may be empty.
    void markRecovered(const QString &fileName);
    bool isRecovered() const { return m_recovered; }
    QUndoStack *undoStack() const { return m_undoStack; }
    // What the views show and the selection: not undoable, saved with the project.
    ViewState *view() const { return m_view; }

    // Writes the project to its file / to path (then the document's file), atomically. On
    // failure returns false with *error set and changes nothing.
    bool save(QString *error);
    bool saveAs(const QString &path, QString *error);
    // Writes a complete copy to path without changing the document (autosave, export).
    bool writeCopy(const QString &path, QString *error) const;

    // --- traces, in list order
    int traceCount() const;
    QStringList traceNames() const;
    bool hasTrace(const QString &name) const;
    int indexOf(const QString &name) const;
    // The table-of-contents line of a trace (current name and parent); throws std::out_of_range
    // for an unknown name.
    TraceListing listing(const QString &name) const;
    // A name not used by any trace: base, or base-2, base-3, ...
    QString uniqueTraceName(const QString &base) const;

    // --- trace data, read lazily and cached; InputError when the file cannot deliver it
    // Metadata, tokens, logits and the [L,H,T] head metrics (lens and large data not loaded).
    std::shared_ptr<const Trace> trace(const QString &name) const;
    // One site's lens [L,T,K]; empty when the trace does not store it.
    std::shared_ptr<const LensSite> lens(const QString &name, Site site) const;
    // The activation patching map kept with the trace (headlens-cli patch), or null when it has
    // none (or is held in memory only).
    std::shared_ptr<const PatchMap> patchMap(const QString &name) const;
    // Whether the trace stores attention patterns.
    bool hasAttention(const QString &name) const;
    // [H,T,T] attention of one layer, or null when the trace stores none.
    std::shared_ptr<const FloatArray> attention(const QString &name, int layer) const;
    // [H,T]: the attention of one query position of one layer, or null when the trace stores
    // none. Reads only that row from the file (fast on large traces).
    std::shared_ptr<const FloatArray> attentionRow(const QString &name, int layer, int pos) const;
    // Everything (lens of every site, large data): what saving writes.
    Trace fullTrace(const QString &name) const;
    // What each head of the trace's model selects: as measured in this session (setHeadRoles),
    // else as stored with the trace (headlens-cli heads MODEL PROJECT --roles); null when the
    // trace has none or they cannot be read.
    std::shared_ptr<const HeadRoles> headRoles(const QString &name) const;
    // Drops cached trace data (tests; memory pressure).
    void clearCache();

    // --- edits; each pushes one command on the undo stack
    // Adds a complete trace kept in memory. Its name is made unique; returns the name used.
    QString addTrace(Trace trace);
    // Adds trace `traceName` of the project file `path` (typically the engine's scratch file),
    // read lazily from there, as newName (or its own name), made unique. Returns the name used,
    // or an empty string with *error set when the file or trace cannot be used.
    QString importTrace(const QString &path, const QString &traceName, const QString &newName,
                        QString *error);
    // False with *error set when `from` is unknown or `to` is taken or invalid.
    bool renameTrace(const QString &from, const QString &to, QString *error = nullptr);
    bool removeTrace(const QString &name);
    // Keeps roles (measured in the workbench) with each of traces, in place of what they
    // stored: one undo step, saved with the traces. False with *error set when a trace is
    // unknown or its model has other layers or heads.
    bool setHeadRoles(const QStringList &traces, const HeadRoles &roles, QString *error = nullptr);

    QString notes() const { return m_notes; }
    void setNotes(const QString &notes);
    QJsonObject viewSettings() const { return m_viewSettings; }
    void setViewSettings(const QJsonObject &settings);
    // Sets one key of the view settings (consecutive changes of the same key merge into one
    // undo step, so dragging a slider is one step).
    void setViewSetting(const QString &key, const QJsonValue &value);

    // A folder for scratch files that lives as long as the document (the engine writes new
    // traces there before they are imported).
    QString scratchPath(const QString &fileName) const;

Q_SIGNALS:
    void changed(const HeadLens::ChangeEvent &event);

private:
    friend class TraceListCommand;
    friend class RenameTrace;
    friend class ChangeNotes;
    friend class ChangeViewSettings;
    friend class SetHeadRoles;

    bool openFile(const QString &path, QString *error);
    std::shared_ptr<TraceEntry> entry(const QString &name) const;
    std::vector<ProjectTraceSource> sources() const;
    ProjectExtras extras() const;
    bool writeTo(const QString &path, QString *error) const;
    void adoptSavedFile(const QString &path);

    // Raw state changes, for the undo commands only (they emit changed()).
    void insertEntry(int index, const std::shared_ptr<TraceEntry> &e);
    std::shared_ptr<TraceEntry> takeEntry(int index);
    void renameEntry(const std::shared_ptr<TraceEntry> &e, const std::string &to);
    void applyHeadRoles(const std::shared_ptr<TraceEntry> &e,
                        const std::shared_ptr<const HeadRoles> &roles);
    void applyNotes(const QString &notes);
    void applyViewSettings(const QJsonObject &settings);
    void emitModified();

    QUndoStack *m_undoStack;
    ViewState *m_view = nullptr;
    QString m_fileName;
    std::shared_ptr<SourceFile> m_source; // the file this document was opened from
    std::vector<std::shared_ptr<TraceEntry>> m_entries;
    QString m_notes;
    QJsonObject m_viewSettings;
    bool m_recovered = false;
    bool m_lastModified = false;
    int m_nextEntryId = 1;
    mutable std::unique_ptr<QTemporaryDir> m_scratch;

    // caches, keyed by the stable entry id (a rename keeps them)
    mutable std::map<int, std::shared_ptr<Trace>> m_traceCache;
    mutable std::map<std::pair<int, int>, std::shared_ptr<const LensSite>> m_lensCache;
    mutable std::map<int, std::shared_ptr<const PatchMap>> m_patchCache;  // by entry id
    mutable std::map<int, std::shared_ptr<const HeadRoles>> m_rolesCache; // by entry id
    struct CachedLayer {
        std::pair<int, int> key;
        std::shared_ptr<const FloatArray> data;
    };
    mutable std::list<CachedLayer> m_attentionCache; // most recently used first
    mutable size_t m_attentionBytes = 0;
};

} // namespace HeadLens
