#include "headlens/ui/headcontributionpanel.h"

#include "headlens/analysis/headroles.h"
#include "headlens/ui/elidinglabel.h"
#include "headlens/ui/headrolespanel.h"
#include "headlens/ui/titlerow.h"

#include "headlens/analysis/headstats.h"

#include "chartrender.h"
#include "headlens/ui/colourscale.h"
#include "headlens/ui/headheatmap.h"
#include "tokentext.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCursor>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSplitter>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>
#include <limits>

namespace HeadLens {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

HeadContributionPanel::HeadContributionPanel(QWidget *parent)
    : ViewPanel(parent), m_attnOutNorm(kNaN)
{
    setObjectName(QStringLiteral("HeadContributionPanel"));
    setMinimumRoom({280, 360});

    m_titleRow = new TitleRow(this);
    m_title = m_titleRow->title();
    m_title->setObjectName(QStringLiteral("headContributionTitle"));
    QFont tf = m_title->font();
    tf.setBold(true);
    m_title->setFont(tf);
    m_metricLabel = new QLabel(this);
    m_metricBox = new QComboBox(this);
    m_metricBox->setObjectName(QStringLiteral("headMetricBox"));
    m_metricBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_metricLabel->setBuddy(m_metricBox);
    for (int i = 0; i < 4; ++i)
        m_metricBox->addItem(QString(), i);

    m_chart = new QChart;
    styleChart(m_chart, font());
    m_chart->legend()->hide();
    m_series = new QBarSeries;
    m_set = new QBarSet(QString());
    m_set->setColor(QColor(0x22, 0x5e, 0xa8));
    m_set->setBorderColor(QColor(0x22, 0x5e, 0xa8));
    m_set->setSelectedColor(Accent::selection());
    m_set->setLabelColor(QColor(0x30, 0x30, 0x30));
    m_series->append(m_set);
    m_series->setBarWidth(0.7);
    m_series->setLabelsPosition(QAbstractBarSeries::LabelsOutsideEnd);
    m_series->setLabelsPrecision(3);
    m_chart->addSeries(m_series);
    m_axisX = new QBarCategoryAxis;
    m_axisY = new QValueAxis;
    m_axisX->setLabelsFont(font());
    m_axisY->setLabelsFont(font());
    m_axisX->setTitleFont(font());
    m_axisY->setTitleFont(font());
    m_chart->addAxis(m_axisX, Qt::AlignBottom);
    m_chart->addAxis(m_axisY, Qt::AlignLeft);
    connect(m_chart, &QChart::plotAreaChanged, this, [this] { fitChartTexts(); });
    m_series->attachAxis(m_axisX);
    m_series->attachAxis(m_axisY);
    m_chartView = makeChartView(m_chart, QStringLiteral("headContributionChart"), 150, this);

    // One line, shortened when narrow: a wrapped line squeezed the chart's axis title.
    m_sumLabel = new ElidingLabel(this);
    m_sumLabel->setObjectName(QStringLiteral("headSumCheck"));
    m_sumLabel->setContentsMargins(6, 0, 6, 0);

    m_heatmapTitle = new QLabel(this);
    m_heatmapTitle->setTextFormat(Qt::PlainText);
    m_heatmapTitle->setFont(tf);
    m_heatmap = new HeadHeatmap(this);

    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    m_titleRow->addControl(m_metricLabel);
    m_titleRow->addControl(m_metricBox);
    topLayout->addWidget(m_titleRow);
    topLayout->addWidget(m_chartView, 1);
    topLayout->addWidget(m_sumLabel);
    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 4, 0, 0);
    bottomLayout->addWidget(m_heatmapTitle);
    bottomLayout->addWidget(m_heatmap, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(QStringLiteral("headContributionSplitter"));
    split->setChildrenCollapsible(false);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);

    connect(m_metricBox, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int i) { setMetric(Metric(i)); });
    connect(m_heatmap, &HeadHeatmap::headSelected, this, [this](int layer, int head) {
        m_head = head;
        if (layer == m_layer) updateBars();
        Q_EMIT headSelected(layer, head);
    });
    connect(m_set, &QBarSet::clicked, this, [this](int index) {
        if (m_layer < 0) return;
        setSelectedHead(index);
        Q_EMIT headSelected(m_layer, index);
    });
    // A bar's value in full, also where the bars are too narrow to carry it, and its role.
    connect(m_set, &QBarSet::hovered, this, [this](bool over, int index) {
        if (!over || index < 0 || index >= m_set->count()) {
            QToolTip::hideText();
            return;
        }
        QString text = tr("Head %1 \u00b7 %2: %3")
                           .arg(index)
                           .arg(metricTitle(m_metric))
                           .arg(m_set->at(index), 0, 'g', 5);
        if (const QString role = roleTextOf(index); !role.isEmpty())
            text += QLatin1Char('\n') + role;
        QToolTip::showText(QCursor::pos(), text, m_chartView);
    });
    retranslateUi();
    updateBars();
}

HeadContributionPanel::~HeadContributionPanel() = default;

QString HeadContributionPanel::metricTitle(Metric m) const
{
    switch (m) {
    case Metric::Norm:
        return tr("contribution norm");
    case Metric::Share:
        return tr("share of the norms");
    case Metric::Cosine:
        return tr("cosine with attn_out");
    case Metric::Projection:
        return tr("projection on attn_out");
    }
    return QString();
}

// The value axis's own short title: the Metric box above says it in full.
QString HeadContributionPanel::axisTitle(Metric m) const
{
    switch (m) {
    case Metric::Norm:
        return tr("norm");
    case Metric::Share:
        return tr("share");
    case Metric::Cosine:
        return tr("cosine");
    case Metric::Projection:
        return tr("projection");
    }
    return QString();
}

// What the chart writes beside and over the bars, fitted to the room it has: the value axis's
// title runs along the axis and is shown only where the plot is tall enough for all of it (a
// short dock cut it to "contributio…" and took the bars' room); the bars' values are written
// with as many digits as fit over a bar (the metric's own precision, else two), else not at all,
// and a bar's tooltip gives its value either way.
void HeadContributionPanel::fitChartTexts()
{
    const QString title = axisTitle(m_metric);
    m_axisY->setTitleText(title);
    const QFontMetrics fm(m_axisY->titleFont());
    const QRectF plot = m_chart->plotArea();
    m_axisY->setTitleVisible(fm.horizontalAdvance(title) + fm.height() <= int(plot.height()));

    const int n = m_set->count();
    const int precision = m_metric == Metric::Share ? 2 : 3;
    const QFontMetrics labels(m_set->labelFont());
    const auto widest = [&](int digits) {
        int w = 0;
        for (int i = 0; i < n; ++i)
            w = std::max(w, labels.horizontalAdvance(QString::number(m_set->at(i), 'g', digits)));
        return w;
    };
    const double slot = n > 0 ? plot.width() / n : 0.0;
    int digits = precision;
    if (widest(digits) > slot) digits = 2;
    m_series->setLabelsPrecision(digits);
    m_series->setLabelsVisible(n > 0 && n <= 16 && widest(digits) <= slot);
    updateCategories();
}

void HeadContributionPanel::resizeEvent(QResizeEvent *event)
{
    ViewPanel::resizeEvent(event);
    fitChartTexts();
}

void HeadContributionPanel::retranslateUi()
{
    setWindowTitle(tr("Head contributions"));
    m_metricLabel->setText(tr("&Metric:"));
    for (int i = 0; i < 4; ++i)
        m_metricBox->setItemText(i, metricTitle(Metric(i)));
    m_metricBox->setToolTip(
        tr("What the bars show for each head at the selected layer and position:\n"
           "norm ||result_h||, its share of the heads' norms, its cosine with attn_out, or "
           "its signed projection on attn_out."));
    m_chartView->setToolTip(tr("One bar per attention head; click a bar to select the head."));
    m_heatmapTitle->setText(tr("Mean contribution norm over positions"));
    m_heatmap->setDescription(tr("Mean ||result_h|| over all positions, per layer and head; click "
                                 "a cell to select the head."));
    m_axisX->setTitleText(tr("head"));
    m_heatmap->setMatrix(m_heatmap->matrix(), tr("mean norm"));
    updateBars();
}

void HeadContributionPanel::clear()
{
    m_norm.clear();
    m_cosine.clear();
    m_projection.clear();
    m_tokenText.clear();
    m_roles = HeadRoles();
    m_layer = m_pos = m_head = -1;
    m_attnOutNorm = kNaN;
    m_heatmap->setMatrix(FloatArray(), tr("mean norm"));
    updateBars();
}

void HeadContributionPanel::setTrace(const Trace &trace)
{
    setHeadMetrics(trace.contribNorm, trace.contribCosine, trace.contribProjection,
                   trace.config.attnOutBias);
    m_tokenText.clear();
    for (const TokenInfo &t : trace.tokens)
        m_tokenText.push_back(displayToken(t.text));
    updateTexts();
}

void HeadContributionPanel::setHeadMetrics(const FloatArray &norm, const FloatArray &cosine,
                                           const FloatArray &projection, bool attnOutBias)
{
    m_norm = norm.rank() == 3 ? norm : FloatArray();
    m_cosine = cosine.shape == m_norm.shape ? cosine : FloatArray();
    m_projection = projection.shape == m_norm.shape ? projection : FloatArray();
    m_bias = attnOutBias;
    m_tokenText.clear();
    m_layer = m_pos = m_head = -1;
    m_attnOutNorm = kNaN;
    m_heatmap->setMatrix(meanNorms(), tr("mean norm"));
    m_heatmap->setSelection(-1, -1);
    updateCategories();
    updateBars();
}

void HeadContributionPanel::setHeadRoles(const HeadRoles &roles)
{
    m_roles = roles;
    updateCategories();
    updateTexts();
}

QStringList HeadContributionPanel::headLabels() const
{
    return m_axisX->categories();
}

QString HeadContributionPanel::roleText() const
{
    return roleTextOf(m_head);
}

QString HeadContributionPanel::roleTextOf(int head) const
{
    if (m_roles.empty() || m_layer < 0 || head < 0 || m_layer >= m_roles.nLayers ||
        head >= m_roles.nHeads)
        return QString();
    const QString label = headRoleLabel(m_roles, m_layer, head);
    return label.isEmpty() ? tr("head %1: no clear role").arg(head)
                           : tr("head %1: %2").arg(head).arg(label);
}

// The bars' categories: the head's number, and its strongest role in the selected layer when
// the roles are known and every such label fits under its bar (an elided "6 …" said nothing;
// the role is then only in the bar's tooltip).
void HeadContributionPanel::updateCategories()
{
    QStringList numbers, withRoles;
    const bool roles = !m_roles.empty() && m_layer >= 0 && m_layer < m_roles.nLayers &&
                       m_roles.nHeads == headCount();
    // Qt Charts gives each label the axis's width over (categories + 1) less 4 px of padding
    // on each side, and measures the text with a text document's 4-px margins on each side; a
    // longer label is cut to "6 pr...".
    const QFontMetrics fm(m_axisX->labelsFont());
    const double room =
        headCount() > 0 ? m_chart->plotArea().width() / (headCount() + 1) - 8.0 : 0.0;
    bool fits = roles;
    for (int h = 0; h < headCount(); ++h) {
        numbers << QString::number(h);
        QString c = numbers.back();
        if (roles)
            if (const auto best = strongestRole(m_roles, m_layer, h))
                c += QStringLiteral(" ") + headRoleShortText(best->role);
        fits = fits && fm.horizontalAdvance(c) + 8 <= room;
        withRoles << c;
    }
    const QStringList &cats = fits ? withRoles : numbers;
    if (cats != m_axisX->categories()) m_axisX->setCategories(cats);
}

int HeadContributionPanel::layerCount() const
{
    return m_norm.empty() ? 0 : int(m_norm.dim(0));
}
int HeadContributionPanel::headCount() const
{
    return m_norm.empty() ? 0 : int(m_norm.dim(1));
}

FloatArray HeadContributionPanel::meanNorms() const
{
    return m_norm.empty() ? FloatArray() : meanOverPositions(m_norm);
}

void HeadContributionPanel::setSelection(int layer, int pos)
{
    if (m_norm.empty() || layer < 0 || pos < 0 || layer >= layerCount() ||
        pos >= int(m_norm.dim(2)))
        layer = pos = -1;
    m_layer = layer;
    m_pos = pos;
    m_attnOutNorm = kNaN;
    m_heatmap->setSelection(layer, layer >= 0 ? m_head : -1);
    updateCategories();
    updateBars();
}

void HeadContributionPanel::setAttnOutNorm(double norm)
{
    m_attnOutNorm = norm;
    updateTexts();
}

void HeadContributionPanel::setMetric(Metric metric)
{
    m_metric = metric;
    if (m_metricBox->currentIndex() != int(metric)) m_metricBox->setCurrentIndex(int(metric));
    updateBars();
}

void HeadContributionPanel::setSelectedHead(int head)
{
    m_head = head >= 0 && head < headCount() ? head : -1;
    m_heatmap->setSelection(m_layer, m_head);
    updateBars();
}

std::vector<double> HeadContributionPanel::values(Metric metric) const
{
    std::vector<double> v;
    if (m_layer < 0) return v;
    const int64_t H = m_norm.dim(1), T = m_norm.dim(2);
    auto at = [&](const FloatArray &a, int64_t h) {
        return a.empty() ? kNaN : double(a.data[size_t((m_layer * H + h) * T + m_pos)]);
    };
    const std::vector<double> share =
        contribShares(m_norm.data.data() + (m_layer * H * T + m_pos), H, T);
    for (int64_t h = 0; h < H; ++h) {
        switch (metric) {
        case Metric::Norm:
            v.push_back(at(m_norm, h));
            break;
        case Metric::Share:
            v.push_back(share[size_t(h)]);
            break;
        case Metric::Cosine:
            v.push_back(at(m_cosine, h));
            break;
        case Metric::Projection:
            v.push_back(at(m_projection, h));
            break;
        }
    }
    return v;
}

double HeadContributionPanel::projectionSum() const
{
    if (m_layer < 0 || m_projection.empty()) return kNaN;
    double s = 0;
    for (double x : values(Metric::Projection))
        s += x;
    return s;
}

bool HeadContributionPanel::axesShown() const
{
    return m_axisX->isVisible() && m_axisY->isVisible();
}

QString HeadContributionPanel::valueAxisTitle() const
{
    return m_axisY->isTitleVisible() ? m_axisY->titleText() : QString();
}

bool HeadContributionPanel::valueLabelsShown() const
{
    return m_series->isLabelsVisible();
}

int HeadContributionPanel::valueLabelDigits() const
{
    return m_series->labelsPrecision();
}

int HeadContributionPanel::plotHeight() const
{
    return int(m_chart->plotArea().height());
}

QString HeadContributionPanel::sumCheckText() const
{
    if (m_layer < 0) return tr("Select a block to see what each head adds there.");
    const double sum = projectionSum();
    if (std::isnan(sum)) return tr("This trace has no projections on attn_out.");
    // A check of the split, whatever metric the bars show: say so.
    QString s = tr("Check: \u03a3 of the heads' projections on attn_out = %1").arg(sum, 0, 'f', 4);
    if (!std::isnan(m_attnOutNorm)) {
        s += QStringLiteral(", ") + tr("||attn_out|| = %1").arg(m_attnOutNorm, 0, 'f', 4);
        const double tol = 1e-3 * std::max(1.0, std::abs(m_attnOutNorm));
        if (m_bias)
            s += QStringLiteral("  ") + tr("(o_proj has a bias, which the heads do not carry)");
        else if (std::abs(sum - m_attnOutNorm) <= tol)
            s += QStringLiteral("  \u2713");
        else
            s += QStringLiteral("  ") +
                 tr("\u2717 differ by %1").arg(sum - m_attnOutNorm, 0, 'g', 3);
    } else {
        s += QStringLiteral("  ") + (m_bias ? tr("(o_proj has a bias: ||attn_out|| differs)")
                                            : tr("(= ||attn_out||: o_proj has no bias)"));
    }
    return s;
}

void HeadContributionPanel::updateTexts()
{
    if (m_layer < 0) {
        m_titleRow->setTitle(tr("Head contributions"));
    } else {
        QString t = tr("Layer %1 \u00b7 position %2").arg(m_layer).arg(m_pos);
        if (m_pos < int(m_tokenText.size()))
            t += QStringLiteral(" \u201c%1\u201d").arg(m_tokenText[size_t(m_pos)]);
        // The selected head's role goes on the title line: the panel is often short.
        if (const QString role = roleText(); !role.isEmpty())
            t += QStringLiteral(" \u00b7 ") + role;
        m_titleRow->setTitle(t); // the metric box moves below it when the dock is narrow
    }
    m_sumLabel->setText(sumCheckText());
    m_sumLabel->setToolTip(sumCheckText() + QStringLiteral("\n") +
                           tr("The heads' projections on attn_out add up to ||attn_out|| when "
                              "o_proj has no bias: a check that the per-head split is exact."));
}

void HeadContributionPanel::updateBars()
{
    const std::vector<double> v = values(m_metric);
    m_set->remove(0, m_set->count());
    QList<qreal> list;
    double lo = 0, hi = 0;
    for (double x : v) {
        const double y = std::isnan(x) ? 0.0 : x;
        list << y;
        lo = std::min(lo, y);
        hi = std::max(hi, y);
    }
    m_set->append(list);
    m_set->deselectAllBars();
    if (m_head >= 0 && m_head < m_set->count()) m_set->selectBar(m_head);
    m_set->setLabel(metricTitle(m_metric));
    if (m_metric == Metric::Cosine) {
        lo = lo < 0 ? -1.0 : 0.0;
        hi = 1.0;
    } else {
        // Room above the tallest bar for its value label, which otherwise lands on the bar.
        const double pad = (hi - lo) * 0.25;
        hi = hi > 0 ? hi + pad : 0.0;
        lo = lo < 0 ? lo - pad : 0.0;
        if (hi <= lo) hi = lo + 1;
    }
    m_axisY->setRange(lo, hi);
    m_axisY->applyNiceNumbers();
    // No bars (no trace, or a project closed): no axes left over from the last one.
    m_axisX->setVisible(!v.empty());
    m_axisY->setVisible(!v.empty());
    fitChartTexts();
    updateTexts();
}

void HeadContributionPanel::renderTo(QPainter &p, const QSize &size)
{
    QFont bold = font();
    bold.setBold(true);
    beginFigure(p, size, bold);
    const QFontMetricsF fm(bold);
    const double w = size.width(), h = size.height();
    p.drawText(QRectF(8, 4, w - 16, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
               m_title->text() + QStringLiteral(" \u00b7 ") + metricTitle(m_metric));
    const double chartTop = fm.height() + 8;
    const double chartH = (h - chartTop) * 0.55;
    const bool axisTitle = m_axisY->isTitleVisible();
    m_axisY->setTitleVisible(true); // an export has the room
    renderChartTo(m_chart, p, QRectF(0, chartTop, w, chartH));
    m_axisY->setTitleVisible(axisTitle);
    p.setFont(font());
    p.setPen(QColor(0x30, 0x30, 0x30));
    const double sumTop = chartTop + chartH + 2;
    p.drawText(QRectF(8, sumTop, w - 16, fm.height() * 2), Qt::AlignLeft | Qt::TextWordWrap,
               m_sumLabel->text());
    const double heatTop = sumTop + fm.height() * 2 + 4;
    p.setFont(bold);
    p.drawText(QRectF(8, heatTop, w - 16, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
               m_heatmapTitle->text());
    p.translate(0, heatTop + fm.height() + 2);
    m_heatmap->renderTo(p, QSize(int(w), int(h - heatTop - fm.height() - 2)));
    p.restore();
}

QString HeadContributionPanel::csv() const
{
    QString out = csvLine({QStringLiteral("layer"), QStringLiteral("pos"), QStringLiteral("head"),
                           QStringLiteral("norm"), QStringLiteral("share"),
                           QStringLiteral("cosine"), QStringLiteral("projection")});
    const std::vector<double> n = values(Metric::Norm), s = values(Metric::Share),
                              c = values(Metric::Cosine), pr = values(Metric::Projection);
    auto num = [](double x) { return std::isnan(x) ? QString() : QString::number(x, 'g', 7); };
    for (size_t h = 0; h < n.size(); ++h)
        out += csvLine({QString::number(m_layer), QString::number(m_pos), QString::number(h),
                        num(n[h]), num(s[h]), num(c[h]), num(pr[h])});
    return out;
}

QString HeadContributionPanel::heatmapCsv() const
{
    return m_heatmap->csv();
}

} // namespace HeadLens
