#pragma once
// A slim bar above the views that tells the user something without stopping them (a project
// that could not be opened, the engine that stopped), with optional action buttons and a close
// button. Unlike a message box it never blocks, so work (and tests) go on.

#include <QFrame>
#include <QList>
#include <QString>

class QAction;
class QHBoxLayout;
class QLabel;
class QToolButton;

namespace HeadLens {

class MessageBar : public QFrame {
    Q_OBJECT
public:
    enum class Level { Information, Warning, Error };
    Q_ENUM(Level)

    explicit MessageBar(QWidget *parent = nullptr);

    // Shows text (replacing what was shown) with buttons for the given actions.
    void showMessage(Level level, const QString &text, const QList<QAction *> &actions = {});
    void dismiss();
    QString text() const;
    Level level() const { return m_level; }

public Q_SLOTS:
    void retranslateUi();

Q_SIGNALS:
    void dismissed();

private:
    static QString breakable(const QString &text);

    QLabel *m_icon;
    QLabel *m_label;
    QHBoxLayout *m_buttons;
    QToolButton *m_close;
    Level m_level = Level::Information;
};

} // namespace HeadLens
