#include "headlens/ui/headsimilarityview.h"

#include <QEvent>
#include <QFontMetricsF>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <cmath>
#include <limits>

namespace HeadLens {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMargin = 8;
// A few heads should not fill a whole dock; an exported figure may use larger cells.
constexpr double kMaxCell = 96;
constexpr double kMaxExportCell = 200;
} // namespace

HeadSimilarityView::HeadSimilarityView(QWidget *parent)
    : ViewPanel(parent), m_scale(ColourScale::Palette::Blues, 0.0, 1.0)
{
    setObjectName(QStringLiteral("HeadSimilarityView"));
    setMouseTracking(true);
    setFocusPolicy(Qt::ClickFocus);
    retranslateUi();
}

void HeadSimilarityView::retranslateUi()
{
    setToolTip(tr("Heads by heads, ordered by cluster (outlined): a dark cell means the two "
                  "heads behave alike. Click a cell to select its row's head."));
    update();
}

QSize HeadSimilarityView::minimumSizeHint() const
{
    return QSize(200, 200);
}

QSize HeadSimilarityView::sizeHint() const
{
    return QSize(380, 400);
}

void HeadSimilarityView::setMatrix(const DoubleArray &similarity, const std::vector<int> &order,
                                   const std::vector<int> &cluster, const QString &valueTitle)
{
    const bool square = similarity.rank() == 2 && similarity.dim(0) == similarity.dim(1);
    m_values = square ? similarity : DoubleArray();
    const int H = headCount();
    m_order = order;
    if (int(m_order.size()) != H) {
        m_order.resize(size_t(H));
        for (int h = 0; h < H; ++h)
            m_order[size_t(h)] = h;
    }
    m_cluster = int(cluster.size()) == H ? cluster : std::vector<int>();
    m_title = valueTitle;
    m_message.clear();
    bool negative = false;
    for (double v : m_values.data)
        if (std::isfinite(v) && v < 0) negative = true;
    m_scale.setRange(negative ? -1.0 : 0.0, 1.0);
    if (m_selHead >= H) m_selHead = -1;
    m_hoverRow = m_hoverCol = -1;
    update();
}

void HeadSimilarityView::setMessage(const QString &text)
{
    m_values = DoubleArray();
    m_order.clear();
    m_cluster.clear();
    m_message = text;
    m_hoverRow = m_hoverCol = -1;
    update();
}

double HeadSimilarityView::value(int a, int b) const
{
    const int H = headCount();
    if (a < 0 || b < 0 || a >= H || b >= H) return kNaN;
    return m_values.data[size_t(a * H + b)];
}

double HeadSimilarityView::valueAt(int row, int col) const
{
    const int H = headCount();
    if (row < 0 || col < 0 || row >= H || col >= H) return kNaN;
    return value(m_order[size_t(row)], m_order[size_t(col)]);
}

void HeadSimilarityView::setSelectedHead(int head)
{
    m_selHead = head >= 0 && head < headCount() ? head : -1;
    update();
}

HeadSimilarityView::Layout
HeadSimilarityView::layoutFor(const QRectF &canvas, const QFontMetricsF &fm, double maxCell) const
{
    Layout lay;
    const int H = headCount();
    if (H == 0) return lay;
    const double labelW = fm.horizontalAdvance(QStringLiteral("H%1").arg(H - 1)) + 8;
    const double labelH = fm.height() + 4;
    const double legendH = fm.height() * 2 + 14;
    const double roomW = canvas.width() - 2 * kMargin - labelW;
    const double roomH = canvas.height() - 2 * kMargin - labelH - legendH - 10;
    lay.cell = std::min({roomW / H, roomH / H, maxCell});
    if (lay.cell <= 0) {
        lay.cell = 0;
        return lay;
    }
    const double side = lay.cell * H;
    // The labels, grid and legend as one block, centred on the canvas.
    const double left = canvas.left() + std::max(kMargin, (canvas.width() - labelW - side) / 2);
    const double top =
        canvas.top() + std::max(kMargin, (canvas.height() - labelH - side - 10 - legendH) / 2);
    lay.grid = QRectF(left + labelW, top + labelH, side, side);
    const double legendW = std::clamp(side + labelW, 180.0, 280.0);
    lay.legend = QRectF(std::max(canvas.left() + kMargin, lay.grid.right() - legendW),
                        lay.grid.bottom() + 10, legendW, legendH);
    return lay;
}

QRectF HeadSimilarityView::cellRect(int row, int col) const
{
    const int H = headCount();
    if (row < 0 || col < 0 || row >= H || col >= H) return QRectF();
    const Layout lay = layoutFor(QRectF(rect()), QFontMetricsF(font()), kMaxCell);
    return QRectF(lay.grid.left() + col * lay.cell, lay.grid.top() + row * lay.cell, lay.cell,
                  lay.cell);
}

QPair<int, int> HeadSimilarityView::cellAt(const QPointF &point) const
{
    const Layout lay = layoutFor(QRectF(rect()), QFontMetricsF(font()), kMaxCell);
    if (lay.cell <= 0 || !lay.grid.contains(point)) return {-1, -1};
    const int H = headCount();
    const int col = std::min(H - 1, int((point.x() - lay.grid.left()) / lay.cell));
    const int row = std::min(H - 1, int((point.y() - lay.grid.top()) / lay.cell));
    return {row, col};
}

QString HeadSimilarityView::cellText(int row, int col) const
{
    const int H = headCount();
    if (row < 0 || col < 0 || row >= H || col >= H) return QString();
    const double v = valueAt(row, col);
    return tr("H%1 vs H%2: %3")
        .arg(m_order[size_t(row)])
        .arg(m_order[size_t(col)])
        .arg(std::isnan(v) ? tr("n/a") : QString::number(v, 'f', 2));
}

void HeadSimilarityView::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    paint(p, QRectF(rect()), kMaxCell);
}

void HeadSimilarityView::renderTo(QPainter &painter, const QSize &size)
{
    painter.save();
    painter.setFont(font());
    paint(painter, QRectF(QPointF(0, 0), QSizeF(size)), kMaxExportCell);
    painter.restore();
}

void HeadSimilarityView::paint(QPainter &p, const QRectF &canvas, double maxCell) const
{
    p.fillRect(canvas, Qt::white);
    p.setFont(font());
    const QFontMetricsF fm(font());
    const int H = headCount();
    const Layout lay = layoutFor(canvas, fm, maxCell);
    if (H == 0 || lay.cell <= 0) {
        p.setPen(Accent::mutedText());
        p.drawText(canvas.adjusted(kMargin, kMargin, -kMargin, -kMargin),
                   Qt::AlignCenter | Qt::TextWordWrap, m_message);
        return;
    }
    const double c = lay.cell;
    const double gap = c >= 10 ? 1.0 : 0.0;
    const QString nan = tr("n/a");
    const bool numbers = c >= fm.horizontalAdvance(QStringLiteral("-0.00")) + 6 && c >= fm.height();
    for (int r = 0; r < H; ++r)
        for (int k = 0; k < H; ++k) {
            const QRectF cell(lay.grid.left() + k * c, lay.grid.top() + r * c, c, c);
            const double v = valueAt(r, k);
            const QRgb rgb = m_scale.rgb(v);
            p.fillRect(cell.adjusted(0, 0, -gap, -gap), QColor::fromRgb(rgb));
            if (numbers) {
                p.setPen(std::isnan(v) ? Accent::mutedText() : ColourScale::textColourOn(rgb));
                p.drawText(cell.adjusted(0, 0, -gap, -gap), Qt::AlignCenter,
                           std::isnan(v) ? nan : QString::number(v, 'f', 2));
            }
        }

    p.setRenderHint(QPainter::Antialiasing, true);
    p.setBrush(Qt::NoBrush);
    // Clusters of two or more heads: outlined blocks on the diagonal, a dark line on a white
    // halo so that it shows on dark and light cells alike.
    if (!m_cluster.empty()) {
        std::vector<QRectF> blocks;
        int start = 0;
        for (int r = 1; r <= H; ++r) {
            const bool end = r == H || m_cluster[size_t(m_order[size_t(r)])] !=
                                           m_cluster[size_t(m_order[size_t(start)])];
            if (!end) continue;
            if (r - start > 1)
                blocks.emplace_back(lay.grid.left() + start * c, lay.grid.top() + start * c,
                                    (r - start) * c - gap, (r - start) * c - gap);
            start = r;
        }
        const double w = c >= 10 ? 2.0 : 1.2;
        for (const QPen &pen : {QPen(Qt::white, w + 2.5), QPen(QColor(0x20, 0x20, 0x20), w)}) {
            p.setPen(pen);
            for (const QRectF &b : blocks)
                p.drawRect(b);
        }
    }
    // The selected head: its row dashed, its diagonal cell in the selection colour.
    int selRow = -1;
    for (int r = 0; r < H; ++r)
        if (m_order[size_t(r)] == m_selHead) selRow = r;
    if (selRow >= 0) {
        p.setPen(QPen(QColor(0, 0, 0, 140), 1.2, Qt::DashLine));
        p.drawRect(QRectF(lay.grid.left(), lay.grid.top() + selRow * c, lay.grid.width(), c)
                       .adjusted(0.5, 0.5, -0.5, -0.5));
        p.setPen(QPen(Accent::selection(), 2.5));
        p.drawRect(QRectF(lay.grid.left() + selRow * c, lay.grid.top() + selRow * c, c, c));
    }
    if (m_hoverRow >= 0 && m_hoverCol >= 0) {
        p.setPen(QPen(QColor(0, 0, 0, 200), 1.0));
        p.drawRect(QRectF(lay.grid.left() + m_hoverCol * c, lay.grid.top() + m_hoverRow * c, c, c)
                       .adjusted(0.5, 0.5, -0.5, -0.5));
    }
    p.setRenderHint(QPainter::Antialiasing, false);

    // Head labels: rows at the left, columns on top, thinned out to fit.
    QFont bold = font();
    bold.setBold(true);
    const int rowStep = std::max(1, int(std::ceil(fm.height() / c)));
    const int colStep = std::max(
        1, int(std::ceil((fm.horizontalAdvance(QStringLiteral("H%1").arg(H - 1)) + 4) / c)));
    for (int r = 0; r < H; ++r) {
        const int head = m_order[size_t(r)];
        const bool sel = head == m_selHead;
        p.setFont(sel ? bold : font());
        p.setPen(sel ? Accent::selection() : QColor(0x40, 0x40, 0x40));
        const QString label = QStringLiteral("H%1").arg(head);
        if (r % rowStep == 0 || sel)
            p.drawText(QRectF(canvas.left(), lay.grid.top() + r * c,
                              lay.grid.left() - canvas.left() - 4, c),
                       Qt::AlignRight | Qt::AlignVCenter, label);
        if (r % colStep == 0 || sel)
            p.drawText(QRectF(lay.grid.left() + r * c - 20, lay.grid.top() - fm.height() - 3,
                              c + 40, fm.height()),
                       Qt::AlignHCenter | Qt::AlignBottom, label);
    }
    p.setFont(font());
    m_scale.drawLegend(p, lay.legend, m_title, m_scale.lower() < 0 ? 1 : 2);
}

void HeadSimilarityView::mousePressEvent(QMouseEvent *event)
{
    const QPair<int, int> c = cellAt(event->position());
    if (c.first >= 0 && event->button() == Qt::LeftButton) {
        const int head = m_order[size_t(c.first)];
        setSelectedHead(head);
        Q_EMIT headSelected(head);
        event->accept();
        return;
    }
    QWidget::mousePressEvent(event);
}

void HeadSimilarityView::mouseMoveEvent(QMouseEvent *event)
{
    const QPair<int, int> c = cellAt(event->position());
    if (c.first != m_hoverRow || c.second != m_hoverCol) {
        m_hoverRow = c.first;
        m_hoverCol = c.second;
        update();
        if (c.first >= 0)
            Q_EMIT hovered(m_order[size_t(c.first)], m_order[size_t(c.second)]);
        else
            Q_EMIT hovered(-1, -1);
    }
    QWidget::mouseMoveEvent(event);
}

void HeadSimilarityView::leaveEvent(QEvent *event)
{
    if (m_hoverRow >= 0) {
        m_hoverRow = m_hoverCol = -1;
        update();
        Q_EMIT hovered(-1, -1);
    }
    QWidget::leaveEvent(event);
}

bool HeadSimilarityView::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QPair<int, int> c = cellAt(help->pos());
        QToolTip::showText(help->globalPos(),
                           c.first >= 0 ? cellText(c.first, c.second) : toolTip(), this);
        return true;
    }
    return QWidget::event(event);
}

QString HeadSimilarityView::csv() const
{
    const int H = headCount();
    QStringList header{QStringLiteral("head"), QStringLiteral("cluster")};
    for (int k = 0; k < H; ++k)
        header << QStringLiteral("H%1").arg(m_order[size_t(k)]);
    QString out = csvLine(header);
    for (int r = 0; r < H; ++r) {
        const int head = m_order[size_t(r)];
        QStringList line{QString::number(head),
                         m_cluster.empty() ? QString() : QString::number(m_cluster[size_t(head)])};
        for (int k = 0; k < H; ++k) {
            const double v = valueAt(r, k);
            line << (std::isnan(v) ? QString() : QString::number(v, 'g', 7));
        }
        out += csvLine(line);
    }
    return out;
}

} // namespace HeadLens
