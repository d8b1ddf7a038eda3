#pragma once
// Head redundancy in the workbench (issue 8): a heads x heads similarity matrix of one layer
// drawn as a heatmap whose rows and columns follow the cluster order, so heads that behave
// alike sit together in outlined blocks on the diagonal.
//
// This view only paints a matrix it is given; HeadSimilarityPanel (headsimilaritypanel.h)
// computes the matrices and holds the controls.

#include "headlens/analysis/redundancy.h"
#include "headlens/ui/colourscale.h"
#include "headlens/ui/viewpanel.h"

#include <QPair>
#include <QWidget>

#include <vector>

namespace HeadLens {

// One H x H similarity matrix in display order. Cell (row, col) compares the heads
// orderedHeads()[row] and orderedHeads()[col]; clicking a cell selects the row's head.
class HeadSimilarityView : public ViewPanel {
    Q_OBJECT
public:
    explicit HeadSimilarityView(QWidget *parent = nullptr);

    // similarity: [H, H] by head index (NaN: not defined, drawn grey); order: the display
    // order of the heads (empty: 0 .. H-1); cluster: each head's cluster (empty: none drawn).
    // The colour range is 0 .. 1, or -1 .. 1 when a value is negative.
    void setMatrix(const DoubleArray &similarity, const std::vector<int> &order,
                   const std::vector<int> &cluster, const QString &valueTitle);
    // Shows no matrix but text (a hint, "Computing…", or what is missing).
    void setMessage(const QString &text);
    QString message() const { return m_message; }

    int headCount() const { return m_values.empty() ? 0 : int(m_values.dim(0)); }
    const std::vector<int> &orderedHeads() const { return m_order; }
    const std::vector<int> &clusters() const { return m_cluster; }
    // The value in display row `row`, column `col` (NaN outside).
    double valueAt(int row, int col) const;
    // The value between heads a and b by head index.
    double value(int a, int b) const;
    const ColourScale &colourScale() const { return m_scale; }

    // The highlighted head (-1: none); emits nothing.
    void setSelectedHead(int head);
    int selectedHead() const { return m_selHead; }

    // Cell geometry in widget coordinates, by display row and column.
    QRectF cellRect(int row, int col) const;
    QPair<int, int> cellAt(const QPointF &point) const; // (row, col) or (-1, -1)
    // "H2 vs H5: 0.93" for a display cell.
    QString cellText(int row, int col) const;

    void renderTo(QPainter &painter, const QSize &size) override;
    // head,cluster,H<a>,H<b>,...: one line per head in display order, the columns in the same
    // order; NaN as an empty field.
    QString csv() const override;

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    void headSelected(int head);
    // The cell under the mouse (-1, -1 when none), by head index.
    void hovered(int headA, int headB);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void leaveEvent(QEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Layout {
        QRectF grid;
        double cell = 0;
        QRectF legend;
    };
    Layout layoutFor(const QRectF &canvas, const QFontMetricsF &fm, double maxCell) const;
    void paint(QPainter &p, const QRectF &canvas, double maxCell) const;

    DoubleArray m_values; // [H, H] by head index
    std::vector<int> m_order, m_cluster;
    QString m_title;
    QString m_message;
    ColourScale m_scale;
    int m_selHead = -1;
    int m_hoverRow = -1, m_hoverCol = -1;
};

} // namespace HeadLens
