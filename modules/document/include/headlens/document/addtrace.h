#pragma once
// Undo command: a trace enters the document's list (made by the engine, imported, or pasted).

#include <QCoreApplication>
#include <QUndoCommand>

#include <memory>

namespace HeadLens {

class ProjectDocument;
struct TraceEntry;

// Inserts a trace at an index; undo takes it out again (its data stays with the command).
class AddTrace : public QUndoCommand {
    Q_DECLARE_TR_FUNCTIONS(AddTrace)
public:
    AddTrace(ProjectDocument *document, int index, std::shared_ptr<TraceEntry> entry,
             QUndoCommand *parent = nullptr);
    void redo() override;
    void undo() override;

private:
    ProjectDocument *m_document;
    int m_index;
    std::shared_ptr<TraceEntry> m_entry;
};

} // namespace HeadLens
