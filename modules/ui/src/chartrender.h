#pragma once
// Module-private helpers for the Qt Charts panels.

#include <QRectF>

class QChart;
class QFont;
class QPainter;
class QChartView;
class QString;
class QWidget;

namespace HeadLens {

// Draws chart laid out for target's size (not a scaled screenshot) and puts it back as it was.
void renderChartTo(QChart *chart, QPainter &painter, const QRectF &target);
// The look every chart of the module shares: no animation, no legend frame, the widget font.
void styleChart(QChart *chart, const QFont &font);
// A view of chart, antialiased, named `name` (tests find it by that) and at least minHeight tall.
QChartView *makeChartView(QChart *chart, const QString &name, int minHeight, QWidget *parent);

} // namespace HeadLens
