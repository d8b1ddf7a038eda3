#pragma once
// A matrix of layers x heads drawn as coloured cells (Qt Charts has no heatmap), layer 0 at the
// bottom like the block view, with a colour legend. Generic: it draws whatever [rows, cols]
// matrix it is given under a value title; clicking a cell reports (layer, head).

#include "headlens/trace/array.h"
#include "headlens/ui/colourscale.h"
#include "headlens/ui/viewpanel.h"

#include <QPair>
#include <QWidget>

namespace HeadLens {

class HeadHeatmap : public ViewPanel {
    Q_OBJECT
public:
    explicit HeadHeatmap(QWidget *parent = nullptr);

    // values: [layers, heads]; the colour range is 0 .. the largest value (or min .. max when
    // there are negative values). An empty matrix shows a hint.
    void setMatrix(const FloatArray &values, const QString &valueTitle);
    const FloatArray &matrix() const { return m_values; }
    // Signed values coloured blue (< 0), white (0) and red (> 0), on a range symmetric about 0.
    void setDiverging(bool diverging);
    double value(int layer, int head) const;
    int layerCount() const { return m_values.empty() ? 0 : int(m_values.dim(0)); }
    int headCount() const { return m_values.empty() ? 0 : int(m_values.dim(1)); }
    const ColourScale &colourScale() const { return m_scale; }

    // What the owner says the map shows (its tooltip, kept over a language change); empty:
    // the map's own words.
    void setDescription(const QString &text);

    // The highlighted layer row and head cell (-1: none); emits nothing.
    void setSelection(int layer, int head);
    int selectedLayer() const { return m_selLayer; }
    int selectedHead() const { return m_selHead; }

    // Cell geometry in widget coordinates.
    QRectF cellRect(int layer, int head) const;
    QPair<int, int> cellAt(const QPointF &point) const; // (layer, head) or (-1, -1)

    void renderTo(QPainter &painter, const QSize &size) override;
    QString csv() const override; // layer,head,value

    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    void headSelected(int layer, int head);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Layout {
        QRectF grid;
        double cw = 0, ch = 0;
        QRectF legend;
    };
    Layout layoutFor(const QRectF &canvas, const QFontMetricsF &fm) const;
    void paint(QPainter &p, const QRectF &canvas);

    FloatArray m_values;
    QString m_title;
    ColourScale m_scale;
    int m_selLayer = -1;
    int m_selHead = -1;
    bool m_diverging = false;
    QString m_emptyText;
    QString m_description;
};

} // namespace HeadLens
