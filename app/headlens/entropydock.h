#pragma once
// The Entropy dock: distributions of the lens and attention entropies of the shown trace (or of
// every trace of the project). Its charts are the slowest view to fill (Qt Charts), so they are
// filled after the block view has been painted, only while the dock can be seen, and only when
// the trace or the site changed.

#include "documentdock.h"

#include <QVector>

class QCheckBox;

namespace HeadLens {

class EntropyPanel;

class EntropyDock : public DocumentDock {
    Q_OBJECT
public:
    explicit EntropyDock(QWidget *parent);
    EntropyPanel *panel() const { return m_panel; }
    QCheckBox *allTracesBox() const { return m_all; }

    // Fills the charts now, visible or not (export, tests).
    void fillNow() { fill(true); }
    // How many times the charts were filled (a head pick must not do it).
    int fillCount() const { return m_fills; }

Q_SIGNALS:
    // A bin was clicked: its blocks of the shown trace.
    void blocksChosen(const QVector<QPair<int, int>> &blocks);

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void documentChanged(const ChangeEvent &event) override;
    void retranslateUi() override;

private:
    void schedule();
    void fill(bool force);

    EntropyPanel *m_panel;
    QCheckBox *m_all;
    bool m_dirty = false;
    int m_fills = 0;
};

} // namespace HeadLens
