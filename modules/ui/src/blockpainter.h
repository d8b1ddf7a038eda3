#pragma once
// Module-private: draws the block view — blocks with their labels, the nodes between rows, the
// highlighted set, the attention of the selected position, the headers and the legend — from
// a BlockGridData and a BlockGridLayout. Painting only: it keeps nothing but caches (sprites
// and laid-out labels) and the figures of the last paint.
//
// A repaint touches only the visible blocks; a rounded block is a cached sprite per colour and
// a label is laid out once per zoom; when blocks get smaller than a few pixels the grid is
// drawn from the data's one-pixel-per-block image. So 60 layers x 2,000 tokens repaint within
// a frame at any zoom.

#include "headlens/ui/blockgriddata.h"
#include "headlens/ui/blockgridlayout.h"

#include <QCoreApplication>
#include <QFont>
#include <QPixmap>
#include <QStaticText>

#include <unordered_map>
#include <utility>
#include <vector>

class QPainter;

namespace HeadLens {

class BlockPainter {
    // The strings it draws belong to the view (one translation context).
    Q_DECLARE_TR_FUNCTIONS(HeadLens::BlockView)
public:
    struct Stats {
        int blocks = 0, texts = 0, lines = 0, highlights = 0;
        bool image = false;
        // The key position and the label of each attention arc's tag, as drawn.
        std::vector<std::pair<int, QString>> arcTags;
    };

    explicit BlockPainter(const BlockGridData &data);

    void setFonts(const QFont &blockFont, const QFont &headerFont);
    const QFont &headerFont() const { return m_headerFont; }
    void setEmptyText(const QString &text) { m_emptyText = text; }
    // The data's labels changed (another lens or trace).
    void resetTexts();
    // The data's highlighted set changed.
    void resetHighlight() { m_highlightImage = QImage(); }

    // The whole view: the canvas background, the grid in g's area, headers and legend.
    // vector: real shapes instead of cached pixmaps (exports).
    void paint(QPainter &p, const BlockGridLayout &g, const QRectF &canvas, bool vector);
    const Stats &stats() const { return m_stats; }

    // The smallest block height that shows a label.
    double minTextHeight() const;
    // Whether blocks of this layout show their labels.
    bool showsText(const BlockGridLayout &g) const;
    // The label a block shows in this layout (the rule paint draws by), empty when none.
    QString shownText(const BlockGridLayout &g, int layer, int pos) const;

private:
    struct Elided {
        bool known = false;
        bool ellipsis = false;
        QStaticText prefix;
    };
    double textRoom(const BlockGridLayout &g) const;
    const QPixmap &blockSprite(QRgb rgb, double radius);
    void paintBlocks(QPainter &p, const BlockGridLayout &g, int l0, int l1, int t0, int t1,
                     bool vector);
    void paintLabels(QPainter &p, const BlockGridLayout &g, int l0, int l1, int t0, int t1);
    // over: the dense image over the blocks; otherwise the rings drawn behind them.
    void paintHighlights(QPainter &p, const BlockGridLayout &g, int l0, int l1, int t0, int t1,
                         bool over);
    void paintNodes(QPainter &p, const BlockGridLayout &g, int l0, int l1, int t0, int t1,
                    bool vector);
    void paintAttentionStreams(QPainter &p, const BlockGridLayout &g, int t0, int t1);
    void paintAttentionArcs(QPainter &p, const BlockGridLayout &g);
    void paintSelection(QPainter &p, const BlockGridLayout &g);
    void paintLayerLabels(QPainter &p, const BlockGridLayout &g, const QRectF &canvas, int l0,
                          int l1);
    void paintTokenHeader(QPainter &p, const BlockGridLayout &g, const QRectF &canvas, int t0,
                          int t1);
    void paintLegend(QPainter &p, const QRectF &canvas, bool nodes);
    // Each draws its legend with its right edge at `right`, returning its left edge.
    double paintColourLegend(QPainter &p, const QRectF &strip, double right);
    double paintNodeLegend(QPainter &p, const QRectF &strip, double right);
    QString colourTitle() const;
    QString caption() const;

    const BlockGridData &m_data;
    QFont m_blockFont;
    QFont m_headerFont;
    QFont m_smallFont;    // position numbers, arc tags
    QFont m_ellipsisFont; // the ellipsis of a cut block label
    QString m_emptyText;
    Stats m_stats;

    // Labels laid out on demand: whole, and elided for the current room.
    mutable std::vector<float> m_textWidth; // advance of a label in m_blockFont, -1 unknown
    std::vector<QStaticText> m_whole;
    std::vector<Elided> m_elided;
    double m_elidedRoom = -1;
    QStaticText m_ellipsis;

    QImage m_highlightImage;
    // Sprites for the on-screen repaint, valid for one block size / device pixel ratio.
    std::unordered_map<QRgb, QPixmap> m_blockSprites;
    QSizeF m_spriteSize;
    qreal m_spriteDpr = 0;
    QPixmap m_nodeSprite;
    double m_nodeSpriteGap = -1;
};

} // namespace HeadLens
