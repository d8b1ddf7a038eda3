#pragma once
// The base of this module's views and panels (all but the block view, a scroll area): a widget
// that can be exported (ExportableView), that sets its texts again when the application's
// language changes, and whose minimum size is never less than its layout needs.

#include "headlens/ui/export.h"

#include <QWidget>

namespace HeadLens {

class ViewPanel : public QWidget, public ExportableView {
    Q_OBJECT
public:
    using QWidget::QWidget;

    // The room set by setMinimumRoom, grown to what the layout needs: a panel in a dock's
    // scroll area gets this much, and a fixed figure below the layout's own minimum squeezed
    // its rows over one another (a wrapped title row put the head chart's axis title under the
    // sum check).
    QSize minimumSizeHint() const override;

public Q_SLOTS:
    // Sets every text the widget shows in the current language.
    virtual void retranslateUi() = 0;

protected:
    // The least room the panel wants for its contents to be read, beyond its layout's minimum.
    void setMinimumRoom(QSize room) { m_minimumRoom = room; }
    void changeEvent(QEvent *event) override;

private:
    QSize m_minimumRoom{0, 0};
};

} // namespace HeadLens
