#include "headlens/ui/blockview.h"

#include "blockpainter.h"
#include "blocktooltip.h"
#include "uitext.h"

#include <QApplication>
#include <QContextMenuEvent>
#include <QEvent>
#include <QFontMetricsF>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QStringList>
#include <QStyle>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace HeadLens {

namespace {

using Layout = BlockGridLayout;

// One zoom step of the buttons and keys; a standard wheel step (120) zooms by 1.2.
constexpr double kZoomStep = 1.25;
constexpr double kWheelStep = 1.2;

} // namespace

BlockView::BlockView(QWidget *parent)
    : QAbstractScrollArea(parent), m_painter(std::make_unique<BlockPainter>(m_data))
{
    setObjectName(QStringLiteral("BlockView"));
    setFocusPolicy(Qt::StrongFocus);
    setFrameShape(QFrame::NoFrame);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    viewport()->setMouseTracking(true);
    viewport()->setAttribute(Qt::WA_OpaquePaintEvent);
    viewport()->setAutoFillBackground(false);
    m_painter->setFonts(font(), font());
    retranslateUi();
}

BlockView::~BlockView() = default;

void BlockView::retranslateUi()
{
    setToolTip(tr("Layers (bottom to top) by tokens (left to right): each block is what the "
                  "lens reads at that layer and position.\nClick or use the arrow keys to "
                  "select; Ctrl+wheel or +/- to zoom, Ctrl+Shift+wheel to zoom the width only, "
                  "F to fit; drag to pan.\nOutlined blocks (a bin of the entropy histogram): Esc "
                  "or a click clears them. Right-click a block to follow one of its tokens."));
    setAccessibleName(tr("Block view"));
    m_painter->setEmptyText(tr("No trace to show: open a project and choose a trace."));
    viewport()->update();
}

void BlockView::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    if (event->type() == QEvent::FontChange) {
        m_painter->setFonts(font(), font());
        if (m_fitted)
            fit();
        else
            updateScrollBars();
    }
    QAbstractScrollArea::changeEvent(event);
}

QSize BlockView::minimumSizeHint() const
{
    return QSize(240, 160);
}
QSize BlockView::sizeHint() const
{
    return QSize(900, 560);
}

// ---------------------------------------------------------------------------------- data

void BlockView::clear()
{
    const bool highlighted = m_data.highlightCount() > 0;
    m_data.clear();
    m_painter->resetTexts();
    m_painter->resetHighlight();
    if (highlighted) Q_EMIT highlightChanged(0);
    updateScrollBars();
    viewport()->update();
}

void BlockView::setTrace(const Trace &trace)
{
    setTrace(trace, QString::fromStdString(trace.name));
}

void BlockView::setTrace(const Trace &trace, const QString &key)
{
    clear();
    m_data.setTrace(trace);
    m_painter->resetTexts();
    m_traceKey = key;
    const auto it = m_zoomByTrace.constFind(key);
    horizontalScrollBar()->setValue(0);
    verticalScrollBar()->setValue(0);
    if (it == m_zoomByTrace.constEnd() || it->fitted) {
        fit();
    } else {
        m_fitted = false;
        applyZoom(it->x, it->y);
    }
    horizontalScrollBar()->setValue(0);
    verticalScrollBar()->setValue(0);
    viewport()->update();
}

bool BlockView::setLens(const LensSite &site)
{
    const int before = m_data.highlightCount();
    const bool ok = m_data.setLens(site);
    m_painter->resetTexts();
    if (m_data.highlightCount() != before) highlightUpdated(m_data.highlightCount());
    viewport()->update();
    return ok;
}

void BlockView::setColourMode(ColourMode mode)
{
    m_data.setColourMode(mode);
    viewport()->update();
}

void BlockView::setPatching(const std::vector<float> &recovered, const std::vector<float> &heads,
                            int nHeads)
{
    m_data.setPatching(recovered, heads, nHeads);
    viewport()->update();
}

void BlockView::setFollowToken(int tokenId)
{
    const int before = m_data.followToken();
    m_data.setFollowToken(tokenId);
    viewport()->update();
    if (m_data.followToken() != before) Q_EMIT followTokenChanged(m_data.followToken());
}

void BlockView::setFollowMeasure(FollowMeasure measure)
{
    m_data.setFollowMeasure(measure);
    viewport()->update();
}

// ----------------------------------------------------------------------------- selection

void BlockView::setSelection(int layer, int pos)
{
    if (m_data.setSelection(layer, pos)) viewport()->update();
}

void BlockView::selectByUser(int layer, int pos)
{
    if (m_data.layers() <= 0 || m_data.tokens() <= 0) return;
    layer = std::clamp(layer, 0, m_data.layers() - 1);
    pos = std::clamp(pos, 0, m_data.tokens() - 1);
    const bool changed = m_data.setSelection(layer, pos);
    ensureVisible(layer, pos);
    viewport()->update();
    if (changed) Q_EMIT blockSelected(layer, pos);
}

// ----------------------------------------------------------------------------- highlight

void BlockView::highlightUpdated(int count)
{
    m_painter->resetHighlight();
    viewport()->update();
    Q_EMIT highlightChanged(count);
}

void BlockView::setHighlightedBlocks(const QVector<QPair<int, int>> &blocks)
{
    highlightUpdated(m_data.setHighlight(blocks));
}

void BlockView::clearHighlight()
{
    if (m_data.clearHighlight()) highlightUpdated(0);
}

void BlockView::showBlocks(const QVector<QPair<int, int>> &blocks)
{
    setHighlightedBlocks(blocks);
    if (m_data.highlightCount() == 0) return;
    const QVector<QPair<int, int>> shown = m_data.highlightedBlocks(); // sorted, inside the grid
    selectByUser(shown.first().first, shown.first().second);
}

// ----------------------------------------------------------------------------- attention

void BlockView::setAttention(int layer, const FloatArray &pattern)
{
    m_data.setAttention(layer, pattern);
    viewport()->update();
}

void BlockView::setAttentionRow(int layer, int pos, const FloatArray &row)
{
    m_data.setAttentionRow(layer, pos, row);
    viewport()->update();
}

void BlockView::clearAttention()
{
    m_data.clearAttention();
    viewport()->update();
}

void BlockView::setAttentionHead(int head)
{
    m_data.setAttentionHead(head);
    viewport()->update();
}

void BlockView::setAttentionThreshold(double weight)
{
    m_data.setAttentionThreshold(weight);
    viewport()->update();
}

// ------------------------------------------------------------------------------ geometry

QRectF BlockView::gridArea(const QRectF &canvas) const
{
    return Layout::gridArea(canvas, QFontMetricsF(m_painter->headerFont()));
}

BlockGridLayout BlockView::layout() const
{
    return Layout(gridArea(QRectF(viewport()->rect())), m_data.layers(), m_data.tokens(), m_zoomX,
                  m_zoomY, horizontalScrollBar()->value(), verticalScrollBar()->value());
}

QRectF BlockView::blockRect(int layer, int pos) const
{
    if (!m_data.contains(layer, pos)) return QRectF();
    return layout().block(layer, pos);
}

QPair<int, int> BlockView::blockAt(const QPointF &p) const
{
    return layout().blockAt(p);
}

QString BlockView::shownText(int layer, int pos) const
{
    return m_painter->shownText(layout(), layer, pos);
}

void BlockView::updateScrollBars()
{
    const Layout g = layout();
    const QSizeF range = g.scrollRange();
    QScrollBar *hb = horizontalScrollBar();
    QScrollBar *vb = verticalScrollBar();
    hb->setRange(0, int(range.width()));
    hb->setPageStep(std::max(1, int(g.area().width())));
    hb->setSingleStep(std::max(1, int(g.pitchX())));
    vb->setRange(0, int(range.height()));
    vb->setPageStep(std::max(1, int(g.area().height())));
    vb->setSingleStep(std::max(1, int(g.pitchY())));
}

void BlockView::ensureVisible(int layer, int pos)
{
    if (!m_data.contains(layer, pos)) return;
    const Layout g = layout();
    // The cell and the gap below it, where the layer's nodes and attention arcs are.
    QRectF c = g.cell(layer, pos);
    c.setBottom(std::max(c.bottom(), g.block(layer, pos).bottom() + g.gapY() + 2));
    const QRectF &area = g.area();
    QScrollBar *hb = horizontalScrollBar();
    QScrollBar *vb = verticalScrollBar();
    if (c.left() < area.left())
        hb->setValue(hb->value() - int(std::ceil(area.left() - c.left())));
    else if (c.right() > area.right())
        hb->setValue(hb->value() + int(std::ceil(c.right() - area.right())));
    if (vb->maximum() > 0) {
        if (c.top() < area.top())
            vb->setValue(vb->value() - int(std::ceil(area.top() - c.top())));
        else if (c.bottom() > area.bottom())
            vb->setValue(vb->value() + int(std::ceil(c.bottom() - area.bottom())));
    }
}

// ---------------------------------------------------------------------------------- zoom

void BlockView::applyZoom(double zoomX, double zoomY)
{
    zoomX = Layout::clampZoom(zoomX);
    zoomY = Layout::clampZoom(zoomY);
    if (zoomX == m_zoomX && zoomY == m_zoomY) return;
    m_zoomX = zoomX;
    m_zoomY = zoomY;
    updateScrollBars();
    viewport()->update();
    Q_EMIT zoomChanged(m_zoomX, m_zoomY);
}

void BlockView::rememberZoom()
{
    m_zoomByTrace.insert(m_traceKey, Zoom{m_fitted, m_zoomX, m_zoomY});
}

void BlockView::setZoom(double zoomX, double zoomY)
{
    m_fitted = false;
    applyZoom(zoomX, zoomY);
    rememberZoom();
}

void BlockView::setZoomX(double zoomX)
{
    setZoom(zoomX, m_zoomY);
}

void BlockView::fit()
{
    m_fitted = true;
    if (m_data.layers() <= 0 || m_data.tokens() <= 0) return;
    // Fit without scroll bars (the area grows by their extent once they are gone), but leave
    // room for the vertical one when the rows need it.
    QRectF canvas(viewport()->rect());
    if (verticalScrollBar()->isVisible())
        canvas.setRight(canvas.right() + verticalScrollBar()->width());
    if (horizontalScrollBar()->isVisible())
        canvas.setBottom(canvas.bottom() + horizontalScrollBar()->height());
    QRectF area = gridArea(canvas);
    const double minBlockH = m_painter->minTextHeight() + 6;
    QPointF z = Layout::fitZoom(area, m_data.layers(), m_data.tokens(), minBlockH);
    if (Layout(area, m_data.layers(), m_data.tokens(), z.x(), z.y(), 0, 0).scrollRange().height() >
        0) {
        area.setRight(area.right() - style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr,
                                                          verticalScrollBar()));
        z = Layout::fitZoom(area, m_data.layers(), m_data.tokens(), minBlockH);
    }
    applyZoom(z.x(), z.y());
    rememberZoom();
}

void BlockView::zoomBy(double factorX, double factorY, const QPointF &anchor)
{
    const Layout before = layout();
    // The grid point under the anchor, in zoom-1 units, stays under the anchor.
    const double ux = (anchor.x() - before.originX()) / before.zoomX();
    const double uy = (anchor.y() - before.originY()) / before.zoomY();
    setZoom(m_zoomX * factorX, m_zoomY * factorY);
    const Layout after = layout();
    horizontalScrollBar()->setValue(
        int(std::lround(ux * m_zoomX - (anchor.x() - after.area().left() - Layout::kMargin))));
    if (verticalScrollBar()->maximum() > 0)
        verticalScrollBar()->setValue(
            int(std::lround(uy * m_zoomY - (anchor.y() - after.area().top() - Layout::kMargin))));
    viewport()->update();
}

void BlockView::zoomIn()
{
    zoomBy(kZoomStep, kZoomStep, layout().area().center());
}
void BlockView::zoomOut()
{
    zoomBy(1 / kZoomStep, 1 / kZoomStep, layout().area().center());
}
void BlockView::zoomInHorizontally()
{
    zoomBy(kZoomStep, 1.0, layout().area().center());
}
void BlockView::zoomOutHorizontally()
{
    zoomBy(1 / kZoomStep, 1.0, layout().area().center());
}

void BlockView::resetZoom()
{
    setZoom(1.0, 1.0);
    if (selectedLayer() >= 0) ensureVisible(selectedLayer(), selectedPos());
}

void BlockView::zoomToFit()
{
    fit();
    horizontalScrollBar()->setValue(0);
    verticalScrollBar()->setValue(0);
}

// --------------------------------------------------------------------------------- paint

void BlockView::paintEvent(QPaintEvent *)
{
    QPainter p(viewport());
    m_painter->paint(p, layout(), QRectF(viewport()->rect()), false);
}

void BlockView::renderTo(QPainter &painter, const QSize &size)
{
    painter.save();
    QRectF canvas(QPointF(0, 0), QSizeF(size));
    painter.setClipRect(canvas);
    QRectF area = gridArea(canvas).adjusted(0, 0, -Layout::kMargin, 0);
    // The whole grid, however small its rows get.
    const QPointF z = Layout::fitZoom(area, m_data.layers(), m_data.tokens(), 0.0);
    // Rows are no taller than twice their width allows: a grid shorter than the canvas is
    // drawn as a figure centred on it (legend, rows and input tokens together), not as rows
    // sitting on the input tokens under an empty top.
    const double spare =
        area.height() - 2 * Layout::kMargin -
        Layout(area, m_data.layers(), m_data.tokens(), z.x(), z.y(), 0, 0).contentH();
    if (spare > 1) {
        painter.translate(0, spare / 2);
        canvas.setHeight(canvas.height() - spare);
        area = gridArea(canvas).adjusted(0, 0, -Layout::kMargin, 0);
    }
    m_painter->paint(painter, Layout(area, m_data.layers(), m_data.tokens(), z.x(), z.y(), 0, 0),
                     canvas, true);
    painter.restore();
}

int BlockView::blocksDrawn() const
{
    return m_painter->stats().blocks;
}
int BlockView::textsDrawn() const
{
    return m_painter->stats().texts;
}
int BlockView::linesDrawn() const
{
    return m_painter->stats().lines;
}
int BlockView::highlightsDrawn() const
{
    return m_painter->stats().highlights;
}
bool BlockView::lastPaintUsedImage() const
{
    return m_painter->stats().image;
}
std::vector<std::pair<int, QString>> BlockView::attentionTagsDrawn() const
{
    return m_painter->stats().arcTags;
}

// --------------------------------------------------------------------------------- input

void BlockView::resizeEvent(QResizeEvent *event)
{
    QAbstractScrollArea::resizeEvent(event);
    if (m_fitted)
        fit();
    else
        updateScrollBars();
}

void BlockView::scrollContentsBy(int, int)
{
    viewport()->update();
}

void BlockView::wheelEvent(QWheelEvent *event)
{
    const QPoint delta = event->angleDelta();
    if (event->modifiers() & Qt::ControlModifier) {
        // Smooth: touchpads send small steps. With Shift, some platforms turn the vertical
        // wheel into a horizontal one.
        const bool widthOnly = event->modifiers() & Qt::ShiftModifier;
        const int d = delta.y() != 0 ? delta.y() : delta.x();
        const double factor = std::pow(kWheelStep, d / 120.0);
        zoomBy(factor, widthOnly ? 1.0 : factor, event->position());
        event->accept();
        return;
    }
    if ((event->modifiers() & Qt::ShiftModifier) || verticalScrollBar()->maximum() == 0) {
        const int d = delta.x() != 0 ? delta.x() : delta.y();
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - d);
        event->accept();
        return;
    }
    QAbstractScrollArea::wheelEvent(event);
}

void BlockView::mousePressEvent(QMouseEvent *event)
{
    setFocus(Qt::MouseFocusReason);
    if (event->button() == Qt::LeftButton || event->button() == Qt::MiddleButton) {
        m_pressed = true;
        m_panning = event->button() == Qt::MiddleButton;
        m_pressPos = m_lastDragPos = event->position().toPoint();
        if (m_panning) viewport()->setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    QAbstractScrollArea::mousePressEvent(event);
}

void BlockView::mouseMoveEvent(QMouseEvent *event)
{
    if (m_pressed) {
        const QPoint pos = event->position().toPoint();
        if (!m_panning &&
            (pos - m_pressPos).manhattanLength() >= QApplication::startDragDistance()) {
            m_panning = true;
            viewport()->setCursor(Qt::ClosedHandCursor);
        }
        if (m_panning) {
            const QPoint d = pos - m_lastDragPos;
            horizontalScrollBar()->setValue(horizontalScrollBar()->value() - d.x());
            verticalScrollBar()->setValue(verticalScrollBar()->value() - d.y());
            m_lastDragPos = pos;
        }
        event->accept();
        return;
    }
    QAbstractScrollArea::mouseMoveEvent(event);
}

void BlockView::mouseReleaseEvent(QMouseEvent *event)
{
    if (m_pressed) {
        if (!m_panning && event->button() == Qt::LeftButton) {
            clearHighlight(); // a new click starts over
            const QPair<int, int> b = blockAt(event->position());
            if (b.first >= 0) selectByUser(b.first, b.second);
        }
        m_pressed = m_panning = false;
        viewport()->unsetCursor();
        event->accept();
        return;
    }
    QAbstractScrollArea::mouseReleaseEvent(event);
}

void BlockView::keyPressEvent(QKeyEvent *event)
{
    if (event->matches(QKeySequence::ZoomIn) || event->key() == Qt::Key_Plus ||
        event->key() == Qt::Key_Equal) {
        zoomIn();
        return;
    }
    if (event->matches(QKeySequence::ZoomOut) || event->key() == Qt::Key_Minus) {
        zoomOut();
        return;
    }
    if (event->key() == Qt::Key_F) {
        zoomToFit();
        return;
    }
    if (event->key() == Qt::Key_0) {
        resetZoom();
        return;
    }
    if (event->key() == Qt::Key_Escape && highlightCount() > 0) {
        clearHighlight();
        event->accept();
        return;
    }
    const int L = m_data.layers(), T = m_data.tokens();
    if (L <= 0 || T <= 0) {
        QAbstractScrollArea::keyPressEvent(event);
        return;
    }
    const bool none = selectedLayer() < 0;
    const int l = none ? L - 1 : selectedLayer(), t = none ? 0 : selectedPos();
    switch (event->key()) {
    case Qt::Key_Left:
        selectByUser(l, none ? t : t - 1);
        break;
    case Qt::Key_Right:
        selectByUser(l, none ? t : t + 1);
        break;
    case Qt::Key_Up: // up the diagram: the next layer
        selectByUser(none ? l : l + 1, t);
        break;
    case Qt::Key_Down:
        selectByUser(none ? l : l - 1, t);
        break;
    case Qt::Key_Home:
        selectByUser(l, 0);
        break;
    case Qt::Key_End:
        selectByUser(l, T - 1);
        break;
    case Qt::Key_PageUp:
        selectByUser(L - 1, t);
        break;
    case Qt::Key_PageDown:
        selectByUser(0, t);
        break;
    default:
        QAbstractScrollArea::keyPressEvent(event);
        return;
    }
    event->accept();
}

void BlockView::contextMenuEvent(QContextMenuEvent *event)
{
    // Follow one of the block's top-k tokens (the classic logit-lens plot), or stop.
    const QPair<int, int> b = blockAt(event->pos());
    if (b.first < 0 || !m_data.hasLens()) {
        QAbstractScrollArea::contextMenuEvent(event);
        return;
    }
    QMenu menu(this);
    const int follow = m_data.followToken();
    for (int k = 0; k < m_data.topk(); ++k) {
        const int32_t id = m_data.topkId(b.first, b.second, k);
        QAction *a = menu.addAction(
            tr("Follow %1 (%2)")
                .arg(quoted(m_data.vocabText(id)), percent(m_data.topkProb(b.first, b.second, k))));
        a->setCheckable(true);
        a->setChecked(id == follow);
        connect(a, &QAction::triggered, this, [this, id] { setFollowToken(id); });
    }
    if (follow >= 0) {
        menu.addSeparator();
        const bool byRank = m_data.followMeasure() == FollowMeasure::Rank;
        connect(menu.addAction(byRank ? tr("Colour by its probability") : tr("Colour by its rank")),
                &QAction::triggered, this, [this, byRank] {
                    setFollowMeasure(byRank ? FollowMeasure::Probability : FollowMeasure::Rank);
                });
        connect(menu.addAction(tr("Stop following %1").arg(quoted(m_data.vocabText(follow)))),
                &QAction::triggered, this, [this] { setFollowToken(-1); });
    }
    menu.exec(event->globalPos());
    event->accept();
}

bool BlockView::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        QToolTip::showText(help->globalPos(), toolTipAt(help->pos()), viewport());
        return true;
    }
    return QAbstractScrollArea::viewportEvent(event);
}

QString BlockView::toolTipAt(const QPointF &point) const
{
    const Layout g = layout();
    const BlockNode node = g.nodeAt(point);
    if (node.kind != BlockNode::Kind::None) return BlockToolTip::forNode(m_data, node);
    const QPair<int, int> b = g.blockAt(point);
    if (b.first >= 0) return BlockToolTip::forBlock(m_data, b.first, b.second);
    return toolTip();
}

// ----------------------------------------------------------------------------------- CSV

QString BlockView::csv() const
{
    QString out = csvLine({QStringLiteral("layer"), QStringLiteral("pos"), QStringLiteral("token"),
                           QStringLiteral("top1_id"), QStringLiteral("top1"),
                           QStringLiteral("probability"), QStringLiteral("entropy")});
    const bool lens = m_data.hasLens();
    for (int l = 0; l < m_data.layers(); ++l)
        for (int t = 0; t < m_data.tokens(); ++t)
            out += csvLine(
                {QString::number(l), QString::number(t), m_data.tokenText(t),
                 lens ? QString::number(m_data.top1Id(l, t)) : QString(), m_data.top1Text(l, t),
                 lens ? QString::number(double(m_data.top1Prob(l, t)), 'g', 7) : QString(),
                 lens ? QString::number(double(m_data.entropy(l, t)), 'g', 7) : QString()});
    return out;
}

} // namespace HeadLens
