#pragma once
// The body of a settings-like dialog: its form above OK and Cancel. OK runs `accepted` (which
// stores what the form holds) and closes the dialog; Cancel closes it with nothing stored.

#include <functional>

class QDialog;
class QLayout;

namespace HeadLens {

void layOutWithOkCancel(QDialog *dialog, QLayout *form, std::function<void()> accepted);

} // namespace HeadLens
