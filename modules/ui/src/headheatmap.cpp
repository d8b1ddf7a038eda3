#include "headlens/ui/headheatmap.h"

#include "gridkeys.h"

#include <QEvent>
#include <QFontMetricsF>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <cmath>

namespace HeadLens {

HeadHeatmap::HeadHeatmap(QWidget *parent)
    : ViewPanel(parent), m_scale(ColourScale::Palette::Heat, 0.0, 1.0)
{
    setObjectName(QStringLiteral("HeadHeatmap"));
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    retranslateUi();
}

void HeadHeatmap::setDescription(const QString &text)
{
    m_description = text;
    setToolTip(text);
}

void HeadHeatmap::retranslateUi()
{
    // An owner's description is set again by the owner, in whichever order the two hear of the
    // language change; without one, the map says what it is.
    if (m_description.isEmpty())
        setToolTip(tr("Layers (bottom to top) by heads: click a cell to select that head."));
    m_emptyText = tr("No head metrics in this trace.");
    update();
}

QSize HeadHeatmap::minimumSizeHint() const
{
    return QSize(200, 140);
}
QSize HeadHeatmap::sizeHint() const
{
    return QSize(360, 260);
}

void HeadHeatmap::setMatrix(const FloatArray &values, const QString &valueTitle)
{
    m_values = values.rank() == 2 ? values : FloatArray();
    m_title = valueTitle;
    double lo = 0, hi = 0;
    for (float v : m_values.data)
        if (std::isfinite(v)) {
            lo = std::min(lo, double(v));
            hi = std::max(hi, double(v));
        }
    if (m_diverging) hi = std::max(hi, -lo), lo = -hi;
    if (hi <= lo) hi = lo + 1;
    m_scale.setRange(lo, hi);
    if (m_selLayer >= layerCount() || m_selHead >= headCount()) m_selLayer = m_selHead = -1;
    update();
}

void HeadHeatmap::setDiverging(bool diverging)
{
    m_diverging = diverging;
    m_scale = ColourScale(diverging ? ColourScale::Palette::Diverging : ColourScale::Palette::Heat);
    setMatrix(m_values, m_title);
}

double HeadHeatmap::value(int layer, int head) const
{
    if (layer < 0 || head < 0 || layer >= layerCount() || head >= headCount()) return std::nan("");
    return double(m_values.data[size_t(layer * headCount() + head)]);
}

void HeadHeatmap::setSelection(int layer, int head)
{
    m_selLayer = layer >= 0 && layer < layerCount() ? layer : -1;
    m_selHead = m_selLayer >= 0 && head >= 0 && head < headCount() ? head : -1;
    update();
}

HeadHeatmap::Layout HeadHeatmap::layoutFor(const QRectF &canvas, const QFontMetricsF &fm) const
{
    Layout lay;
    const double legendH = fm.height() * 2 + 14;
    const double left = fm.horizontalAdvance(QStringLiteral("L000")) + 10;
    const double bottom = fm.height() * 2 + 6;
    lay.legend = QRectF(canvas.right() - 190, canvas.top() + 2, 186, legendH);
    const QRectF room = canvas.adjusted(left, legendH + 8, -8, -bottom);
    const int L = layerCount(), H = headCount();
    if (L > 0 && H > 0 && room.width() > 0 && room.height() > 0) {
        // Square-ish cells are easiest to read; never wider than 3x their height.
        lay.ch = room.height() / L;
        lay.cw = std::min(room.width() / H, std::max(lay.ch * 3, 14.0));
        lay.grid = QRectF(room.left(), room.top(), lay.cw * H, lay.ch * L);
    }
    return lay;
}

QRectF HeadHeatmap::cellRect(int layer, int head) const
{
    if (layer < 0 || head < 0 || layer >= layerCount() || head >= headCount()) return QRectF();
    const Layout lay = layoutFor(QRectF(rect()), QFontMetricsF(font()));
    return QRectF(lay.grid.left() + head * lay.cw,
                  lay.grid.top() + (layerCount() - 1 - layer) * lay.ch, lay.cw, lay.ch);
}

QPair<int, int> HeadHeatmap::cellAt(const QPointF &point) const
{
    const Layout lay = layoutFor(QRectF(rect()), QFontMetricsF(font()));
    if (!lay.grid.contains(point) || lay.cw <= 0 || lay.ch <= 0) return {-1, -1};
    const int h = std::min(headCount() - 1, int((point.x() - lay.grid.left()) / lay.cw));
    const int r = std::min(layerCount() - 1, int((point.y() - lay.grid.top()) / lay.ch));
    return {layerCount() - 1 - r, h};
}

void HeadHeatmap::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    paint(p, QRectF(rect()));
}

void HeadHeatmap::renderTo(QPainter &painter, const QSize &size)
{
    painter.save();
    painter.setFont(font());
    paint(painter, QRectF(QPointF(0, 0), QSizeF(size)));
    painter.restore();
}

void HeadHeatmap::paint(QPainter &p, const QRectF &canvas)
{
    p.fillRect(canvas, Qt::white);
    p.setFont(font());
    const QFontMetricsF fm(font());
    const int L = layerCount(), H = headCount();
    if (L == 0 || H == 0) {
        p.setPen(Accent::mutedText());
        p.drawText(canvas, Qt::AlignCenter | Qt::TextWordWrap, m_emptyText);
        return;
    }
    const Layout lay = layoutFor(canvas, fm);
    const double gap = lay.cw >= 8 && lay.ch >= 8 ? 1.0 : 0.0;
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
            const QRectF c(lay.grid.left() + h * lay.cw, lay.grid.top() + (L - 1 - l) * lay.ch,
                           lay.cw, lay.ch);
            p.fillRect(c.adjusted(gap, gap, 0, 0), QColor::fromRgb(m_scale.rgb(value(l, h))));
        }
    // The selected layer row and head cell.
    if (m_selLayer >= 0) {
        p.setRenderHint(QPainter::Antialiasing, true);
        const QRectF row(lay.grid.left(), lay.grid.top() + (L - 1 - m_selLayer) * lay.ch,
                         lay.grid.width(), lay.ch);
        p.setPen(QPen(QColor(0, 0, 0, 140), 1.2, Qt::DashLine));
        p.setBrush(Qt::NoBrush);
        p.drawRect(row.adjusted(0.5, 0.5, -0.5, -0.5));
        if (m_selHead >= 0) {
            const QRectF c(lay.grid.left() + m_selHead * lay.cw, row.top(), lay.cw, lay.ch);
            p.setPen(QPen(Accent::selection(), 2.5));
            p.drawRect(c.adjusted(0, 0, 1, 1));
        }
        p.setRenderHint(QPainter::Antialiasing, false);
    }
    // Axis labels: layers at the left, heads along the bottom, thinned out to fit.
    QFont bold = font();
    bold.setBold(true);
    const int lstep = std::max(1, int(std::ceil(fm.height() / lay.ch)));
    for (int l = 0; l < L; ++l) {
        if (l % lstep != 0 && l != m_selLayer) continue;
        p.setFont(l == m_selLayer ? bold : font());
        p.setPen(l == m_selLayer ? Accent::selection() : Accent::mutedText());
        const double y = lay.grid.top() + (L - 1 - l + 0.5) * lay.ch;
        p.drawText(QRectF(canvas.left(), y - fm.height() / 2, lay.grid.left() - canvas.left() - 4,
                          fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("L%1").arg(l));
    }
    const int hstep =
        std::max(1, int(std::ceil((fm.horizontalAdvance(QStringLiteral("00")) + 6) / lay.cw)));
    for (int h = 0; h < H; ++h) {
        if (h % hstep != 0 && h != m_selHead) continue;
        p.setFont(h == m_selHead ? bold : font());
        p.setPen(h == m_selHead ? Accent::selection() : Accent::mutedText());
        const double x = lay.grid.left() + (h + 0.5) * lay.cw;
        p.drawText(QRectF(x - 30, lay.grid.bottom() + 2, 60, fm.height()), Qt::AlignCenter,
                   QString::number(h));
    }
    p.setFont(font());
    p.setPen(Accent::mutedText());
    p.drawText(
        QRectF(lay.grid.left(), lay.grid.bottom() + 2 + fm.height(), lay.grid.width(), fm.height()),
        Qt::AlignCenter, tr("head"));
    m_scale.drawLegend(p, lay.legend, m_title, 1);
}

void HeadHeatmap::mousePressEvent(QMouseEvent *event)
{
    const QPair<int, int> c = cellAt(event->position());
    if (c.first >= 0) {
        setSelection(c.first, c.second);
        Q_EMIT headSelected(c.first, c.second);
        event->accept();
        return;
    }
    QWidget::mousePressEvent(event);
}

void HeadHeatmap::keyPressEvent(QKeyEvent *event)
{
    if (layerCount() == 0) {
        QWidget::keyPressEvent(event);
        return;
    }
    int l = m_selLayer < 0 ? 0 : m_selLayer, h = m_selHead < 0 ? 0 : m_selHead;
    if (!moveByArrowKey(event->key(), h, l, headCount(), layerCount())) {
        QWidget::keyPressEvent(event);
        return;
    }
    setSelection(l, h);
    Q_EMIT headSelected(l, h);
}

bool HeadHeatmap::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QPair<int, int> c = cellAt(help->pos());
        if (c.first >= 0)
            QToolTip::showText(help->globalPos(),
                               tr("Layer %1, head %2: %3 = %4")
                                   .arg(c.first)
                                   .arg(c.second)
                                   .arg(m_title)
                                   .arg(value(c.first, c.second), 0, 'f', 4),
                               this);
        else
            QToolTip::showText(help->globalPos(), toolTip(), this);
        return true;
    }
    return QWidget::event(event);
}

QString HeadHeatmap::csv() const
{
    QString out =
        csvLine({QStringLiteral("layer"), QStringLiteral("head"), QStringLiteral("value")});
    for (int l = 0; l < layerCount(); ++l)
        for (int h = 0; h < headCount(); ++h)
            out += csvLine(
                {QString::number(l), QString::number(h), QString::number(value(l, h), 'g', 7)});
    return out;
}

} // namespace HeadLens
