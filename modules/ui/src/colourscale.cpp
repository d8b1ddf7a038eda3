#include "headlens/ui/colourscale.h"

#include <QFontMetricsF>
#include <QLinearGradient>
#include <QPainter>

#include <cmath>

namespace HeadLens {

namespace {

// ColorBrewer sequential schemes (9 classes), interpolated linearly between the stops.
constexpr std::array<QRgb, 9> kBlues = {0xffffd9, 0xedf8b1, 0xc7e9b4, 0x7fcdbb, 0x41b6c4,
                                        0x1d91c0, 0x225ea8, 0x253494, 0x081d58};
constexpr std::array<QRgb, 9> kHeat = {0xffffcc, 0xffeda0, 0xfed976, 0xfeb24c, 0xfd8d3c,
                                       0xfc4e2a, 0xe31a1c, 0xbd0026, 0x800026};
// ColorBrewer RdBu (9 classes), blue below the middle, red above.
constexpr std::array<QRgb, 9> kDiverging = {0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
                                            0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b};

} // namespace

ColourScale::ColourScale(Palette palette, double lower, double upper)
    : m_palette(palette), m_lower(lower), m_upper(upper)
{
    const auto &stops = palette == Palette::Blues  ? kBlues
                        : palette == Palette::Heat ? kHeat
                                                   : kDiverging;
    const int n = int(stops.size());
    for (int i = 0; i < 256; ++i) {
        const double x = double(i) / 255.0 * (n - 1);
        const int a = std::min(int(x), n - 2);
        const double f = x - a;
        const QRgb c0 = stops[size_t(a)], c1 = stops[size_t(a + 1)];
        auto mix = [f](int u, int v) { return int(std::lround(u + (v - u) * f)); };
        m_table[size_t(i)] =
            qRgb(mix(qRed(c0), qRed(c1)), mix(qGreen(c0), qGreen(c1)), mix(qBlue(c0), qBlue(c1)));
    }
}

void ColourScale::setRange(double lower, double upper)
{
    m_lower = lower;
    m_upper = upper;
}

QRgb ColourScale::rgbAt(double fraction) const
{
    if (std::isnan(fraction)) return noDataRgb();
    const int i = int(std::lround(std::clamp(fraction, 0.0, 1.0) * 255.0));
    return m_table[size_t(i)];
}

QRgb ColourScale::rgb(double value) const
{
    const double span = m_upper - m_lower;
    return rgbAt(span > 0 ? (value - m_lower) / span : 0.0);
}

QColor ColourScale::textColourOn(QRgb bg)
{
    // Relative luminance (sRGB weights); the threshold favours dark text on mid tones.
    const double y = 0.2126 * qRed(bg) + 0.7152 * qGreen(bg) + 0.0722 * qBlue(bg);
    return y > 140 ? QColor(0x20, 0x20, 0x20) : QColor(Qt::white);
}

QSizeF ColourScale::legendSize(const QPainter &painter, const QString &title)
{
    const QFontMetricsF fm(painter.font());
    return QSizeF(std::max(160.0, fm.horizontalAdvance(title) + 24), fm.height() * 2 + 14);
}

void ColourScale::drawLegend(QPainter &p, const QRectF &rect, const QString &title,
                             int decimals) const
{
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    const QFontMetricsF fm(p.font());
    p.setPen(QColor(0, 0, 0, 40));
    p.setBrush(QColor(255, 255, 255, 230));
    p.drawRoundedRect(rect, 4, 4);

    const QRectF inner = rect.adjusted(8, 4, -8, -4);
    p.setPen(QColor(0x30, 0x30, 0x30));
    p.drawText(QRectF(inner.left(), inner.top(), inner.width(), fm.height()),
               Qt::AlignLeft | Qt::AlignVCenter, title);

    const QRectF bar(inner.left(), inner.top() + fm.height() + 1, inner.width(), 8);
    QLinearGradient g(bar.topLeft(), bar.topRight());
    for (int i = 0; i <= 8; ++i)
        g.setColorAt(i / 8.0, QColor::fromRgb(rgbAt(i / 8.0)));
    p.setPen(Qt::NoPen);
    p.setBrush(g);
    p.drawRect(bar);

    p.setPen(QColor(0x50, 0x50, 0x50));
    const QRectF labels(inner.left(), bar.bottom() + 1, inner.width(), fm.height());
    p.drawText(labels, Qt::AlignLeft | Qt::AlignVCenter, QString::number(m_lower, 'f', decimals));
    p.drawText(labels, Qt::AlignHCenter | Qt::AlignVCenter,
               QString::number((m_lower + m_upper) / 2, 'f', decimals));
    p.drawText(labels, Qt::AlignRight | Qt::AlignVCenter, QString::number(m_upper, 'f', decimals));
    p.restore();
}

namespace Accent {
QColor selection()
{
    return QColor(0xd6, 0x27, 0x28);
}
QColor attention()
{
    return QColor(0xc5, 0x1b, 0x7d);
}
QColor highlight()
{
    return QColor(0x5e, 0x2c, 0xa5); // violet: in neither palette, apart from red and magenta
}
QColor difference()
{
    return QColor(0xe6, 0x55, 0x0d);
}
QColor grid()
{
    return QColor(0xb0, 0xb0, 0xb0);
}
QColor mutedText()
{
    return QColor(0x70, 0x70, 0x70);
}
} // namespace Accent

} // namespace HeadLens
