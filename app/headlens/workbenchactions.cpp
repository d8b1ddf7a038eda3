#include "workbenchactions.h"

#include "widgettexts.h"

#include <QAction>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenuBar>
#include <QStyle>
#include <QToolBar>
#include <QUndoGroup>

namespace HeadLens {

WorkbenchActions::WorkbenchActions(QMainWindow *window, QUndoGroup *undoGroup)
    : QObject(window), m_window(window)
{
    auto make = [window](const QKeySequence &key, const char *objectName = nullptr) {
        auto *a = new QAction(window);
        if (!key.isEmpty()) a->setShortcut(key);
        if (objectName) a->setObjectName(QLatin1String(objectName));
        return a;
    };
    newProject = make(QKeySequence::New);
    open = make(QKeySequence::Open);
    save = make(QKeySequence::Save);
    saveAs = make(QKeySequence::SaveAs);
    close = make(QKeySequence::Close);
    quit = make(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);
    newProject->setIcon(window->style()->standardIcon(QStyle::SP_FileIcon));
    open->setIcon(window->style()->standardIcon(QStyle::SP_DialogOpenButton));
    save->setIcon(window->style()->standardIcon(QStyle::SP_DialogSaveButton));

    // Our own prefixes: Qt's translations of "Undo"/"Redo" are a package a machine may lack.
    undo = undoGroup->createUndoAction(window, tr("Undo"));
    undo->setShortcut(QKeySequence::Undo);
    redo = undoGroup->createRedoAction(window, tr("Redo"));
    redo->setShortcut(QKeySequence::Redo);
    settings = make(QKeySequence(tr("Ctrl+,")));
    settings->setMenuRole(QAction::PreferencesRole);

    newTrace = make(QKeySequence(tr("Ctrl+T")));
    renameTrace = make(QKeySequence());
    deleteTrace = make(QKeySequence());
    compareParent = make(QKeySequence(), "CompareWithParentAction");
    patch = make(QKeySequence(), "PatchAction");
    restartEngine = make(QKeySequence());
    stopEngine = make(QKeySequence());

    exportSvg = make(QKeySequence(tr("Ctrl+Shift+E")));
    exportPng = make(QKeySequence(tr("Ctrl+E")));
    exportCsv = make(QKeySequence());

    resetLayout = make(QKeySequence());
    clearRecent = make(QKeySequence());
    about = make(QKeySequence());
    about->setMenuRole(QAction::AboutRole);
    aboutQt = make(QKeySequence());
    aboutQt->setMenuRole(QAction::AboutQtRole);
}

void WorkbenchActions::buildMenus(const QList<QAction *> &panelToggles,
                                  const QList<QAction *> &viewActions)
{
    QMenuBar *bar = m_window->menuBar();
    m_fileMenu = bar->addMenu(QString());
    m_fileMenu->addAction(newProject);
    m_fileMenu->addAction(open);
    m_recentMenu = m_fileMenu->addMenu(QString());
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(save);
    m_fileMenu->addAction(saveAs);
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(close);
    m_fileMenu->addAction(quit);

    m_editMenu = bar->addMenu(QString());
    m_editMenu->addAction(undo);
    m_editMenu->addAction(redo);
    m_editMenu->addSeparator();
    m_editMenu->addAction(settings);

    m_viewMenu = bar->addMenu(QString());
    m_viewMenu->addActions(panelToggles);
    m_viewMenu->addSeparator();
    m_viewMenu->addActions(viewActions);
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(resetLayout);

    m_traceMenu = bar->addMenu(QString());
    m_traceMenu->addAction(newTrace);
    m_traceMenu->addAction(renameTrace);
    m_traceMenu->addAction(deleteTrace);
    m_traceMenu->addAction(compareParent);
    m_traceMenu->addAction(patch);
    m_traceMenu->addSeparator();
    m_traceMenu->addAction(restartEngine);
    m_traceMenu->addAction(stopEngine);

    m_exportMenu = bar->addMenu(QString());
    m_exportMenu->addAction(exportSvg);
    m_exportMenu->addAction(exportPng);
    m_exportMenu->addAction(exportCsv);

    m_helpMenu = bar->addMenu(QString());
    m_helpMenu->addAction(about);
    m_helpMenu->addAction(aboutQt);

    m_mainBar = m_window->addToolBar(QString());
    m_mainBar->setObjectName("MainToolBar");
    m_mainBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_mainBar->addAction(newProject);
    m_mainBar->addAction(open);
    m_mainBar->addAction(save);
    m_mainBar->addSeparator();
    m_mainBar->addAction(newTrace);
    m_mainBar->addSeparator();
    m_mainBar->addAction(undo);
    m_mainBar->addAction(redo);
}

void WorkbenchActions::retranslate()
{
    if (m_fileMenu) {
        m_fileMenu->setTitle(tr("&File"));
        m_recentMenu->setTitle(tr("Open &Recent"));
        m_editMenu->setTitle(tr("&Edit"));
        m_viewMenu->setTitle(tr("&View"));
        m_traceMenu->setTitle(tr("&Trace"));
        m_exportMenu->setTitle(tr("E&xport"));
        m_helpMenu->setTitle(tr("&Help"));
        m_mainBar->setWindowTitle(tr("Main Toolbar"));
    }

    const auto set = setActionTexts;
    set(newProject, tr("&New Project"), tr("Start a new, empty project"));
    set(open, tr("&Open…"), tr("Open a .hlproj project"));
    set(save, tr("&Save"), tr("Save the project"));
    set(saveAs, tr("Save &As…"), tr("Save the project under a new name"));
    set(close, tr("&Close Project"), tr("Close the current project"));
    set(quit, tr("&Quit"), tr("Quit HeadLens"));
    undo->setToolTip(tr("Undo the last change to the project"));
    redo->setToolTip(tr("Redo the change undone last"));
    set(settings, tr("Se&ttings…"), tr("Engine command, recovery copies and language"));
    set(newTrace, tr("&New Trace…"), tr("Trace a prompt through a model into the project"));
    set(renameTrace, tr("&Rename Trace"), tr("Rename the selected trace"));
    set(deleteTrace, tr("&Delete Trace"), tr("Delete the selected trace (can be undone)"));
    set(compareParent, tr("Compare with &Parent"),
        tr("Show this trace beside the trace it was propagated from, in the Comparison dock"));
    set(patch, tr("Activation &Patching…"),
        tr("Patch this trace's prompt into a corrupted one, block by block, and map what "
           "recovers the answer"));
    set(restartEngine, m_engineStarted ? tr("Re&start Engine") : tr("&Start Engine"),
        tr("Start the engine process (or start it "
           "again after it stopped)"));
    set(stopEngine, tr("S&top Engine"),
        tr("Stop the engine process; its memory goes back "
           "to the system"));
    set(exportSvg, tr("Export View as &SVG…"), tr("Save a view as a vector figure"));
    set(exportPng, tr("Export View as &PNG…"), tr("Save a view as an image"));
    set(exportCsv, tr("Export &Numbers as CSV…"), tr("Save the numbers behind a view"));
    set(resetLayout, tr("&Reset Layout"), tr("Put the panels back where they started"));
    set(clearRecent, tr("&Clear List"), tr("Forget the recently opened projects"));
    set(about, tr("&About HeadLens"), tr("Version and the libraries HeadLens is built on"));
    set(aboutQt, tr("About &Qt"), tr("About the Qt toolkit"));
}

void WorkbenchActions::setRecentFiles(const QStringList &files)
{
    if (!m_recentMenu) return;
    m_recentMenu->clear();
    for (int i = 0; i < files.size(); ++i) {
        QAction *a = m_recentMenu->addAction(
            QStringLiteral("&%1 %2").arg(i + 1).arg(QFileInfo(files[i]).fileName()));
        const QString file = files[i];
        a->setToolTip(file);
        a->setStatusTip(file);
        connect(a, &QAction::triggered, this, [this, file] { Q_EMIT recentChosen(file); });
    }
    if (!files.isEmpty()) m_recentMenu->addSeparator();
    m_recentMenu->addAction(clearRecent);
    clearRecent->setEnabled(!files.isEmpty());
}

void WorkbenchActions::setEngineStarted(bool started)
{
    m_engineStarted = started;
    restartEngine->setText(started ? tr("Re&start Engine") : tr("&Start Engine"));
}

} // namespace HeadLens
