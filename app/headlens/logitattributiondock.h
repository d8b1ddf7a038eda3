#pragma once
// The Logit Attribution dock: what each head and block adds to the model's prediction at the
// selected block's position (LogitAttributionPanel), following the project's selection.

#include "paneldock.h"

namespace HeadLens {

class LogitAttributionPanel;

class LogitAttributionDock : public PanelDock<LogitAttributionPanel> {
    Q_OBJECT
public:
    explicit LogitAttributionDock(QWidget *parent);

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void retranslateUi() override;
};

} // namespace HeadLens
