#pragma once
// Export: which view, as what (SVG or PNG figure at a chosen size, or CSV of the numbers
// behind it), and where. The drawing is the view laid out for the chosen size, not a scaled
// screenshot (HeadLens::ExportableView).

#include <QDialog>
#include <QSize>

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QToolButton;

namespace HeadLens {

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    enum class Format { Svg, Png, Csv };
    Q_ENUM(Format)

    // views: the names offered, in order; current: the index chosen at first; trace: the shown
    // trace, which names the file ("girl-block-view.svg") with the view, until the reader
    // types another name.
    ExportDialog(const QStringList &views, int current, Format format,
                 const QString &trace = QString(), QWidget *parent = nullptr);

    int view() const;
    Format format() const;
    QSize size() const;
    QString fileName() const;
    void setFileName(const QString &path);

    static QString suffix(Format format);

public Q_SLOTS:
    void retranslateUi();

private:
    void browse();
    void updateForm();
    // The file's base name for the chosen view.
    QString autoName() const;
    void viewChosen();

    QLabel *m_viewLabel, *m_formatLabel, *m_sizeLabel, *m_fileLabel;
    QComboBox *m_view;
    QComboBox *m_format;
    QSpinBox *m_width;
    QSpinBox *m_height;
    QLineEdit *m_file;
    QToolButton *m_browse;
    QString m_trace;
    QString m_autoName; // the base name last filled in
};

} // namespace HeadLens
