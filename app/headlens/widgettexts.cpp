#include "widgettexts.h"

#include <QAction>
#include <QProgressBar>

namespace HeadLens {

void setActionTexts(QAction *action, const QString &text, const QString &tip)
{
    action->setText(text);
    action->setToolTip(tip);
    action->setStatusTip(tip);
}

void showProgress(QProgressBar *bar, int done, int total)
{
    if (total > 0) {
        bar->setRange(0, total);
        bar->setValue(done);
    } else {
        bar->setRange(0, 0); // busy
    }
}

} // namespace HeadLens
