#include "workbenchdocks.h"

#include "attentionpatterndock.h"
#include "comparisondock.h"
#include "entropydock.h"
#include "followtokendock.h"
#include "headcontributiondock.h"
#include "headrolesdock.h"
#include "headsimilaritydock.h"
#include "inspectordock.h"
#include "logitattributiondock.h"
#include "projectdock.h"
#include "verticalscrollarea.h"

#include "headlens/ui/attentionpatternview.h"
#include "headlens/ui/comparisonpanel.h"
#include "headlens/ui/entropypanel.h"
#include "headlens/ui/followtokenpanel.h"
#include "headlens/ui/headcontributionpanel.h"
#include "headlens/ui/headsimilaritypanel.h"
#include "headlens/ui/inspectorpanel.h"

#include <QAction>
#include <QMainWindow>
#include <QSettings>

#include <algorithm>

namespace HeadLens {

namespace {
constexpr int kLayoutVersion = 4; // 2: head similarity; 3: follow token; 4: attention pattern
}

WorkbenchDocks::WorkbenchDocks(QMainWindow *window, EngineClient *engine)
    : QObject(window), m_window(window)
{
    project = new ProjectDock(window);
    place(project, Qt::LeftDockWidgetArea);
    connect(project, &ProjectDock::message, this, &WorkbenchDocks::error);
    inspector = new InspectorDock(engine, window);
    place(inspector, Qt::RightDockWidgetArea);

    // The bottom row: head views on the left, the entropy and comparison views on the right.
    head = new HeadContributionDock(window);
    place(head, Qt::BottomDockWidgetArea);
    entropy = new EntropyDock(window);
    place(entropy, Qt::BottomDockWidgetArea);
    window->splitDockWidget(head, entropy, Qt::Horizontal);
    comparison = new ComparisonDock(window);
    place(comparison, Qt::BottomDockWidgetArea, entropy);
    connect(comparison, &ComparisonDock::message, this, &WorkbenchDocks::error);
    // After the split: a tabbed head dock would take the entropy dock in.
    similarity = new HeadSimilarityDock(window);
    place(similarity, Qt::BottomDockWidgetArea, head);
    dla = new LogitAttributionDock(window);
    place(dla, Qt::BottomDockWidgetArea, head);
    roles = new HeadRolesDock(engine, window);
    place(roles, Qt::BottomDockWidgetArea, head);
    follow = new FollowTokenDock(window);
    place(follow, Qt::BottomDockWidgetArea, entropy);
    pattern = new AttentionPatternDock(window);
    place(pattern, Qt::BottomDockWidgetArea, entropy);
    raiseDefaultTabs();

    // The corners go to the side docks, so the bottom row spans only the centre.
    window->setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    window->setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    window->resizeDocks({project, inspector}, {300, 360}, Qt::Horizontal);
    window->resizeDocks({head}, {300}, Qt::Vertical);
    window->resizeDocks({head, entropy}, {520, 480}, Qt::Horizontal);
}

void WorkbenchDocks::place(QDockWidget *dock, Qt::DockWidgetArea area, QDockWidget *tabWith)
{
    m_window->addDockWidget(area, dock);
    if (tabWith) m_window->tabifyDockWidget(tabWith, dock);
    m_docks << dock;
    if (auto *d = qobject_cast<DocumentDock *>(dock)) {
        m_documentDocks << d;
        connect(d, &DocumentDock::error, this, &WorkbenchDocks::error);
        connect(d, &DocumentDock::status, this, &WorkbenchDocks::status);
    }
    // The bottom panels ask for more height than a laptop has beside the grid: they may shrink
    // to 120 pixels (and be dragged taller), and below their own height they scroll rather than
    // squeeze their rows over one another. (The attention pattern is a square that shrinks.)
    if (area == Qt::BottomDockWidgetArea && !qobject_cast<AttentionPatternDock *>(dock))
        dock->setWidget(new VerticalScrollArea(dock->widget(), 120, dock));
}

void WorkbenchDocks::raiseDefaultTabs()
{
    entropy->raise();
    head->raise();
}

QList<QAction *> WorkbenchDocks::toggleActions() const
{
    QList<QAction *> toggles;
    for (QDockWidget *dock : m_docks)
        toggles << dock->toggleViewAction();
    return toggles;
}

QList<ViewExports::View> WorkbenchDocks::exportableViews(QWidget *blockView) const
{
    EntropyDock *e = entropy;
    HeadSimilarityDock *s = similarity;
    return {{tr("Block view"), blockView, {}},
            {tr("Inspector"), inspector->panel(), {}},
            {tr("Head contributions"), head->panel(), {}},
            {tr("Entropy"), e->panel(), [e] { e->fillNow(); }},
            {tr("Comparison"), comparison->panel(), {}},
            {tr("Follow token"), follow->panel(), {}},
            {tr("Attention pattern"), pattern->patternView(), {}},
            {tr("Head similarity"), s->panel(), [s] { s->panel()->ensureComputed(true); }}};
}

void WorkbenchDocks::keepAsDefault()
{
    m_defaultState = m_window->saveState(kLayoutVersion);
}

void WorkbenchDocks::saveLayout() const
{
    QSettings s;
    s.setValue("window/geometry", m_window->saveGeometry());
    s.setValue("window/state", m_window->saveState(kLayoutVersion));
}

bool WorkbenchDocks::restoreLayout()
{
    QSettings s;
    const QByteArray geometry = s.value("window/geometry").toByteArray();
    const QByteArray state = s.value("window/state").toByteArray();
    if (!geometry.isEmpty()) m_window->restoreGeometry(geometry);
    return !state.isEmpty() && m_window->restoreState(state, kLayoutVersion);
}

void WorkbenchDocks::resetLayout()
{
    m_window->restoreState(m_defaultState, kLayoutVersion);
    for (QDockWidget *dock : m_docks)
        dock->show();
    raiseDefaultTabs();
}

void WorkbenchDocks::fitToWindow(const QSize &size)
{
    const int w = size.width(), h = size.height();
    m_window->resizeDocks({head}, {h >= 900 ? 380 : std::max(150, h * 3 / 10)}, Qt::Vertical);
    m_window->resizeDocks({project, inspector},
                          {std::clamp(w / 6, 200, 300), std::clamp(w / 5, 260, 360)},
                          Qt::Horizontal);
}

} // namespace HeadLens
