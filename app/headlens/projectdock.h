#pragma once
// The Project dock: the traces of the current project as a tree (propagated traces under
// their parents) with model, prompt, tokens and date; rename in place, delete, new trace; and
// the project's notes. Every edit goes through the document's undo stack.

#include "headlens/document/projectdocument.h"

#include <QDockWidget>
#include <QPointer>

class QAction;
class QLabel;
class QPlainTextEdit;
class QToolBar;
class QTreeView;

namespace HeadLens {

class ProjectDocument;
class TraceTreeModel;
struct ChangeEvent;

class ProjectDock : public QDockWidget {
    Q_OBJECT
public:
    explicit ProjectDock(QWidget *parent = nullptr);

    void setDocument(ProjectDocument *document);
    ProjectDocument *document() const { return m_document; }

    // The trace selected in the tree; setCurrentTrace emits nothing.
    QString currentTrace() const;
    void setCurrentTrace(const QString &name);

    QTreeView *treeView() const { return m_tree; }
    TraceTreeModel *model() const { return m_model; }
    QPlainTextEdit *notesEdit() const { return m_notes; }
    QAction *renameAction() const { return m_rename; }
    QAction *deleteAction() const { return m_delete; }

    // Starts editing the name of the current trace in place.
    void renameCurrent();
    // Deletes the current trace (undoable).
    void deleteCurrent();

public Q_SLOTS:
    void retranslateUi();

Q_SIGNALS:
    void currentTraceChanged(const QString &name);
    void newTraceRequested();
    // Something the user should read (a refused rename).
    void message(const QString &text);

protected:
    void changeEvent(QEvent *event) override;

private:
    void documentChanged(const ChangeEvent &event);
    void updateNotes();
    void updateActions();

    QPointer<ProjectDocument> m_document;
    TraceTreeModel *m_model;
    QTreeView *m_tree;
    QToolBar *m_toolBar;
    QAction *m_newTrace;
    QAction *m_rename;
    QAction *m_delete;
    QLabel *m_notesLabel;
    QPlainTextEdit *m_notes;
    QLabel *m_empty;
    bool m_updatingNotes = false;
    QString m_current;
};

} // namespace HeadLens
