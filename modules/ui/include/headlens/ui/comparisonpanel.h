#pragma once
// Two traces side by side (two prompts, or two models): tokens aligned by their character
// offsets (alignTokens), layers by relative depth, two compact grids that scroll and select
// together; per aligned pair the final layer's top-1, its probability, entropy and decision
// depth, with differences in a warm colour.

#include "headlens/trace/trace.h"
#include "headlens/ui/comparisongrid.h"
#include "headlens/ui/viewpanel.h"

#include <QWidget>

class QCheckBox;
class QLabel;

namespace HeadLens {

class ComparisonPanel : public ViewPanel {
    Q_OBJECT
public:
    explicit ComparisonPanel(QWidget *parent = nullptr);
    ~ComparisonPanel() override;

    // Copies what it shows from both traces and the lens of one site of each (the site is
    // resid_post unless said otherwise; the decision depth needs resid_post, taken from the
    // lens when site is ResidPost, else from the trace's own resid_post lens when loaded).
    void setTraces(const Trace &left, const LensSite &leftLens, const Trace &right,
                   const LensSite &rightLens, Site site = Site::ResidPost);
    void clear();

    const AlignedPairs &pairs() const { return *m_pairs; }
    int pairCount() const { return int(m_pairs->size()); }
    // Whether the final layer's top-1 differs between the two tokens of a pair.
    bool pairDiffers(int pair) const;
    int differingPairCount() const;
    const ComparisonSideData &side(int s) const { return s == 0 ? *m_left : *m_right; }

    void setSelectedPair(int pair, double depth = 1.0); // emits nothing
    int selectedPair() const { return m_selPair; }
    ComparisonGrid *leftGrid() const { return m_leftGrid; }
    ComparisonGrid *rightGrid() const { return m_rightGrid; }

    void renderTo(QPainter &painter, const QSize &size) override;
    // One line per aligned pair: pair, positions, tokens, final top-1 of each side with
    // probability, entropy, decision depth (layer and relative) and whether the top-1 differs.
    QString csv() const override;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    // A cell was clicked in either grid: the pair, and each side's token (-1 when none).
    void pairSelected(int pair, int leftPos, int rightPos);
    // The same as a block of one side: side 0 left, 1 right.
    void blockSelected(int side, int layer, int pos);

private:
    void onCellClicked(int side, int pair, int layer);
    void updateInfo();

    std::shared_ptr<ComparisonSideData> m_left, m_right;
    std::shared_ptr<AlignedPairs> m_pairs;
    int m_selPair = -1;
    double m_selDepth = -1;

    QLabel *m_summary = nullptr;
    QCheckBox *m_markAll = nullptr;
    ComparisonGrid *m_leftGrid = nullptr;
    ComparisonGrid *m_rightGrid = nullptr;
    QLabel *m_info = nullptr;
};

} // namespace HeadLens
