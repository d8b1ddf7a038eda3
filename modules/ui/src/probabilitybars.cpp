#include "probabilitybars.h"

#include "headlens/ui/colourscale.h"

#include <QFontMetricsF>
#include <QPainter>

namespace HeadLens {

ProbabilityBars::ProbabilityBars(QWidget *parent) : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Minimum);
}

void ProbabilityBars::setRows(const std::vector<Row> &rows)
{
    m_rows = rows;
    updateGeometry();
    update();
}

double ProbabilityBars::rowHeight() const
{
    return QFontMetricsF(font()).height() + 6;
}

QSize ProbabilityBars::sizeHint() const
{
    return QSize(260, int(std::max<size_t>(m_rows.size(), 3) * rowHeight()) + 2);
}

QSize ProbabilityBars::minimumSizeHint() const
{
    return QSize(160, int(std::max<size_t>(m_rows.size(), 1) * rowHeight()) + 2);
}

void ProbabilityBars::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, true);
    const QFontMetricsF fm(font());
    const double rh = rowHeight();
    const double rankW = fm.horizontalAdvance(QStringLiteral("00")) + 6;
    const double pctW = fm.horizontalAdvance(QStringLiteral("100.0 %")) + 6;
    const double textW = std::min(width() * 0.38, fm.averageCharWidth() * 16);
    const double barX = rankW + textW + 6;
    const double barW = std::max(10.0, width() - barX - pctW - 4);
    const ColourScale scale(ColourScale::Palette::Blues);
    QFont bold = font();
    bold.setBold(true);
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const Row &r = m_rows[i];
        const double y = i * rh;
        if (i % 2 == 1) p.fillRect(QRectF(0, y, width(), rh), QColor(0, 0, 0, 10));
        p.setFont(r.marked ? bold : font());
        p.setPen(Accent::mutedText());
        p.drawText(QRectF(0, y, rankW - 4, rh), Qt::AlignRight | Qt::AlignVCenter,
                   QString::number(i + 1));
        p.setPen(QColor(0x20, 0x20, 0x20));
        p.drawText(
            QRectF(rankW, y, textW, rh), Qt::AlignLeft | Qt::AlignVCenter,
            fm.elidedText(QStringLiteral("\u201c%1\u201d").arg(r.text), Qt::ElideRight, textW));
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(0, 0, 0, 18));
        p.drawRoundedRect(QRectF(barX, y + 4, barW, rh - 8), 2, 2);
        p.setBrush(QColor::fromRgb(scale.rgb(0.35 + 0.65 * r.prob)));
        p.drawRoundedRect(QRectF(barX, y + 4, std::max(1.0, barW * r.prob), rh - 8), 2, 2);
        p.setPen(r.marked ? Accent::selection() : QColor(0x30, 0x30, 0x30));
        p.drawText(QRectF(barX + barW, y, pctW, rh), Qt::AlignRight | Qt::AlignVCenter,
                   QStringLiteral("%1 %").arg(r.prob * 100.0, 0, 'f', 1));
    }
}

} // namespace HeadLens
