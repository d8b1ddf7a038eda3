#pragma once
// The workbench's docks (Kate's tool views, Tiled's dock set): made once, placed in the
// default layout around the block view, sized to a first window, and their layout saved,
// restored and reset in QSettings. The window wires what a dock asks for (a trace, a block)
// to what it does; this class knows the docks' places, not the projects.

#include "viewexports.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <Qt>

class QAction;
class QDockWidget;
class QMainWindow;
class QSize;

namespace HeadLens {

class AttentionPatternDock;
class ComparisonDock;
class DocumentDock;
class EngineClient;
class EntropyDock;
class FollowTokenDock;
class HeadContributionDock;
class HeadRolesDock;
class HeadSimilarityDock;
class InspectorDock;
class LogitAttributionDock;
class ProjectDock;

class WorkbenchDocks : public QObject {
    Q_OBJECT
public:
    // The docks belong to window; the inspector and the head roles ask engine.
    WorkbenchDocks(QMainWindow *window, EngineClient *engine);

    ProjectDock *project;
    InspectorDock *inspector;
    HeadContributionDock *head;
    EntropyDock *entropy;
    ComparisonDock *comparison;
    HeadSimilarityDock *similarity;
    LogitAttributionDock *dla;
    HeadRolesDock *roles;
    FollowTokenDock *follow;
    AttentionPatternDock *pattern;

    // Those that show the current project (setDocument).
    const QList<DocumentDock *> &documentDocks() const { return m_documentDocks; }
    // The View menu's toggles, in the docks' order.
    QList<QAction *> toggleActions() const;
    // What File > Export offers, in the dialog's order: blockView (the centre's), then the
    // docks' views, each made ready to draw in full.
    QList<ViewExports::View> exportableViews(QWidget *blockView) const;

    // The layout as it is now is the one resetLayout returns to (the window calls this once
    // its toolbars are built and it has its first size).
    void keepAsDefault();
    // The window's geometry and the docks' places, in QSettings; restore is false when none
    // was saved (or it was saved by a layout of another version), and then the default
    // layout is fitted to the window as it is first shown (fitToWindow).
    void saveLayout() const;
    bool restoreLayout();
    void resetLayout();
    // With the default layout, sizes the docks to a window of size: the block grid gets most of
    // the height, the side docks a share of the width. Later resizes keep the user's sizes.
    void fitToWindow(const QSize &size);

Q_SIGNALS:
    void error(const QString &text);
    void status(const QString &text, int timeoutMs);

private:
    // Adds a dock to area (tabbed with tabWith when given); a DocumentDock's messages go out
    // as error and status, and a bottom dock scrolls when short.
    void place(QDockWidget *dock, Qt::DockWidgetArea area, QDockWidget *tabWith = nullptr);
    void raiseDefaultTabs();

    QMainWindow *m_window;
    QList<QDockWidget *> m_docks; // in the View menu's order
    QList<DocumentDock *> m_documentDocks;
    QByteArray m_defaultState;
};

} // namespace HeadLens
