#pragma once
// One head's attention pattern (or the mean of the heads) of one layer as a query x key
// heatmap: a row per query position (top to bottom), a column per key position (left to right),
// darker = more weight; the causal mask leaves the upper right empty. The selected query's row
// is outlined; a click on a row selects that query position. Tokens label the axes where they
// fit, position numbers otherwise.

#include "headlens/trace/array.h"
#include "headlens/ui/colourscale.h"
#include "headlens/ui/viewpanel.h"

#include <QImage>
#include <QWidget>

#include <string>
#include <vector>

namespace HeadLens {

class AttentionPatternView : public ViewPanel {
    Q_OBJECT
public:
    explicit AttentionPatternView(QWidget *parent = nullptr);

    // pattern: [heads, T, T] of `layer`; head -1 shows the mean of the heads. tokens: the T input
    // tokens' texts.
    void setPattern(int layer, int head, const FloatArray &pattern,
                    const std::vector<std::string> &tokens);
    // Nothing to show, and why.
    void clear(const QString &why = QString());
    void setSelectedQuery(int pos); // -1: none

    int layer() const { return m_layer; }
    int head() const { return m_head; }
    int tokenCount() const { return m_T; }
    // The weight shown at (query, key) (the head's, or the heads' mean); NaN outside.
    float weight(int query, int key) const;
    // The query row and key column under a point (-1 when outside the matrix).
    QPair<int, int> cellAt(const QPointF &point) const;
    QRectF matrixRect() const;
    QString titleText() const;

    void renderTo(QPainter &painter, const QSize &size) override;
    QString csv() const override; // query,key,weight for key <= query

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    void querySelected(int pos);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    bool event(QEvent *event) override;

private:
    QRectF matrixRectIn(const QRectF &canvas, const QFontMetricsF &fm) const;
    void paint(QPainter &p, const QRectF &canvas) const;
    void rebuildImage();

    std::vector<float> m_weights; // [T, T] of the head (or the mean)
    std::vector<std::string> m_tokens;
    int m_T = 0;
    int m_layer = -1;
    int m_head = -1;
    int m_selected = -1;
    QImage m_image; // one pixel per cell
    ColourScale m_scale;
    QString m_emptyText;
};

} // namespace HeadLens
