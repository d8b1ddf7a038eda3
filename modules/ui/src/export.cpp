#include "headlens/ui/export.h"

#include <QCoreApplication>
#include <QImage>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

namespace HeadLens {

namespace {

// Strings of this file are translated in the context "HeadLens::Export" (written out in each
// call so that lupdate finds them).

void setError(QString *error, const QString &message)
{
    if (error) *error = message;
}

bool checkSize(const QSize &size, QString *error)
{
    if (size.width() <= 0 || size.height() <= 0 || size.width() > 20000 || size.height() > 20000) {
        setError(error,
                 QCoreApplication::translate(
                     "HeadLens::Export", "invalid export size %1 x %2 (1 to 20000 pixels each way)")
                     .arg(size.width())
                     .arg(size.height()));
        return false;
    }
    return true;
}

} // namespace

RenderFunction renderFunctionFor(QWidget *widget)
{
    if (auto *view = dynamic_cast<ExportableView *>(widget))
        return [view](QPainter &p, const QSize &size) { view->renderTo(p, size); };
    return [widget](QPainter &p, const QSize &size) { renderWidgetScaled(widget, p, size); };
}

void renderWidgetScaled(QWidget *widget, QPainter &p, const QSize &size)
{
    const QSize own = widget->size().isEmpty() ? widget->sizeHint() : widget->size();
    if (own.isEmpty()) return;
    const double s =
        std::min(double(size.width()) / own.width(), double(size.height()) / own.height());
    p.save();
    p.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    p.translate((size.width() - own.width() * s) / 2, (size.height() - own.height() * s) / 2);
    p.scale(s, s);
    widget->render(&p, QPoint(), QRegion(), QWidget::DrawChildren);
    p.restore();
}

void beginFigure(QPainter &p, const QSize &size, const QFont &font)
{
    p.save();
    p.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    p.setFont(font);
    p.setPen(QColor(0x20, 0x20, 0x20));
}

QImage renderImage(const RenderFunction &render, const QSize &size)
{
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter p(&image);
    p.setRenderHint(QPainter::TextAntialiasing, true);
    render(p, size);
    p.end();
    return image;
}

bool exportSvg(const RenderFunction &render, const QString &path, const QSize &size, QString *error,
               const QString &title)
{
    if (!checkSize(size, error)) return false;
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setResolution(96); // fonts in points come out the size they are on screen
    svg.setTitle(title.isEmpty()
                     ? QCoreApplication::translate("HeadLens::Export", "HeadLens figure")
                     : title);
    svg.setDescription(QCoreApplication::translate("HeadLens::Export", "Exported from HeadLens"));
    QPainter p;
    if (!p.begin(&svg)) {
        setError(error,
                 QCoreApplication::translate("HeadLens::Export", "cannot write %1").arg(path));
        return false;
    }
    p.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    render(p, size);
    if (!p.end()) {
        setError(error,
                 QCoreApplication::translate("HeadLens::Export", "writing %1 failed").arg(path));
        return false;
    }
    return true;
}

bool exportSvg(QWidget *widget, const QString &path, const QSize &size, QString *error)
{
    return exportSvg(renderFunctionFor(widget), path, size, error,
                     widget ? widget->windowTitle() : QString());
}

bool exportPng(const RenderFunction &render, const QString &path, const QSize &size, QString *error)
{
    if (!checkSize(size, error)) return false;
    const QImage image = renderImage(render, size);
    if (!image.save(path, "PNG")) {
        setError(error,
                 QCoreApplication::translate("HeadLens::Export", "cannot write %1").arg(path));
        return false;
    }
    return true;
}

bool exportPng(QWidget *widget, const QString &path, const QSize &size, QString *error)
{
    return exportPng(renderFunctionFor(widget), path, size, error);
}

bool exportCsv(const QString &csv, const QString &path, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        setError(error, QCoreApplication::translate("HeadLens::Export", "cannot write %1: %2")
                            .arg(path, file.errorString()));
        return false;
    }
    file.write(csv.toUtf8());
    if (!file.commit()) {
        setError(error, QCoreApplication::translate("HeadLens::Export", "writing %1 failed: %2")
                            .arg(path, file.errorString()));
        return false;
    }
    return true;
}

QString csvField(const QString &text)
{
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
        !text.contains(QLatin1Char('\n')) && !text.contains(QLatin1Char('\r')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString csvLine(const QStringList &fields)
{
    QStringList out;
    out.reserve(fields.size());
    for (const QString &f : fields)
        out << csvField(f);
    return out.join(QLatin1Char(',')) + QLatin1Char('\n');
}

} // namespace HeadLens
