#pragma once
// The workbench window: several projects open at once (a tab per project), the TraceView of the
// current project in the centre, the docks (project tree, inspector, head contributions, head
// similarity, entropy, comparison), the File/Edit/View/Trace/Export/Help menus, the engine
// process, autosave and crash recovery. What is shown and selected lives in each project's
// ViewState; the window only hands the current project to the centre and the docks. Its parts
// with a job of their own are beside it: ProjectTabs (the open projects), ProjectFiles (open,
// save, recovery), WorkbenchActions (menus), TraceDialogs (new traces), ViewExports (export)
// and EngineStatus (the engine's label and restart).

#include "projecttabs.h"
#include "viewexports.h"
#include "workbenchdocks.h"

#include "headlens/trace/trace.h"

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>

#include <functional>
#include <memory>
#include <vector>

class QTabBar;
class QUndoGroup;

namespace HeadLens {

class AttentionPatternDock;
class ComparisonDock;
class EngineClient;
class EngineStatus;
class EntropyDock;
class InspectorDock;
class MessageBar;
class NewTraceDialog;
class PatchDialog;
class TraceDialogs;
class ProjectDock;
class ProjectDocument;
class ProjectFiles;
class RecoveryManager;
class StatusMessages;
class TraceView;
class ViewState;
class WorkbenchActions;
struct ChangeEvent;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    using ExportFormat = ViewExports::Format;

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // --- projects
    // Opens a project (or switches to it when open). On failure shows why in the message bar
    // and returns null; the open projects stay as they are.
    ProjectDocument *openProject(const QString &path);
    ProjectDocument *newProject();
    // Closes a project, asking about unsaved changes; false when the user cancelled.
    bool closeProject(ProjectDocument *document);
    bool saveProject(ProjectDocument *document);
    bool saveProjectAs(ProjectDocument *document, const QString &path = QString());
    QList<ProjectDocument *> documents() const;
    ProjectDocument *currentDocument() const;
    void setCurrentDocument(ProjectDocument *document);

    // --- what is shown
    QString currentTrace() const;
    void setCurrentTrace(const QString &name);
    Site currentSite() const;
    void setSite(Site site);
    // The entropy panel as it would be when visible (it is filled lazily).
    void refreshEntropy();
    // Selects a block as a click in the block view does (inspector, head panel, attention).
    void selectBlock(int layer, int pos);
    // Iterative decoding of the selected block in the engine (the inspector's Decompose).
    void decomposeSelection();

    // --- parts, for tests and the screenshot mode: the block view and the view toolbar's
    // boxes are the trace view's, the panels their docks'.
    TraceView *traceView() const { return m_traceView; }
    InspectorDock *inspectorDock() const { return m_docks->inspector; }
    EntropyDock *entropyDock() const { return m_docks->entropy; }
    AttentionPatternDock *patternDock() const { return m_docks->pattern; }
    ComparisonDock *comparisonDock() const { return m_docks->comparison; }
    ProjectDock *projectDock() const { return m_docks->project; }
    MessageBar *messageBar() const { return m_messageBar; }
    EngineClient *engine() const { return m_engine; }
    RecoveryManager *recovery() const { return m_recovery.get(); }
    QTabBar *tabBar() const { return m_tabs; }
    // The views the Export menu offers, and their export as SVG, PNG or CSV.
    ViewExports *exports() const { return m_exports; }

    // The docks, and the window's layout (dock positions, toolbars, geometry) in QSettings.
    WorkbenchDocks *docks() const { return m_docks; }

    // --- the engine and new traces
    NewTraceDialog *showNewTraceDialog();
    // Activation patching with the current trace as the clean run (null without a trace).
    PatchDialog *showPatchDialog();
    void applyEngineCommand(const QString &command);

    // Asks about unrecovered projects of a crashed session and opens those the user wants.
    void offerRecovery();

    // How the window asks the user a question (replaceable in tests).
    using AskFunction = std::function<QMessageBox::StandardButton(
        QWidget *parent, const QString &title, const QString &text,
        QMessageBox::StandardButtons buttons, QMessageBox::StandardButton fallback)>;
    void setAskFunction(AskFunction ask) { m_ask = std::move(ask); }

public Q_SLOTS:
    void retranslateUi();

Q_SIGNALS:
    void currentDocumentChanged(HeadLens::ProjectDocument *document);
    void currentTraceChanged(const QString &name);

protected:
    void resizeEvent(QResizeEvent *event) override;
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void createActions();
    // The docks (WorkbenchDocks), wired to the window.
    void createDocks();
    void updateActions();
    void updateTitle();
    void updateRecentMenu();

    void addProject(ProjectDocument *document);
    void removeProject(ProjectDocument *document);
    void documentChanged(ProjectDocument *document, const ChangeEvent &event);
    void tabChanged(ProjectDocument *document);
    // The current project shows another trace (or none).
    void traceShown();
    // The parent of the shown trace when the project has it, else empty.
    QString parentOfCurrent() const;
    void compareWithParent();

    void open();
    void save();
    void saveAs();
    void closeCurrent();
    void newTrace();
    void traceAdded(ProjectDocument *document, const QString &name, bool patching);
    void showSettings();
    void showAbout();
    void engineStopped(const QString &message, bool unexpected);
    void showError(const QString &text);
    void showStatus(const QString &text, int timeoutMs);
    QMessageBox::StandardButton ask(const QString &title, const QString &text,
                                    QMessageBox::StandardButtons buttons,
                                    QMessageBox::StandardButton fallback);
    bool maybeSave(ProjectDocument *document);

    EngineClient *m_engine;
    std::unique_ptr<RecoveryManager> m_recovery;
    QUndoGroup *m_undoGroup;
    AskFunction m_ask;
    TraceDialogs *m_traceDialogs;
    bool m_fitDocksToWindow = false; // no saved layout: size the default docks to the window
    int m_fittedWidth = 0, m_fittedHeight = 0;
    QPointer<ViewState> m_shownView; // the current project's

    // central
    ProjectTabs *m_tabs; // the open projects, in tab order
    ViewExports *m_exports;
    MessageBar *m_messageBar;
    TraceView *m_traceView;

    WorkbenchDocks *m_docks = nullptr;

    // status bar
    StatusMessages *m_status;
    EngineStatus *m_engineStatus;

    WorkbenchActions *m_actions = nullptr;
    ProjectFiles *m_files = nullptr;
};

} // namespace HeadLens
