#include "messagebar.h"

#include <QAction>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QToolButton>

namespace HeadLens {

MessageBar::MessageBar(QWidget *parent)
    : QFrame(parent), m_icon(new QLabel(this)), m_label(new QLabel(this)),
      m_buttons(new QHBoxLayout), m_close(new QToolButton(this))
{
    setObjectName("MessageBar");
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    m_label->setWordWrap(true);
    // A long message (a path, an engine's error) wraps within the window; it never asks for
    // more width than the window has.
    m_label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_label->setMinimumWidth(0);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_close->setAutoRaise(true);
    m_close->setIcon(style()->standardIcon(QStyle::SP_TitleBarCloseButton));
    connect(m_close, &QToolButton::clicked, this, &MessageBar::dismiss);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    layout->addWidget(m_icon);
    layout->addWidget(m_label, 1);
    layout->addLayout(m_buttons);
    layout->addWidget(m_close, 0, Qt::AlignTop);
    retranslateUi();
    hide();
}

QString MessageBar::breakable(const QString &text)
{
    // Word wrap breaks only at spaces: let long runs (paths, quoted values) break after a
    // separator or every 40 characters, with zero-width spaces.
    QString out;
    int run = 0;
    for (const QChar c : text) {
        out += c;
        run = c.isSpace() ? 0 : run + 1;
        if (run >= 40 || (run > 0 && (c == QLatin1Char('/') || c == QLatin1Char('\\') ||
                                      c == QLatin1Char(',') || c == QLatin1Char(';')))) {
            out += QChar(0x200B);
            run = 0;
        }
    }
    return out;
}

void MessageBar::retranslateUi()
{
    m_close->setToolTip(tr("Dismiss this message"));
}

void MessageBar::showMessage(Level level, const QString &text, const QList<QAction *> &actions)
{
    m_level = level;
    m_label->setText(breakable(text));
    QStyle::StandardPixmap icon = QStyle::SP_MessageBoxInformation;
    QColor background(0xe8, 0xf1, 0xfb);
    if (level == Level::Warning) {
        icon = QStyle::SP_MessageBoxWarning;
        background = QColor(0xfd, 0xf3, 0xd8);
    } else if (level == Level::Error) {
        icon = QStyle::SP_MessageBoxCritical;
        background = QColor(0xfb, 0xe3, 0xe1);
    }
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_icon->setPixmap(style()->standardIcon(icon).pixmap(size, size));
    QPalette pal = palette();
    pal.setColor(QPalette::Window, background);
    pal.setColor(QPalette::WindowText, QColor(0x20, 0x20, 0x20));
    setPalette(pal);
    while (QLayoutItem *item = m_buttons->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    for (QAction *action : actions) {
        auto *button = new QPushButton(action->text(), this);
        button->setToolTip(action->toolTip());
        connect(button, &QPushButton::clicked, action, &QAction::trigger);
        connect(button, &QPushButton::clicked, this, &MessageBar::dismiss);
        m_buttons->addWidget(button);
    }
    show();
}

void MessageBar::dismiss()
{
    if (isHidden()) return;
    hide();
    Q_EMIT dismissed();
}

QString MessageBar::text() const
{
    return isHidden() ? QString() : m_label->text().remove(QChar(0x200B));
}

} // namespace HeadLens
