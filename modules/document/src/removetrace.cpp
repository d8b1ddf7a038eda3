#include "headlens/document/removetrace.h"

#include "headlens/document/projectdocument.h"
#include "traceentry.h"

namespace HeadLens {

RemoveTrace::RemoveTrace(ProjectDocument *document, int index, QUndoCommand *parent)
    : QUndoCommand(parent), m_document(document), m_index(index)
{
    setText(tr("Delete trace %1").arg(document->traceNames().value(index)));
}

void RemoveTrace::redo()
{
    m_entry = m_document->takeEntry(m_index);
}

void RemoveTrace::undo()
{
    m_document->insertEntry(m_index, m_entry);
}

} // namespace HeadLens
