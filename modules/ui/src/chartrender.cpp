#include "chartrender.h"

#include <QChart>
#include <QChartView>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QPainter>

namespace HeadLens {

void renderChartTo(QChart *chart, QPainter &painter, const QRectF &target)
{
    if (!chart || !chart->scene() || target.isEmpty()) return;
    const QRectF old = chart->geometry();
    chart->setGeometry(QRectF(old.topLeft(), target.size()));
    if (chart->layout()) chart->layout()->activate();
    painter.save();
    chart->scene()->render(&painter, target, QRectF(old.topLeft(), target.size()),
                           Qt::IgnoreAspectRatio);
    painter.restore();
    chart->setGeometry(old);
    if (chart->layout()) chart->layout()->activate();
}

void styleChart(QChart *chart, const QFont &font)
{
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->setTitleFont(font);
    chart->legend()->setFont(font);
}

QChartView *makeChartView(QChart *chart, const QString &name, int minHeight, QWidget *parent)
{
    auto *view = new QChartView(chart, parent);
    view->setObjectName(name);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(minHeight);
    return view;
}

} // namespace HeadLens
