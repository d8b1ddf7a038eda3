#pragma once
// Direct logit attribution at the selected position (SCHEMA-ADDITIONS.md): a layers x heads
// heatmap of what each head adds to the logit of the model's prediction there, a waterfall of
// the parts in the order they enter the residual stream (embedding, each layer's attention and
// MLP blocks, the rest) that ends at the final logit, and the sum check of the two.

#include "headlens/trace/trace.h"
#include "headlens/ui/viewpanel.h"

#include <QWidget>

#include <vector>

class QLabel;
class QSplitter;
class QTabWidget;

namespace HeadLens {

class HeadHeatmap;
class DlaWaterfall;

class LogitAttributionPanel : public ViewPanel {
    Q_OBJECT
public:
    explicit LogitAttributionPanel(QWidget *parent = nullptr);
    ~LogitAttributionPanel() override;

    // Copies the trace's attribution and the texts of its tokens; keeps the position.
    void setTrace(const Trace &trace);
    void clear();
    bool hasAttribution() const { return !m_dla.empty(); }

    // The position shown (-1: none).
    void setPosition(int pos);
    int position() const { return m_pos; }
    // The highlighted head (-1: none); emits nothing.
    void setSelectedHead(int layer, int head);

    // --- the numbers shown, at the position
    FloatArray headMatrix() const;     // [layer, head]; empty without a position
    std::vector<double> parts() const; // embedding, L0 attention, L0 MLP, ..., rest
    double logit() const;              // the model's logit; NaN without a position
    double sumError() const;           // sum of parts - logit; NaN without a position
    QString sumCheckText() const;
    QString titleText() const;
    HeadHeatmap *heatmap() const { return m_heatmap; }
    DlaWaterfall *waterfall() const { return m_waterfall; }
    // Whether the heatmap and the waterfall stand side by side (else they are two tabs).
    bool sideBySide() const { return m_sideBySide; }
    // The width the waterfall's bars span, in px.
    double waterfallBarRoom() const;

    void renderTo(QPainter &painter, const QSize &size) override;
    // part,layer,head,value: every head, block and term of the position.
    QString csv() const override;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    void headSelected(int layer, int head);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void showPosition();
    // Side by side where both have room (the waterfall its comfortableWidth), else as tabs:
    // in a laptop's narrow dock two columns left the waterfall's bars about 10 px wide. Tabs
    // become columns again a margin above that width, so a scroll bar cannot flip them.
    void arrangeColumns();
    void nameTabs(); // in the tabs' arrangement

    LogitAttribution m_dla;
    std::vector<QString> m_tokenText, m_targetText; // [pos]
    int m_pos = -1;
    QLabel *m_title = nullptr;
    QLabel *m_sumLabel = nullptr;
    QLabel *m_heatmapTitle = nullptr;
    QLabel *m_waterfallTitle = nullptr;
    HeadHeatmap *m_heatmap = nullptr;
    DlaWaterfall *m_waterfall = nullptr;
    QWidget *m_heatmapColumn = nullptr;
    QWidget *m_waterfallColumn = nullptr;
    QSplitter *m_split = nullptr;
    QTabWidget *m_tabs = nullptr;
    bool m_sideBySide = true;
};

} // namespace HeadLens
