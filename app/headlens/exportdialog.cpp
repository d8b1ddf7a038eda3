#include "exportdialog.h"

#include "appsettings.h"
#include "okcancel.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QToolButton>

namespace HeadLens {

ExportDialog::ExportDialog(const QStringList &views, int current, Format format,
                           const QString &trace, QWidget *parent)
    : QDialog(parent), m_viewLabel(new QLabel), m_formatLabel(new QLabel), m_sizeLabel(new QLabel),
      m_fileLabel(new QLabel), m_view(new QComboBox), m_format(new QComboBox),
      m_width(new QSpinBox), m_height(new QSpinBox), m_file(new QLineEdit),
      m_browse(new QToolButton), m_trace(trace)
{
    setObjectName("ExportDialog");
    m_width->setObjectName("ExportWidth");
    m_height->setObjectName("ExportHeight");
    m_view->addItems(views);
    m_view->setCurrentIndex(current);
    m_format->addItem(QString(), int(Format::Svg));
    m_format->addItem(QString(), int(Format::Png));
    m_format->addItem(QString(), int(Format::Csv));
    m_format->setCurrentIndex(int(format));
    for (QSpinBox *s : {m_width, m_height})
        s->setRange(64, 16384);
    m_file->setMinimumWidth(380);
    m_width->setValue(AppSettings::value("export/width", 1600).toInt());
    m_height->setValue(AppSettings::value("export/height", 1000).toInt());
    auto *sizeRow = new QHBoxLayout;
    sizeRow->addWidget(m_width);
    sizeRow->addWidget(new QLabel(QStringLiteral("×")));
    sizeRow->addWidget(m_height);
    sizeRow->addStretch();
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(m_browse);
    connect(m_browse, &QToolButton::clicked, this, &ExportDialog::browse);
    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportDialog::updateForm);
    connect(m_view, &QComboBox::currentIndexChanged, this, &ExportDialog::viewChosen);

    auto *form = new QFormLayout;
    form->addRow(m_viewLabel, m_view);
    form->addRow(m_formatLabel, m_format);
    form->addRow(m_sizeLabel, sizeRow);
    form->addRow(m_fileLabel, fileRow);
    layOutWithOkCancel(this, form, [this] {
        AppSettings::setValue("export/width", m_width->value());
        AppSettings::setValue("export/height", m_height->value());
        AppSettings::setValue("export/folder", QFileInfo(fileName()).absolutePath());
    });
    retranslateUi();
    const QString folder =
        AppSettings::value("export/folder",
                           QStandardPaths::writableLocation(QStandardPaths::PicturesLocation))
            .toString();
    m_autoName = autoName();
    m_file->setText(QDir(folder).filePath(m_autoName + suffix(format)));
    updateForm();
}

QString ExportDialog::autoName() const
{
    // "girl-block-view": letters, digits, '.', '_' and '-' only, so it is a file name anywhere.
    QString name = m_trace.isEmpty() ? QStringLiteral("headlens") : m_trace;
    if (m_view->currentIndex() >= 0) name += QLatin1Char('-') + m_view->currentText();
    QString out;
    for (const QChar c : name.toLower())
        out += c.isLetterOrNumber() || c == QLatin1Char('.') || c == QLatin1Char('_') ||
                       c == QLatin1Char('-')
                   ? c
                   : QLatin1Char('-');
    return out;
}

void ExportDialog::viewChosen()
{
    // The name follows the view while it is the one filled in.
    const QFileInfo info(m_file->text());
    if (info.completeBaseName() != m_autoName) return;
    m_autoName = autoName();
    m_file->setText(info.dir().filePath(m_autoName + suffix(format())));
}

void ExportDialog::retranslateUi()
{
    setWindowTitle(tr("Export"));
    m_viewLabel->setText(tr("&View:"));
    m_viewLabel->setBuddy(m_view);
    m_view->setToolTip(tr("The view to export"));
    m_formatLabel->setText(tr("&Format:"));
    m_formatLabel->setBuddy(m_format);
    m_format->setItemText(0, tr("SVG figure (vector)"));
    m_format->setItemText(1, tr("PNG image"));
    m_format->setItemText(2, tr("CSV of the numbers behind the view"));
    m_format->setToolTip(tr("A figure of the view, or its numbers as a table"));
    m_sizeLabel->setText(tr("&Size:"));
    m_sizeLabel->setBuddy(m_width);
    m_width->setSuffix(tr(" px"));
    m_height->setSuffix(tr(" px"));
    m_width->setToolTip(tr("Width of the figure in pixels"));
    m_height->setToolTip(tr("Height of the figure in pixels"));
    m_fileLabel->setText(tr("F&ile:"));
    m_fileLabel->setBuddy(m_file);
    m_file->setToolTip(tr("Where to write the export"));
    m_browse->setText(tr("Browse…"));
    m_browse->setToolTip(tr("Choose the file to write"));
}

void ExportDialog::updateForm()
{
    const bool figure = format() != Format::Csv;
    m_width->setEnabled(figure);
    m_height->setEnabled(figure);
    // Keep the file's suffix in step with the format (when the format changes; what the user
    // types is left alone, and fileName() adds a missing suffix).
    const QString path = m_file->text();
    const QFileInfo info(path);
    const QString want = suffix(format());
    if (!path.isEmpty() && !path.endsWith(want, Qt::CaseInsensitive)) {
        const QString base =
            info.suffix().isEmpty() ? path : path.left(path.size() - info.suffix().size() - 1);
        QSignalBlocker block(m_file);
        m_file->setText(base + want);
    }
}

void ExportDialog::browse()
{
    const Format f = format();
    const QString filter = f == Format::Svg   ? tr("SVG files (*.svg)")
                           : f == Format::Png ? tr("PNG images (*.png)")
                                              : tr("CSV files (*.csv)");
    const QString file =
        QFileDialog::getSaveFileName(this, tr("Export to"), m_file->text(), filter);
    if (!file.isEmpty()) m_file->setText(file);
}

int ExportDialog::view() const
{
    return m_view->currentIndex();
}

ExportDialog::Format ExportDialog::format() const
{
    return Format(m_format->currentData().toInt());
}

QSize ExportDialog::size() const
{
    return QSize(m_width->value(), m_height->value());
}

QString ExportDialog::fileName() const
{
    const QString path = m_file->text().trimmed();
    const QString want = suffix(format());
    return path.isEmpty() || path.endsWith(want, Qt::CaseInsensitive) ? path : path + want;
}

void ExportDialog::setFileName(const QString &path)
{
    m_file->setText(path);
}

QString ExportDialog::suffix(Format format)
{
    switch (format) {
    case Format::Svg:
        return QStringLiteral(".svg");
    case Format::Png:
        return QStringLiteral(".png");
    case Format::Csv:
        return QStringLiteral(".csv");
    }
    return {};
}

} // namespace HeadLens
