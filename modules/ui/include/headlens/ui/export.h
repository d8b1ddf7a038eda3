#pragma once
// Figures and numbers out of every view: SVG and PNG at a chosen size, CSV of the numbers
// behind a view. Every panel of this module is an ExportableView: it can draw itself laid out
// for any size (not a screenshot scaled up) and write its numbers as CSV.

#include <QImage>
#include <QSize>
#include <QString>
#include <QStringList>

#include <functional>

class QFont;
class QPainter;
class QWidget;

namespace HeadLens {

// What a view offers to the export functions.
class ExportableView {
public:
    virtual ~ExportableView() = default;
    // Draws the view's content laid out for a canvas of `size` pixels at the painter's origin,
    // on a white background. Does not change what the widget shows on screen.
    virtual void renderTo(QPainter &painter, const QSize &size) = 0;
    // The numbers behind the view: a header line, then one line per record, RFC 4180 quoting,
    // '\n' line ends.
    virtual QString csv() const = 0;
};

using RenderFunction = std::function<void(QPainter &painter, const QSize &size)>;

// The drawing of a widget: its renderTo() when it is an ExportableView, otherwise the widget as
// it looks on screen, scaled to fit `size` with its aspect ratio kept.
RenderFunction renderFunctionFor(QWidget *widget);
// Draws widget as it looks on screen, scaled to fit `size` with its aspect ratio kept, centred
// on white (what renderFunctionFor gives a widget that is not an ExportableView).
void renderWidgetScaled(QWidget *widget, QPainter &painter, const QSize &size);

// Starts drawing a figure of `size`: saves the painter (the caller restores it), fills the
// canvas white, and sets `font` and the ink every figure's text is written in.
void beginFigure(QPainter &painter, const QSize &size, const QFont &font);

// Each returns false and sets *error (when given) to a readable message on failure.
bool exportSvg(const RenderFunction &render, const QString &path, const QSize &size,
               QString *error = nullptr, const QString &title = QString());
bool exportSvg(QWidget *widget, const QString &path, const QSize &size, QString *error = nullptr);
bool exportPng(const RenderFunction &render, const QString &path, const QSize &size,
               QString *error = nullptr);
bool exportPng(QWidget *widget, const QString &path, const QSize &size, QString *error = nullptr);
// Writes csv as UTF-8 (atomically: a file beside, then renamed over).
bool exportCsv(const QString &csv, const QString &path, QString *error = nullptr);

// The drawing as an image (what exportPng writes).
QImage renderImage(const RenderFunction &render, const QSize &size);

// One CSV field, quoted when it holds a comma, a quote or a line break.
QString csvField(const QString &text);
// A CSV line of fields (joined with ',' and ended with '\n').
QString csvLine(const QStringList &fields);

} // namespace HeadLens
