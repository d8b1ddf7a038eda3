#pragma once
// The left side of the window's status bar: the selection's text, and the passing messages
// (saved, exported, trace added) that cover it for a while. Neither is cut off mid-letter under
// the labels on the right (the lens, the engine): a text that does not fit ends in "…" and is
// whole in the tooltip, and a message is shortened again when the bar's width changes.

#include <QObject>
#include <QString>

class QStatusBar;

namespace HeadLens {

class ElidingLabel;

class StatusMessages : public QObject {
    Q_OBJECT
public:
    // Puts the selection's label into bar; labels added with addPermanent go on its right.
    explicit StatusMessages(QStatusBar *bar);

    void addPermanent(QWidget *label);
    ElidingLabel *selectionLabel() const { return m_selection; }

public Q_SLOTS:
    void setSelectionText(const QString &text);
    // Shows text for timeoutMs (0: until the next one); an empty text clears the message.
    void showMessage(const QString &text, int timeoutMs);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    QStatusBar *m_bar;
    ElidingLabel *m_selection;
    QList<QWidget *> m_permanent;
    QString m_message; // the passing message shown, whole (it may show shortened)
    int m_timeout = 0;
    int m_width = -1;
};

} // namespace HeadLens
