#include "okcancel.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QVBoxLayout>

namespace HeadLens {

void layOutWithOkCancel(QDialog *dialog, QLayout *form, std::function<void()> accepted)
{
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    QObject::connect(buttons, &QDialogButtonBox::accepted, dialog,
                     [dialog, accepted = std::move(accepted)] {
                         accepted();
                         dialog->accept();
                     });
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    auto *layout = new QVBoxLayout(dialog);
    layout->addLayout(form);
    layout->addWidget(buttons);
}

} // namespace HeadLens
