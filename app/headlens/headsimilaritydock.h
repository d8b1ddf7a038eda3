#pragma once
// The Head Similarity dock: how alike the heads of the selected layer are, in the shown trace
// or across the project (HeadSimilarityPanel). It computes only while it can be seen.

#include "documentdock.h"

namespace HeadLens {

class HeadSimilarityPanel;

class HeadSimilarityDock : public DocumentDock {
    Q_OBJECT
public:
    explicit HeadSimilarityDock(QWidget *parent);
    HeadSimilarityPanel *panel() const { return m_panel; }

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void documentChanged(const ChangeEvent &event) override;
    void retranslateUi() override;

private:
    HeadSimilarityPanel *m_panel;
};

} // namespace HeadLens
