#pragma once
// The Head Contributions dock: what each head of the selected block's layer adds to the
// attention output (HeadContributionPanel), following the project's selection and head.

#include "paneldock.h"

namespace HeadLens {

class HeadContributionPanel;

class HeadContributionDock : public PanelDock<HeadContributionPanel> {
    Q_OBJECT
public:
    explicit HeadContributionDock(QWidget *parent);

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void documentChanged(const ChangeEvent &event) override;
    void retranslateUi() override;
};

} // namespace HeadLens
