#pragma once
// Module-private helpers for the Qt Charts panels.

#include <QRectF>

class QChart;
class QFont;
class QPainter;
class QChartView;

namespace HeadLens {

// Draws chart laid out for target's size (not a scaled screenshot) and puts it back as it was.
void renderChartTo(QChart *chart, QPainter &painter, const QRectF &target);
// The look every chart of the module shares: no animation, no legend frame, the widget font.
void styleChart(QChart *chart, const QFont &font);

} // namespace HeadLens
