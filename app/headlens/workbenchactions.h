#pragma once
// The workbench's actions, menus and main toolbar (Kate's and Tiled's action managers): made
// once, with their shortcuts, icons and translated texts. The window connects them to what
// they do and enables them; this class knows nothing of projects or the engine.

#include <QObject>

class QAction;
class QMainWindow;
class QMenu;
class QToolBar;
class QUndoGroup;

namespace HeadLens {

class WorkbenchActions : public QObject {
    Q_OBJECT
public:
    // The actions belong to window; undo and redo follow the group's active stack.
    WorkbenchActions(QMainWindow *window, QUndoGroup *undoGroup);

    // The menu bar and the main toolbar: the View menu lists panelToggles (the docks'
    // toggle actions), then viewActions (zoom), then Reset Layout.
    void buildMenus(const QList<QAction *> &panelToggles, const QList<QAction *> &viewActions);
    // Texts and tooltips in the current language.
    void retranslate();
    // The File > Open Recent list: one action per file (recentChosen), then Clear List.
    void setRecentFiles(const QStringList &files);
    // Start Engine, or Restart Engine while one runs or starts.
    void setEngineStarted(bool started);

    QAction *newProject, *open, *save, *saveAs, *close, *quit, *undo, *redo, *settings;
    QAction *newTrace, *renameTrace, *deleteTrace, *compareParent, *patch, *restartEngine,
        *stopEngine;
    QAction *exportSvg, *exportPng, *exportCsv, *resetLayout, *clearRecent, *about, *aboutQt;

Q_SIGNALS:
    void recentChosen(const QString &file);

private:
    QMainWindow *m_window;
    QMenu *m_fileMenu = nullptr, *m_recentMenu = nullptr, *m_editMenu = nullptr,
          *m_viewMenu = nullptr, *m_traceMenu = nullptr, *m_exportMenu = nullptr,
          *m_helpMenu = nullptr;
    QToolBar *m_mainBar = nullptr;
    bool m_engineStarted = false;
};

} // namespace HeadLens
