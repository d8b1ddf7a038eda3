#pragma once
// Undo command: head roles measured in the workbench are kept with traces of the model they
// belong to (saved with them); undo gives each trace back what it had before.

#include "headlens/trace/headroles.h"

#include <QCoreApplication>
#include <QUndoCommand>

#include <memory>
#include <vector>

namespace HeadLens {

class ProjectDocument;
struct TraceEntry;

class SetHeadRoles : public QUndoCommand {
    Q_DECLARE_TR_FUNCTIONS(SetHeadRoles)
public:
    SetHeadRoles(ProjectDocument *document, std::vector<std::shared_ptr<TraceEntry>> entries,
                 std::shared_ptr<const HeadRoles> roles, QUndoCommand *parent = nullptr);
    void redo() override;
    void undo() override;

private:
    ProjectDocument *m_document;
    std::vector<std::shared_ptr<TraceEntry>> m_entries;
    std::shared_ptr<const HeadRoles> m_roles;
    std::vector<std::shared_ptr<const HeadRoles>> m_before; // per entry: what it held in memory
};

} // namespace HeadLens
