#include "headlens/ui/blockgridlayout.h"

#include <QString>

#include <algorithm>
#include <cmath>

namespace HeadLens {

namespace {
// Columns narrower than this give up their gap in proportion.
constexpr double kFullGapPitch = 40.0;
// A node answers the mouse this far outside its circle.
constexpr double kNodeSlack = 2.0;
} // namespace

QRectF BlockGridLayout::gridArea(const QRectF &canvas, const QFontMetricsF &header)
{
    const double top = header.height() * 2 + 18;
    const double left = header.horizontalAdvance(QStringLiteral("L000")) + 14;
    const double bottom = header.height() * 2 + 12;
    return canvas.adjusted(left, top, 0, -bottom);
}

double BlockGridLayout::clampZoom(double zoom)
{
    return std::clamp(zoom, kMinZoom, kMaxZoom);
}

QPointF BlockGridLayout::fitZoom(const QRectF &area, int layers, int tokens, double minBlockH)
{
    if (layers <= 0 || tokens <= 0) return QPointF(1, 1);
    const double zx =
        std::clamp((area.width() - 2 * kMargin - 1) / (tokens * (kBlockW + kGapX)), kMinZoom, 2.0);
    const double all = (area.height() - 2 * kMargin - 1) / (layers * (kBlockH + kGapY) + kGapY / 2);
    const double readable = minBlockH / kBlockH;
    const double zy = std::max(readable, std::min(all, std::max(1.0, 2.0 * zx)));
    return QPointF(zx, clampZoom(zy));
}

BlockGridLayout::BlockGridLayout(const QRectF &area, int layers, int tokens, double zoomX,
                                 double zoomY, double scrollX, double scrollY)
    : m_area(area), m_layers(layers), m_tokens(tokens), m_zx(zoomX), m_zy(zoomY)
{
    m_originX = area.left() + kMargin - scrollX;
    if (contentH() + 2 * kMargin <= area.height())
        m_originY = area.bottom() - kMargin - contentH();
    else
        m_originY = area.top() + kMargin - scrollY;
}

double BlockGridLayout::gapX() const
{
    const double p = pitchX();
    const double full = kGapX * m_zx;
    if (p >= kFullGapPitch) return full;
    return std::max(full * p / kFullGapPitch, std::min(1.0, p * 0.2));
}

QSizeF BlockGridLayout::scrollRange() const
{
    return QSizeF(std::max(0.0, std::ceil(contentW() + 2 * kMargin - m_area.width())),
                  std::max(0.0, std::ceil(contentH() + 2 * kMargin - m_area.height())));
}

QRectF BlockGridLayout::block(int layer, int pos) const
{
    const double gx = gapX();
    return QRectF(m_originX + pos * pitchX() + gx / 2,
                  m_originY + (m_layers - 1 - layer) * pitchY() + gapY() / 2, pitchX() - gx,
                  blockH());
}

QRectF BlockGridLayout::cell(int layer, int pos) const
{
    return QRectF(m_originX + pos * pitchX(), m_originY + (m_layers - 1 - layer) * pitchY(),
                  pitchX(), pitchY());
}

void BlockGridLayout::visibleTokens(int &t0, int &t1) const
{
    t0 = std::max(0, int(std::floor((m_area.left() - m_originX) / pitchX())));
    t1 = std::min(m_tokens - 1, int(std::floor((m_area.right() - m_originX) / pitchX())));
}

void BlockGridLayout::visibleLayers(int &l0, int &l1) const
{
    const int r0 = std::max(0, int(std::floor((m_area.top() - m_originY) / pitchY())));
    const int r1 =
        std::min(m_layers - 1, int(std::floor((m_area.bottom() - m_originY) / pitchY())));
    l0 = m_layers - 1 - r1;
    l1 = m_layers - 1 - r0;
}

QPair<int, int> BlockGridLayout::blockAt(const QPointF &p) const
{
    if (m_layers <= 0 || m_tokens <= 0 || !m_area.contains(p)) return {-1, -1};
    const int t = int(std::floor((p.x() - m_originX) / pitchX()));
    const int r = int(std::floor((p.y() - m_originY) / pitchY()));
    if (t < 0 || t >= m_tokens || r < 0 || r >= m_layers) return {-1, -1};
    return {m_layers - 1 - r, t};
}

bool BlockGridLayout::showsNodes() const
{
    return gapY() >= 14 && pitchX() >= 16;
}

double BlockGridLayout::nodeRadius() const
{
    return std::clamp(gapY() / 9, 2.5, 5.0);
}

QPointF BlockGridLayout::attentionNode(int layer, int pos) const
{
    return QPointF(columnCentre(pos), block(layer, pos).bottom() + 2 * gapY() / 3);
}

QPointF BlockGridLayout::feedForwardNode(int layer, int pos) const
{
    return QPointF(columnCentre(pos), block(layer, pos).bottom() + gapY() / 3);
}

BlockNode BlockGridLayout::nodeAt(const QPointF &p) const
{
    BlockNode none;
    if (!showsNodes() || !m_area.contains(p)) return none;
    const int t = int(std::floor((p.x() - m_originX) / pitchX()));
    if (t < 0 || t >= m_tokens) return none;
    // The gap below row r belongs to layer L-1-r; it starts at that row's block bottom.
    const int r = int(std::floor((p.y() - m_originY - gapY() / 2 - blockH()) / pitchY()));
    const int layer = m_layers - 1 - r;
    if (layer < 0 || layer >= m_layers) return none;
    const double reach = nodeRadius() + kNodeSlack;
    auto near = [&](const QPointF &c) { return std::hypot(p.x() - c.x(), p.y() - c.y()) <= reach; };
    if (near(attentionNode(layer, t))) return {BlockNode::Kind::Attention, layer, t};
    if (near(feedForwardNode(layer, t))) return {BlockNode::Kind::FeedForward, layer, t};
    return none;
}

} // namespace HeadLens
