#include "headlens/ui/titlerow.h"

#include "headlens/ui/elidinglabel.h"

#include <QEvent>
#include <QGridLayout>

namespace HeadLens {

TitleRow::TitleRow(QWidget *parent) : QWidget(parent), m_title(new ElidingLabel(this))
{
    m_grid = new QGridLayout(this);
    m_grid->setContentsMargins(0, 0, 0, 0);
    m_grid->setVerticalSpacing(2);
    m_grid->setColumnStretch(0, 1);
    m_grid->addWidget(m_title, 0, 0);
    setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
}

void TitleRow::setTitle(const QString &text)
{
    m_title->setText(text);
    relayout();
}

void TitleRow::addControl(QWidget *control)
{
    control->setParent(this);
    m_controls << control;
    relayout(true);
}

int TitleRow::controlsWidth() const
{
    int w = 0;
    for (QWidget *c : m_controls)
        if (!c->isHidden()) w += c->sizeHint().width() + m_grid->horizontalSpacing();
    return w;
}

void TitleRow::relayout(bool force)
{
    const QMargins m = m_title->contentsMargins();
    const int titleWidth =
        m_title->fontMetrics().horizontalAdvance(m_title->text()) + m.left() + m.right();
    const bool wrap = !m_controls.isEmpty() && titleWidth + controlsWidth() > width();
    if (wrap == m_wrapped && !force) return;
    m_wrapped = wrap;
    for (QWidget *c : m_controls)
        m_grid->removeWidget(c);
    m_grid->removeWidget(m_title);
    const int n = int(m_controls.size());
    if (wrap) {
        // The title over the whole width; the controls below it, on the right.
        m_grid->addWidget(m_title, 0, 0, 1, n + 1);
        for (int i = 0; i < n; ++i)
            m_grid->addWidget(m_controls[i], 1, i + 1);
    } else {
        m_grid->addWidget(m_title, 0, 0);
        for (int i = 0; i < n; ++i)
            m_grid->addWidget(m_controls[i], 0, i + 1);
    }
}

void TitleRow::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    relayout();
}

bool TitleRow::event(QEvent *event)
{
    // A new title (ElidingLabel::setText) or a control's new size asks for a new layout.
    if (event->type() == QEvent::LayoutRequest) relayout();
    return QWidget::event(event);
}

} // namespace HeadLens
