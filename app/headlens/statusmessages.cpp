#include "statusmessages.h"

#include "headlens/ui/elidinglabel.h"

#include <QEvent>
#include <QStatusBar>

#include <algorithm>

namespace HeadLens {

StatusMessages::StatusMessages(QStatusBar *bar)
    : QObject(bar), m_bar(bar), m_selection(new ElidingLabel)
{
    m_selection->setObjectName("SelectionStatus");
    bar->addWidget(m_selection, 1);
    connect(bar, &QStatusBar::messageChanged, this, [this](const QString &message) {
        if (!message.isEmpty()) return;
        m_bar->setToolTip(QString());
        m_message.clear();
    });
    bar->installEventFilter(this);
}

void StatusMessages::addPermanent(QWidget *label)
{
    m_bar->addPermanentWidget(label);
    m_permanent.append(label);
}

void StatusMessages::setSelectionText(const QString &text)
{
    m_selection->setText(text);
}

void StatusMessages::showMessage(const QString &text, int timeoutMs)
{
    if (text.isEmpty()) {
        m_bar->clearMessage();
        return;
    }
    // The room before the labels on the right, by their size hints: a message can come before
    // the bar is laid out.
    int room = m_bar->width() - 24;
    for (QWidget *label : m_permanent)
        if (!label->isHidden()) room -= label->sizeHint().width() + 8;
    const QString shown = m_bar->fontMetrics().elidedText(text, Qt::ElideRight, std::max(40, room));
    m_bar->setToolTip(shown == text ? QString() : text);
    m_bar->showMessage(shown, timeoutMs);
    m_message = text;
    m_timeout = timeoutMs;
}

bool StatusMessages::eventFilter(QObject *watched, QEvent *event)
{
    // A message shortened for another width (it may come before the window has its size).
    if (watched == m_bar && event->type() == QEvent::Resize && m_bar->width() != m_width) {
        m_width = m_bar->width();
        if (!m_message.isEmpty()) showMessage(m_message, m_timeout);
    }
    return QObject::eventFilter(watched, event);
}

} // namespace HeadLens
