#include "headlens/ui/viewpanel.h"

#include <QEvent>

namespace HeadLens {

void ViewPanel::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QWidget::changeEvent(event);
}

} // namespace HeadLens
