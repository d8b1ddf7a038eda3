#include "followtokendock.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/followtokenpanel.h"

namespace HeadLens {

FollowTokenDock::FollowTokenDock(QWidget *parent) : PanelDock("FollowTokenDock", parent)
{
    connect(m_panel, &FollowTokenPanel::followRequested, this, [this](int id) {
        if (ViewState *v = view()) v->setFollowToken(id);
    });
    retranslateUi();
}

void FollowTokenDock::retranslateUi()
{
    setWindowTitle(tr("Follow Token"));
}

void FollowTokenDock::refresh()
{
    if (!showTraceInPanel()) return;
    const ViewState *v = view();
    showLens();
    m_panel->setSelection(v->layer(), v->pos());
    m_panel->setFollowToken(v->followToken());
}

void FollowTokenDock::showLens()
{
    const ViewState *v = view();
    try {
        m_panel->setLens(v->site(), *document()->lens(v->trace(), v->site()));
    } catch (const std::exception &) {
        m_panel->setLens(v->site(), LensSite());
    }
}

void FollowTokenDock::viewChanged(int aspects)
{
    if (aspects & ViewState::TraceAspect) {
        refresh();
        return;
    }
    if (aspects & ViewState::SiteAspect) showLens();
    if (aspects & ViewState::BlockAspect) m_panel->setSelection(view()->layer(), view()->pos());
    if (aspects & ViewState::FollowAspect) m_panel->setFollowToken(view()->followToken());
}

} // namespace HeadLens
