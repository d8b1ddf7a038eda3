#pragma once
// Two small rules the workbench's windows share: what an action says, and what a progress bar
// shows for a count that may be unknown.

class QAction;
class QProgressBar;
class QString;

namespace HeadLens {

// The action's text, and `tip` as both its tooltip and its status-bar tip.
void setActionTexts(QAction *action, const QString &text, const QString &tip);

// done of total, or the busy indicator while total is unknown (0 or less).
void showProgress(QProgressBar *bar, int done, int total);

} // namespace HeadLens
