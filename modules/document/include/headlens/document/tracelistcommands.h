#pragma once
// Undo commands that change the document's list of traces: one puts a trace in at an index,
// the other takes it out, and each undoes the other. The command keeps the trace's data while
// the trace is out of the list, so undo brings it back whole even after the document was
// saved without it.

#include <QCoreApplication>
#include <QUndoCommand>

#include <memory>

namespace HeadLens {

class ProjectDocument;
struct TraceEntry;

class TraceListCommand : public QUndoCommand {
protected:
    TraceListCommand(ProjectDocument *document, int index, std::shared_ptr<TraceEntry> entry,
                     QUndoCommand *parent);
    void putIn();
    void takeOut();

    ProjectDocument *const m_document;
    const int m_index;
    std::shared_ptr<TraceEntry> m_entry; // the trace while it is out of the list
};

// A trace enters the list (made by the engine, imported, or pasted).
class AddTrace : public TraceListCommand {
    Q_DECLARE_TR_FUNCTIONS(AddTrace)
public:
    AddTrace(ProjectDocument *document, int index, std::shared_ptr<TraceEntry> entry,
             QUndoCommand *parent = nullptr);
    void redo() override { putIn(); }
    void undo() override { takeOut(); }
};

// The trace at an index leaves the list.
class RemoveTrace : public TraceListCommand {
    Q_DECLARE_TR_FUNCTIONS(RemoveTrace)
public:
    RemoveTrace(ProjectDocument *document, int index, QUndoCommand *parent = nullptr);
    void redo() override { takeOut(); }
    void undo() override { putIn(); }
};

} // namespace HeadLens
