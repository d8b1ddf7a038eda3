#pragma once
// Distributions of entropy over blocks: a histogram with fixed bins and box plots per layer
// (or per head), of the lens entropy (per block of one site) or the attention entropy (per
// head and query position), for one trace or several. Clicking a bin reports the blocks that
// fall in it, so the block view can select them.

#include "headlens/analysis/headstats.h"
#include "headlens/trace/trace.h"
#include "headlens/ui/viewpanel.h"

#include <QPair>
#include <QVector>
#include <QWidget>

#include <vector>

class QBarCategoryAxis;
class QCategoryAxis;
class QChart;
class QValueAxis;
class QChartView;
class QComboBox;
class QBoxLayout;
class QLabel;
class QSpinBox;

namespace HeadLens {

// One trace to draw: read during setTraces only, never kept.
struct EntropySource {
    const Trace *trace = nullptr;   // name, layer/head counts and heads/attn_entropy
    const LensSite *lens = nullptr; // lens entropy of the shown site; null when absent
    QString label;                  // name in the legend; the trace's name when empty
};

class EntropyPanel : public ViewPanel {
    Q_OBJECT
public:
    enum class Quantity { Lens, Attention };
    Q_ENUM(Quantity)

    struct BoxStats {
        double min = 0, q1 = 0, median = 0, q3 = 0, max = 0;
        int count = 0;
    };

    explicit EntropyPanel(QWidget *parent = nullptr);
    ~EntropyPanel() override;

    void setTraces(const std::vector<EntropySource> &sources);
    void setTrace(const Trace &trace, const LensSite &lens);
    void clear();
    int traceCount() const { return int(m_sources.size()); }

    void setQuantity(Quantity quantity);
    Quantity quantity() const { return m_quantity; }
    void setLayer(int layer); // -1: all layers
    int layer() const { return m_layer; }
    void setHead(int head); // -1: all heads (attention entropy only)
    int head() const { return m_head; }
    void setBinCount(int bins);
    int binCount() const { return m_bins; }

    // --- the numbers shown, by the rules of analysis/headstats.h (bins, quantiles, finite
    // values only). The bins span 0 .. rangeUpper(), fixed for the quantity over all traces,
    // layers and heads (so switching layers keeps them comparable).
    double rangeUpper() const;
    std::vector<double> binEdges() const; // binCount() + 1 edges
    // The histogram of the shown values (-1: all traces pooled); binCounts() is its counts.
    Histogram valueHistogram(int traceIndex = -1) const;
    std::vector<int> binCounts(int traceIndex = -1) const; // -1: all traces pooled
    QVector<QPair<int, int>> blocksInBin(int bin, int traceIndex = 0) const; // (layer, pos)
    // The box of each layer (lens, or attention over all layers) or head (attention, one layer).
    std::vector<BoxStats> boxes(int traceIndex = 0) const;
    QChart *histogramChart() const { return m_histChart; }
    // What a click on bar `index` of the histogram's first bar set does (for tests, which
    // must not include Qt Charts themselves).
    void clickHistogramBar(int index);
    QChart *boxChart() const { return m_boxChart; }

    // The analysis rules on plain values: the bin of a value in `bins` equal bins over
    // [lower, upper] (-1 outside them, or not finite), the counts of those bins, and the box
    // (quantiles interpolated linearly) of the finite values.
    static int binOf(double value, double lower, double upper, int bins);
    static std::vector<int> histogram(const std::vector<float> &values, double lower, double upper,
                                      int bins);
    static BoxStats boxStats(const std::vector<float> &values);

    void renderTo(QPainter &painter, const QSize &size) override;
    // bin,lower,upper,<one count column per trace>
    QString csv() const override;

    // As narrow as the wider half of its control bar: the bar's halves stack in a narrow dock.
    QSize minimumSizeHint() const override;

public Q_SLOTS:
    // What a click on a bar does: reports the bin's blocks of that trace.
    void selectBin(int bin, int traceIndex = 0);
    void retranslateUi() override;

Q_SIGNALS:
    // The blocks of the clicked bin in the first trace (the one the block view shows).
    void binSelected(const QVector<QPair<int, int>> &blocks);
    // The same for any trace.
    void traceBinSelected(int traceIndex, const QVector<QPair<int, int>> &blocks);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    struct Source {
        QString label;
        int layers = 0, heads = 0, tokens = 0;
        std::vector<float> lens;      // [layer * T + pos], empty when absent
        std::vector<float> attention; // [(layer * H + head) * T + pos], empty when absent
    };
    // Calls f(value, layer, pos) for every value the current selection covers.
    template <typename F> void forEachValue(const Source &s, F &&f) const;
    Histogram emptyHistogram() const; // the bins of the current quantity, nothing counted
    void rebuild();
    void rebuildCombos();
    void updateInfo();

    std::vector<Source> m_sources;
    Quantity m_quantity = Quantity::Lens;
    int m_layer = -1;
    int m_head = -1;
    int m_bins = 20;
    int m_selectedBin = -1;
    int m_selectedTrace = 0;
    bool m_updating = false;

    QLabel *m_quantityLabel = nullptr, *m_layerLabel = nullptr, *m_headLabel = nullptr,
           *m_binsLabel = nullptr;
    QComboBox *m_quantityBox = nullptr;
    QComboBox *m_layerBox = nullptr;
    QComboBox *m_headBox = nullptr;
    QSpinBox *m_binsBox = nullptr;
    QChart *m_histChart = nullptr;
    QChartView *m_histView = nullptr;
    QChart *m_boxChart = nullptr;
    QCategoryAxis *m_histX = nullptr;
    QValueAxis *m_histY = nullptr;
    QBarCategoryAxis *m_boxX = nullptr;
    QValueAxis *m_boxY = nullptr;
    QChartView *m_boxView = nullptr;
    QLabel *m_info = nullptr;
    QWidget *m_barWhat = nullptr, *m_barHow = nullptr; // quantity and layer; head and bins
    QBoxLayout *m_bars = nullptr;
};

} // namespace HeadLens
