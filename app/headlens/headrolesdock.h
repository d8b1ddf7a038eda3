#pragma once
// The Head Roles dock: what each head of the shown trace's model selects (HeadRolesPanel), as
// stored with the trace. Choosing a row selects that head in the other views.

#include "documentdock.h"

namespace HeadLens {

class HeadRolesPanel;

class HeadRolesDock : public DocumentDock {
    Q_OBJECT
public:
    explicit HeadRolesDock(QWidget *parent);
    HeadRolesPanel *panel() const { return m_panel; }

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void retranslateUi() override;

private:
    HeadRolesPanel *m_panel;
};

} // namespace HeadLens
