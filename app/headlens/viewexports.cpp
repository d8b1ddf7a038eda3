#include "viewexports.h"

#include "exportdialog.h"

#include "headlens/ui/export.h"

#include <QApplication>
#include <QWidget>

namespace HeadLens {

ViewExports::ViewExports(QWidget *window, std::function<QList<View>()> views,
                         std::function<QString()> traceName)
    : QObject(window), m_window(window), m_views(std::move(views)),
      m_traceName(std::move(traceName))
{
}

bool ViewExports::exportView(QWidget *view, Format format, const QString &path, const QSize &size,
                             QString *error) const
{
    // An SVG's title names the trace and the view.
    QString title = view->windowTitle();
    for (const View &v : views())
        if (v.widget == view) {
            if (v.prepare) v.prepare();
            title = v.name;
        }
    const QString trace = m_traceName();
    if (!trace.isEmpty()) title = trace + QStringLiteral(" \u2014 ") + title;
    switch (format) {
    case Format::Svg:
        return exportSvg(renderFunctionFor(view), path, size, error, title);
    case Format::Png:
        return exportPng(view, path, size, error);
    case Format::Csv:
        if (auto *ev = dynamic_cast<ExportableView *>(view))
            return exportCsv(ev->csv(), path, error);
        if (error) *error = tr("This view has no numbers to export.");
        return false;
    }
    return false;
}

void ViewExports::exportInteractively(Format format)
{
    const QList<View> all = views();
    QStringList names;
    int chosen = 0;
    QWidget *focus = QApplication::focusWidget();
    for (int i = 0; i < all.size(); ++i) {
        names << all[i].name;
        if (focus && all[i].widget->isAncestorOf(focus)) chosen = i;
    }
    ExportDialog dialog(names, chosen, ExportDialog::Format(int(format)), m_traceName(), m_window);
    if (dialog.exec() != QDialog::Accepted) return;
    QString error;
    const auto fmt = Format(int(dialog.format()));
    if (exportView(all[dialog.view()].widget, fmt, dialog.fileName(), dialog.size(), &error))
        Q_EMIT exported(dialog.fileName());
    else
        Q_EMIT failed(tr("Could not export: %1").arg(error));
}

} // namespace HeadLens
