#include "projectdock.h"

#include "tracetreemodel.h"

#include "headlens/document/projectdocument.h"

#include <QAction>
#include <QEvent>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>

namespace HeadLens {

ProjectDock::ProjectDock(QWidget *parent)
    : QDockWidget(parent), m_model(new TraceTreeModel(this)), m_tree(new QTreeView),
      m_toolBar(new QToolBar), m_newTrace(new QAction(this)), m_rename(new QAction(this)),
      m_delete(new QAction(this)), m_notesLabel(new QLabel), m_notes(new QPlainTextEdit),
      m_empty(new QLabel)
{
    setObjectName("ProjectDock");
    m_tree->setObjectName("TraceTree");
    m_tree->setModel(m_model);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setEditTriggers(QAbstractItemView::EditKeyPressed | QAbstractItemView::DoubleClicked);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(TraceTreeModel::Prompt, QHeaderView::Stretch);
    m_tree->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_tree->addAction(m_rename);
    m_tree->addAction(m_delete);

    m_rename->setShortcut(Qt::Key_F2);
    m_rename->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_delete->setShortcut(QKeySequence::Delete);
    m_delete->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_newTrace, &QAction::triggered, this, &ProjectDock::newTraceRequested);
    connect(m_rename, &QAction::triggered, this, &ProjectDock::renameCurrent);
    connect(m_delete, &QAction::triggered, this, &ProjectDock::deleteCurrent);
    m_toolBar->setIconSize(QSize(16, 16));
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_toolBar->addAction(m_newTrace);
    m_toolBar->addAction(m_rename);
    m_toolBar->addAction(m_delete);

    m_notes->setObjectName("NotesEdit");
    m_notes->setTabChangesFocus(true);
    connect(m_notes, &QPlainTextEdit::textChanged, this, [this] {
        if (m_updatingNotes || !m_document) return;
        m_document->setNotes(m_notes->toPlainText());
    });

    connect(m_model, &TraceTreeModel::renameFailed, this, &ProjectDock::message);
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        m_tree->expandAll();
        for (int c = 0; c < TraceTreeModel::ColumnCount; ++c)
            if (c != TraceTreeModel::Prompt) m_tree->resizeColumnToContents(c);
        if (!m_current.isEmpty() && m_model->indexOf(m_current).isValid())
            setCurrentTrace(m_current);
        updateActions();
    });
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) {
                const QString name = m_model->traceAt(current);
                if (name.isEmpty() || name == m_current) return;
                m_current = name;
                updateActions();
                Q_EMIT currentTraceChanged(name);
            });

    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setObjectName("ProjectDockHint");

    auto *top = new QWidget;
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->setSpacing(0);
    topLayout->addWidget(m_toolBar);
    topLayout->addWidget(m_tree, 1);
    topLayout->addWidget(m_empty);
    auto *bottom = new QWidget;
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(4, 4, 4, 4);
    bottomLayout->addWidget(m_notesLabel);
    bottomLayout->addWidget(m_notes, 1);
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({500, 160});
    split->setChildrenCollapsible(false);
    setWidget(split);
    retranslateUi();
    updateActions();
}

void ProjectDock::retranslateUi()
{
    setWindowTitle(tr("Project"));
    // Short beside Rename and Delete, so that all three fit a laptop's dock (the main tool bar
    // and the Trace menu say "New Trace…").
    m_newTrace->setText(tr("New…"));
    m_newTrace->setToolTip(tr("New trace: trace a prompt through a model into this project"));
    m_rename->setText(tr("Rename"));
    m_rename->setToolTip(tr("Rename the selected trace (F2)"));
    m_delete->setText(tr("Delete"));
    m_delete->setToolTip(tr("Delete the selected trace from the project (Del; can be undone)"));
    m_tree->setToolTip(tr("The traces of the project. Traces made by propagate or inject appear "
                          "under the trace they came from."));
    m_notesLabel->setText(tr("Notes"));
    m_notes->setToolTip(tr("Notes about this project, saved in the project file"));
    m_notes->setPlaceholderText(tr("Write down what you found…"));
    m_empty->setText(tr("No project is open. Use File ▸ New or File ▸ Open, or drop a .hlproj "
                        "file here."));
}

void ProjectDock::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QDockWidget::changeEvent(event);
}

void ProjectDock::setDocument(ProjectDocument *document)
{
    if (m_document) m_document->disconnect(this);
    m_document = document;
    m_current.clear();
    if (m_document)
        connect(m_document, &ProjectDocument::changed, this, &ProjectDock::documentChanged);
    m_model->setDocument(document);
    updateNotes();
    updateActions();
}

void ProjectDock::documentChanged(const ChangeEvent &event)
{
    if (event.type == ChangeEvent::Type::NotesChanged) updateNotes();
    if (event.type == ChangeEvent::Type::TraceRenamed && event.oldName == m_current)
        m_current = event.trace;
}

void ProjectDock::updateNotes()
{
    const QString text = m_document ? m_document->notes() : QString();
    if (text == m_notes->toPlainText()) return;
    m_updatingNotes = true;
    m_notes->setPlainText(text);
    m_notes->moveCursor(QTextCursor::End);
    m_updatingNotes = false;
}

void ProjectDock::updateActions()
{
    const bool haveDoc = m_document;
    const bool haveTrace = haveDoc && !m_current.isEmpty() && m_document->hasTrace(m_current);
    m_newTrace->setEnabled(haveDoc);
    m_rename->setEnabled(haveTrace);
    m_delete->setEnabled(haveTrace);
    m_notes->setEnabled(haveDoc);
    m_tree->setVisible(haveDoc);
    m_empty->setVisible(!haveDoc);
}

QString ProjectDock::currentTrace() const
{
    return m_current;
}

void ProjectDock::setCurrentTrace(const QString &name)
{
    const QModelIndex index = m_model->indexOf(name);
    m_current = index.isValid() ? name : QString();
    QSignalBlocker block(m_tree->selectionModel());
    if (index.isValid())
        m_tree->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                             QItemSelectionModel::Rows);
    else
        m_tree->selectionModel()->clear();
    m_tree->viewport()->update();
    updateActions();
}

void ProjectDock::renameCurrent()
{
    const QModelIndex index = m_model->indexOf(m_current);
    if (!index.isValid()) return;
    m_tree->setCurrentIndex(index);
    m_tree->edit(index);
}

void ProjectDock::deleteCurrent()
{
    if (m_document && !m_current.isEmpty()) m_document->removeTrace(m_current);
}

} // namespace HeadLens
