#pragma once
// The base of this module's views and panels (all but the block view, a scroll area): a widget
// that can be exported (ExportableView) and that sets its texts again when the application's
// language changes.

#include "headlens/ui/export.h"

#include <QWidget>

namespace HeadLens {

class ViewPanel : public QWidget, public ExportableView {
    Q_OBJECT
public:
    using QWidget::QWidget;

public Q_SLOTS:
    // Sets every text the widget shows in the current language.
    virtual void retranslateUi() = 0;

protected:
    void changeEvent(QEvent *event) override;
};

} // namespace HeadLens
