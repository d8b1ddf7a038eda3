#pragma once
// A panel's title line with its controls (a label and a combo box, say) to the right: when the
// panel is too narrow for the whole title beside them, the controls move to a line of their
// own below it, so the title shows whole instead of "Layer 3 · po…". Only when even a line of
// its own is too narrow is the title shortened (ElidingLabel: "…", the whole text in the
// tooltip).

#include <QWidget>

class QGridLayout;

namespace HeadLens {

class ElidingLabel;

class TitleRow : public QWidget {
    Q_OBJECT
public:
    explicit TitleRow(QWidget *parent = nullptr);

    ElidingLabel *title() const { return m_title; }
    void setTitle(const QString &text);
    // Adds a control after the title (and after the controls added before it).
    void addControl(QWidget *control);
    // Whether the controls are on a line of their own (the title did not fit beside them).
    bool isWrapped() const { return m_wrapped; }

protected:
    void resizeEvent(QResizeEvent *event) override;
    bool event(QEvent *event) override;

private:
    // Places the title and controls for the current width; with force, even when the wrap
    // did not change (a control was added).
    void relayout(bool force = false);
    int controlsWidth() const;

    ElidingLabel *m_title;
    QGridLayout *m_grid;
    QList<QWidget *> m_controls;
    bool m_wrapped = false;
};

} // namespace HeadLens
