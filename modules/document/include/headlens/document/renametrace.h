#pragma once
// Undo command: a trace gets a new name; traces that name it as their parent follow.

#include <QCoreApplication>
#include <QUndoCommand>

#include <memory>
#include <string>
#include <vector>

namespace HeadLens {

class ProjectDocument;
struct TraceEntry;

// Renames one trace (the caller checked that the new name is valid and free) and the
// `parent` of its children; undo restores exactly the names it changed.
class RenameTrace : public QUndoCommand {
    Q_DECLARE_TR_FUNCTIONS(RenameTrace)
public:
    RenameTrace(ProjectDocument *document, std::shared_ptr<TraceEntry> entry, std::string to,
                QUndoCommand *parent = nullptr);
    void redo() override;
    void undo() override;

private:
    ProjectDocument *m_document;
    std::shared_ptr<TraceEntry> m_entry;
    std::string m_from;
    std::string m_to;
    std::vector<std::shared_ptr<TraceEntry>> m_children;
};

} // namespace HeadLens
