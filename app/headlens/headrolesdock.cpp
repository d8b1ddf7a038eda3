#include "headrolesdock.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/headrolespanel.h"

namespace HeadLens {

HeadRolesDock::HeadRolesDock(QWidget *parent) : DocumentDock(parent), m_panel(new HeadRolesPanel)
{
    setObjectName("HeadRolesDock");
    setWidget(m_panel);
    connect(m_panel, &HeadRolesPanel::headSelected, this, [this](int layer, int head) {
        ViewState *v = view();
        if (!v) return;
        // The head of another layer: select the block of that layer at the same position.
        if (layer != v->layer() && v->hasBlock()) v->setBlock(layer, v->pos());
        v->setHead(head);
    });
    retranslateUi();
}

void HeadRolesDock::retranslateUi()
{
    setWindowTitle(tr("Head Roles"));
}

void HeadRolesDock::refresh()
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) {
        m_panel->clear();
        return;
    }
    const auto roles = document()->headRoles(v->trace());
    m_panel->setRoles(roles ? *roles : HeadRoles());
    m_panel->setSelectedHead(v->layer(), v->head());
}

void HeadRolesDock::viewChanged(int aspects)
{
    if (aspects & ViewState::TraceAspect) {
        refresh();
        return;
    }
    if (aspects & (ViewState::HeadAspect | ViewState::BlockAspect))
        m_panel->setSelectedHead(view()->layer(), view()->head());
}

} // namespace HeadLens
