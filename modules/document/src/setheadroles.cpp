#include "headlens/document/setheadroles.h"

#include "headlens/document/projectdocument.h"
#include "traceentry.h"

namespace HeadLens {

SetHeadRoles::SetHeadRoles(ProjectDocument *document,
                           std::vector<std::shared_ptr<TraceEntry>> entries,
                           std::shared_ptr<const HeadRoles> roles, QUndoCommand *parent)
    : QUndoCommand(parent), m_document(document), m_entries(std::move(entries)),
      m_roles(std::move(roles))
{
    for (const auto &e : m_entries)
        m_before.push_back(e->roles);
    setText(tr("Measure head roles"));
}

void SetHeadRoles::redo()
{
    for (const auto &e : m_entries)
        m_document->applyHeadRoles(e, m_roles);
}

void SetHeadRoles::undo()
{
    for (size_t i = 0; i < m_entries.size(); ++i)
        m_document->applyHeadRoles(m_entries[i], m_before[i]);
}

} // namespace HeadLens
