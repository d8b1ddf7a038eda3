#pragma once
// The Follow Token dock: the followed token's lens probability over the layers at the selected
// position (FollowTokenPanel). The token is the view state's, so the block grid and this dock
// follow the same one, whichever picked it.

#include "documentdock.h"

namespace HeadLens {

class FollowTokenPanel;

class FollowTokenDock : public DocumentDock {
    Q_OBJECT
public:
    explicit FollowTokenDock(QWidget *parent);
    FollowTokenPanel *panel() const { return m_panel; }

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void retranslateUi() override;

private:
    void showLens();
    FollowTokenPanel *m_panel;
};

} // namespace HeadLens
