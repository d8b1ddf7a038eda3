#pragma once
// A waterfall of signed parts that add up to a total: one row per part, its bar running from
// the sum of the parts above it to that sum plus itself (red adds, blue takes away), and a last
// row for the total, from 0. Drawn by hand: Qt Charts stacks bars from 0 only.

#include <QStringList>
#include <QWidget>

#include <vector>

namespace HeadLens {

class DlaWaterfall : public QWidget {
    Q_OBJECT
public:
    explicit DlaWaterfall(QWidget *parent = nullptr);

    // labels: one per part; totalLabel names the last row (drawn at total).
    void setParts(const QStringList &labels, const std::vector<double> &parts,
                  const QString &totalLabel, double total);
    void clear();
    const std::vector<double> &parts() const { return m_parts; }
    // Where row i (parts, then the total) is drawn, in widget coordinates.
    QRectF barRect(int row) const;
    // The width the bars span from the lowest running sum to the highest, in px.
    double barRoom() const;

    void paintTo(QPainter &painter, const QRectF &canvas) const;
    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;
    // The width that leaves the bars kBarRoom px beside the labels and values.
    int comfortableWidth() const;
    static constexpr int kBarRoom = 80;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Geometry {
        QRectF plot;
        double rowHeight = 0, lo = 0, hi = 1, labelWidth = 0;
        double x(double v) const { return plot.left() + (v - lo) / (hi - lo) * plot.width(); }
    };
    Geometry geometryFor(const QRectF &canvas, const QFontMetricsF &fm) const;
    // The width the labels (left of the bars) and the values (right of them) take.
    double labelWidth(const QFontMetricsF &fm) const;
    static double valueWidth(const QFontMetricsF &fm);
    QRectF barRect(const Geometry &g, int row) const;

    QStringList m_labels;
    std::vector<double> m_parts;
    QString m_totalLabel;
    double m_total = 0;
};

} // namespace HeadLens
