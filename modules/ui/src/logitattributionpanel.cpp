#include "headlens/ui/logitattributionpanel.h"

#include "headlens/analysis/dla.h"
#include "headlens/ui/headheatmap.h"

#include "dlawaterfall.h"
#include "tokentext.h"

#include <QLabel>
#include <QPainter>
#include <QScrollArea>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

namespace HeadLens {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Above this share of the parts' magnitudes the sum check is shown as failing: float32 parts
// summed in float64 stay orders of magnitude below it.
constexpr double kSumTolerance = 1e-4;
// What the heatmap needs beside the waterfall to show a cell a head.
constexpr int kHeatmapRoom = 200;

} // namespace

LogitAttributionPanel::LogitAttributionPanel(QWidget *parent) : ViewPanel(parent)
{
    setObjectName(QStringLiteral("LogitAttributionPanel"));
    setMinimumRoom({320, 200});
    QFont bold = font();
    bold.setBold(true);
    auto label = [&](const char *name, bool isBold) {
        auto *l = new QLabel(this);
        l->setObjectName(QLatin1String(name));
        l->setTextFormat(Qt::PlainText);
        l->setWordWrap(true);
        if (isBold) l->setFont(bold);
        return l;
    };
    m_title = label("dlaTitle", true);
    m_title->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_sumLabel = label("dlaSumCheck", false);
    m_heatmapTitle = label("dlaHeatmapTitle", false);
    m_waterfallTitle = label("dlaWaterfallTitle", false);
    m_heatmap = new HeadHeatmap(this);
    m_heatmap->setObjectName(QStringLiteral("dlaHeatmap"));
    m_heatmap->setDiverging(true);
    m_waterfall = new DlaWaterfall(this);

    auto column = [this](QLabel *title, QWidget *body) {
        auto *w = new QWidget(this);
        auto *l = new QVBoxLayout(w);
        l->setContentsMargins(0, 0, 0, 0);
        l->addWidget(title);
        l->addWidget(body, 1);
        return w;
    };
    m_split = new QSplitter(Qt::Horizontal, this);
    m_split->setObjectName(QStringLiteral("dlaSplitter"));
    m_split->setChildrenCollapsible(false);
    // The panel shows the columns side by side only where it is wider than both need, so the
    // splitter's own minimum (both columns') never widens the panel.
    m_split->setMinimumWidth(1);
    m_heatmapColumn = column(m_heatmapTitle, m_heatmap);
    m_split->addWidget(m_heatmapColumn);
    auto *scroll = new QScrollArea(this);
    scroll->setObjectName(QStringLiteral("dlaWaterfallScroll"));
    scroll->setWidget(m_waterfall);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    m_waterfallColumn = column(m_waterfallTitle, scroll);
    m_split->addWidget(m_waterfallColumn);
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("dlaTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->hide();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_title);
    layout->addWidget(m_split, 1);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_sumLabel);
    connect(m_heatmap, &HeadHeatmap::headSelected, this, &LogitAttributionPanel::headSelected);
    retranslateUi();
}

LogitAttributionPanel::~LogitAttributionPanel() = default;

void LogitAttributionPanel::retranslateUi()
{
    m_heatmapTitle->setText(tr("Heads (layers bottom to top)"));
    m_waterfallTitle->setText(tr("From the embedding to the final logit"));
    nameTabs();
    showPosition();
}

double LogitAttributionPanel::waterfallBarRoom() const
{
    return m_waterfall->barRoom();
}

void LogitAttributionPanel::nameTabs()
{
    if (m_tabs->count() < 2) return;
    m_tabs->setTabText(0, tr("Heads"));
    m_tabs->setTabText(1, tr("Parts"));
}

void LogitAttributionPanel::resizeEvent(QResizeEvent *event)
{
    ViewPanel::resizeEvent(event);
    arrangeColumns();
}

void LogitAttributionPanel::arrangeColumns()
{
    const int room = contentsRect().width() - layout()->contentsMargins().left() -
                     layout()->contentsMargins().right() - m_split->handleWidth();
    // Tabs go back to columns only a scroll bar's width (and 2 px) above the width they were
    // made at: a dock's vertical scroll bar comes and goes with the arrangement's height, and
    // its width would otherwise flip the arrangement to and fro.
    const int margin = m_sideBySide ? 0 : style()->pixelMetric(QStyle::PM_ScrollBarExtent) + 2;
    const bool sideBySide = room >= kHeatmapRoom + m_waterfall->comfortableWidth() + margin;
    if (sideBySide == m_sideBySide) return;
    m_sideBySide = sideBySide;
    if (sideBySide) {
        // Moving a page out of the tabs removes its tab; a page the tabs hid is shown again.
        m_split->addWidget(m_heatmapColumn);
        m_split->addWidget(m_waterfallColumn);
        m_heatmapColumn->show();
        m_waterfallColumn->show();
        m_tabs->hide();
        m_split->show();
    } else {
        m_tabs->addTab(m_heatmapColumn, QString());
        m_tabs->addTab(m_waterfallColumn, QString());
        nameTabs();
        m_split->hide();
        m_tabs->show();
    }
}

void LogitAttributionPanel::setTrace(const Trace &trace)
{
    m_dla = trace.dla;
    m_tokenText.clear();
    m_targetText.clear();
    for (const TokenInfo &t : trace.tokens)
        m_tokenText.push_back(displayToken(t.text));
    for (int32_t id : m_dla.tokenIds.data)
        m_targetText.push_back(displayToken(trace.idText(id)));
    if (m_pos >= int(m_tokenText.size())) m_pos = -1;
    showPosition();
}

void LogitAttributionPanel::clear()
{
    m_dla = LogitAttribution();
    m_tokenText.clear();
    m_targetText.clear();
    m_pos = -1;
    showPosition();
}

void LogitAttributionPanel::setPosition(int pos)
{
    m_pos = pos >= 0 && pos < int(m_tokenText.size()) ? pos : -1;
    showPosition();
}

void LogitAttributionPanel::setSelectedHead(int layer, int head)
{
    m_heatmap->setSelection(layer, head);
}

FloatArray LogitAttributionPanel::headMatrix() const
{
    if (m_dla.empty() || m_pos < 0) return {};
    const int64_t L = m_dla.heads.dim(0), H = m_dla.heads.dim(1), T = m_dla.heads.dim(2);
    FloatArray m({L, H});
    for (int64_t i = 0; i < L * H; ++i)
        m.data[size_t(i)] = m_dla.heads.data[size_t(i * T + m_pos)];
    return m;
}

std::vector<double> LogitAttributionPanel::parts() const
{
    if (m_dla.empty() || m_pos < 0) return {};
    return dlaParts(m_dla, m_pos);
}

double LogitAttributionPanel::logit() const
{
    return m_dla.empty() || m_pos < 0 ? kNaN : double(m_dla.logit.data[size_t(m_pos)]);
}

double LogitAttributionPanel::sumError() const
{
    if (m_dla.empty() || m_pos < 0) return kNaN;
    double sum = 0;
    for (double p : parts())
        sum += p;
    return sum - logit();
}

QString LogitAttributionPanel::titleText() const
{
    if (m_tokenText.empty()) return tr("Logit attribution");
    if (m_dla.empty())
        return tr("This trace has no logit attribution (it was made before HeadLens stored it; "
                  "trace it again)");
    if (m_pos < 0) return tr("Logit attribution: select a block to see its position");
    return tr("Logit attribution of the prediction “%1” at position %2 (token “%3”)")
        .arg(m_targetText[size_t(m_pos)])
        .arg(m_pos)
        .arg(m_tokenText[size_t(m_pos)]);
}

QString LogitAttributionPanel::sumCheckText() const
{
    if (m_dla.empty() || m_pos < 0) return QString();
    const std::vector<double> p = parts();
    double sum = 0, scale = 0;
    for (double v : p) {
        sum += v;
        scale += std::abs(v);
    }
    const double err = sum - logit();
    const QString check =
        tr("Sum check: embedding + blocks + rest = %1; the model's logit %2 (error %3).")
            .arg(sum, 0, 'f', 4)
            .arg(logit(), 0, 'f', 4)
            .arg(err, 0, 'g', 3);
    if (std::abs(err) > kSumTolerance * std::max(1.0, scale))
        return check + QLatin1Char(' ') + tr("The parts do not add up: the file may be damaged.");
    return check + QLatin1Char(' ') + tr("The final norm's scale is held fixed.");
}

void LogitAttributionPanel::showPosition()
{
    m_title->setText(titleText());
    m_sumLabel->setText(sumCheckText());
    m_heatmap->setMatrix(headMatrix(), tr("logit"));
    const std::vector<double> p = parts();
    if (p.empty()) {
        m_waterfall->clear();
    } else {
        QStringList labels{tr("embedding")};
        for (size_t l = 0; l + 2 < p.size(); l += 2)
            labels << tr("L%1 attention").arg(l / 2) << tr("L%1 MLP").arg(l / 2);
        labels << tr("rest");
        m_waterfall->setParts(labels, p, tr("final logit"), logit());
    }
    arrangeColumns(); // the waterfall's labels may have grown
    QWidget::update();
}

void LogitAttributionPanel::renderTo(QPainter &painter, const QSize &size)
{
    painter.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    const QFontMetricsF fm(painter.font());
    const double line = fm.height() + 4;
    painter.setPen(Qt::black);
    painter.drawText(QRectF(8, 4, size.width() - 16, line), Qt::AlignLeft | Qt::AlignVCenter,
                     titleText());
    const QRectF body(0, line + 8, size.width(), size.height() - 2 * line - 16);
    const QRectF left(body.left(), body.top(), body.width() / 2, body.height());
    const QRectF right(body.center().x(), body.top(), body.width() / 2, body.height());
    painter.save();
    painter.translate(left.topLeft());
    m_heatmap->renderTo(painter, left.size().toSize());
    painter.restore();
    m_waterfall->paintTo(painter, right.adjusted(8, 0, -8, 0));
    painter.setPen(Qt::black);
    painter.drawText(QRectF(8, size.height() - line - 4, size.width() - 16, line),
                     Qt::AlignLeft | Qt::AlignVCenter, sumCheckText());
}

QString LogitAttributionPanel::csv() const
{
    QString out = QStringLiteral("part,layer,head,value\n");
    if (m_dla.empty() || m_pos < 0) return out;
    const FloatArray m = headMatrix();
    const std::vector<double> p = parts();
    const int64_t L = m.dim(0), H = m.dim(1);
    auto row = [&](const QString &part, int layer, int head, double v) {
        out += QStringLiteral("%1,%2,%3,%4\n")
                   .arg(part, layer < 0 ? QString() : QString::number(layer),
                        head < 0 ? QString() : QString::number(head), QString::number(v, 'g', 9));
    };
    row(QStringLiteral("embedding"), -1, -1, p.front());
    for (int64_t l = 0; l < L; ++l) {
        row(QStringLiteral("attention"), int(l), -1, p[size_t(1 + 2 * l)]);
        for (int64_t h = 0; h < H; ++h)
            row(QStringLiteral("head"), int(l), int(h), m.data[size_t(l * H + h)]);
        row(QStringLiteral("mlp"), int(l), -1, p[size_t(2 + 2 * l)]);
    }
    row(QStringLiteral("rest"), -1, -1, p.back());
    row(QStringLiteral("logit"), -1, -1, logit());
    return out;
}

} // namespace HeadLens
