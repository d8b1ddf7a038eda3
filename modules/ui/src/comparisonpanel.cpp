#include "headlens/ui/comparisonpanel.h"

#include "headlens/analysis/alignment.h"
#include "headlens/analysis/decision.h"
#include "headlens/ui/colourscale.h"
#include "uitext.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QScrollBar>
#include <QVBoxLayout>

#include <cmath>

namespace HeadLens {

namespace {

std::shared_ptr<ComparisonSideData> makeSide(const Trace &t, const LensSite &lens, Site site)
{
    auto s = std::make_shared<ComparisonSideData>();
    s->title = QString::fromStdString(t.name);
    if (!t.modelName.empty())
        s->title += QStringLiteral(" \u00b7 ") + QString::fromStdString(t.modelName);
    s->tokens = t.nTokens();
    s->layers = t.config.nLayers;
    for (const TokenInfo &tok : t.tokens)
        s->tokenText.push_back(QString::fromStdString(tok.text));
    if (!lens.empty() && lens.topkIds.rank() == 3 && lens.topkIds.dim(1) == s->tokens &&
        lens.entropy.shape == std::vector<int64_t>{lens.topkIds.dim(0), lens.topkIds.dim(1)}) {
        s->layers = int(lens.topkIds.dim(0));
        const int64_t K = lens.topkIds.dim(2);
        const size_t n = size_t(s->layers) * size_t(s->tokens);
        s->top1.reserve(n);
        s->prob.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            s->top1.push_back(QString::fromStdString(t.idText(lens.topkIds.data[i * size_t(K)])));
            s->prob.push_back(lens.topkProbs.data[i * size_t(K)]);
        }
        s->entropy = lens.entropy.data;
    }
    s->title +=
        QStringLiteral(" \u00b7 ") +
        QCoreApplication::translate("HeadLens::ComparisonPanel", "%1 layers").arg(s->layers);
    if (site == Site::ResidPost && !lens.empty())
        s->depth = decisionDepth(lens, t.logitsTopkIds);
    else if (!t.lens[size_t(Site::ResidPost)].empty())
        s->depth = decisionDepth(t);
    return s;
}

} // namespace

ComparisonPanel::ComparisonPanel(QWidget *parent)
    : ViewPanel(parent), m_left(std::make_shared<ComparisonSideData>()),
      m_right(std::make_shared<ComparisonSideData>()), m_pairs(std::make_shared<AlignedPairs>())
{
    setObjectName(QStringLiteral("ComparisonPanel"));
    setMinimumRoom({320, 320});
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("comparisonSummary"));
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);
    m_markAll = new QCheckBox(this);
    m_markAll->setObjectName(QStringLiteral("comparisonMarkAll"));
    m_markAll->setChecked(true);
    m_leftGrid = new ComparisonGrid(this);
    m_leftGrid->setObjectName(QStringLiteral("comparisonLeftGrid"));
    m_rightGrid = new ComparisonGrid(this);
    m_rightGrid->setObjectName(QStringLiteral("comparisonRightGrid"));
    m_info = new QLabel(this);
    m_info->setObjectName(QStringLiteral("comparisonInfo"));
    m_info->setTextFormat(Qt::PlainText);
    m_info->setWordWrap(false);
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_summary, 1);
    bar->addWidget(m_markAll);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(bar);
    layout->addWidget(m_leftGrid, 1); // equal stretch: equal heights, rows line up by depth
    layout->addWidget(m_rightGrid, 1);
    layout->addWidget(m_info);

    // Synchronised scrolling: the grids have the same columns.
    connect(m_leftGrid->horizontalScrollBar(), &QScrollBar::valueChanged,
            m_rightGrid->horizontalScrollBar(), &QScrollBar::setValue);
    connect(m_rightGrid->horizontalScrollBar(), &QScrollBar::valueChanged,
            m_leftGrid->horizontalScrollBar(), &QScrollBar::setValue);
    connect(m_leftGrid, &ComparisonGrid::cellClicked, this,
            [this](int pair, int layer) { onCellClicked(0, pair, layer); });
    connect(m_rightGrid, &ComparisonGrid::cellClicked, this,
            [this](int pair, int layer) { onCellClicked(1, pair, layer); });
    connect(m_markAll, &QCheckBox::toggled, this, [this](bool on) {
        m_leftGrid->setMarkAllDepths(on);
        m_rightGrid->setMarkAllDepths(on);
    });
    retranslateUi();
    clear();
}

ComparisonPanel::~ComparisonPanel() = default;

void ComparisonPanel::retranslateUi()
{
    setWindowTitle(tr("Comparison"));
    m_markAll->setText(tr("Mark differences at every depth"));
    m_markAll->setToolTip(tr("Outline every cell whose top-1 differs from the other trace's at "
                             "the same relative depth (otherwise only the final row is marked)."));
    const QString grid = tr("Rows: layers, bottom to top, labelled with the layer and its "
                            "relative depth (l + 1) / L, so that models of different depths line "
                            "up; \"final\" is the model's prediction. Columns: the tokens, "
                            "aligned by their place in the prompt.\nColour = top-1 probability, "
                            "dark bar = the layer from which the prediction is decided, warm "
                            "outline = the top-1 differs from the other trace's at that depth."
                            "\nClick a cell to select it in both grids.");
    m_leftGrid->setToolTip(grid);
    m_rightGrid->setToolTip(grid);
    m_summary->setToolTip(tr("Tokens are aligned by their character offsets in the prompt; "
                             "layers by relative depth (l + 1) / L."));
    m_info->setToolTip(tr("The numbers of the selected pair."));
    updateInfo();
}

void ComparisonPanel::clear()
{
    m_left = std::make_shared<ComparisonSideData>();
    m_right = std::make_shared<ComparisonSideData>();
    m_pairs = std::make_shared<AlignedPairs>();
    m_selPair = -1;
    m_selDepth = -1;
    m_leftGrid->setData(m_left, m_right, m_pairs, 0);
    m_rightGrid->setData(m_right, m_left, m_pairs, 1);
    updateInfo();
}

void ComparisonPanel::setTraces(const Trace &left, const LensSite &leftLens, const Trace &right,
                                const LensSite &rightLens, Site site)
{
    m_left = makeSide(left, leftLens, site);
    m_right = makeSide(right, rightLens, site);
    m_pairs = std::make_shared<AlignedPairs>(alignTokens(left.tokens, right.tokens));
    m_selPair = -1;
    m_selDepth = -1;
    m_leftGrid->setData(m_left, m_right, m_pairs, 0);
    m_rightGrid->setData(m_right, m_left, m_pairs, 1);
    updateInfo();
}

bool ComparisonPanel::pairDiffers(int pair) const
{
    if (pair < 0 || pair >= pairCount() || !m_left->hasLens() || !m_right->hasLens()) return false;
    const auto &p = (*m_pairs)[size_t(pair)];
    if (p.first < 0 || p.second < 0) return false;
    return m_left->top1[m_left->at(m_left->layers - 1, p.first)] !=
           m_right->top1[m_right->at(m_right->layers - 1, p.second)];
}

int ComparisonPanel::differingPairCount() const
{
    int n = 0;
    for (int i = 0; i < pairCount(); ++i)
        n += pairDiffers(i) ? 1 : 0;
    return n;
}

void ComparisonPanel::setSelectedPair(int pair, double depth)
{
    m_selPair = pair >= 0 && pair < pairCount() ? pair : -1;
    m_selDepth = m_selPair >= 0 ? depth : -1;
    m_leftGrid->setSelection(m_selPair, m_selDepth);
    m_rightGrid->setSelection(m_selPair, m_selDepth);
    updateInfo();
}

void ComparisonPanel::onCellClicked(int side, int pair, int layer)
{
    const ComparisonSideData &s = side == 0 ? *m_left : *m_right;
    setSelectedPair(pair, s.depthOfLayer(layer));
    const auto &p = (*m_pairs)[size_t(pair)];
    Q_EMIT pairSelected(pair, p.first, p.second);
    const int pos = side == 0 ? p.first : p.second;
    if (pos >= 0) Q_EMIT blockSelected(side, layer, pos);
}

void ComparisonPanel::updateInfo()
{
    const int n = pairCount();
    if (n == 0) {
        m_summary->setText(tr("Choose two traces to compare."));
        m_info->clear();
        return;
    }
    int both = 0;
    for (const auto &p : *m_pairs)
        both += p.first >= 0 && p.second >= 0 ? 1 : 0;
    m_summary->setText(tr("%1 aligned pairs (%2 with a token on both sides); the final top-1 "
                          "differs in %3.")
                           .arg(n)
                           .arg(both)
                           .arg(differingPairCount()));
    if (m_selPair < 0) {
        m_info->setText(tr("Click a cell to compare the two tokens."));
        return;
    }
    const auto &p = (*m_pairs)[size_t(m_selPair)];
    auto describe = [this](const ComparisonSideData &s, int pos) {
        if (pos < 0) return tr("%1: no token").arg(s.title);
        QString t = tr("%1: %2").arg(s.title, quoted(s.tokenText[size_t(pos)]));
        if (s.hasLens()) {
            const size_t i = s.at(s.layers - 1, pos);
            t += QStringLiteral(" \u2192 ") + tr("%1 (%2 %, entropy %3 nats)")
                                                  .arg(quoted(s.top1[i]))
                                                  .arg(s.prob[i] * 100.0, 0, 'f', 1)
                                                  .arg(s.entropy[i], 0, 'f', 2);
        }
        if (pos < int(s.depth.size()) && s.depth[size_t(pos)] >= 0)
            t += QStringLiteral(", ") + tr("decided at layer %1 (depth %2)")
                                            .arg(s.depth[size_t(pos)])
                                            .arg(s.depthOfLayer(s.depth[size_t(pos)]), 0, 'f', 2);
        return t;
    };
    m_info->setText(describe(*m_left, p.first) + QStringLiteral("\n") +
                    describe(*m_right, p.second));
}

void ComparisonPanel::renderTo(QPainter &p, const QSize &size)
{
    beginFigure(p, size, font());
    const QFontMetricsF fm(font());
    const double top = fm.height() + 8;
    p.drawText(QRectF(6, 2, size.width() - 12, fm.height() + 4), Qt::AlignLeft | Qt::AlignVCenter,
               m_summary->text());
    const double h = (size.height() - top) / 2;
    // Columns as wide as on screen, narrower when that lets every pair fit.
    const double gutter = fm.horizontalAdvance(QStringLiteral("L00 1.00")) + 10;
    const int n = std::max(1, pairCount());
    const double colW =
        std::clamp((size.width() - gutter) / n, 14.0, double(m_leftGrid->columnWidth()));
    const double scrollX =
        colW * (double(m_leftGrid->horizontalScrollBar()->value()) / m_leftGrid->columnWidth());
    m_leftGrid->paintTo(p, QRectF(0, top, size.width(), h - 4), colW, scrollX);
    m_rightGrid->paintTo(p, QRectF(0, top + h, size.width(), h - 4), colW, scrollX);
    p.restore();
}

QString ComparisonPanel::csv() const
{
    QString out = csvLine({QStringLiteral("pair"), QStringLiteral("left_pos"),
                           QStringLiteral("left_token"), QStringLiteral("right_pos"),
                           QStringLiteral("right_token"), QStringLiteral("left_top1"),
                           QStringLiteral("right_top1"), QStringLiteral("left_prob"),
                           QStringLiteral("right_prob"), QStringLiteral("left_entropy"),
                           QStringLiteral("right_entropy"), QStringLiteral("left_depth"),
                           QStringLiteral("right_depth"), QStringLiteral("left_rel_depth"),
                           QStringLiteral("right_rel_depth"), QStringLiteral("differs")});
    auto fields = [](const ComparisonSideData &s, int pos) {
        // token, top1, prob, entropy, depth, relative depth
        QStringList f;
        if (pos < 0) {
            for (int i = 0; i < 6; ++i)
                f << QString();
            return f;
        }
        f << s.tokenText[size_t(pos)];
        if (s.hasLens()) {
            const size_t i = s.at(s.layers - 1, pos);
            f << s.top1[i] << QString::number(s.prob[i], 'g', 7)
              << QString::number(s.entropy[i], 'g', 7);
        } else {
            f << QString() << QString() << QString();
        }
        const int d = pos < int(s.depth.size()) ? s.depth[size_t(pos)] : -1;
        f << (d >= 0 ? QString::number(d) : QString())
          << (d >= 0 ? QString::number(s.depthOfLayer(d), 'g', 4) : QString());
        return f;
    };
    for (int k = 0; k < pairCount(); ++k) {
        const auto &p = (*m_pairs)[size_t(k)];
        const QStringList a = fields(*m_left, p.first), b = fields(*m_right, p.second);
        out += csvLine({QString::number(k), p.first >= 0 ? QString::number(p.first) : QString(),
                        a[0], p.second >= 0 ? QString::number(p.second) : QString(), b[0], a[1],
                        b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5],
                        pairDiffers(k) ? QStringLiteral("1") : QStringLiteral("0")});
    }
    return out;
}

} // namespace HeadLens
