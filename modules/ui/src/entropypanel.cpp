#include "headlens/ui/entropypanel.h"

#include "chartrender.h"
#include "headlens/ui/colourscale.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QBoxPlotSeries>
#include <QBoxSet>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace HeadLens {

namespace {

QColor traceColour(int i)
{
    static const QRgb colours[] = {0x225ea8, 0xe6550d, 0x31a354, 0x756bb1, 0x636363, 0xd6616b};
    return QColor::fromRgb(colours[i % 6]);
}

// The smallest of 1, 2, 2.5, 5 x 10^k that is >= x.
double niceStepAtLeast(double x)
{
    if (!(x > 0)) return 0.05;
    const double e = std::pow(10.0, std::floor(std::log10(x)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * e >= x * (1 - 1e-9)) return m * e;
    return 10 * e;
}

// Whether v is 1, 2 or 5 x 10^k: a value worth a label.
bool isRound(double v)
{
    if (!(v > 0)) return false;
    const double m = v / std::pow(10.0, std::floor(std::log10(v) + 1e-9));
    for (double r : {1.0, 2.0, 5.0, 10.0})
        if (std::abs(m - r) < 1e-6) return true;
    return false;
}

} // namespace

// ------------------------------------------------------------------------- pure helpers

int EntropyPanel::binOf(double v, double lower, double upper, int bins)
{
    if (!std::isfinite(v) || bins <= 0 || !(lower < upper)) return -1;
    const int b = Histogram(lower, upper, bins).binOf(v);
    return b < bins ? b : -1;
}

std::vector<int> EntropyPanel::histogram(const std::vector<float> &values, double lower,
                                         double upper, int bins)
{
    Histogram h(lower, upper, bins);
    for (float v : values)
        if (std::isfinite(v)) h.add(v);
    return std::vector<int>(h.counts.begin(), h.counts.end());
}

EntropyPanel::BoxStats EntropyPanel::boxStats(const std::vector<float> &values)
{
    std::vector<double> sorted;
    sorted.reserve(values.size());
    for (float v : values)
        if (std::isfinite(v)) sorted.push_back(v);
    std::sort(sorted.begin(), sorted.end());
    BoxStats b;
    b.count = int(sorted.size());
    if (sorted.empty()) return b;
    b.min = quantileSorted(sorted, 0.0);
    b.q1 = quantileSorted(sorted, 0.25);
    b.median = quantileSorted(sorted, 0.5);
    b.q3 = quantileSorted(sorted, 0.75);
    b.max = quantileSorted(sorted, 1.0);
    return b;
}

// ------------------------------------------------------------------------------- widget

EntropyPanel::EntropyPanel(QWidget *parent) : ViewPanel(parent)
{
    setObjectName(QStringLiteral("EntropyPanel"));
    setMinimumRoom({0, 340});
    m_quantityLabel = new QLabel(this);
    m_layerLabel = new QLabel(this);
    m_headLabel = new QLabel(this);
    m_binsLabel = new QLabel(this);
    m_quantityBox = new QComboBox(this);
    m_quantityBox->setObjectName(QStringLiteral("entropyQuantity"));
    m_quantityBox->addItem(QString());
    m_quantityBox->addItem(QString());
    m_layerBox = new QComboBox(this);
    m_layerBox->setObjectName(QStringLiteral("entropyLayer"));
    m_headBox = new QComboBox(this);
    m_headBox->setObjectName(QStringLiteral("entropyHead"));
    m_binsBox = new QSpinBox(this);
    m_binsBox->setObjectName(QStringLiteral("entropyBins"));
    m_binsBox->setRange(4, 200);
    m_binsBox->setValue(m_bins);
    m_quantityLabel->setBuddy(m_quantityBox);
    m_layerLabel->setBuddy(m_layerBox);
    m_headLabel->setBuddy(m_headBox);
    m_binsLabel->setBuddy(m_binsBox);

    m_histChart = new QChart;
    styleChart(m_histChart, font());
    m_histView = makeChartView(m_histChart, QStringLiteral("entropyHistogram"), 140, this);
    // The axes live as long as the charts (axes removed and re-added leave stale labels).
    m_histX = new QCategoryAxis;
    m_histX->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_histX->setGridLineVisible(false);
    m_histY = new QValueAxis;
    m_histY->setLabelFormat(QStringLiteral("%d"));
    m_histChart->addAxis(m_histX, Qt::AlignBottom);
    m_histChart->addAxis(m_histY, Qt::AlignLeft);
    m_boxChart = new QChart;
    styleChart(m_boxChart, font());
    m_boxView = makeChartView(m_boxChart, QStringLiteral("entropyBoxPlot"), 140, this);
    m_boxX = new QBarCategoryAxis;
    m_boxY = new QValueAxis;
    m_boxY->setTickType(QValueAxis::TicksDynamic);
    m_boxY->setTickAnchor(0);
    m_boxY->setLabelFormat(QStringLiteral("%.4g"));
    m_boxChart->addAxis(m_boxX, Qt::AlignBottom);
    m_boxChart->addAxis(m_boxY, Qt::AlignLeft);
    for (QAbstractAxis *a :
         {static_cast<QAbstractAxis *>(m_histX), static_cast<QAbstractAxis *>(m_histY),
          static_cast<QAbstractAxis *>(m_boxX), static_cast<QAbstractAxis *>(m_boxY)}) {
        a->setLabelsFont(font());
        a->setTitleFont(font());
    }
    m_info = new QLabel(this);
    m_info->setObjectName(QStringLiteral("entropyInfo"));
    m_info->setTextFormat(Qt::PlainText);
    m_info->setWordWrap(true);

    // Two halves, side by side where the dock is wide enough and stacked where it is not.
    auto half = [this](std::initializer_list<std::pair<QWidget *, QWidget *>> pairs) {
        auto *w = new QWidget(this);
        auto *row = new QHBoxLayout(w);
        row->setContentsMargins(0, 0, 0, 0);
        for (const auto &[label, field] : pairs) {
            row->addWidget(label);
            row->addWidget(field);
            row->addSpacing(8);
        }
        row->addStretch(1);
        return w;
    };
    m_barWhat = half({{m_quantityLabel, m_quantityBox}, {m_layerLabel, m_layerBox}});
    m_barHow = half({{m_headLabel, m_headBox}, {m_binsLabel, m_binsBox}});
    m_bars = new QBoxLayout(QBoxLayout::LeftToRight);
    m_bars->setSpacing(2);
    m_bars->addWidget(m_barWhat);
    m_bars->addWidget(m_barHow, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(QStringLiteral("entropySplitter"));
    split->setChildrenCollapsible(false);
    split->addWidget(m_histView);
    split->addWidget(m_boxView);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(m_bars);
    layout->addWidget(split, 1);
    layout->addWidget(m_info);

    connect(m_quantityBox, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (!m_updating) setQuantity(Quantity(i));
    });
    connect(m_layerBox, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (!m_updating) setLayer(i - 1);
    });
    connect(m_headBox, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (!m_updating) setHead(i - 1);
    });
    connect(m_binsBox, qOverload<int>(&QSpinBox::valueChanged), this, [this](int n) {
        if (!m_updating) setBinCount(n);
    });
    retranslateUi();
}

EntropyPanel::~EntropyPanel() = default;

QSize EntropyPanel::minimumSizeHint() const
{
    // Tall enough for both charts to be read (a shorter dock scrolls) and for the control bar
    // as it stands; as narrow as the wider half of the control bar, which goes under the other
    // half where the panel is narrower than both.
    const QMargins m = contentsMargins() + layout()->contentsMargins();
    return {std::max(m_barWhat->minimumSizeHint().width(), m_barHow->minimumSizeHint().width()) +
                m.left() + m.right(),
            ViewPanel::minimumSizeHint().height()};
}

void EntropyPanel::resizeEvent(QResizeEvent *event)
{
    ViewPanel::resizeEvent(event);
    const int wanted = m_barWhat->sizeHint().width() + m_barHow->sizeHint().width() +
                       layout()->contentsMargins().left() + layout()->contentsMargins().right();
    m_bars->setDirection(width() >= wanted ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom);
}

void EntropyPanel::retranslateUi()
{
    setWindowTitle(tr("Entropy distributions"));
    m_quantityLabel->setText(tr("&Entropy of:"));
    m_quantityBox->setItemText(0, tr("the lens"));
    m_quantityBox->setItemText(1, tr("attention"));
    m_quantityBox->setToolTip(tr("Lens entropy: one value per block of the shown site.\n"
                                 "Attention entropy: one value per head and query position."));
    m_layerLabel->setText(tr("&Layer:"));
    m_layerBox->setToolTip(tr("The layer whose values the histogram counts, or all layers."));
    m_headLabel->setText(tr("&Head:"));
    m_headBox->setToolTip(tr("For attention entropy: one head, or all heads."));
    m_binsLabel->setText(tr("&Bins:"));
    m_binsBox->setToolTip(tr("Number of histogram bins between 0 and the largest entropy."));
    m_histView->setToolTip(tr("How many blocks have each entropy; click a bar to select its "
                              "blocks in the block view."));
    m_boxView->setToolTip(tr("Minimum, quartiles, median and maximum per layer (or per head of "
                             "the chosen layer)."));
    rebuildCombos();
    rebuild();
}

void EntropyPanel::clear()
{
    setTraces({});
}

void EntropyPanel::setTrace(const Trace &trace, const LensSite &lens)
{
    setTraces({EntropySource{&trace, &lens, QString()}});
}

void EntropyPanel::setTraces(const std::vector<EntropySource> &sources)
{
    m_sources.clear();
    for (const EntropySource &in : sources) {
        if (!in.trace) continue;
        const Trace &t = *in.trace;
        Source s;
        s.label = in.label.isEmpty() ? QString::fromStdString(t.name) : in.label;
        s.tokens = t.nTokens();
        s.layers = t.config.nLayers;
        s.heads = t.config.nHeads;
        if (in.lens && !in.lens->empty() && in.lens->entropy.rank() == 2 &&
            in.lens->entropy.dim(1) == s.tokens) {
            s.layers = int(in.lens->entropy.dim(0));
            s.lens = in.lens->entropy.data;
        }
        if (t.attnEntropy.rank() == 3 && t.attnEntropy.dim(2) == s.tokens) {
            s.layers = int(t.attnEntropy.dim(0));
            s.heads = int(t.attnEntropy.dim(1));
            s.attention = t.attnEntropy.data;
        }
        m_sources.push_back(std::move(s));
    }
    m_selectedBin = -1;
    rebuildCombos();
    rebuild();
}

void EntropyPanel::setQuantity(Quantity quantity)
{
    m_quantity = quantity;
    m_selectedBin = -1;
    rebuildCombos();
    rebuild();
}

void EntropyPanel::setLayer(int layer)
{
    m_layer = layer < 0 ? -1 : layer;
    m_selectedBin = -1;
    rebuildCombos();
    rebuild();
}

void EntropyPanel::setHead(int head)
{
    m_head = head < 0 ? -1 : head;
    m_selectedBin = -1;
    rebuildCombos();
    rebuild();
}

void EntropyPanel::setBinCount(int bins)
{
    m_bins = std::clamp(bins, 1, 1000);
    m_selectedBin = -1;
    rebuildCombos();
    rebuild();
}

void EntropyPanel::rebuildCombos()
{
    m_updating = true;
    int layers = 0, heads = 0;
    for (const Source &s : m_sources) {
        layers = std::max(layers, s.layers);
        heads = std::max(heads, s.heads);
    }
    m_quantityBox->setCurrentIndex(int(m_quantity));
    // "all", then one item per index; a chosen index the sources no longer have becomes all.
    auto fill = [](QComboBox *box, const QString &all, const QString &one, int n, int &chosen) {
        box->clear();
        box->addItem(all);
        for (int i = 0; i < n; ++i)
            box->addItem(one.arg(i));
        if (chosen >= n) chosen = -1;
        box->setCurrentIndex(chosen + 1);
    };
    fill(m_layerBox, tr("all layers"), tr("layer %1"), layers, m_layer);
    fill(m_headBox, tr("all heads"), tr("head %1"), heads, m_head);
    m_headBox->setEnabled(m_quantity == Quantity::Attention);
    m_headLabel->setEnabled(m_quantity == Quantity::Attention);
    m_binsBox->setValue(m_bins);
    m_updating = false;
}

template <typename F> void EntropyPanel::forEachValue(const Source &s, F &&f) const
{
    const int T = s.tokens;
    const int l0 = m_layer >= 0 ? m_layer : 0;
    const int l1 = m_layer >= 0 ? std::min(m_layer, s.layers - 1) : s.layers - 1;
    if (m_quantity == Quantity::Lens) {
        if (s.lens.empty()) return;
        for (int l = l0; l <= l1; ++l)
            for (int t = 0; t < T; ++t)
                f(s.lens[size_t(l * T + t)], l, t);
        return;
    }
    if (s.attention.empty()) return;
    const int h0 = m_head >= 0 ? m_head : 0;
    const int h1 = m_head >= 0 ? std::min(m_head, s.heads - 1) : s.heads - 1;
    for (int l = l0; l <= l1; ++l)
        for (int h = h0; h <= h1; ++h)
            for (int t = 0; t < T; ++t)
                f(s.attention[size_t((l * s.heads + h) * T + t)], l, t);
}

double EntropyPanel::rangeUpper() const
{
    // Bins of a round width (0.1, 0.2, 0.25, 0.5 ... nats) that cover the largest value.
    double m = 0;
    for (const Source &s : m_sources)
        for (float v : m_quantity == Quantity::Lens ? s.lens : s.attention)
            if (std::isfinite(v)) m = std::max(m, double(v));
    // Rounded to the decimal it stands for (0.2 x 12 is 2.4000000000000004 in doubles), so that
    // the bin edges analysis computes from it fall on round values and a value on an edge
    // starts the bin above it.
    return std::round(niceStepAtLeast(m / m_bins) * m_bins * 1e9) / 1e9;
}

Histogram EntropyPanel::emptyHistogram() const
{
    return Histogram(0.0, rangeUpper(), m_bins);
}

std::vector<double> EntropyPanel::binEdges() const
{
    const Histogram h = emptyHistogram();
    std::vector<double> e;
    for (int i = 0; i <= m_bins; ++i)
        e.push_back(h.edge(i));
    return e;
}

Histogram EntropyPanel::valueHistogram(int traceIndex) const
{
    Histogram h = emptyHistogram();
    for (int i = 0; i < int(m_sources.size()); ++i) {
        if (traceIndex >= 0 && i != traceIndex) continue;
        forEachValue(m_sources[size_t(i)], [&](float v, int, int) {
            if (std::isfinite(v)) h.add(v);
        });
    }
    return h;
}

std::vector<int> EntropyPanel::binCounts(int traceIndex) const
{
    const Histogram h = valueHistogram(traceIndex);
    return std::vector<int>(h.counts.begin(), h.counts.end());
}

QVector<QPair<int, int>> EntropyPanel::blocksInBin(int bin, int traceIndex) const
{
    QVector<QPair<int, int>> out;
    if (traceIndex < 0 || traceIndex >= int(m_sources.size()) || bin < 0 || bin >= m_bins)
        return out;
    const Source &s = m_sources[size_t(traceIndex)];
    const Histogram h = emptyHistogram();
    std::vector<char> seen(size_t(std::max(0, s.layers * s.tokens)), 0);
    forEachValue(s, [&](float v, int l, int t) {
        if (!std::isfinite(v) || h.binOf(v) != bin) return;
        char &c = seen[size_t(l * s.tokens + t)];
        if (!c) {
            c = 1;
            out.append(qMakePair(l, t));
        }
    });
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<EntropyPanel::BoxStats> EntropyPanel::boxes(int traceIndex) const
{
    std::vector<BoxStats> out;
    if (traceIndex < 0 || traceIndex >= int(m_sources.size())) return out;
    const Source &s = m_sources[size_t(traceIndex)];
    const int T = s.tokens;
    if (m_quantity == Quantity::Lens) {
        if (s.lens.empty()) return out;
        for (int l = 0; l < s.layers; ++l)
            out.push_back(
                boxStats(std::vector<float>(s.lens.begin() + l * T, s.lens.begin() + (l + 1) * T)));
        return out;
    }
    if (s.attention.empty()) return out;
    if (m_layer >= 0 && m_layer < s.layers) {
        for (int h = 0; h < s.heads; ++h) {
            const auto first = s.attention.begin() + (m_layer * s.heads + h) * T;
            out.push_back(boxStats(std::vector<float>(first, first + T)));
        }
    } else {
        for (int l = 0; l < s.layers; ++l) {
            const auto first = s.attention.begin() + l * s.heads * T;
            out.push_back(boxStats(std::vector<float>(first, first + s.heads * T)));
        }
    }
    return out;
}

void EntropyPanel::rebuild()
{
    m_histChart->removeAllSeries();
    m_boxChart->removeAllSeries();
    const double hi = rangeUpper();
    const bool many = m_sources.size() > 1;
    m_histChart->legend()->setVisible(many);
    m_histChart->legend()->setAlignment(Qt::AlignTop);
    m_boxChart->legend()->setVisible(false);
    const QString what =
        m_quantity == Quantity::Lens ? tr("lens entropy") : tr("attention entropy");
    QString scope = m_layer < 0 ? tr("all layers") : tr("layer %1").arg(m_layer);
    if (m_quantity == Quantity::Attention)
        scope += QStringLiteral(", ") + (m_head < 0 ? tr("all heads") : tr("head %1").arg(m_head));
    m_histChart->setTitle(tr("%1 (%2)").arg(what, scope));

    // Histogram: one bar set per trace, bins on a value axis labelled at their edges.
    auto *series = new QBarSeries;
    series->setBarWidth(m_sources.size() > 1 ? 0.85 : 0.95);
    double maxCount = 1;
    for (int i = 0; i < int(m_sources.size()); ++i) {
        const std::vector<int> counts = binCounts(i);
        auto *set = new QBarSet(m_sources[size_t(i)].label);
        set->setColor(traceColour(i));
        set->setBorderColor(traceColour(i).darker(120));
        set->setSelectedColor(Accent::selection());
        for (int c : counts) {
            set->append(c);
            maxCount = std::max(maxCount, double(c));
        }
        connect(set, &QBarSet::clicked, this, [this, i](int bin) { selectBin(bin, i); });
        series->append(set);
    }
    m_histChart->addSeries(series);
    QCategoryAxis *x = m_histX;
    for (const QString &label : x->categoriesLabels())
        x->remove(label);
    x->setStartValue(-0.50001);
    const double width = hi / m_bins;
    int labelStep = std::max(1, (m_bins + 7) / 8);
    for (int k : {1, 2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500})
        if (m_bins / k <= 8 && isRound(k * width)) {
            labelStep = k;
            break;
        }
    for (int e = 0; e <= m_bins; e += labelStep)
        x->append(QString::number(hi * e / m_bins, 'g', 3), e - 0.5);
    x->setRange(-0.5, m_bins - 0.5);
    x->setTitleText(tr("entropy (nats)"));
    QValueAxis *y = m_histY;
    y->setRange(0, maxCount * 1.05);
    y->applyNiceNumbers();
    y->setTitleText(m_quantity == Quantity::Lens ? tr("blocks") : tr("head \u00d7 position"));
    series->attachAxis(x);
    series->attachAxis(y);
    if (m_selectedBin >= 0 && m_selectedTrace < int(series->barSets().size()))
        series->barSets().at(m_selectedTrace)->selectBar(m_selectedBin);

    // Box plots: per layer, or per head of the chosen layer for attention.
    const bool perHead = m_quantity == Quantity::Attention && m_layer >= 0;
    m_boxChart->setTitle(perHead ? tr("%1 per head of layer %2").arg(what).arg(m_layer)
                                 : tr("%1 per layer").arg(what));
    QStringList categories;
    for (int i = 0; i < int(m_sources.size()); ++i) {
        const std::vector<BoxStats> bx = boxes(i);
        if (bx.empty()) continue;
        auto *bs = new QBoxPlotSeries;
        bs->setName(m_sources[size_t(i)].label);
        bs->setBrush(traceColour(i).lighter(160));
        bs->setPen(QPen(traceColour(i).darker(110), 1.2));
        bs->setBoxWidth(m_sources.size() > 1 ? 0.8 : 0.6);
        for (int c = 0; c < int(bx.size()); ++c) {
            const QString label =
                perHead ? QStringLiteral("H%1").arg(c) : QStringLiteral("L%1").arg(c);
            if (c >= categories.size()) categories << label;
            const BoxStats &b = bx[size_t(c)];
            bs->append(new QBoxSet(b.min, b.q1, b.median, b.q3, b.max, label));
        }
        m_boxChart->addSeries(bs);
    }
    QBarCategoryAxis *bx = m_boxX;
    bx->setCategories(categories);
    QValueAxis *by = m_boxY;
    by->setRange(0, hi);
    by->setTickInterval(niceStepAtLeast(hi / 7));
    by->setTitleText(tr("nats"));
    for (QAbstractSeries *s : m_boxChart->series()) {
        s->attachAxis(bx);
        s->attachAxis(by);
    }
    updateInfo();
}

void EntropyPanel::selectBin(int bin, int traceIndex)
{
    if (traceIndex < 0 || traceIndex >= int(m_sources.size()) || bin < 0 || bin >= m_bins) return;
    m_selectedBin = bin;
    m_selectedTrace = traceIndex;
    const auto seriesList = m_histChart->series();
    if (!seriesList.isEmpty()) {
        auto *series = static_cast<QBarSeries *>(seriesList.first());
        const auto sets = series->barSets();
        for (int i = 0; i < sets.size(); ++i) {
            sets[i]->deselectAllBars();
            if (i == traceIndex) sets[i]->selectBar(bin);
        }
    }
    const QVector<QPair<int, int>> blocks = blocksInBin(bin, traceIndex);
    updateInfo();
    Q_EMIT traceBinSelected(traceIndex, blocks);
    if (traceIndex == 0) Q_EMIT binSelected(blocks);
}

void EntropyPanel::updateInfo()
{
    if (m_sources.empty()) {
        m_info->setText(tr("No trace to show."));
        return;
    }
    const std::vector<int> all = binCounts(-1);
    int total = 0;
    for (int c : all)
        total += c;
    QString text = tr("%1 values in %2 bins of %3 nats.")
                       .arg(total)
                       .arg(m_bins)
                       .arg(rangeUpper() / m_bins, 0, 'g', 3);
    if (m_selectedBin >= 0) {
        const std::vector<double> e = binEdges();
        text += QStringLiteral(" ") + tr("Selected: %1\u2013%2 nats, %3 blocks of %4.")
                                          .arg(e[size_t(m_selectedBin)], 0, 'f', 2)
                                          .arg(e[size_t(m_selectedBin) + 1], 0, 'f', 2)
                                          .arg(blocksInBin(m_selectedBin, m_selectedTrace).size())
                                          .arg(m_sources[size_t(m_selectedTrace)].label);
    } else {
        text += QStringLiteral(" ") + tr("Click a bar to select its blocks.");
    }
    m_info->setText(text);
}

void EntropyPanel::renderTo(QPainter &p, const QSize &size)
{
    p.save();
    p.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    const double h = size.height();
    renderChartTo(m_histChart, p, QRectF(0, 0, size.width(), h * 0.55));
    renderChartTo(m_boxChart, p, QRectF(0, h * 0.55, size.width(), h * 0.45));
    p.restore();
}

QString EntropyPanel::csv() const
{
    QStringList header = {QStringLiteral("bin"), QStringLiteral("lower"), QStringLiteral("upper")};
    for (const Source &s : m_sources)
        header << s.label;
    QString out = csvLine(header);
    const std::vector<double> e = binEdges();
    std::vector<std::vector<int>> counts;
    for (int i = 0; i < int(m_sources.size()); ++i)
        counts.push_back(binCounts(i));
    for (int b = 0; b < m_bins; ++b) {
        QStringList row = {QString::number(b), QString::number(e[size_t(b)], 'g', 7),
                           QString::number(e[size_t(b) + 1], 'g', 7)};
        for (const auto &c : counts)
            row << QString::number(c[size_t(b)]);
        out += csvLine(row);
    }
    return out;
}

void EntropyPanel::clickHistogramBar(int index)
{
    const auto series = m_histChart->series();
    if (series.isEmpty()) return;
    if (auto *bars = qobject_cast<QAbstractBarSeries *>(series.first()))
        if (!bars->barSets().isEmpty()) Q_EMIT bars->barSets().first()->clicked(index);
}

} // namespace HeadLens
