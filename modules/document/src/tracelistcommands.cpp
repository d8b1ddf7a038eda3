#include "headlens/document/tracelistcommands.h"

#include "headlens/document/projectdocument.h"
#include "traceentry.h"

namespace HeadLens {

TraceListCommand::TraceListCommand(ProjectDocument *document, int index,
                                   std::shared_ptr<TraceEntry> entry, QUndoCommand *parent)
    : QUndoCommand(parent), m_document(document), m_index(index), m_entry(std::move(entry))
{
}

void TraceListCommand::putIn()
{
    m_document->insertEntry(m_index, m_entry);
}

void TraceListCommand::takeOut()
{
    m_entry = m_document->takeEntry(m_index);
}

AddTrace::AddTrace(ProjectDocument *document, int index, std::shared_ptr<TraceEntry> entry,
                   QUndoCommand *parent)
    : TraceListCommand(document, index, std::move(entry), parent)
{
    setText(tr("Add trace %1").arg(QString::fromStdString(m_entry->listing.name)));
}

RemoveTrace::RemoveTrace(ProjectDocument *document, int index, QUndoCommand *parent)
    : TraceListCommand(document, index, nullptr, parent)
{
    setText(tr("Delete trace %1").arg(document->traceNames().value(index)));
}

} // namespace HeadLens
