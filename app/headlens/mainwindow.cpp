#include "mainwindow.h"

#include "appsettings.h"
#include "comparisondock.h"
#include "enginestatus.h"
#include "entropydock.h"
#include "inspectordock.h"
#include "messagebar.h"
#include "projectdock.h"
#include "projectfiles.h"
#include "settingsdialog.h"
#include "statusmessages.h"
#include "tracedialogs.h"
#include "traceview.h"
#include "workbenchactions.h"
#include "workbenchdocks.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/recoverymanager.h"
#include "headlens/document/viewstate.h"
#include "headlens/trace/version.h"
#include "headlens/ui/blockview.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QMimeData>
#include <QResizeEvent>
#include <QStatusBar>
#include <QTimer>
#include <QUndoGroup>
#include <QVBoxLayout>

#include <cstdlib>

namespace HeadLens {

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

bool isProjectFile(const QString &path)
{
    return path.endsWith(QStringLiteral(".hlproj"), Qt::CaseInsensitive);
}

QMessageBox::StandardButton defaultAsk(QWidget *parent, const QString &title, const QString &text,
                                       QMessageBox::StandardButtons buttons,
                                       QMessageBox::StandardButton fallback)
{
    return QMessageBox::question(parent, title, text, buttons, fallback);
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_engine(new EngineClient(this)),
      m_recovery(std::make_unique<RecoveryManager>()), m_undoGroup(new QUndoGroup(this)),
      m_ask(defaultAsk)
{
    setObjectName("MainWindow");
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks |
                   QMainWindow::AllowNestedDocks);
    setDocumentMode(true);

    // --- central: project tabs, messages, the view toolbar and the block view
    m_tabs = new ProjectTabs;
    connect(m_tabs, &ProjectTabs::currentDocumentChanged, this, &MainWindow::tabChanged);
    connect(m_tabs, &ProjectTabs::closeRequested, this, &MainWindow::closeProject);
    m_messageBar = new MessageBar;
    m_traceView = new TraceView(m_engine);
    connect(m_traceView, &TraceView::traceChosen, this,
            [this](ProjectDocument *doc, const QString &name) {
                setCurrentDocument(doc);
                setCurrentTrace(name);
                m_engineStatus->refresh();
            });
    connect(m_traceView, &TraceView::error, this, &MainWindow::showError);
    connect(m_traceView, &TraceView::status, this, &MainWindow::showStatus);

    auto *central = new QWidget;
    auto *centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    centralLayout->addWidget(m_tabs);
    centralLayout->addWidget(m_messageBar);
    centralLayout->addWidget(m_traceView, 1);
    setCentralWidget(central);

    m_status = new StatusMessages(statusBar());
    m_status->addPermanent(m_traceView->lensInfo());
    connect(m_traceView, &TraceView::selectionText, m_status, &StatusMessages::setSelectionText);

    m_files = new ProjectFiles(this, [this](const QString &title, const QString &text,
                                            QMessageBox::StandardButtons buttons,
                                            QMessageBox::StandardButton fallback) {
        return ask(title, text, buttons, fallback);
    });
    connect(m_files, &ProjectFiles::error, this, &MainWindow::showError);
    connect(m_files, &ProjectFiles::saved, this, [this](const QString &fileName) {
        m_messageBar->dismiss(); // an error of an earlier try is stale now
        showStatus(tr("Saved %1").arg(fileName), 4000);
        updateRecentMenu();
    });
    m_traceDialogs = new TraceDialogs(m_engine, this);
    connect(m_traceDialogs, &TraceDialogs::traceAdded, this, &MainWindow::traceAdded);
    connect(m_traceDialogs, &TraceDialogs::failed, this, &MainWindow::showError);
    createActions();
    m_engineStatus = new EngineStatus(m_engine, m_actions);
    m_status->addPermanent(m_engineStatus);
    createDocks();
    m_exports = new ViewExports(
        this, [this] { return m_docks->exportableViews(m_traceView->blockView()); },
        [this] { return currentTrace(); });
    connect(m_exports, &ViewExports::failed, this, &MainWindow::showError);
    connect(m_exports, &ViewExports::exported, this,
            [this](const QString &path) { showStatus(tr("Exported %1").arg(path), 5000); });
    m_actions->buildMenus(m_docks->toggleActions(), m_traceView->zoomActions());

    m_engine->setCommand(AppSettings::engineCommand());
    connect(m_engine, &EngineClient::engineStopped, this, &MainWindow::engineStopped);
    m_recovery->setInterval(AppSettings::autosaveMinutes());

    retranslateUi();
    resize(1500, 950);
    m_docks->keepAsDefault();
    m_fitDocksToWindow = !m_docks->restoreLayout();
    updateActions();
    updateRecentMenu();
    m_engineStatus->refresh();
}

MainWindow::~MainWindow()
{
    // Documents go before the recovery manager, which then removes their copies.
    m_tabs->blockSignals(true); // the window is going: no current-project changes on the way
    for (ProjectDocument *doc : m_tabs->documents())
        delete doc;
}

// ------------------------------------------------------------------------------ actions

void MainWindow::createActions()
{
    m_actions = new WorkbenchActions(this, m_undoGroup);
    const WorkbenchActions *a = m_actions;
    auto on = [this](QAction *action, auto slot) {
        connect(action, &QAction::triggered, this, slot);
    };
    on(a->newProject, [this] { newProject(); });
    on(a->open, &MainWindow::open);
    on(a->save, &MainWindow::save);
    on(a->saveAs, &MainWindow::saveAs);
    on(a->close, &MainWindow::closeCurrent);
    on(a->quit, [this] { close(); });
    on(a->settings, &MainWindow::showSettings);
    on(a->newTrace, &MainWindow::newTrace);
    on(a->renameTrace, [this] { m_docks->project->renameCurrent(); });
    on(a->deleteTrace, [this] { m_docks->project->deleteCurrent(); });
    on(a->compareParent, &MainWindow::compareWithParent);
    on(a->patch, [this] { showPatchDialog(); });
    on(a->restartEngine, [this] { m_engineStatus->restart(); });
    on(a->stopEngine, [this] { m_engine->stop(); });
    on(a->exportSvg, [this] { m_exports->exportInteractively(ExportFormat::Svg); });
    on(a->exportPng, [this] { m_exports->exportInteractively(ExportFormat::Png); });
    on(a->exportCsv, [this] { m_exports->exportInteractively(ExportFormat::Csv); });
    on(a->resetLayout, [this] { m_docks->resetLayout(); });
    on(a->clearRecent, [this] {
        AppSettings::clearRecentFiles();
        updateRecentMenu();
    });
    on(a->about, &MainWindow::showAbout);
    on(a->aboutQt, [] { QApplication::aboutQt(); });
    connect(m_actions, &WorkbenchActions::recentChosen, this,
            [this](const QString &file) { openProject(file); });
}

void MainWindow::createDocks()
{
    m_docks = new WorkbenchDocks(this, m_engine);
    connect(m_docks, &WorkbenchDocks::error, this, &MainWindow::showError);
    connect(m_docks, &WorkbenchDocks::status, this, &MainWindow::showStatus);
    connect(m_docks->project, &ProjectDock::currentTraceChanged, this,
            &MainWindow::setCurrentTrace);
    connect(m_docks->project, &ProjectDock::newTraceRequested, this, &MainWindow::newTrace);
    connect(m_docks->entropy, &EntropyDock::blocksChosen, m_traceView, &TraceView::showBlocks);
    connect(m_docks->comparison, &ComparisonDock::blockSelected, this,
            [this](ProjectDocument *doc, const QString &trace, int layer, int pos) {
                if (doc != currentDocument() || trace != currentTrace()) return;
                selectBlock(layer, pos);
            });
}

void MainWindow::retranslateUi()
{
    m_actions->retranslate();
    m_tabs->retranslate();
    m_engineStatus->retranslate();
    updateRecentMenu();
    updateTitle();
}

void MainWindow::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QMainWindow::changeEvent(event);
}

void MainWindow::updateActions()
{
    ProjectDocument *doc = currentDocument();
    const bool haveTrace = doc && !currentTrace().isEmpty();
    const WorkbenchActions *a = m_actions;
    for (QAction *action : {a->save, a->saveAs, a->close})
        action->setEnabled(doc);
    for (QAction *action :
         {a->renameTrace, a->deleteTrace, a->patch, a->exportSvg, a->exportPng, a->exportCsv})
        action->setEnabled(haveTrace);
    a->compareParent->setEnabled(!parentOfCurrent().isEmpty());
    a->stopEngine->setEnabled(m_engine->isRunning());
}

void MainWindow::updateTitle()
{
    ProjectDocument *doc = currentDocument();
    if (!doc) {
        setWindowTitle(tr("HeadLens"));
        setWindowModified(false);
        return;
    }
    setWindowTitle(tr("%1[*] — HeadLens").arg(m_tabs->projectName(doc)));
    setWindowModified(doc->isModified());
}

void MainWindow::updateRecentMenu()
{
    m_actions->setRecentFiles(AppSettings::recentFiles());
}

// ----------------------------------------------------------------------------- projects

QList<ProjectDocument *> MainWindow::documents() const
{
    return m_tabs->documents();
}

ProjectDocument *MainWindow::currentDocument() const
{
    return m_tabs->currentDocument();
}

void MainWindow::setCurrentDocument(ProjectDocument *document)
{
    m_tabs->setCurrentDocument(document);
}

ProjectDocument *MainWindow::newProject()
{
    auto *doc = new ProjectDocument(this);
    addProject(doc);
    return doc;
}

ProjectDocument *MainWindow::openProject(const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    for (ProjectDocument *open : m_tabs->documents())
        if (open->fileName() == absolute) {
            setCurrentDocument(open);
            return open;
        }
    ProjectDocument *doc = m_files->open(absolute);
    if (!doc) return nullptr;
    addProject(doc);
    updateRecentMenu();
    m_messageBar->dismiss();
    return doc;
}

void MainWindow::addProject(ProjectDocument *document)
{
    document->setParent(this);
    m_undoGroup->addStack(document->undoStack());
    connect(document, &ProjectDocument::changed, this,
            [this, document](const ChangeEvent &e) { documentChanged(document, e); });
    m_recovery->addDocument(document);
    m_tabs->add(document);
    m_docks->comparison->setDocuments(documents());
}

bool MainWindow::closeProject(ProjectDocument *document)
{
    if (m_tabs->indexOf(document) < 0) return true;
    if (!maybeSave(document)) return false;
    removeProject(document);
    return true;
}

void MainWindow::removeProject(ProjectDocument *doc)
{
    m_traceDialogs->projectClosing(doc);
    m_recovery->removeDocument(doc);
    m_undoGroup->removeStack(doc->undoStack());
    doc->disconnect(this);
    m_tabs->remove(doc);
    m_docks->comparison->setDocuments(documents());
    doc->deleteLater();
    tabChanged(m_tabs->currentDocument());
}

bool MainWindow::maybeSave(ProjectDocument *document)
{
    return m_files->maybeSave(document, m_tabs->projectName(document));
}

bool MainWindow::saveProject(ProjectDocument *document)
{
    return m_files->save(document);
}

bool MainWindow::saveProjectAs(ProjectDocument *document, const QString &path)
{
    return m_files->saveAs(document, path);
}

void MainWindow::open()
{
    for (const QString &f : m_files->chooseToOpen())
        openProject(f);
}

void MainWindow::save()
{
    saveProject(currentDocument());
}

void MainWindow::saveAs()
{
    saveProjectAs(currentDocument());
}

void MainWindow::closeCurrent()
{
    if (ProjectDocument *doc = currentDocument()) closeProject(doc);
}

void MainWindow::tabChanged(ProjectDocument *doc)
{
    m_undoGroup->setActiveStack(doc ? doc->undoStack() : nullptr);
    if (m_shownView) m_shownView->disconnect(this);
    m_shownView = doc ? doc->view() : nullptr;
    if (m_shownView)
        connect(m_shownView, &ViewState::changed, this, [this](ViewState::Aspects what) {
            if (what & ViewState::TraceAspect) traceShown();
        });
    m_docks->project->setDocument(doc);
    m_traceView->setDocument(doc);
    for (DocumentDock *dock : m_docks->documentDocks())
        dock->setDocument(doc);
    traceShown();
    updateTitle();
    Q_EMIT currentDocumentChanged(doc);
}

void MainWindow::traceShown()
{
    const QString trace = currentTrace();
    m_docks->project->setCurrentTrace(trace);
    updateActions();
    Q_EMIT currentTraceChanged(trace);
}

void MainWindow::documentChanged(ProjectDocument *document, const ChangeEvent &event)
{
    if (m_tabs->indexOf(document) < 0) return;
    switch (event.type) {
    case ChangeEvent::Type::ModifiedChanged:
    case ChangeEvent::Type::FileNameChanged:
    case ChangeEvent::Type::Saved:
        m_tabs->updateText(document);
        if (document == currentDocument()) updateTitle();
        break;
    default:
        break;
    }
    updateActions();
}

// ------------------------------------------------------------------------- showing data

QString MainWindow::currentTrace() const
{
    const ProjectDocument *doc = currentDocument();
    return doc ? doc->view()->trace() : QString();
}

void MainWindow::setCurrentTrace(const QString &name)
{
    if (ProjectDocument *doc = currentDocument()) doc->view()->setTrace(name);
}

Site MainWindow::currentSite() const
{
    const ProjectDocument *doc = currentDocument();
    return doc ? doc->view()->site() : Site::ResidPost;
}

void MainWindow::setSite(Site site)
{
    if (ProjectDocument *doc = currentDocument()) doc->view()->setSite(site);
}

QString MainWindow::parentOfCurrent() const
{
    ProjectDocument *doc = currentDocument();
    const QString trace = currentTrace();
    if (!doc || trace.isEmpty()) return {};
    const QString parent = q(doc->listing(trace).parent);
    return doc->hasTrace(parent) ? parent : QString();
}

void MainWindow::compareWithParent()
{
    const QString parent = parentOfCurrent();
    if (parent.isEmpty()) return;
    m_docks->comparison->compare(currentDocument(), parent, currentDocument(), currentTrace());
    m_docks->comparison->show();
    m_docks->comparison->raise();
}

void MainWindow::selectBlock(int layer, int pos)
{
    m_traceView->selectBlock(layer, pos);
}

void MainWindow::decomposeSelection()
{
    m_docks->inspector->decomposeSelection();
}

void MainWindow::refreshEntropy()
{
    m_docks->entropy->fillNow();
}

// ------------------------------------------------------------------------------ engine

NewTraceDialog *MainWindow::showNewTraceDialog()
{
    ProjectDocument *doc = currentDocument();
    if (!doc && !m_traceDialogs->traceRunning()) doc = newProject(); // (a running one is raised)
    return m_traceDialogs->showNewTrace(doc);
}

PatchDialog *MainWindow::showPatchDialog()
{
    ProjectDocument *doc = currentDocument();
    if (!doc || currentTrace().isEmpty()) return nullptr;
    return m_traceDialogs->showPatch(doc, currentTrace());
}

void MainWindow::traceAdded(ProjectDocument *document, const QString &name, bool patching)
{
    setCurrentDocument(document);
    setCurrentTrace(name);
    if (patching) document->view()->setColour(ViewState::Colour::Patching);
    m_engineStatus->refresh();
    m_messageBar->dismiss();
    showStatus(patching ? tr("Added trace %1 with its patching map").arg(name)
                        : tr("Added trace %1").arg(name),
               5000);
}

void MainWindow::newTrace()
{
    showNewTraceDialog();
}

void MainWindow::applyEngineCommand(const QString &command)
{
    m_engine->setCommand(command);
}

void MainWindow::engineStopped(const QString &message, bool unexpected)
{
    m_engineStatus->refresh();
    updateActions();
    if (unexpected)
        m_messageBar->showMessage(MessageBar::Level::Error, message, {m_actions->restartEngine});
    else
        showStatus(message, 4000);
}

void MainWindow::showSettings()
{
    SettingsDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted) return;
    m_engine->setCommand(AppSettings::engineCommand());
    m_recovery->setInterval(AppSettings::autosaveMinutes());
}

// ------------------------------------------------------------------------------ messages

void MainWindow::showError(const QString &text)
{
    m_messageBar->showMessage(MessageBar::Level::Error, text);
}

void MainWindow::showStatus(const QString &text, int timeoutMs)
{
    m_status->showMessage(text, timeoutMs);
}

QMessageBox::StandardButton MainWindow::ask(const QString &title, const QString &text,
                                            QMessageBox::StandardButtons buttons,
                                            QMessageBox::StandardButton fallback)
{
    return m_ask(this, title, text, buttons, fallback);
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About HeadLens"),
        tr("<h3>HeadLens %1</h3>"
           "<p>A workbench for looking inside transformer language models: the logit lens at "
           "every layer and site, attention, and what each head contributes.</p>"
           "<p>Built on:</p><ul>"
           "<li>Qt %2 (widgets, charts, SVG)</li>"
           "<li>libtorch, in the engine process headlens-cli (the workbench does not load it)</li>"
           "<li>HDF5 %3 for .hlproj projects</li>"
           "<li>nlohmann/json %4</li></ul>")
            .arg(QStringLiteral(HEADLENS_VERSION), QString::fromLatin1(qVersion()),
                 q(hdf5LibraryVersion()), q(jsonLibraryVersion())));
}

void MainWindow::offerRecovery()
{
    RecoveryManager::removeLeftovers();
    for (ProjectDocument *doc : m_files->offerRecovery())
        addProject(doc);
}

// ------------------------------------------------------------------- closing, drag & drop

void MainWindow::resizeEvent(QResizeEvent *event)
{
    QMainWindow::resizeEvent(event);
    // With the default layout (none was saved), size the docks to the window as it is first
    // placed on the screen: the block grid gets most of the height, so a laptop shows several
    // layer rows, and the side docks a share of the width. Later resizes keep the user's sizes.
    if (!m_fitDocksToWindow || !isVisible()) return;
    if (std::abs(height() - m_fittedHeight) < 50 && std::abs(width() - m_fittedWidth) < 50) return;
    if (m_fittedWidth == 0) // the first placement: the window manager may resize it once more
        QTimer::singleShot(2000, this, [this] { m_fitDocksToWindow = false; });
    m_fittedHeight = height();
    m_fittedWidth = width();
    m_docks->fitToWindow(size());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_traceDialogs->traceRunning()) {
        const auto answer =
            ask(tr("A trace is running"), tr("A trace is still being made. Stop it and quit?"),
                QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        m_traceDialogs->cancelTrace();
    }
    for (ProjectDocument *doc : m_tabs->documents()) {
        setCurrentDocument(doc);
        if (!maybeSave(doc)) {
            event->ignore();
            return;
        }
    }
    m_docks->saveLayout();
    m_engine->stop(1500);
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    for (const QUrl &url : event->mimeData()->urls())
        if (url.isLocalFile() && isProjectFile(url.toLocalFile())) {
            event->acceptProposedAction();
            return;
        }
}

void MainWindow::dropEvent(QDropEvent *event)
{
    bool any = false;
    for (const QUrl &url : event->mimeData()->urls())
        if (url.isLocalFile() && isProjectFile(url.toLocalFile())) {
            openProject(url.toLocalFile());
            any = true;
        }
    if (any) event->acceptProposedAction();
}

} // namespace HeadLens
