#pragma once
// What each attention head adds at the selected (layer, position): per-head bars of one of the
// TRACE.md head metrics (contribution norm, share, cosine with attn_out, projection on
// attn_out), the sum check (the projections add up to ||attn_out|| when o_proj has no bias),
// and a layers x heads heatmap of the mean contribution norm over positions.

#include "headlens/trace/headroles.h"
#include "headlens/trace/trace.h"
#include "headlens/ui/viewpanel.h"

#include <QWidget>

#include <vector>

class QChart;
class QChartView;
class QBarSeries;
class QBarSet;
class QBarCategoryAxis;
class QValueAxis;
class QComboBox;
class QLabel;

namespace HeadLens {

class ElidingLabel;
class TitleRow;

class HeadHeatmap;

class HeadContributionPanel : public ViewPanel {
    Q_OBJECT
public:
    enum class Metric { Norm, Share, Cosine, Projection };
    Q_ENUM(Metric)

    explicit HeadContributionPanel(QWidget *parent = nullptr);
    ~HeadContributionPanel() override;

    // Copies the [layer, head, pos] head metrics, the token texts and whether o_proj has a
    // bias; clears the selection.
    void setTrace(const Trace &trace);
    // The same from bare arrays (each [layer, head, pos], same shape; cosine and projection
    // may be empty).
    void setHeadMetrics(const FloatArray &norm, const FloatArray &cosine,
                        const FloatArray &projection, bool attnOutBias = false);
    void clear();

    // The (layer, pos) the bars are for; (-1, -1) clears. Forgets the direct ||attn_out||.
    void setSelection(int layer, int pos);
    int selectedLayer() const { return m_layer; }
    int selectedPos() const { return m_pos; }
    // ||attn_out[layer][pos]|| computed from the stored residual, for the sum check; NaN when
    // not known. Set it after setSelection.
    void setAttnOutNorm(double norm);
    double attnOutNorm() const { return m_attnOutNorm; }

    // What each head selects (headlens/trace/headroles.h), or empty: each head's strongest
    // role labels its bar, and the selected head's is spelled out in the title.
    void setHeadRoles(const HeadRoles &roles);
    // The selected head's role ("" when there are no roles or no head is selected).
    QString roleText() const;
    // The labels under the bars: each head's number and, when known and every such label fits
    // under its bar, its strongest role.
    QStringList headLabels() const;

    void setMetric(Metric metric);
    Metric metric() const { return m_metric; }
    // The highlighted head (-1: none); emits nothing.
    void setSelectedHead(int head);
    int selectedHead() const { return m_head; }

    // --- the numbers shown
    int layerCount() const;
    int headCount() const;
    // Per head at the selection (the share by analysis' contribShares); empty without one.
    std::vector<double> values(Metric metric) const;
    double projectionSum() const; // NaN without a selection or projections
    QString sumCheckText() const;
    // Whether the chart shows its axes (not when it has no bars).
    bool axesShown() const;
    // The value axis's title as shown (empty where the plot is too short for all of it), and
    // the plot's height in pixels.
    QString valueAxisTitle() const;
    // Whether the bars carry their values, and with how many significant digits.
    bool valueLabelsShown() const;
    int valueLabelDigits() const;
    int plotHeight() const;
    // [layer, head]: mean contrib_norm over positions (analysis' meanOverPositions).
    FloatArray meanNorms() const;
    HeadHeatmap *heatmap() const { return m_heatmap; }
    QChart *chart() const { return m_chart; }

    void renderTo(QPainter &painter, const QSize &size) override;
    // layer,pos,head,norm,share,cosine,projection — one line per head of the selection.
    QString csv() const override;
    QString heatmapCsv() const;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    // A head was chosen in the heatmap or by clicking its bar.
    void headSelected(int layer, int head);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void updateBars();
    void updateTexts();
    QString metricTitle(Metric m) const;
    QString axisTitle(Metric m) const;
    void fitChartTexts();

    FloatArray m_norm, m_cosine, m_projection; // [L, H, T]
    std::vector<QString> m_tokenText;
    bool m_bias = false;
    int m_layer = -1, m_pos = -1, m_head = -1;
    double m_attnOutNorm;
    Metric m_metric = Metric::Norm;

    TitleRow *m_titleRow = nullptr;
    ElidingLabel *m_title = nullptr; // m_titleRow's
    QLabel *m_metricLabel = nullptr;
    QComboBox *m_metricBox = nullptr;
    QChart *m_chart = nullptr;
    QChartView *m_chartView = nullptr;
    QBarSeries *m_series = nullptr;
    QBarSet *m_set = nullptr;
    QBarCategoryAxis *m_axisX = nullptr;
    QValueAxis *m_axisY = nullptr;
    ElidingLabel *m_sumLabel = nullptr;
    HeadRoles m_roles;
    void updateCategories();
    QString roleTextOf(int head) const;
    QLabel *m_heatmapTitle = nullptr;
    HeadHeatmap *m_heatmap = nullptr;
};

} // namespace HeadLens
