#pragma once
// The Follow Token dock: the followed token's lens probability over the layers at the selected
// position (FollowTokenPanel). The token is the view state's, so the block grid and this dock
// follow the same one, whichever picked it.

#include "paneldock.h"

namespace HeadLens {

class FollowTokenPanel;

class FollowTokenDock : public PanelDock<FollowTokenPanel> {
    Q_OBJECT
public:
    explicit FollowTokenDock(QWidget *parent);

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void retranslateUi() override;

private:
    void showLens();
};

} // namespace HeadLens
