#pragma once
// The Head Similarity dock: how alike the heads of the selected layer are, in the shown trace
// or across the project (HeadSimilarityPanel). It computes only while it can be seen.

#include "paneldock.h"

namespace HeadLens {

class HeadSimilarityPanel;

class HeadSimilarityDock : public PanelDock<HeadSimilarityPanel> {
    Q_OBJECT
public:
    explicit HeadSimilarityDock(QWidget *parent);

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void documentChanged(const ChangeEvent &event) override;
    void retranslateUi() override;
};

} // namespace HeadLens
