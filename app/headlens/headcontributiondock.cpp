#include "headcontributiondock.h"

#include "headlens/document/changeevent.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/headcontributionpanel.h"

namespace HeadLens {

HeadContributionDock::HeadContributionDock(QWidget *parent)
    : DocumentDock(parent), m_panel(new HeadContributionPanel)
{
    setObjectName("HeadContributionDock");
    m_panel->setObjectName("HeadContributionPanel");
    setWidget(m_panel);
    connect(m_panel, &HeadContributionPanel::headSelected, this, [this](int, int head) {
        if (ViewState *v = view()) v->setHead(head);
    });
    retranslateUi();
}

void HeadContributionDock::retranslateUi()
{
    setWindowTitle(tr("Head Contributions"));
}

void HeadContributionDock::refresh()
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) {
        m_panel->clear();
        return;
    }
    try {
        m_panel->setTrace(*document()->trace(v->trace()));
        const auto roles = document()->headRoles(v->trace());
        m_panel->setHeadRoles(roles ? *roles : HeadRoles());
        m_panel->setSelectedHead(v->head());
        m_panel->setSelection(v->layer(), v->pos());
    } catch (const std::exception &) {
        m_panel->clear(); // the block view says what is wrong with the trace
    }
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
