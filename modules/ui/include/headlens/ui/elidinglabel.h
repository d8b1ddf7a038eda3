#pragma once
// A one-line label that fits its width: the text is shortened with "…" when it does not fit,
// and the whole text is in the tooltip. text() stays the whole text (exports print it), and
// the label asks for only a few characters' width, so a narrow dock never cuts it mid-word.

#include <QLabel>

namespace HeadLens {

class ElidingLabel : public QLabel {
    Q_OBJECT
public:
    explicit ElidingLabel(QWidget *parent = nullptr);

    // Also sets the tooltip to the text (when it has to be shortened it is the only place the
    // whole of it shows).
    void setText(const QString &text);
    // The text as painted at the current width.
    QString shownText() const;

    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
};

} // namespace HeadLens
