#include "headlens/ui/comparisongrid.h"

#include "headlens/ui/colourscale.h"

#include "gridkeys.h"
#include "headlens/analysis/comparison.h"
#include "tokentext.h"
#include "uitext.h"

#include <QFontMetricsF>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace HeadLens {

int ComparisonSideData::layerAtDepth(double d) const
{
    return HeadLens::layerAtDepth(d, layers);
}

ComparisonGrid::ComparisonGrid(QWidget *parent) : QAbstractScrollArea(parent)
{
    setObjectName(QStringLiteral("ComparisonGrid"));
    setFocusPolicy(Qt::StrongFocus);
    setFrameShape(QFrame::StyledPanel);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    viewport()->setMouseTracking(true);
    viewport()->setAttribute(Qt::WA_OpaquePaintEvent);
}

QSize ComparisonGrid::minimumSizeHint() const
{
    return QSize(200, 120);
}
QSize ComparisonGrid::sizeHint() const
{
    return QSize(600, 220);
}

void ComparisonGrid::setData(std::shared_ptr<const ComparisonSideData> self,
                             std::shared_ptr<const ComparisonSideData> other,
                             std::shared_ptr<const AlignedPairs> pairs, int side)
{
    m_self = std::move(self);
    m_other = std::move(other);
    m_pairs = std::move(pairs);
    m_side = side;
    m_selPair = -1;
    m_selDepth = -1;
    updateScrollBars();
    viewport()->update();
}

void ComparisonGrid::setMarkAllDepths(bool on)
{
    m_markAll = on;
    viewport()->update();
}

void ComparisonGrid::setSelection(int pair, double depth)
{
    const int n = m_pairs ? int(m_pairs->size()) : 0;
    m_selPair = pair >= 0 && pair < n ? pair : -1;
    m_selDepth = m_selPair >= 0 ? depth : -1;
    if (m_selPair >= 0) {
        // Keep the selected column in view.
        const double x = m_selPair * m_colW;
        QScrollBar *hb = horizontalScrollBar();
        const double room =
            viewport()->width() - layoutFor(QRectF(viewport()->rect()), m_colW, 0).gutter;
        if (x < hb->value())
            hb->setValue(int(x));
        else if (x + m_colW > hb->value() + room)
            hb->setValue(int(x + m_colW - room));
    }
    viewport()->update();
}

int ComparisonGrid::selectedLayer() const
{
    return m_selDepth > 0 && m_self ? m_self->layerAtDepth(m_selDepth) : -1;
}

int ComparisonGrid::tokenOf(int pair) const
{
    if (!m_pairs || pair < 0 || pair >= int(m_pairs->size())) return -1;
    const auto &p = (*m_pairs)[size_t(pair)];
    return m_side == 0 ? p.first : p.second;
}

int ComparisonGrid::otherTokenOf(int pair) const
{
    if (!m_pairs || pair < 0 || pair >= int(m_pairs->size())) return -1;
    const auto &p = (*m_pairs)[size_t(pair)];
    return m_side == 0 ? p.second : p.first;
}

bool ComparisonGrid::cellDiffers(int pair, int layer) const
{
    const int i = tokenOf(pair), j = otherTokenOf(pair);
    if (i < 0 || j < 0 || !m_self || !m_other || !m_self->hasLens() || !m_other->hasLens())
        return false;
    const int lo = m_other->layerAtDepth(m_self->depthOfLayer(layer));
    return lo >= 0 && m_self->top1[m_self->at(layer, i)] != m_other->top1[m_other->at(lo, j)];
}

bool ComparisonGrid::finalDiffers(int pair) const
{
    const int i = tokenOf(pair), j = otherTokenOf(pair);
    if (i < 0 || j < 0 || !m_self || !m_other || !m_self->hasLens() || !m_other->hasLens())
        return false;
    return m_self->top1[m_self->at(m_self->layers - 1, i)] !=
           m_other->top1[m_other->at(m_other->layers - 1, j)];
}

QString ComparisonGrid::depthCaption() const
{
    //: Above the comparison rows' labels "L3 0.80": the layer and its relative depth (l + 1) / L.
    return tr("layer depth");
}

ComparisonGrid::Layout ComparisonGrid::layoutFor(const QRectF &canvas, double colW,
                                                 double scrollX) const
{
    Layout lay;
    const QFontMetricsF fm(font());
    lay.gutter = std::max(fm.horizontalAdvance(QStringLiteral("L00 1.00")),
                          fm.horizontalAdvance(depthCaption())) +
                 10;
    lay.colW = colW;
    const double line = fm.height() + 6;
    lay.title = QRectF(canvas.left(), canvas.top(), canvas.width(), line);
    lay.header =
        QRectF(canvas.left() + lay.gutter, lay.title.bottom(), canvas.width() - lay.gutter, line);
    lay.final = QRectF(lay.header.left(), canvas.bottom() - line - 2, lay.header.width(), line);
    lay.grid = QRectF(lay.header.left(), lay.header.bottom() + 2, lay.header.width(),
                      std::max(10.0, lay.final.top() - lay.header.bottom() - 4));
    lay.originX = lay.header.left() - scrollX;
    return lay;
}

void ComparisonGrid::updateScrollBars()
{
    const Layout lay = layoutFor(QRectF(viewport()->rect()), m_colW, 0);
    const int n = m_pairs ? int(m_pairs->size()) : 0;
    QScrollBar *hb = horizontalScrollBar();
    hb->setRange(0, std::max(0, int(std::ceil(n * m_colW - lay.grid.width()))));
    hb->setPageStep(std::max(1, int(lay.grid.width())));
    hb->setSingleStep(m_colW);
}

void ComparisonGrid::resizeEvent(QResizeEvent *event)
{
    QAbstractScrollArea::resizeEvent(event);
    updateScrollBars();
}

void ComparisonGrid::scrollContentsBy(int, int)
{
    viewport()->update();
}

QRectF ComparisonGrid::cellRect(int pair, int layer) const
{
    if (!m_self || layer < 0 || layer >= m_self->layers || pair < 0 || !m_pairs ||
        pair >= int(m_pairs->size()))
        return QRectF();
    const Layout lay =
        layoutFor(QRectF(viewport()->rect()), m_colW, horizontalScrollBar()->value());
    const double rh = lay.grid.height() / m_self->layers;
    return QRectF(lay.originX + pair * m_colW, lay.grid.top() + (m_self->layers - 1 - layer) * rh,
                  m_colW, rh);
}

QPair<int, int> ComparisonGrid::cellAt(const QPointF &point) const
{
    if (!m_self || !m_pairs || m_self->layers <= 0) return {-1, -1};
    const Layout lay =
        layoutFor(QRectF(viewport()->rect()), m_colW, horizontalScrollBar()->value());
    const QRectF hit(lay.grid.left(), lay.header.top(), lay.grid.width(),
                     lay.final.bottom() - lay.header.top());
    if (!hit.contains(point)) return {-1, -1};
    const int c = int(std::floor((point.x() - lay.originX) / m_colW));
    if (c < 0 || c >= int(m_pairs->size())) return {-1, -1};
    const double rh = lay.grid.height() / m_self->layers;
    int r = int(std::floor((point.y() - lay.grid.top()) / rh));
    r = std::clamp(r, 0, m_self->layers - 1); // header and final strip: top / bottom layer
    if (point.y() >= lay.final.top()) r = 0;
    return {c, m_self->layers - 1 - r};
}

void ComparisonGrid::paintEvent(QPaintEvent *)
{
    QPainter p(viewport());
    paintTo(p, QRectF(viewport()->rect()), m_colW, horizontalScrollBar()->value());
}

void ComparisonGrid::paintTo(QPainter &p, const QRectF &canvas, double colW, double scrollX)
{
    p.save();
    p.fillRect(canvas, Qt::white);
    p.setFont(font());
    const QFontMetricsF fm(font());
    const Layout lay = layoutFor(canvas, colW, scrollX);
    QFont bold = font();
    bold.setBold(true);

    // Title.
    p.setFont(bold);
    p.setPen(QColor(0x20, 0x20, 0x20));
    const QString title = m_self ? m_self->title : QString();
    p.drawText(lay.title.adjusted(6, 0, -6, 0), Qt::AlignLeft | Qt::AlignVCenter,
               fm.elidedText(title, Qt::ElideRight, lay.title.width() - 12));
    p.setFont(font());
    if (!m_self || !m_pairs || m_self->layers <= 0) {
        p.restore();
        return;
    }
    const int L = m_self->layers;
    const int n = int(m_pairs->size());
    const double rh = lay.grid.height() / L;

    // Depth labels at the left: the layer and its relative depth where there is room.
    const int lstep = std::max(1, int(std::ceil(fm.height() / rh)));
    p.setPen(Accent::mutedText());
    for (int l = 0; l < L; ++l) {
        if ((L - 1 - l) % lstep != 0) continue;
        const double y = lay.grid.top() + (L - 1 - l + 0.5) * rh;
        p.drawText(QRectF(canvas.left(), y - fm.height() / 2, lay.gutter - 6, fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter,
                   QStringLiteral("L%1 %2").arg(l).arg(m_self->depthOfLayer(l), 0, 'f', 2));
    }
    p.drawText(QRectF(canvas.left(), lay.final.top(), lay.gutter - 6, lay.final.height()),
               Qt::AlignRight | Qt::AlignVCenter, tr("final"));
    // What the row labels are, above them in the tokens' header row.
    p.drawText(QRectF(canvas.left(), lay.header.top(), lay.gutter - 6, lay.header.height()),
               Qt::AlignRight | Qt::AlignVCenter, depthCaption());

    p.setClipRect(QRectF(lay.grid.left(), canvas.top(), lay.grid.width(), canvas.height()));
    const int c0 = std::max(0, int(std::floor((lay.grid.left() - lay.originX) / colW)));
    const int c1 = std::min(n - 1, int(std::floor((lay.grid.right() - lay.originX) / colW)));
    const ColourScale scale(ColourScale::Palette::Blues);
    const QColor warm = Accent::difference();
    for (int c = c0; c <= c1; ++c) {
        const int i = tokenOf(c);
        // A token split on the other side spans its pairs: draw it once, at its first pair.
        if (i >= 0 && c > c0 && tokenOf(c - 1) == i) continue;
        int first = c, last = c;
        while (i >= 0 && first > 0 && tokenOf(first - 1) == i)
            --first;
        while (i >= 0 && last + 1 < n && tokenOf(last + 1) == i)
            ++last;
        const double x0 = lay.originX + first * colW, x1 = lay.originX + (last + 1) * colW;
        const QRectF column(x0 + 1, lay.grid.top(), x1 - x0 - 2, lay.grid.height());
        if (i < 0) {
            p.fillRect(column, QBrush(QColor(0xdd, 0xdd, 0xdd), Qt::BDiagPattern));
            p.setPen(Accent::mutedText());
            p.drawText(QRectF(x0, lay.header.top(), x1 - x0, lay.header.height()), Qt::AlignCenter,
                       QStringLiteral("\u2014"));
            continue;
        }
        bool anyFinalDiff = false;
        for (int k = first; k <= last; ++k)
            anyFinalDiff = anyFinalDiff || finalDiffers(k);
        // Header: the token.
        const QRectF head(x0, lay.header.top(), x1 - x0, lay.header.height());
        p.setFont(i >= int(m_self->tokenText.size()) ? font() : font());
        p.setPen(QColor(0x20, 0x20, 0x20));
        p.drawText(head.adjusted(2, 0, -2, 0), Qt::AlignCenter,
                   fm.elidedText(tokenLabel(m_self->tokenText[size_t(i)]), Qt::ElideRight,
                                 head.width() - 4));
        // Cells, one per layer.
        for (int l = 0; l < L; ++l) {
            const QRectF cell(column.left(), lay.grid.top() + (L - 1 - l) * rh, column.width(), rh);
            const QRectF inner = rh >= 6 ? cell.adjusted(0, 0.5, 0, -0.5) : cell;
            QRgb bg = ColourScale::noDataRgb();
            if (m_self->hasLens()) bg = scale.rgb(m_self->prob[m_self->at(l, i)]);
            p.fillRect(inner, QColor::fromRgb(bg));
            if (m_self->hasLens() && rh >= fm.height()) {
                const QString text = tokenLabel(m_self->top1[m_self->at(l, i)]);
                if (fm.horizontalAdvance(text) <= inner.width() - 4) {
                    p.setPen(ColourScale::textColourOn(bg));
                    p.drawText(inner, Qt::AlignCenter, text);
                }
            }
            bool differs = false;
            if (m_markAll)
                for (int k = first; k <= last && !differs; ++k)
                    differs = cellDiffers(k, l);
            if (differs) {
                p.setPen(QPen(warm, 2));
                p.setBrush(Qt::NoBrush);
                p.drawRect(inner.adjusted(1, 1, -1, -1));
            }
        }
        // Decision depth: a dark bar under the layer from which the answer stands.
        if (i < int(m_self->depth.size()) && m_self->depth[size_t(i)] >= 0) {
            const int d = m_self->depth[size_t(i)];
            const double y = lay.grid.top() + (L - d) * rh;
            p.fillRect(QRectF(column.left() + 2, y - 2, column.width() - 4, 3),
                       QColor(0x20, 0x20, 0x20));
        }
        // Final strip: the last layer's top-1, warm where the two traces disagree.
        const QRectF fin(column.left(), lay.final.top(), column.width(), lay.final.height());
        if (m_self->hasLens()) {
            if (anyFinalDiff)
                p.fillRect(fin, warm);
            else
                p.fillRect(fin, QColor(0xf0, 0xf0, 0xf0));
            p.setFont(bold);
            p.setPen(anyFinalDiff ? QColor(Qt::white) : QColor(0x20, 0x20, 0x20));
            p.drawText(
                fin.adjusted(2, 0, -2, 0), Qt::AlignCenter,
                QFontMetricsF(bold).elidedText(tokenLabel(m_self->top1[m_self->at(L - 1, i)]),
                                               Qt::ElideRight, fin.width() - 4));
            p.setFont(font());
        }
    }
    // Selection: the pair's column and the cell at the selected depth.
    if (m_selPair >= 0) {
        p.setRenderHint(QPainter::Antialiasing, true);
        const double x0 = lay.originX + m_selPair * colW;
        p.setPen(QPen(Accent::selection(), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRect(QRectF(x0 + 1, lay.header.top() + 1, colW - 2,
                          lay.final.bottom() - lay.header.top() - 2));
        const int sl = selectedLayer();
        if (sl >= 0) {
            p.setPen(QPen(Accent::selection(), 3));
            p.drawRect(QRectF(x0 + 1, lay.grid.top() + (L - 1 - sl) * rh, colW - 2, rh));
        }
    }
    p.restore();
}

void ComparisonGrid::mousePressEvent(QMouseEvent *event)
{
    setFocus(Qt::MouseFocusReason);
    const QPair<int, int> c = cellAt(event->position());
    if (c.first >= 0 && event->button() == Qt::LeftButton) {
        Q_EMIT cellClicked(c.first, c.second);
        event->accept();
        return;
    }
    QAbstractScrollArea::mousePressEvent(event);
}

void ComparisonGrid::keyPressEvent(QKeyEvent *event)
{
    if (!m_pairs || m_pairs->empty() || !m_self) {
        QAbstractScrollArea::keyPressEvent(event);
        return;
    }
    int pair = m_selPair < 0 ? 0 : m_selPair;
    // A selection shallower than this side's first layer has no layer here (-1): every key
    // then moves to layer 0.
    int layer = m_selDepth > 0 ? selectedLayer() : m_self->layers - 1;
    if (!moveByArrowKey(event->key(), pair, layer, int(m_pairs->size()), m_self->layers)) {
        QAbstractScrollArea::keyPressEvent(event);
        return;
    }
    Q_EMIT cellClicked(pair, std::max(layer, 0));
}

bool ComparisonGrid::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QPair<int, int> c = cellAt(help->pos());
        if (c.first >= 0)
            QToolTip::showText(help->globalPos(), cellToolTip(c.first, c.second), viewport());
        else
            QToolTip::showText(help->globalPos(), toolTip(), viewport());
        return true;
    }
    return QAbstractScrollArea::viewportEvent(event);
}

QString ComparisonGrid::cellToolTip(int pair, int layer) const
{
    auto describe = [](const ComparisonSideData &s, int pos, int l) {
        if (pos < 0) return tr("%1: no token here").arg(s.title);
        if (l < 0) return tr("%1: no layer this shallow").arg(s.title);
        QString t = tr("%1: %2 (position %3), layer %4 (depth %5)")
                        .arg(s.title, quoted(s.tokenText[size_t(pos)]))
                        .arg(pos)
                        .arg(l)
                        .arg(s.depthOfLayer(l), 0, 'f', 2);
        if (s.hasLens())
            t += QStringLiteral("\n    ") + tr("top-1 %1, %2 %, entropy %3 nats")
                                                .arg(quoted(s.top1[s.at(l, pos)]))
                                                .arg(s.prob[s.at(l, pos)] * 100.0, 0, 'f', 1)
                                                .arg(s.entropy[s.at(l, pos)], 0, 'f', 2);
        if (pos < int(s.depth.size()) && s.depth[size_t(pos)] >= 0)
            t += QStringLiteral("\n    ") + tr("decided at layer %1").arg(s.depth[size_t(pos)]);
        return t;
    };
    const int ol = m_other ? m_other->layerAtDepth(m_self->depthOfLayer(layer)) : -1;
    QString s = describe(*m_self, tokenOf(pair), layer);
    if (m_other) s += QStringLiteral("\n") + describe(*m_other, otherTokenOf(pair), ol);
    return s;
}

} // namespace HeadLens
