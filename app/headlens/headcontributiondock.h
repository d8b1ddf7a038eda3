#pragma once
// The Head Contributions dock: what each head of the selected block's layer adds to the
// attention output (HeadContributionPanel), following the project's selection and head.

#include "documentdock.h"

namespace HeadLens {

class HeadContributionPanel;

class HeadContributionDock : public DocumentDock {
    Q_OBJECT
public:
    explicit HeadContributionDock(QWidget *parent);
    HeadContributionPanel *panel() const { return m_panel; }

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void documentChanged(const ChangeEvent &event) override;
    void retranslateUi() override;

private:
    HeadContributionPanel *m_panel;
};

} // namespace HeadLens
