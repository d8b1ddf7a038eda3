#pragma once
// The Head Roles dock: what each head of the shown trace's model selects (HeadRolesPanel), as
// kept with the trace, and the request that measures them in the engine (kept with every trace
// of the document made by that model, as headlens-cli heads --roles stores them). Choosing a
// row selects that head in the other views.

#include "enginedock.h"
#include "paneldock.h"

namespace HeadLens {

class HeadRolesPanel;

class HeadRolesDock : public PanelDock<HeadRolesPanel, EngineDock> {
    Q_OBJECT
public:
    HeadRolesDock(EngineClient *engine, QWidget *parent);

    // Measures the roles of the shown trace's model.
    void measure();

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void documentChanged(const ChangeEvent &event) override;
    void retranslateUi() override;
    void updateActions() override;
};

} // namespace HeadLens
