#include "logitattributiondock.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/logitattributionpanel.h"

namespace HeadLens {

LogitAttributionDock::LogitAttributionDock(QWidget *parent)
    : PanelDock("LogitAttributionDock", parent)
{
    followHeadPicks();
    retranslateUi();
}

void LogitAttributionDock::retranslateUi()
{
    setTitles(tr("Attribution"), tr("Logit Attribution"));
}

void LogitAttributionDock::refresh()
{
    if (!showTraceInPanel()) return;
    const ViewState *v = view();
    m_panel->setPosition(v->pos());
    m_panel->setSelectedHead(v->layer(), v->head());
}

void LogitAttributionDock::viewChanged(int aspects)
{
    if (aspects & ViewState::TraceAspect) {
        refresh();
        return;
    }
    if (aspects & ViewState::BlockAspect) m_panel->setPosition(view()->pos());
    if (aspects & (ViewState::BlockAspect | ViewState::HeadAspect))
        m_panel->setSelectedHead(view()->layer(), view()->head());
}

} // namespace HeadLens
