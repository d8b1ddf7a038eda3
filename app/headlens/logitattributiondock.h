#pragma once
// The Logit Attribution dock: what each head and block adds to the model's prediction at the
// selected block's position (LogitAttributionPanel), following the project's selection.

#include "documentdock.h"

namespace HeadLens {

class LogitAttributionPanel;

class LogitAttributionDock : public DocumentDock {
    Q_OBJECT
public:
    explicit LogitAttributionDock(QWidget *parent);
    LogitAttributionPanel *panel() const { return m_panel; }

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void retranslateUi() override;

private:
    LogitAttributionPanel *m_panel;
};

} // namespace HeadLens
