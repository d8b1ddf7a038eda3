#pragma once
// The centre of the workbench: a layers x tokens grid of blocks, layer 0 at the bottom like a
// model diagram, tokens left to right with their text along the bottom. Each block shows the
// lens top-1 token of one site (when the text fits) and is coloured by its top-1 probability or
// its entropy. Selecting a block shows which positions it reads from through attention.
//
// Drawn by hand (no item per block): a repaint touches only the visible blocks, and when
// blocks get smaller than a few pixels the grid is drawn from a one-pixel-per-block image, so
// 60 layers x 2,000 tokens repaint within a frame at any zoom. Holds copies of what it draws;
// it never keeps a reference to the Trace it was given.

#include "headlens/trace/trace.h"
#include "headlens/ui/colourscale.h"
#include "headlens/ui/export.h"

#include <QAbstractScrollArea>
#include <QImage>
#include <QPair>
#include <QPixmap>
#include <QStaticText>
#include <QVector>

#include <unordered_map>
#include <vector>

namespace HeadLens {

class BlockView : public QAbstractScrollArea, public ExportableView {
    Q_OBJECT
public:
    enum class ColourMode { Probability, Entropy };
    Q_ENUM(ColourMode)

    explicit BlockView(QWidget *parent = nullptr);
    ~BlockView() override;

    // --- data
    // Tokens, their text and the layer count; clears the lens, the selection and the attention.
    void setTrace(const Trace &trace);
    // The lens of the site to show, [layer, pos, k]; an empty site shows grey blocks. Its layer
    // and position counts must match the trace's, otherwise it is ignored (returns false).
    bool setLens(const LensSite &site);
    void clear();
    int layerCount() const { return m_layers; }
    int tokenCount() const { return m_tokens; }

    void setColourMode(ColourMode mode);
    ColourMode colourMode() const { return m_colourMode; }
    const ColourScale &colourScale() const;

    // --- selection; setSelection emits nothing, (-1, -1) clears it
    void setSelection(int layer, int pos);
    int selectedLayer() const { return m_selLayer; }
    int selectedPos() const { return m_selPos; }

    // --- highlighted blocks: a set of blocks marked together (the blocks of an entropy bin),
    // outlined in a colour of their own, apart from the one selected block. Blocks outside
    // the grid are ignored. Kept while the same lens is shown again; cleared by Esc, a click
    // in the view, and another trace or lens. Setting emits only highlightChanged.
    void setHighlightedBlocks(const QVector<QPair<int, int>> &blocks);
    void clearHighlight();
    int highlightCount() const { return m_highlightCount; }
    bool isHighlighted(int layer, int pos) const;
    QVector<QPair<int, int>> highlightedBlocks() const; // (layer, pos), sorted

    // --- attention of one layer, [head, query_pos, key_pos]. Shown while the selected block is
    // on that layer: the blocks the selected position reads from (keys <= pos on that row) are
    // tinted by weight, and lines go to the keys whose weight >= the threshold (not to itself).
    void setAttention(int layer, const FloatArray &pattern);
    void clearAttention();
    int attentionLayer() const { return m_attnLayer; }
    void setAttentionHead(int head); // -1: mean over heads
    int attentionHead() const { return m_attnHead; }
    void setAttentionThreshold(double weight);
    double attentionThreshold() const { return m_attnThreshold; }
    // The weights of the selected position over keys 0..pos; empty when no attention is shown.
    std::vector<float> attentionWeights() const;
    // The key positions lines go to (weight >= threshold, other than the selected position).
    std::vector<int> attentionLineTargets() const;

    // --- geometry, in viewport coordinates
    QRectF blockRect(int layer, int pos) const;
    // (layer, pos) of the block cell at a viewport point, (-1, -1) outside the grid.
    QPair<int, int> blockAt(const QPointF &viewportPoint) const;
    void ensureVisible(int layer, int pos);
    double zoomX() const { return m_zoomX; }
    double zoomY() const { return m_zoomY; }
    void setZoom(double zoomX, double zoomY);

    // --- what the last paint drew (for tests and the benchmark)
    int blocksDrawn() const { return m_stats.blocks; }
    int textsDrawn() const { return m_stats.texts; }
    int linesDrawn() const { return m_stats.lines; }
    int highlightsDrawn() const { return m_stats.highlights; } // outlines, or 1 for the image
    bool lastPaintUsedImage() const { return m_stats.image; }

    // --- export: the whole grid fitted into size, with headers and legend
    void renderTo(QPainter &painter, const QSize &size) override;
    // layer,pos,token,top1_id,top1,probability,entropy — one line per block.
    QString csv() const override;

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

public Q_SLOTS:
    void zoomIn();
    void zoomOut();
    void zoomToFit();
    void resetZoom();
    // Highlights the blocks and selects the first of them (as a click would: blockSelected),
    // scrolled into view. An empty list clears the highlight and keeps the selection.
    void showBlocks(const QVector<QPair<int, int>> &blocks);
    void retranslateUi();

Q_SIGNALS:
    // The user selected a block (click or keys).
    void blockSelected(int layer, int pos);
    void zoomChanged(double zoomX, double zoomY);
    // The highlighted set changed (set or cleared); count is the new number of blocks.
    void highlightChanged(int count);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void scrollContentsBy(int dx, int dy) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool viewportEvent(QEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    struct Geometry;
    struct Stats {
        int blocks = 0, texts = 0, lines = 0, highlights = 0;
        bool image = false;
    };
    Geometry currentGeometry() const;
    Geometry fittedGeometry(const QRectF &canvas) const;
    void paintAll(QPainter &p, const Geometry &g, const QRectF &canvas, bool exporting);
    void paintBlocks(QPainter &p, const Geometry &g, int l0, int l1, int t0, int t1, bool vector);
    void paintNodes(QPainter &p, const Geometry &g, int l0, int l1, int t0, int t1, bool vector);
    const QPixmap &blockSprite(QRgb rgb, double radius);
    // over: the dense image over the blocks; otherwise the rings drawn behind them.
    void paintHighlights(QPainter &p, const Geometry &g, int l0, int l1, int t0, int t1, bool over);
    void paintAttention(QPainter &p, const Geometry &g, int t0, int t1, bool tint);
    void paintHeaders(QPainter &p, const Geometry &g, const QRectF &canvas, int l0, int l1, int t0,
                      int t1);
    void rebuildColours();
    void updateScrollBars();
    void zoomBy(double factor, const QPointF &anchor);
    void selectByUser(int layer, int pos);
    QString blockToolTip(int layer, int pos) const;
    QString colourTitle() const;
    int textIndexAt(int layer, int pos) const;
    const QString &top1Text(int layer, int pos) const;

    // data
    int m_layers = 0;
    int m_tokens = 0;
    int m_nPrompt = 0;
    std::vector<QString> m_tokenText;                 // [pos] as the trace has it
    std::vector<QString> m_tokenLabel;                // [pos] as the header shows it
    std::unordered_map<int32_t, QString> m_vocabText; // id -> readable text
    bool m_hasLens = false;
    std::vector<int32_t> m_top1Id;          // [layer * T + pos]
    std::vector<int> m_top1Text;            // [layer * T + pos] index into m_texts
    std::vector<float> m_top1Prob;          // [layer * T + pos]
    std::vector<float> m_entropy;           // [layer * T + pos]
    std::vector<QString> m_rawTexts;        // distinct top-1 texts as the trace has them
    std::vector<QString> m_texts;           // the same as block labels
    mutable std::vector<float> m_textWidth; // advance of m_texts in m_blockFont, -1 unknown
    std::vector<QStaticText> m_staticTexts; // m_texts laid out in m_blockFont, on demand
    std::vector<QStaticText> m_elidedTexts; // m_texts elided to m_elidedRoom, on demand
    std::vector<char> m_elidedState;        // per text: 0 unknown, 1 elided, 2 too short
    double m_elidedRoom = -1;
    std::vector<QRgb> m_rgb; // [layer * T + pos] block colour
    QImage m_image;          // T x L, one pixel per block, row 0 = top layer
    double m_maxEntropy = 1.0;
    ColourMode m_colourMode = ColourMode::Probability;
    ColourScale m_probScale;
    ColourScale m_entropyScale;

    // selection and attention
    int m_selLayer = -1;
    int m_selPos = -1;
    int m_attnLayer = -1;
    FloatArray m_pattern; // [H, T, T]
    int m_attnHead = -1;
    double m_attnThreshold = 0.1;
    // Highlighted blocks: one byte per block [layer * T + pos] (a 60 x 2,000 grid costs 120 kB
    // and a paint reads only the visible bytes), and for dense zooms an image of the same
    // grid (highlighted pixels in the accent, the rest veiled), built on the first dense paint.
    std::vector<uint8_t> m_highlight;
    int m_highlightCount = 0;
    QImage m_highlightImage;

    // view
    double m_zoomX = 1.0;
    double m_zoomY = 1.0;
    QFont m_blockFont;
    QFont m_headerFont;
    QPoint m_pressPos;
    QPoint m_lastDragPos;
    bool m_pressed = false;
    bool m_panning = false;
    Stats m_stats;
    // Sprites for the on-screen repaint, valid for one block size / device pixel ratio.
    std::unordered_map<QRgb, QPixmap> m_blockSprites;
    QSizeF m_spriteSize;
    qreal m_spriteDpr = 0;
    QPixmap m_nodeSprite;
    double m_nodeSpriteGap = -1;
    QString m_emptyText;
};

} // namespace HeadLens
