#pragma once
// The Attention Pattern dock: the selected layer's attention as a query x key heatmap, for the
// head chosen in the view toolbar or the mean of the heads (AttentionPatternView). A click on a
// row selects that position in the block view.

#include "documentdock.h"

namespace HeadLens {

class AttentionPatternView;

class AttentionPatternDock : public DocumentDock {
    Q_OBJECT
public:
    explicit AttentionPatternDock(QWidget *parent);
    AttentionPatternView *patternView() const { return m_view; }

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void retranslateUi() override;
    void showEvent(QShowEvent *event) override;

private:
    AttentionPatternView *m_view;
    bool m_stale = true; // shown data is out of date (filled when the dock is visible)
};

} // namespace HeadLens
