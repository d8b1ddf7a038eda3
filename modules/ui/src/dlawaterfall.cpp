#include "dlawaterfall.h"

#include "headlens/ui/colourscale.h"

#include <QEvent>
#include <QFontMetricsF>
#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace HeadLens {

namespace {
const QColor kAdds(0xd6, 0x60, 0x4d), kTakes(0x43, 0x93, 0xc3), kTotal(0x40, 0x40, 0x40);
}

DlaWaterfall::DlaWaterfall(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("DlaWaterfall"));
    setMouseTracking(true);
}

void DlaWaterfall::setParts(const QStringList &labels, const std::vector<double> &parts,
                            const QString &totalLabel, double total)
{
    m_labels = labels;
    m_parts = parts;
    m_totalLabel = totalLabel;
    m_total = total;
    updateGeometry();
    update();
}

void DlaWaterfall::clear()
{
    setParts({}, {}, QString(), 0);
}

QSize DlaWaterfall::minimumSizeHint() const
{
    // Every row readable: a short dock scrolls (LogitAttributionPanel) instead of overlapping.
    const int rows = int(m_parts.size()) + 1;
    return QSize(200, std::max(80, rows * (fontMetrics().height() + 2) + 8));
}

QSize DlaWaterfall::sizeHint() const
{
    const int rows = int(m_parts.size()) + 1;
    return QSize(360, std::max(120, rows * (fontMetrics().height() + 2) + 12));
}

int DlaWaterfall::comfortableWidth() const
{
    const QFontMetricsF fm(font());
    return int(std::ceil(labelWidth(fm) + 12 + kBarRoom + valueWidth(fm)));
}

double DlaWaterfall::labelWidth(const QFontMetricsF &fm) const
{
    double w = 0;
    for (const QString &l : m_labels + QStringList{m_totalLabel})
        w = std::max(w, fm.horizontalAdvance(l));
    return w;
}

double DlaWaterfall::valueWidth(const QFontMetricsF &fm)
{
    return fm.horizontalAdvance(QStringLiteral("-0000.000")) + 8;
}

DlaWaterfall::Geometry DlaWaterfall::geometryFor(const QRectF &canvas,
                                                 const QFontMetricsF &fm) const
{
    Geometry g;
    g.labelWidth = labelWidth(fm);
    g.plot = canvas.adjusted(g.labelWidth + 12, 4, -valueWidth(fm), -4);
    const int rows = int(m_parts.size()) + 1;
    g.rowHeight = g.plot.height() / std::max(1, rows);
    double run = 0;
    g.lo = std::min(0.0, m_total);
    g.hi = std::max(0.0, m_total);
    for (double p : m_parts) {
        run += p;
        g.lo = std::min(g.lo, run);
        g.hi = std::max(g.hi, run);
    }
    if (g.hi <= g.lo) g.hi = g.lo + 1;
    return g;
}

QRectF DlaWaterfall::barRect(const Geometry &g, int row) const
{
    double from = 0, to = m_total;
    if (row < int(m_parts.size())) {
        for (int i = 0; i < row; ++i)
            from += m_parts[size_t(i)];
        to = from + m_parts[size_t(row)];
    }
    const double x0 = g.x(std::min(from, to)), x1 = g.x(std::max(from, to));
    const double top = g.plot.top() + row * g.rowHeight;
    return QRectF(x0, top + g.rowHeight * 0.15, std::max(1.0, x1 - x0), g.rowHeight * 0.7);
}

QRectF DlaWaterfall::barRect(int row) const
{
    return barRect(geometryFor(QRectF(rect()), QFontMetricsF(font())), row);
}

double DlaWaterfall::barRoom() const
{
    return geometryFor(QRectF(rect()), QFontMetricsF(font())).plot.width();
}

void DlaWaterfall::paintTo(QPainter &p, const QRectF &canvas) const
{
    p.save();
    const QFontMetricsF fm(p.font());
    const Geometry g = geometryFor(canvas, fm);
    p.setPen(Accent::grid());
    p.drawLine(QPointF(g.x(0), g.plot.top()), QPointF(g.x(0), g.plot.bottom()));
    const int rows = int(m_parts.size()) + 1;
    for (int r = 0; r < rows && !m_parts.empty(); ++r) {
        const bool total = r == int(m_parts.size());
        const double v = total ? m_total : m_parts[size_t(r)];
        const QRectF bar = barRect(g, r);
        p.fillRect(bar, total ? kTotal : (v >= 0 ? kAdds : kTakes));
        const QRectF row(canvas.left(), g.plot.top() + r * g.rowHeight, canvas.width(),
                         g.rowHeight);
        p.setPen(QColor(0x30, 0x30, 0x30));
        p.drawText(QRectF(row.left(), row.top(), g.labelWidth + 4, row.height()),
                   Qt::AlignRight | Qt::AlignVCenter, total ? m_totalLabel : m_labels.value(r));
        p.drawText(QRectF(g.plot.right() + 4, row.top(), canvas.right() - g.plot.right() - 4,
                          row.height()),
                   Qt::AlignLeft | Qt::AlignVCenter, QString::number(v, 'f', 3));
        if (!total && r + 1 < int(m_parts.size())) { // the running sum carries to the next row
            p.setPen(QPen(Accent::grid(), 1, Qt::DotLine));
            const double x = v >= 0 ? bar.right() : bar.left();
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + g.rowHeight * 0.3));
        }
    }
    p.restore();
}

void DlaWaterfall::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    paintTo(p, QRectF(rect()));
}

bool DlaWaterfall::event(QEvent *e)
{
    if (e->type() == QEvent::ToolTip) {
        const auto *he = static_cast<QHelpEvent *>(e);
        const Geometry g = geometryFor(QRectF(rect()), QFontMetricsF(font()));
        const int row = g.rowHeight > 0 ? int((he->pos().y() - g.plot.top()) / g.rowHeight) : -1;
        if (row >= 0 && row <= int(m_parts.size()) && !m_parts.empty()) {
            double run = 0;
            for (int i = 0; i <= std::min(row, int(m_parts.size()) - 1); ++i)
                run += m_parts[size_t(i)];
            const bool total = row == int(m_parts.size());
            QToolTip::showText(he->globalPos(),
                               total ? tr("%1: %2").arg(m_totalLabel).arg(m_total, 0, 'f', 4)
                                     : tr("%1: %2 (running sum %3)")
                                           .arg(m_labels.value(row))
                                           .arg(m_parts[size_t(row)], 0, 'f', 4)
                                           .arg(run, 0, 'f', 4),
                               this);
        } else {
            QToolTip::hideText();
        }
        return true;
    }
    return QWidget::event(e);
}

} // namespace HeadLens
