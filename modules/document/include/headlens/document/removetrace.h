#pragma once
// Undo command: a trace leaves the document's list.

#include <QCoreApplication>
#include <QUndoCommand>

#include <memory>

namespace HeadLens {

class ProjectDocument;
struct TraceEntry;

// Removes the trace at an index; undo puts it back at the same place with its data, even
// after the document was saved without it.
class RemoveTrace : public QUndoCommand {
    Q_DECLARE_TR_FUNCTIONS(RemoveTrace)
public:
    RemoveTrace(ProjectDocument *document, int index, QUndoCommand *parent = nullptr);
    void redo() override;
    void undo() override;

private:
    ProjectDocument *m_document;
    int m_index;
    std::shared_ptr<TraceEntry> m_entry;
};

} // namespace HeadLens
