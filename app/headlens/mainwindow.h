#pragma once
// The workbench window: several projects open at once (a tab per project), the block view of
// the current trace in the centre with its toolbar, docks for the project tree, inspector,
// head contributions, entropy and comparison, the File/Edit/View/Trace/Export/Help menus,
// the engine process, autosave and crash recovery. It connects the document layer to the
// views of modules/ui; the views never see a document.

#include "headlens/document/tracejob.h"
#include "headlens/trace/trace.h"

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>

#include <functional>
#include <memory>
#include <vector>

class QActionGroup;
class QCheckBox;
class QComboBox;
class QLabel;
class QMenu;
class QSlider;
class QTabBar;
class QToolBar;
class QUndoGroup;

namespace HeadLens {

class BlockView;
class ComparisonDock;
class EngineClient;
class EntropyPanel;
class HeadContributionPanel;
class HeadSimilarityPanel;
class InspectorPanel;
class LensSelector;
class MessageBar;
class NewTraceDialog;
class ProjectDock;
class ProjectDocument;
class RecoveryManager;
struct ChangeEvent;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    enum class ExportFormat { Svg, Png, Csv };

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
    void refreshEntropy() { updateEntropy(true); }
    // Selects a block as a click in the block view does (inspector, head panel, attention).
    void selectBlock(int layer, int pos);
    // Iterative decoding of the selected block in the engine (the inspector's Decompose).
    void decomposeSelection();

    // --- parts, for tests and the screenshot mode
    BlockView *blockView() const { return m_blockView; }
    InspectorPanel *inspector() const { return m_inspector; }
    HeadContributionPanel *headPanel() const { return m_headPanel; }
    HeadSimilarityPanel *similarityPanel() const { return m_similarityPanel; }
    EntropyPanel *entropyPanel() const { return m_entropyPanel; }
    ComparisonDock *comparisonDock() const { return m_comparisonDock; }
    ProjectDock *projectDock() const { return m_projectDock; }
    MessageBar *messageBar() const { return m_messageBar; }
    EngineClient *engine() const { return m_engine; }
    RecoveryManager *recovery() const { return m_recovery.get(); }
    QTabBar *tabBar() const { return m_tabs; }
    QComboBox *siteBox() const { return m_siteBox; }
    QComboBox *headBox() const { return m_headBox; }
    QComboBox *colourBox() const { return m_colourBox; }
    QSlider *thresholdSlider() const { return m_threshold; }
    LensSelector *lensSelector() const { return m_lensSelector; }
    // The views the Export menu offers, by name.
    QList<QPair<QString, QWidget *>> exportableViews() const;

    // Writes a view as SVG/PNG (of size) or CSV. False with *error set on failure.
    bool exportView(QWidget *view, ExportFormat format, const QString &path, const QSize &size,
                    QString *error = nullptr);

    // --- window layout (dock positions, toolbars, geometry) in QSettings
    void saveLayout() const;
    bool restoreLayout();
    void resetLayout();

    // --- the engine and new traces
    NewTraceDialog *showNewTraceDialog();
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
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    struct Project {
        ProjectDocument *document = nullptr;
        QString trace;
        int layer = -1;
        int pos = -1;
        int untitled = 0; // "Untitled N" while the project has no file
    };

    void createActions();
    void createMenus();
    void createToolBars();
    void createDocks();
    void createSimilarityDock();
    void updateActions();
    void updateTitle();
    void updateRecentMenu();
    void updateEngineStatus();
    void updateTabText(int index);

    int indexOf(ProjectDocument *document) const;
    Project *current();
    const Project *current() const;
    void addProject(ProjectDocument *document);
    void removeProject(int index);
    void documentChanged(ProjectDocument *document, const ChangeEvent &event);
    void tabChanged(int index);

    // The current trace and settings into the views.
    void showCurrent();
    void showLens();
    void showAttention();
    void scheduleEntropy();
    void updateEntropy(bool force);
    void clearViews();
    void applyViewSettings();
    void viewSettingChanged(const QString &key, const QJsonValue &value);
    void blockClicked(int layer, int pos);
    // The current project's traces into the head-similarity panel (it reads them lazily).
    void updateSimilarity();

    void open();
    void openRecent();
    void save();
    void saveAs();
    void closeCurrent();
    void newTrace();
    void exportCurrent(ExportFormat format);
    void showSettings();
    void showAbout();
    void engineStopped(const QString &message, bool unexpected);
    // Decompose / propagate / inject from the inspector, in the engine.
    TraceSpec specFor(const Trace &trace) const;
    void withModel(const TraceSpec &spec, const std::function<void()> &then);
    void decompose(Site site, int layer, int pos);
    void propagateFrom(Site site, int layer, int pos, int kind, int subtractCount,
                       const QString &injectText, int generate);
    void updateEngineActions();
    void restartEngine();
    void showError(const QString &text);
    void showInfo(const QString &text);
    QMessageBox::StandardButton ask(const QString &title, const QString &text,
                                    QMessageBox::StandardButtons buttons,
                                    QMessageBox::StandardButton fallback);
    bool maybeSave(ProjectDocument *document);

    std::vector<Project> m_projects; // in tab order
    EngineClient *m_engine;
    std::unique_ptr<RecoveryManager> m_recovery;
    QUndoGroup *m_undoGroup;
    AskFunction m_ask;
    QPointer<NewTraceDialog> m_newTraceDialog;
    QPointer<TraceJob> m_propagateJob;
    bool m_engineBusy = false;
    bool m_entropyDirty = false; // a decompose or propagate of the inspector runs
    int m_untitledCount = 0;
    bool m_showing = false; // guards view-setting feedback while filling the toolbar
    QByteArray m_defaultState;

    // central
    QTabBar *m_tabs;
    MessageBar *m_messageBar;
    QToolBar *m_viewBar;
    BlockView *m_blockView;
    QLabel *m_siteLabel, *m_colourLabel, *m_headLabel, *m_thresholdLabel, *m_thresholdValue,
        *m_lensInfo;
    QComboBox *m_siteBox;
    QComboBox *m_colourBox;
    QComboBox *m_headBox;
    QSlider *m_threshold;
    LensSelector *m_lensSelector;

    // docks
    ProjectDock *m_projectDock;
    QDockWidget *m_inspectorDock;
    QDockWidget *m_headDock;
    QDockWidget *m_entropyDock;
    ComparisonDock *m_comparisonDock;
    InspectorPanel *m_inspector;
    HeadContributionPanel *m_headPanel;
    QDockWidget *m_similarityDock;
    HeadSimilarityPanel *m_similarityPanel;
    EntropyPanel *m_entropyPanel;
    QCheckBox *m_entropyAll;

    // status bar
    QLabel *m_selectionStatus;
    QLabel *m_engineStatus;

    // menus and actions
    QMenu *m_fileMenu, *m_recentMenu, *m_editMenu, *m_viewMenu, *m_traceMenu, *m_exportMenu,
        *m_helpMenu;
    QToolBar *m_mainBar;
    QAction *m_newAction, *m_openAction, *m_saveAction, *m_saveAsAction, *m_closeAction,
        *m_quitAction, *m_undoAction, *m_redoAction, *m_settingsAction, *m_newTraceAction,
        *m_renameTraceAction, *m_deleteTraceAction, *m_restartEngineAction, *m_stopEngineAction,
        *m_exportSvgAction, *m_exportPngAction, *m_exportCsvAction, *m_aboutAction,
        *m_aboutQtAction, *m_zoomInAction, *m_zoomOutAction, *m_zoomFitAction, *m_zoomResetAction,
        *m_resetLayoutAction, *m_clearRecentAction;
};

} // namespace HeadLens
