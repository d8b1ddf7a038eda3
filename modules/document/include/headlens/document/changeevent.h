#pragma once
// What changed in a ProjectDocument: the one signal every view listens to (Tiled's
// ChangeEvent), instead of one ad-hoc signal per kind of edit.

#include <QMetaType>
#include <QString>

namespace HeadLens {

// One change of a document, sent after the document's state has changed.
struct ChangeEvent {
    enum class Type {
        TraceAdded,   // trace, index: where it now is in the list
        TraceRemoved, // trace, index: where it was
        TraceRenamed, // trace (new name), oldName
        NotesChanged,
        ViewSettingsChanged,
        FileNameChanged, // the document was saved under a new name, or renamed
        ModifiedChanged, // isModified() flipped (saved, or an edit after a save)
        Saved,           // written to its file; trace data now comes from that file
        ResultsChanged,  // trace: results kept with it changed (its head roles)
    };

    Type type = Type::ModifiedChanged;
    QString trace;
    QString oldName;
    int index = -1;

    ChangeEvent() = default;
    explicit ChangeEvent(Type t, QString traceName = {}, int i = -1, QString old = {})
        : type(t), trace(std::move(traceName)), oldName(std::move(old)), index(i)
    {
    }
};

} // namespace HeadLens

Q_DECLARE_METATYPE(HeadLens::ChangeEvent)
