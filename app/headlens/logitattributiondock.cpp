#include "logitattributiondock.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/logitattributionpanel.h"

namespace HeadLens {

LogitAttributionDock::LogitAttributionDock(QWidget *parent)
    : DocumentDock(parent), m_panel(new LogitAttributionPanel)
{
    setObjectName("LogitAttributionDock");
    setWidget(m_panel);
    connect(m_panel, &LogitAttributionPanel::headSelected, this, [this](int, int head) {
        if (ViewState *v = view()) v->setHead(head);
    });
    retranslateUi();
}

void LogitAttributionDock::retranslateUi()
{
    setTitles(tr("Attribution"), tr("Logit Attribution"));
}

void LogitAttributionDock::refresh()
{
    const auto t = shownTrace();
    if (!t) {
        m_panel->clear();
        return;
    }
    const ViewState *v = view();
    m_panel->setTrace(*t);
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
