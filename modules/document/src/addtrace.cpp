#include "headlens/document/addtrace.h"

#include "headlens/document/projectdocument.h"
#include "traceentry.h"

namespace HeadLens {

AddTrace::AddTrace(ProjectDocument *document, int index, std::shared_ptr<TraceEntry> entry,
                   QUndoCommand *parent)
    : QUndoCommand(parent), m_document(document), m_index(index), m_entry(std::move(entry))
{
    setText(tr("Add trace %1").arg(QString::fromStdString(m_entry->listing.name)));
}

void AddTrace::redo()
{
    m_document->insertEntry(m_index, m_entry);
}

void AddTrace::undo()
{
    m_document->takeEntry(m_index);
}

} // namespace HeadLens
