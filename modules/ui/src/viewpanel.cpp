#include "headlens/ui/viewpanel.h"

#include <QEvent>

namespace HeadLens {

QSize ViewPanel::minimumSizeHint() const
{
    return QWidget::minimumSizeHint().expandedTo(m_minimumRoom);
}

void ViewPanel::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QWidget::changeEvent(event);
}

} // namespace HeadLens
