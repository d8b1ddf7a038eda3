#pragma once
// One side of a comparison: a compact grid of layers x aligned token pairs. Rows are placed by
// relative depth ((l + 1) / L), so two grids of the same height line up by depth even when the
// models have different layer counts; columns are the aligned pairs, so both grids line up by
// text. A token split into several pairs on the other side spans several columns here.

#include <QAbstractScrollArea>
#include <QPair>
#include <QString>

#include <memory>
#include <utility>
#include <vector>

namespace HeadLens {

// What one side shows: plain copies, shared by the two grids and the panel.
struct ComparisonSideData {
    QString title;
    int layers = 0;
    int tokens = 0;
    std::vector<QString> tokenText; // [pos]
    std::vector<QString> top1;      // [layer * tokens + pos], empty without a lens
    std::vector<float> prob;        // [layer * tokens + pos]
    std::vector<float> entropy;     // [layer * tokens + pos]
    std::vector<int> depth;         // [pos] decision depth, -1 unknown

    bool hasLens() const { return !prob.empty(); }
    size_t at(int layer, int pos) const { return size_t(layer) * size_t(tokens) + size_t(pos); }
    // This side's layer at relative depth d, by the rule of `compare` (analysis'
    // layerAtDepth): the deepest l with (l + 1) / L <= d, -1 when none is that shallow.
    int layerAtDepth(double d) const;
    double depthOfLayer(int layer) const { return layers > 0 ? (layer + 1.0) / layers : 0.0; }
};

using AlignedPairs = std::vector<std::pair<int, int>>;

class ComparisonGrid : public QAbstractScrollArea {
    Q_OBJECT
public:
    explicit ComparisonGrid(QWidget *parent = nullptr);

    // side 0 reads pair.first, side 1 pair.second.
    void setData(std::shared_ptr<const ComparisonSideData> self,
                 std::shared_ptr<const ComparisonSideData> other,
                 std::shared_ptr<const AlignedPairs> pairs, int side);
    void setMarkAllDepths(bool on);

    // The selected pair column and relative depth (-1: none); emits nothing.
    void setSelection(int pair, double depth);
    int selectedPair() const { return m_selPair; }
    int selectedLayer() const; // this side's layer at the selected depth, -1 none

    int columnWidth() const { return m_colW; }
    QRectF cellRect(int pair, int layer) const;         // viewport coordinates
    QPair<int, int> cellAt(const QPointF &point) const; // (pair, layer) or (-1, -1)
    // Whether this side's cell differs (top-1 text) from the other side at the same depth.
    bool cellDiffers(int pair, int layer) const;
    bool finalDiffers(int pair) const;

    // Draws the grid for a canvas with columns colW wide, from pair firstPair on.
    void paintTo(QPainter &painter, const QRectF &canvas, double colW, double scrollX);

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

Q_SIGNALS:
    void cellClicked(int pair, int layer);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool viewportEvent(QEvent *event) override;
    void scrollContentsBy(int dx, int dy) override;

private:
    struct Layout {
        QRectF title, header, grid, final;
        double gutter = 0;
        double colW = 0;
        double originX = 0;
    };
    Layout layoutFor(const QRectF &canvas, double colW, double scrollX) const;
    QString depthCaption() const; // the row labels' caption
    int tokenOf(int pair) const;
    int otherTokenOf(int pair) const;
    void updateScrollBars();
    QString cellToolTip(int pair, int layer) const;

    std::shared_ptr<const ComparisonSideData> m_self, m_other;
    std::shared_ptr<const AlignedPairs> m_pairs;
    int m_side = 0;
    int m_colW = 58;
    int m_selPair = -1;
    double m_selDepth = -1;
    bool m_markAll = true;
};

} // namespace HeadLens
