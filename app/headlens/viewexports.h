#pragma once
// The Export menu's job: the views that can be exported, by name, and writing one as SVG, PNG
// or CSV, with the title and file naming the trace it shows (ExportDialog asks which view,
// format, size and file). The window lists the views; a view that fills itself lazily gets a
// prepare step that runs before it is drawn.

#include <QList>
#include <QObject>
#include <QSize>
#include <QString>

#include <functional>

class QWidget;

namespace HeadLens {

class ViewExports : public QObject {
    Q_OBJECT
public:
    enum class Format { Svg, Png, Csv };
    struct View {
        QString name; // as the dialog lists it (translated)
        QWidget *widget = nullptr;
        std::function<void()> prepare; // may be empty
    };

    // views() gives the views in the order the dialog lists them; traceName() the shown trace.
    ViewExports(QWidget *window, std::function<QList<View>()> views,
                std::function<QString()> traceName);

    QList<View> views() const { return m_views(); }
    // Writes view as SVG/PNG (of size) or CSV. False with *error set on failure.
    bool exportView(QWidget *view, Format format, const QString &path, const QSize &size,
                    QString *error = nullptr) const;
    // Asks which view (the one with the focus first), format and file, and exports it.
    void exportInteractively(Format format);

Q_SIGNALS:
    void exported(const QString &path);
    void failed(const QString &message);

private:
    QWidget *m_window;
    std::function<QList<View>()> m_views;
    std::function<QString()> m_traceName;
};

} // namespace HeadLens
