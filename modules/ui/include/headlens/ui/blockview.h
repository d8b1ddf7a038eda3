#pragma once
// The centre of the workbench: a layers x tokens grid of blocks, layer 0 at the bottom like a
// model diagram, tokens left to right with their text along the bottom. Each block shows the
// lens top-1 token of one site (shortened with an ellipsis when it does not fit) and is
// coloured by its top-1 probability, its entropy, or the probability or rank of one followed
// token. Selecting a block shows which input positions it reads from through attention.
//
// The widget handles input, scrolling and zoom; what it shows is a BlockGridData, where it
// goes a BlockGridLayout, and a painter draws it. It holds copies of what it draws and never
// keeps a reference to the Trace it was given.

#include "headlens/trace/trace.h"
#include "headlens/ui/blockgriddata.h"
#include "headlens/ui/blockgridlayout.h"
#include "headlens/ui/colourscale.h"
#include "headlens/ui/export.h"

#include <QAbstractScrollArea>
#include <QHash>
#include <QPair>
#include <QVector>

#include <memory>
#include <utility>
#include <vector>

namespace HeadLens {

class BlockPainter;

class BlockView : public QAbstractScrollArea, public ExportableView {
    Q_OBJECT
public:
    using ColourMode = BlockColour;

    explicit BlockView(QWidget *parent = nullptr);
    ~BlockView() override;

    // --- data
    // Tokens, their text and the layer count; clears the lens, the selection and the attention.
    // key names the trace (the trace's name when not given): the view keeps each trace's zoom
    // under its key, so a trace shown again gets the zoom it was left with, and a new one
    // opens fitted.
    void setTrace(const Trace &trace);
    void setTrace(const Trace &trace, const QString &key);
    QString traceKey() const { return m_traceKey; }
    // The lens of the site to show, [layer, pos, k]; an empty site shows grey blocks. Its layer
    // and position counts must match the trace's, otherwise it is ignored (returns false).
    bool setLens(const LensSite &site);
    void clear();
    int layerCount() const { return m_data.layers(); }
    int tokenCount() const { return m_data.tokens(); }
    // What the view shows and where (for tests and for panels that want the same numbers).
    const BlockGridData &data() const { return m_data; }
    BlockGridLayout layout() const;

    void setColourMode(ColourMode mode);
    ColourMode colourMode() const { return m_data.colourMode(); }
    // The activation patching map of the shown site, [layer, pos] (BlockGridData::setPatching).
    void setPatching(const std::vector<float> &recovered, const std::vector<float> &heads = {},
                     int nHeads = 0);
    const ColourScale &colourScale() const { return m_data.colourScale(); }

    // --- follow one token: every block coloured by that token's probability (or rank) in its
    // lens top-k; blocks where it is not in the top-k get a colour of their own. -1: off.
    // Setting emits followTokenChanged only when it changes.
    void setFollowToken(int tokenId);
    int followToken() const { return m_data.followToken(); }
    void setFollowMeasure(FollowMeasure measure);
    FollowMeasure followMeasure() const { return m_data.followMeasure(); }

    // --- selection; setSelection emits nothing, (-1, -1) clears it
    void setSelection(int layer, int pos);
    int selectedLayer() const { return m_data.selectedLayer(); }
    int selectedPos() const { return m_data.selectedPos(); }

    // --- highlighted blocks: a set of blocks marked together (the blocks of an entropy bin),
    // outlined in a colour of their own, apart from the one selected block. Blocks outside
    // the grid are ignored. Kept while the same lens is shown again; cleared by Esc, a click
    // in the view, and another trace or lens. Setting emits only highlightChanged.
    void setHighlightedBlocks(const QVector<QPair<int, int>> &blocks);
    void clearHighlight();
    int highlightCount() const { return m_data.highlightCount(); }
    bool isHighlighted(int layer, int pos) const { return m_data.isHighlighted(layer, pos); }
    QVector<QPair<int, int>> highlightedBlocks() const // (layer, pos), sorted
    {
        return m_data.highlightedBlocks();
    }

    // --- attention of one layer, [head, query_pos, key_pos]. Shown while the selected block is
    // on that layer, in the gap below its row where the layer reads the residual stream: the
    // streams of the positions it reads (keys <= pos) and their input tokens along the bottom
    // are tinted by weight, and arcs go from the selected position's attention node to the
    // streams of the keys whose weight >= the threshold (not to itself), each tagged with the
    // key's input token.
    void setAttention(int layer, const FloatArray &pattern);
    // Only the row of query pos, [head, key_pos] (a long trace, read a row at a time): shown
    // while (layer, pos) is the selected block.
    void setAttentionRow(int layer, int pos, const FloatArray &row);
    void clearAttention();
    int attentionLayer() const { return m_data.attentionLayer(); }
    void setAttentionHead(int head); // -1: mean over heads
    int attentionHead() const { return m_data.attentionHead(); }
    void setAttentionThreshold(double weight);
    double attentionThreshold() const { return m_data.attentionThreshold(); }
    // The weights of the selected position over keys 0..pos; empty when no attention is shown.
    std::vector<float> attentionWeights() const { return m_data.attentionWeights(); }
    // The key positions arcs go to (weight >= threshold, other than the selected position).
    std::vector<int> attentionLineTargets() const { return m_data.attentionLineTargets(); }

    // --- geometry, in viewport coordinates
    QRectF blockRect(int layer, int pos) const;
    // (layer, pos) of the block cell at a viewport point, (-1, -1) outside the grid.
    QPair<int, int> blockAt(const QPointF &viewportPoint) const;
    void ensureVisible(int layer, int pos);
    double zoomX() const { return m_zoomX; }
    double zoomY() const { return m_zoomY; }
    // A zoom of the reader's: kept for this trace, and the view is no longer fitted.
    void setZoom(double zoomX, double zoomY);
    void setZoomX(double zoomX); // widths only
    // Fitted: every column across the width, rows tall enough to read (see zoomToFit); a
    // fitted view fits again when it is resized.
    bool isFitted() const { return m_fitted; }
    // The label a block shows at this zoom (ellipsis included), empty where labels are not
    // drawn (no lens, or blocks too small for text).
    QString shownText(int layer, int pos) const;
    // The tooltip at a viewport point: a block's, a node's, or the view's.
    QString toolTipAt(const QPointF &viewportPoint) const;

    // --- what the last paint drew (for tests and the benchmark)
    int blocksDrawn() const;
    int textsDrawn() const;
    int linesDrawn() const;
    int highlightsDrawn() const; // outlines, or 1 for the image
    bool lastPaintUsedImage() const;
    // The attention arcs' tags: (key position, text), strongest first.
    std::vector<std::pair<int, QString>> attentionTagsDrawn() const;

    // --- export: the whole grid fitted into size, with headers and legend
    void renderTo(QPainter &painter, const QSize &size) override;
    // layer,pos,token,top1_id,top1,probability,entropy — one line per block.
    QString csv() const override;

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

public Q_SLOTS:
    void zoomIn();
    void zoomOut();
    // Widths only (also Ctrl+Shift+wheel).
    void zoomInHorizontally();
    void zoomOutHorizontally();
    // Every column across the width; rows as tall as fit, but never too short to read a
    // label: a tall grid scrolls vertically instead.
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
    // The followed token changed (setFollowToken, or the reader chose one from a block's menu).
    void followTokenChanged(int tokenId);
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
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    struct Zoom {
        bool fitted = true;
        double x = 1, y = 1;
    };
    QRectF gridArea(const QRectF &canvas) const;
    void applyZoom(double zoomX, double zoomY);
    void fit();
    void rememberZoom();
    void updateScrollBars();
    void zoomBy(double factorX, double factorY, const QPointF &anchor);
    void selectByUser(int layer, int pos);
    void highlightUpdated(int count);

    BlockGridData m_data;
    std::unique_ptr<BlockPainter> m_painter;
    QString m_traceKey;
    QHash<QString, Zoom> m_zoomByTrace;
    bool m_fitted = true;
    double m_zoomX = 1.0;
    double m_zoomY = 1.0;
    QPoint m_pressPos;
    QPoint m_lastDragPos;
    bool m_pressed = false;
    bool m_panning = false;
};

} // namespace HeadLens
