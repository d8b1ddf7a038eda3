#include "verticalscrollarea.h"

#include <QScrollBar>

namespace HeadLens {

VerticalScrollArea::VerticalScrollArea(QWidget *panel, int minHeight, QWidget *parent)
    : QScrollArea(parent), m_minHeight(minHeight)
{
    setFrameShape(QFrame::NoFrame);
    setWidgetResizable(true);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setWidget(panel);
}

QSize VerticalScrollArea::minimumSizeHint() const
{
    const int panelWidth = widget() ? widget()->minimumSizeHint().width() : 0;
    return {panelWidth + verticalScrollBar()->sizeHint().width(), m_minHeight};
}

QSize VerticalScrollArea::sizeHint() const
{
    const QSize panel = widget() ? widget()->sizeHint() : QSize();
    return {panel.width() + verticalScrollBar()->sizeHint().width(),
            std::max(panel.height(), m_minHeight)};
}

} // namespace HeadLens
