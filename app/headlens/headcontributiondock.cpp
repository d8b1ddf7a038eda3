#include "headcontributiondock.h"

#include "headlens/document/changeevent.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/headcontributionpanel.h"

namespace HeadLens {

HeadContributionDock::HeadContributionDock(QWidget *parent)
    : PanelDock("HeadContributionDock", parent)
{
    followHeadPicks();
    retranslateUi();
}

void HeadContributionDock::retranslateUi()
{
    setTitles(tr("Heads"), tr("Head Contributions"));
}

void HeadContributionDock::refresh()
{
    if (!showTraceInPanel()) return;
    const ViewState *v = view();
    const auto roles = document()->headRoles(v->trace());
    m_panel->setHeadRoles(roles ? *roles : HeadRoles());
    m_panel->setSelectedHead(v->head());
    m_panel->setSelection(v->layer(), v->pos());
}

void HeadContributionDock::viewChanged(int aspects)
{
    if (aspects & ViewState::TraceAspect) {
        refresh();
        return;
    }
    if (aspects & ViewState::HeadAspect) m_panel->setSelectedHead(view()->head());
    if (aspects & ViewState::BlockAspect) m_panel->setSelection(view()->layer(), view()->pos());
}

void HeadContributionDock::documentChanged(const ChangeEvent &event)
{
    // Head roles measured for the shown trace: its bars get their role labels.
    if (event.type == ChangeEvent::Type::ResultsChanged && view() &&
        event.trace == view()->trace()) {
        const auto roles = document()->headRoles(event.trace);
        m_panel->setHeadRoles(roles ? *roles : HeadRoles());
    }
}

} // namespace HeadLens
