#include "headlens/document/renametrace.h"

#include "headlens/document/projectdocument.h"
#include "traceentry.h"

namespace HeadLens {

RenameTrace::RenameTrace(ProjectDocument *document, std::shared_ptr<TraceEntry> entry,
                         std::string to, QUndoCommand *parent)
    : QUndoCommand(parent), m_document(document), m_entry(std::move(entry)),
      m_from(m_entry->listing.name), m_to(std::move(to))
{
    setText(tr("Rename trace %1 to %2")
                .arg(QString::fromStdString(m_from), QString::fromStdString(m_to)));
}

void RenameTrace::redo()
{
    m_children.clear();
    for (const QString &name : m_document->traceNames()) {
        auto e = m_document->entry(name);
        if (e->listing.parent == m_from) m_children.push_back(e);
    }
    for (const auto &child : m_children)
        child->listing.parent = m_to;
    m_document->renameEntry(m_entry, m_to);
}

void RenameTrace::undo()
{
    for (const auto &child : m_children)
        child->listing.parent = m_from;
    m_document->renameEntry(m_entry, m_from);
}

} // namespace HeadLens
