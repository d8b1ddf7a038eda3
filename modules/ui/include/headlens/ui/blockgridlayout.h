#pragma once
// Where the block view puts things, in pixels, for one zoom and scroll position: the canvas
// split into the legend strip at the top, the layer gutter at the left, the token header at the
// bottom and the grid area; the blocks (layer 0 at the bottom), the gaps between rows where the
// residual stream rises through each layer's attention and feed-forward nodes, hit-testing of
// blocks and nodes, the zoom that fits a grid, and the scroll range. No painting, no widget.

#include <QFontMetricsF>
#include <QPair>
#include <QPointF>
#include <QRectF>
#include <QSizeF>

namespace HeadLens {

// One of the two nodes in the gap below a layer's row: the attention step (read first, the
// lower node) and the feed-forward step (the upper node, just below the row it feeds).
struct BlockNode {
    enum class Kind { None, Attention, FeedForward };
    Kind kind = Kind::None;
    int layer = -1;
    int pos = -1;
};

class BlockGridLayout {
public:
    // Sizes at zoom 1, in pixels.
    static constexpr double kBlockW = 76;
    static constexpr double kBlockH = 28;
    static constexpr double kGapX = 14;
    static constexpr double kGapY = 38; // room for the attention and feed-forward nodes
    static constexpr double kMargin = 10;
    static constexpr double kMinZoom = 0.002;
    static constexpr double kMaxZoom = 4.0;
    // Below this pitch (pixels per block) the grid is drawn from the one-pixel-per-block image.
    static constexpr double kImagePitch = 5.0;

    // The grid area of a canvas: without the legend strip, the layer gutter and the token
    // header, whose sizes follow from the header font.
    static QRectF gridArea(const QRectF &canvas, const QFontMetricsF &header);
    // The zoom that fits a grid into area: every column across, and rows at least minBlockH
    // tall (readable text) — all of them when they fit, otherwise the grid scrolls vertically.
    static QPointF fitZoom(const QRectF &area, int layers, int tokens, double minBlockH);
    static double clampZoom(double zoom);

    BlockGridLayout() = default;
    // The grid scrolled by (scrollX, scrollY); a grid shorter than the area sits on its bottom
    // (on the token header, like a diagram) and ignores scrollY.
    BlockGridLayout(const QRectF &area, int layers, int tokens, double zoomX, double zoomY,
                    double scrollX, double scrollY);

    const QRectF &area() const { return m_area; }
    int layers() const { return m_layers; }
    int tokens() const { return m_tokens; }
    double zoomX() const { return m_zx; }
    double zoomY() const { return m_zy; }
    double originX() const { return m_originX; }
    double originY() const { return m_originY; }

    double pitchX() const { return (kBlockW + kGapX) * m_zx; }
    double pitchY() const { return (kBlockH + kGapY) * m_zy; }
    // Narrow columns give up most of their gap to the block, which needs it for its text.
    double gapX() const;
    double gapY() const { return kGapY * m_zy; }
    double blockW() const { return pitchX() - gapX(); }
    double blockH() const { return kBlockH * m_zy; }
    // The rows, and a gap below the bottom row for layer 0's nodes.
    double contentW() const { return m_tokens * pitchX(); }
    double contentH() const { return m_layers * pitchY() + gapY() / 2; }
    // The scroll bar ranges the content needs in this area.
    QSizeF scrollRange() const;
    bool dense() const { return pitchX() < kImagePitch || pitchY() < kImagePitch; }

    QRectF block(int layer, int pos) const;
    QRectF cell(int layer, int pos) const;
    double columnCentre(int pos) const { return m_originX + (pos + 0.5) * pitchX(); }
    double rowCentre(int layer) const { return block(layer, 0).center().y(); }
    void visibleTokens(int &t0, int &t1) const;
    void visibleLayers(int &l0, int &l1) const;
    // (layer, pos) of the block cell at a point, (-1, -1) outside the grid.
    QPair<int, int> blockAt(const QPointF &point) const;

    // --- the nodes in the gap below each row, shown when there is room to see them.
    bool showsNodes() const;
    double nodeRadius() const;
    QPointF attentionNode(int layer, int pos) const;
    QPointF feedForwardNode(int layer, int pos) const;
    // The node at a point (within a few pixels), Kind::None elsewhere or when nodes are hidden.
    BlockNode nodeAt(const QPointF &point) const;
    // Where an attention arc of layer `layer` ends at key position `key`: on the residual stream
    // of that position, level with the attention node, in the gap where the layer reads it.
    QPointF attentionArcEnd(int layer, int key) const { return attentionNode(layer, key); }

private:
    QRectF m_area;
    int m_layers = 0;
    int m_tokens = 0;
    double m_zx = 1;
    double m_zy = 1;
    double m_originX = 0;
    double m_originY = 0;
};

} // namespace HeadLens
