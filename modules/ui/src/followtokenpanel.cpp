#include "headlens/ui/followtokenpanel.h"

#include "chartrender.h"
#include "headlens/ui/colourscale.h"
#include "headlens/ui/elidinglabel.h"
#include "tokentext.h"

#include <QChart>
#include <QChartView>
#include <QCompleter>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPainter>
#include <QPushButton>
#include <QScatterSeries>
#include <QStringListModel>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>
#include <limits>

namespace HeadLens {

FollowTokenPanel::FollowTokenPanel(QWidget *parent)
    : ViewPanel(parent), m_caption(new ElidingLabel(this)), m_edit(new QLineEdit(this)),
      m_followButton(new QPushButton(this)), m_stopButton(new QPushButton(this))
{
    setObjectName(QStringLiteral("FollowTokenPanel"));
    m_edit->setObjectName(QStringLiteral("followTokenEdit"));
    m_edit->setClearButtonEnabled(true);
    auto *completer = new QCompleter(new QStringListModel(this), this);
    completer->setCaseSensitivity(Qt::CaseSensitive);
    completer->setFilterMode(Qt::MatchContains);
    m_edit->setCompleter(completer);
    connect(m_edit, &QLineEdit::returnPressed, this, &FollowTokenPanel::followTyped);
    connect(m_followButton, &QPushButton::clicked, this, &FollowTokenPanel::followTyped);
    connect(m_stopButton, &QPushButton::clicked, this, [this] { Q_EMIT followRequested(-1); });

    m_chart = new QChart;
    styleChart(m_chart, font());
    m_followSeries = new QLineSeries;
    m_followSeries->setPointsVisible(true);
    m_followSeries->setPen(QPen(Accent::attention(), 2.5));
    m_topSeries = new QLineSeries;
    QPen grey(Accent::mutedText(), 1.5, Qt::DashLine);
    m_topSeries->setPen(grey);
    m_belowSeries = new QScatterSeries;
    m_belowSeries->setMarkerSize(9);
    m_belowSeries->setColor(Qt::white);
    m_belowSeries->setBorderColor(Accent::attention());
    m_axisX = new QValueAxis;
    m_axisY = new QValueAxis;
    m_axisX->setLabelFormat(QStringLiteral("%d"));
    m_axisY->setRange(0.0, 1.0);
    m_axisY->setTickCount(3);
    for (QValueAxis *a : {m_axisX, m_axisY}) {
        a->setLabelsFont(font());
        a->setTitleFont(font());
    }
    m_chart->addAxis(m_axisX, Qt::AlignBottom);
    m_chart->addAxis(m_axisY, Qt::AlignLeft);
    for (QXYSeries *s :
         std::initializer_list<QXYSeries *>{m_topSeries, m_followSeries, m_belowSeries}) {
        m_chart->addSeries(s);
        s->attachAxis(m_axisX);
        s->attachAxis(m_axisY);
    }
    m_chart->legend()->setAlignment(Qt::AlignTop);
    m_chartView = makeChartView(m_chart, QStringLiteral("followTokenChart"), 150, this);

    auto *top = new QHBoxLayout;
    top->addWidget(m_edit, 1);
    top->addWidget(m_followButton);
    top->addWidget(m_stopButton);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(top);
    layout->addWidget(m_caption);
    layout->addWidget(m_chartView, 1);
    retranslateUi();
}

void FollowTokenPanel::retranslateUi()
{
    m_edit->setPlaceholderText(tr("A token of this trace, e.g. \u201c Lily\u201d"));
    m_edit->setToolTip(tr("Type a token as the model writes it (with its leading space); the "
                          "list offers the tokens this trace knows"));
    m_followButton->setText(tr("&Follow"));
    m_followButton->setToolTip(tr("Colour the block grid by this token and plot it here"));
    m_stopButton->setText(tr("Stop"));
    m_stopButton->setToolTip(tr("Colour the grid by each block's own top-1 again"));
    m_followSeries->setName(tr("followed token"));
    m_topSeries->setName(tr("lens top-1"));
    m_belowSeries->setName(tr("below the top-k (under this)"));
    m_axisX->setTitleText(tr("layer"));
    m_chartView->setToolTip(
        tr("The followed token's lens probability (0 to 1) at each layer of the selected "
           "position. An "
           "open point: the token is not in that block's stored top-k, so its probability is "
           "below the k-th one, drawn there."));
    updateChart();
}

void FollowTokenPanel::setTrace(const Trace &trace)
{
    m_vocab = trace.vocab;
    m_tokenText.clear();
    for (const TokenInfo &t : trace.tokens)
        m_tokenText.push_back(t.text);
    m_tokens = trace.nTokens();
    QStringList texts;
    for (const auto &[id, text] : m_vocab)
        texts << QString::fromStdString(text);
    texts.removeDuplicates();
    static_cast<QStringListModel *>(m_edit->completer()->model())->setStringList(texts);
    m_lens = LensSite();
    m_layers = m_k = 0;
    if (m_pos >= m_tokens) m_pos = -1;
    updateChart();
}

void FollowTokenPanel::setLens(Site site, const LensSite &lens)
{
    m_site = site;
    m_lens = lens;
    const bool ok = lens.topkIds.rank() == 3 && lens.topkIds.dim(1) == m_tokens &&
                    lens.topkProbs.data.size() == lens.topkIds.data.size();
    m_layers = ok ? int(lens.topkIds.dim(0)) : 0;
    m_k = ok ? int(lens.topkIds.dim(2)) : 0;
    updateChart();
}

void FollowTokenPanel::setSelection(int, int pos)
{
    m_pos = pos >= 0 && pos < m_tokens ? pos : -1;
    updateChart();
}

void FollowTokenPanel::setFollowToken(int id)
{
    m_follow = id < 0 ? -1 : id;
    if (m_follow >= 0) {
        auto it = m_vocab.find(m_follow);
        if (it != m_vocab.end() && m_edit->text() != QString::fromStdString(it->second))
            m_edit->setText(QString::fromStdString(it->second));
    }
    updateChart();
}

void FollowTokenPanel::clear()
{
    m_vocab.clear();
    m_tokenText.clear();
    m_lens = LensSite();
    m_layers = m_tokens = m_k = 0;
    m_pos = -1;
    updateChart();
}

int FollowTokenPanel::tokenId(const QString &text) const
{
    const std::string want = text.toStdString();
    for (const auto &[id, t] : m_vocab)
        if (t == want) return id;
    return -1;
}

void FollowTokenPanel::followTyped()
{
    const int id = tokenId(m_edit->text());
    if (id < 0) {
        m_caption->setText(tr("\u201c%1\u201d is not a token of this trace: only tokens that "
                              "appear in it (its prompt, its predictions and its top-k) are "
                              "known without the model.")
                               .arg(m_edit->text()));
        return;
    }
    Q_EMIT followRequested(id);
}

float FollowTokenPanel::topProb(int layer, int k) const
{
    return m_lens.topkProbs
        .data[(size_t(layer) * size_t(m_tokens) + size_t(m_pos)) * size_t(m_k) + size_t(k)];
}

int FollowTokenPanel::rankAt(int layer) const
{
    const int32_t *ids = m_lens.topkIds.data.data() +
                         (size_t(layer) * size_t(m_tokens) + size_t(m_pos)) * size_t(m_k);
    for (int k = 0; k < m_k; ++k)
        if (ids[k] == m_follow) return k + 1;
    return 0;
}

std::vector<double> FollowTokenPanel::probabilities() const
{
    std::vector<double> out;
    if (m_follow < 0 || m_pos < 0 || m_k == 0) return out;
    for (int l = 0; l < m_layers; ++l) {
        const int rank = rankAt(l);
        out.push_back(rank > 0 ? double(topProb(l, rank - 1))
                               : std::numeric_limits<double>::quiet_NaN());
    }
    return out;
}

std::vector<double> FollowTokenPanel::bounds() const
{
    std::vector<double> out;
    if (m_pos < 0 || m_k == 0) return out;
    for (int l = 0; l < m_layers; ++l)
        out.push_back(double(topProb(l, m_k - 1)));
    return out;
}

QString FollowTokenPanel::captionText() const
{
    if (m_k == 0) return tr("No lens for this site.");
    if (m_follow < 0) return tr("Type a token, or right-click a block and follow one of its.");
    auto it = m_vocab.find(m_follow);
    const QString token = displayToken(it == m_vocab.end() ? QString::number(m_follow)
                                                           : QString::fromStdString(it->second));
    if (m_pos < 0)
        return tr("\u201c%1\u201d: select a block to plot it over the layers.").arg(token);
    const std::vector<double> p = probabilities();
    int known = 0;
    for (double x : p)
        known += std::isnan(x) ? 0 : 1;
    return tr("\u201c%1\u201d at position %2 (\u201c%3\u201d), %4: in the top-%5 at %6 of %7 "
              "layers")
        .arg(token)
        .arg(m_pos)
        .arg(displayToken(m_tokenText[size_t(m_pos)]))
        .arg(QString::fromLatin1(siteName(m_site)))
        .arg(m_k)
        .arg(known)
        .arg(m_layers);
}

void FollowTokenPanel::updateChart()
{
    m_caption->setText(captionText());
    m_stopButton->setEnabled(m_follow >= 0);
    QList<QPointF> follow, top, below;
    if (m_pos >= 0 && m_k > 0) {
        const std::vector<double> p = probabilities();
        for (int l = 0; l < m_layers; ++l) {
            top << QPointF(l, topProb(l, 0));
            if (p.empty()) continue;
            if (std::isnan(p[size_t(l)]))
                below << QPointF(l, topProb(l, m_k - 1));
            else
                follow << QPointF(l, p[size_t(l)]);
        }
    }
    m_followSeries->replace(follow);
    m_topSeries->replace(top);
    m_belowSeries->replace(below);
    m_axisX->setRange(0, std::max(1, m_layers - 1));
    m_axisX->setTickCount(std::clamp(m_layers, 2, 11));
}

void FollowTokenPanel::renderTo(QPainter &p, const QSize &size)
{
    beginFigure(p, size, font());
    const QFontMetricsF fm(font());
    p.drawText(QRectF(8, 4, size.width() - 16, fm.height() * 2), Qt::AlignLeft | Qt::TextWordWrap,
               captionText());
    const double top = fm.height() * 2 + 8;
    renderChartTo(m_chart, p, QRectF(0, top, size.width(), size.height() - top));
    p.restore();
}

QString FollowTokenPanel::csv() const
{
    QString out = csvLine({QStringLiteral("layer"), QStringLiteral("probability"),
                           QStringLiteral("rank"), QStringLiteral("top1_probability")});
    if (m_pos < 0 || m_k == 0) return out;
    const std::vector<double> prob = probabilities();
    for (int l = 0; l < m_layers; ++l) {
        const int rank = m_follow >= 0 ? rankAt(l) : 0;
        out += csvLine({QString::number(l),
                        rank > 0 ? QString::number(prob[size_t(l)], 'g', 7) : QString(),
                        rank > 0 ? QString::number(rank) : QString(),
                        QString::number(double(topProb(l, 0)), 'g', 7)});
    }
    return out;
}

} // namespace HeadLens
