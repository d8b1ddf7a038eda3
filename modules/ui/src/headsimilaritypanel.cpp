#include "headlens/ui/headsimilaritypanel.h"

#include "headlens/ui/colourscale.h"
#include "headlens/ui/headsimilarityview.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFontMetricsF>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <exception>

namespace HeadLens {

namespace {

// Layers with at most this many attention weights (over the traces in scope) are computed on
// the GUI thread: well under 0.1 s, and no "Computing…" flicker.
constexpr int64_t kSynchronousElements = int64_t(1) << 20;

// One trace's share of a layer: a one-layer stand-in for the trace (the builder reads only its
// name and counts), that layer's pattern and contribution similarity.
struct LayerInput {
    Trace shell;
    std::shared_ptr<const FloatArray> pattern; // [H, T, T]
    FloatArray contrib;                        // [1, H, H] or empty
};

HeadSimilarityPanel::LayerResult computeLayer(const std::vector<LayerInput> &inputs)
{
    HeadSimilarityPanel::LayerResult r;
    try {
        HeadSimilarityBuilder builder; // clusters on JSD; the panel clusters again as shown
        for (const LayerInput &in : inputs)
            builder.add(
                in.shell, [&](int) { return *in.pattern; },
                in.contrib.empty() ? nullptr : &in.contrib);
        const HeadSimilarity s = builder.result();
        const int64_t H = s.nHeads;
        for (int k = 0; k < 3; ++k) {
            DoubleArray m = s.matrix(SimilarityKind(k));
            if (!m.empty()) m.shape = {H, H};
            r.matrix[k] = std::move(m);
        }
        r.nTraces = s.nTraces;
        r.nQueries = s.nQueries;
    } catch (const std::exception &e) {
        r.error = QString::fromUtf8(e.what());
    }
    return r;
}

// A box as wide as its longest item where there is room, shortened where the dock is narrow
// (its list shows the items whole): the dock shares its width with the Heads tab beside it.
void fitToNarrowDock(QComboBox *box)
{
    box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    box->setMinimumWidth(box->fontMetrics().averageCharWidth() * 10 + 40);
}

} // namespace

HeadSimilarityPanel::HeadSimilarityPanel(QWidget *parent) : ViewPanel(parent)
{
    setObjectName(QStringLiteral("HeadSimilarityPanel"));
    setMinimumRoom({300, 300});

    m_layerLabel = new QLabel(this);
    m_layerBox = new QSpinBox(this);
    m_layerBox->setObjectName(QStringLiteral("headSimilarityLayer"));
    m_layerBox->setRange(0, 0);
    m_layerBox->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("0000")) + 28);
    m_layerLabel->setBuddy(m_layerBox);

    m_kindLabel = new QLabel(this);
    m_kindBox = new QComboBox(this);
    m_kindBox->setObjectName(QStringLiteral("headSimilarityKind"));
    fitToNarrowDock(m_kindBox);
    for (int k = 0; k < 3; ++k)
        m_kindBox->addItem(QString(), k);
    m_kindLabel->setBuddy(m_kindBox);

    m_scopeLabel = new QLabel(this);
    m_scopeBox = new QComboBox(this);
    m_scopeBox->setObjectName(QStringLiteral("headSimilarityScope"));
    fitToNarrowDock(m_scopeBox);
    m_scopeBox->addItem(QString(), int(Scope::Trace));
    m_scopeBox->addItem(QString(), int(Scope::Project));
    m_scopeLabel->setBuddy(m_scopeBox);

    m_thresholdLabel = new QLabel(this);
    m_thresholdBox = new QDoubleSpinBox(this);
    m_thresholdBox->setObjectName(QStringLiteral("headSimilarityThreshold"));
    m_thresholdBox->setRange(-1.0, 1.0);
    m_thresholdBox->setSingleStep(0.05);
    m_thresholdBox->setDecimals(2);
    m_thresholdBox->setValue(m_threshold);
    m_thresholdLabel->setBuddy(m_thresholdBox);

    m_view = new HeadSimilarityView(this);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("headSimilarityStatus"));
    m_status->setTextFormat(Qt::PlainText);
    m_status->setWordWrap(true);

    // Two rows of controls, so that the dock can be narrow; the dock's title names the view
    // and the status line what it shows.
    auto *row1 = new QHBoxLayout;
    row1->addWidget(m_layerLabel);
    row1->addWidget(m_layerBox);
    row1->addSpacing(8);
    row1->addWidget(m_kindLabel);
    row1->addWidget(m_kindBox);
    row1->addStretch(1);
    auto *row2 = new QHBoxLayout;
    row2->addWidget(m_scopeLabel);
    row2->addWidget(m_scopeBox);
    row2->addSpacing(8);
    row2->addWidget(m_thresholdLabel);
    row2->addWidget(m_thresholdBox);
    row2->addStretch(1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    layout->addLayout(row1);
    layout->addLayout(row2);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_status);

    m_watcher = new QFutureWatcher<LayerResult>(this);
    connect(m_watcher, &QFutureWatcher<LayerResult>::finished, this,
            &HeadSimilarityPanel::finishJob);
    connect(m_layerBox, qOverload<int>(&QSpinBox::valueChanged), this, [this](int layer) {
        if (!m_updating) setLayer(layer);
    });
    connect(m_kindBox, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (!m_updating && i >= 0) setKind(SimilarityKind(m_kindBox->itemData(i).toInt()));
    });
    connect(m_scopeBox, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (!m_updating && i >= 0) setScope(Scope(m_scopeBox->itemData(i).toInt()));
    });
    connect(m_thresholdBox, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
            [this](double t) {
                if (!m_updating) setThreshold(t);
            });
    connect(m_view, &HeadSimilarityView::headSelected, this, [this](int head) {
        m_head = head;
        Q_EMIT headSelected(m_layer, head);
    });
    connect(m_view, &HeadSimilarityView::hovered, this, &HeadSimilarityPanel::hover);
    retranslateUi();
    clear();
}

HeadSimilarityPanel::~HeadSimilarityPanel()
{
    // A running computation works on its own copies; it finishes unobserved.
    m_watcher->disconnect(this);
}

void HeadSimilarityPanel::showEvent(QShowEvent *event)
{
    ViewPanel::showEvent(event);
    ensureComputed();
}

QString HeadSimilarityPanel::kindTitle(SimilarityKind k) const
{
    switch (k) {
    case SimilarityKind::Jsd:
        return tr("Pattern similarity (1 − JSD)");
    case SimilarityKind::Correlation:
        return tr("Pattern correlation");
    case SimilarityKind::Contribution:
        return tr("Contribution cosine");
    }
    return QString();
}

void HeadSimilarityPanel::retranslateUi()
{
    m_layerLabel->setText(tr("&Layer:"));
    m_layerBox->setToolTip(tr("The layer whose heads are compared"));
    m_kindLabel->setText(tr("&Compare:"));
    m_kindBox->setToolTip(
        tr("What makes two heads alike: where they attend (1 − Jensen-Shannon divergence of the "
           "attention rows, or the correlation of the patterns), or what they write (mean cosine "
           "of their contribution vectors; only in traces that store it)"));
    for (int k = 0; k < 3; ++k)
        m_kindBox->setItemText(k, kindTitle(SimilarityKind(k)));
    m_scopeLabel->setText(tr("&Over:"));
    m_scopeBox->setToolTip(tr("The shown trace only, or the mean over every trace of the project "
                              "with the same layers and heads"));
    m_scopeBox->setItemText(0, tr("This trace"));
    m_scopeBox->setItemText(1, tr("All traces of the project"));
    m_thresholdLabel->setText(tr("Cl&uster at:"));
    m_thresholdBox->setToolTip(tr("Heads are grouped while the mean similarity between the groups "
                                  "is at least this (average linkage)"));
    m_status->setToolTip(tr("The shown layer and the cell under the mouse"));
    m_view->retranslateUi();
    if (m_sources.empty())
        m_view->setMessage(tr("Open a trace to compare its heads."));
    else
        showResult();
    updateTexts();
}

// ------------------------------------------------------------------------------ input

void HeadSimilarityPanel::clear()
{
    m_sources.clear();
    m_traces.clear();
    m_cache.clear();
    ++m_generation;
    m_jobKey = {-1, -1};
    m_nLayers = m_nHeads = 0;
    m_layer = 0;
    m_head = -1;
    m_updating = true;
    m_layerBox->setRange(0, 0);
    m_updating = false;
    updateKinds();
    m_view->setMessage(tr("Open a trace to compare its heads."));
    updateTexts();
}

void HeadSimilarityPanel::setTrace(const Trace &trace)
{
    auto keep = std::make_shared<const Trace>(trace);
    HeadSimilaritySource s;
    s.name = QString::fromStdString(trace.name);
    s.trace = [keep] { return keep; };
    s.pattern = [keep](int layer) -> std::shared_ptr<const FloatArray> {
        const FloatArray &a = keep->attentionPattern;
        if (a.rank() != 4 || layer < 0 || layer >= a.dim(0)) return nullptr;
        const int64_t H = a.dim(1), T = a.dim(2);
        auto p = std::make_shared<FloatArray>(std::vector<int64_t>{H, T, T});
        std::copy_n(a.data.begin() + std::ptrdiff_t(layer * H * T * T), size_t(H * T * T),
                    p->data.begin());
        return p;
    };
    setTraces({s});
}

void HeadSimilarityPanel::setTraces(const std::vector<HeadSimilaritySource> &traces)
{
    if (traces.empty()) {
        clear();
        return;
    }
    m_sources = traces;
    m_traces.assign(traces.size(), nullptr);
    m_cache.clear();
    ++m_generation;
    m_jobKey = {-1, -1};
    m_hoverText.clear();
    QString error = tr("no such trace");
    try {
        m_traces[0] = m_sources[0].trace();
    } catch (const std::exception &e) {
        error = QString::fromUtf8(e.what());
    }
    if (!m_traces[0]) {
        m_nLayers = m_nHeads = 0;
        m_view->setMessage(tr("Cannot read trace %1: %2").arg(m_sources[0].name, error));
        updateTexts();
        return;
    }
    m_nLayers = m_traces[0]->config.nLayers;
    m_nHeads = m_traces[0]->config.nHeads;
    m_layer = std::clamp(m_layer, 0, std::max(0, m_nLayers - 1));
    if (m_head >= m_nHeads) m_head = -1;
    if (m_sources.size() < 2) m_scope = Scope::Trace;
    m_updating = true;
    m_layerBox->setRange(0, std::max(0, m_nLayers - 1));
    m_layerBox->setValue(m_layer);
    m_scopeBox->setCurrentIndex(int(m_scope));
    m_updating = false;
    updateKinds();
    m_view->setSelectedHead(m_head);
    m_view->setMessage(QString());
    showLayerLater(); // computed when shown
    updateTexts();
}

std::vector<int> HeadSimilarityPanel::sourcesInScope() const
{
    std::vector<int> out;
    if (m_sources.empty() || !m_traces[0]) return out;
    out.push_back(0);
    if (m_scope == Scope::Trace) return out;
    for (size_t i = 1; i < m_sources.size(); ++i) {
        std::shared_ptr<const Trace> &t = m_traces[i];
        try {
            if (!t) t = m_sources[i].trace();
        } catch (const std::exception &) {
            continue; // an unreadable trace is left out (and counted as such)
        }
        if (t && t->config.nLayers == m_nLayers && t->config.nHeads == m_nHeads)
            out.push_back(int(i));
    }
    return out;
}

bool HeadSimilarityPanel::hasContribution() const
{
    const std::vector<int> scope = sourcesInScope();
    if (scope.empty()) return false;
    for (int i : scope)
        if (m_traces[size_t(i)]->contribSimilarity.empty()) return false;
    return true;
}

// ------------------------------------------------------------------------------ controls

void HeadSimilarityPanel::setLayer(int layer)
{
    if (layer < 0 || layer >= m_nLayers) return;
    const bool changed = layer != m_layer;
    m_layer = layer;
    m_updating = true;
    m_layerBox->setValue(layer);
    m_updating = false;
    if (!changed) return;
    m_hoverText.clear();
    m_view->setMessage(QString());
    showLayerLater();
    updateTexts();
}

void HeadSimilarityPanel::setKind(SimilarityKind kind)
{
    if (kind == SimilarityKind::Contribution && !hasContribution()) kind = SimilarityKind::Jsd;
    m_kind = kind;
    m_updating = true;
    m_kindBox->setCurrentIndex(int(kind));
    m_updating = false;
    showResult();
    updateTexts();
}

void HeadSimilarityPanel::setScope(Scope scope)
{
    if (scope == Scope::Project && m_sources.size() < 2) scope = Scope::Trace;
    const bool changed = scope != m_scope;
    m_scope = scope;
    m_updating = true;
    m_scopeBox->setCurrentIndex(int(scope));
    m_updating = false;
    if (!changed) return;
    updateKinds();
    m_view->setMessage(QString());
    showLayerLater();
    updateTexts();
}

void HeadSimilarityPanel::setThreshold(double threshold)
{
    m_threshold = std::clamp(threshold, -1.0, 1.0);
    m_updating = true;
    m_thresholdBox->setValue(m_threshold);
    m_updating = false;
    showResult();
    updateTexts();
}

void HeadSimilarityPanel::setSelectedHead(int head)
{
    m_head = head >= 0 && head < m_nHeads ? head : -1;
    m_view->setSelectedHead(m_head);
}

void HeadSimilarityPanel::updateKinds()
{
    const bool contrib = hasContribution();
    if (auto *model = qobject_cast<QStandardItemModel *>(m_kindBox->model()))
        if (QStandardItem *item = model->item(int(SimilarityKind::Contribution)))
            item->setEnabled(contrib);
    m_scopeBox->setEnabled(m_sources.size() > 1);
    if (!contrib && m_kind == SimilarityKind::Contribution) m_kind = SimilarityKind::Jsd;
    m_updating = true;
    m_kindBox->setCurrentIndex(int(m_kind));
    m_updating = false;
}

// ------------------------------------------------------------------------------ computing

// Shows the layer once control is back in the event loop, and only if the panel can be seen
// then: a dock whose tab is not the current one still reports itself visible until the main
// window has laid out its docks (at start-up, or while a project opens), and a whole layer of
// attention is too much to read for nothing.
void HeadSimilarityPanel::showLayerLater()
{
    if (m_showPending) return;
    m_showPending = true;
    QTimer::singleShot(0, this, [this] {
        m_showPending = false;
        if (isVisible() && !visibleRegion().isEmpty()) showLayer();
    });
}

bool HeadSimilarityPanel::isComputing() const
{
    return m_jobKey.first >= 0;
}

void HeadSimilarityPanel::ensureComputed(bool wait)
{
    if (m_sources.empty()) return;
    showLayer();
    if (wait && isComputing()) {
        m_watcher->waitForFinished();
        finishJob();
    }
}

void HeadSimilarityPanel::showLayer()
{
    if (m_sources.empty() || !m_traces[0] || m_nLayers == 0) return;
    const std::pair<int, int> key{int(m_scope), m_layer};
    if (m_cache.count(key)) {
        showResult();
        return;
    }
    if (isComputing() && m_jobKey == key && m_jobGeneration == m_generation) return;

    // Read the patterns here (the document is not for other threads); compute anywhere.
    std::vector<LayerInput> inputs;
    int64_t elements = 0;
    m_nLeftOut = 0;
    const std::vector<int> scope = sourcesInScope();
    m_nLeftOut = int(m_sources.size()) - int(scope.size());
    if (m_scope == Scope::Trace) m_nLeftOut = 0;
    try {
        for (int i : scope) {
            const Trace &t = *m_traces[size_t(i)];
            auto pattern = m_sources[size_t(i)].pattern(m_layer);
            if (!pattern || pattern->empty()) {
                if (i == 0 && m_scope == Scope::Trace) {
                    m_view->setMessage(tr("Trace %1 stores no attention patterns (it was traced "
                                          "with --attention none), so its heads cannot be "
                                          "compared.")
                                           .arg(m_sources[0].name));
                    updateTexts();
                    return;
                }
                ++m_nLeftOut;
                continue;
            }
            LayerInput in;
            in.shell.name = t.name;
            in.shell.config.nLayers = 1;
            in.shell.config.nHeads = t.config.nHeads;
            in.shell.tokens.resize(t.tokens.size());
            in.pattern = pattern;
            const int64_t H = t.config.nHeads;
            if (t.contribSimilarity.rank() == 3 && t.contribSimilarity.dim(0) > m_layer) {
                in.contrib.reset({1, H, H});
                std::copy_n(t.contribSimilarity.data.begin() + std::ptrdiff_t(m_layer * H * H),
                            size_t(H * H), in.contrib.data.begin());
            }
            elements += int64_t(pattern->size());
            inputs.push_back(std::move(in));
        }
    } catch (const std::exception &e) {
        m_view->setMessage(tr("Cannot read the attention of layer %1: %2")
                               .arg(m_layer)
                               .arg(QString::fromUtf8(e.what())));
        updateTexts();
        return;
    }
    if (inputs.empty()) {
        m_view->setMessage(tr("No trace in scope stores attention patterns."));
        updateTexts();
        return;
    }
    if (elements <= kSynchronousElements) {
        m_cache[key] = computeLayer(inputs);
        m_jobKey = {-1, -1};
        showResult();
        return;
    }
    m_jobKey = key;
    m_jobGeneration = m_generation;
    m_watcher->setFuture(QtConcurrent::run([inputs] { return computeLayer(inputs); }));
    m_view->setMessage(tr("Computing the head similarity of layer %1…").arg(m_layer));
    updateTexts();
}

void HeadSimilarityPanel::finishJob()
{
    if (!isComputing() || !m_watcher->isFinished()) return;
    const std::pair<int, int> key = m_jobKey;
    m_jobKey = {-1, -1};
    if (m_jobGeneration != m_generation) return; // the traces changed meanwhile
    m_cache[key] = m_watcher->result();
    if (key == std::pair<int, int>{int(m_scope), m_layer})
        showResult();
    else if (isVisible())
        showLayer();
}

void HeadSimilarityPanel::showResult()
{
    const auto it = m_cache.find({int(m_scope), m_layer});
    if (it == m_cache.end()) return;
    const LayerResult &r = it->second;
    m_hoverText.clear(); // the cells move; the mouse names a new one when it moves
    if (!r.error.isEmpty()) {
        m_view->setMessage(r.error);
        updateTexts();
        return;
    }
    SimilarityKind kind = m_kind;
    if (r.matrix[int(kind)].empty()) kind = SimilarityKind::Jsd;
    const DoubleArray &m = r.matrix[int(kind)];
    const HeadClusters c = clusterBySimilarity(m, m_threshold);
    m_view->setMatrix(m, c.order, c.cluster, kindTitle(kind));
    m_view->setSelectedHead(m_head);
    updateTexts();
    Q_EMIT computed(m_layer);
}

// ------------------------------------------------------------------------------ texts

void HeadSimilarityPanel::hover(int a, int b)
{
    if (a < 0 || b < 0) {
        m_hoverText.clear();
    } else {
        const std::vector<int> &order = m_view->orderedHeads();
        const int row = int(std::find(order.begin(), order.end(), a) - order.begin());
        const int col = int(std::find(order.begin(), order.end(), b) - order.begin());
        m_hoverText = m_view->cellText(row, col);
    }
    updateTexts();
}

QString HeadSimilarityPanel::statusText() const
{
    if (m_sources.empty() || m_view->headCount() == 0) return QString();
    const auto it = m_cache.find({int(m_scope), m_layer});
    if (it == m_cache.end()) return QString();
    int nClusters = 0;
    for (int c : m_view->clusters())
        nClusters = std::max(nClusters, c + 1);
    QString text =
        m_scope == Scope::Project ? QString() : m_sources[0].name + QStringLiteral(" · ");
    text += tr("Layer %1: %n head(s)", nullptr, m_view->headCount()).arg(m_layer);
    text += tr(" in %n cluster(s)", nullptr, nClusters);
    text += tr(" · %n trace(s)", nullptr, it->second.nTraces);
    text += tr(", %n query position(s)", nullptr, int(it->second.nQueries));
    if (m_scope == Scope::Project && m_nLeftOut > 0)
        text += tr(" (%n trace(s) of another shape or without attention left out)", nullptr,
                   m_nLeftOut);
    return text;
}

QString HeadSimilarityPanel::titleText() const
{
    if (m_sources.empty()) return tr("Head similarity");
    if (m_scope == Scope::Project) return tr("Head similarity over the project");
    return tr("Head similarity of %1").arg(m_sources[0].name);
}

void HeadSimilarityPanel::updateTexts()
{
    m_status->setText(m_hoverText.isEmpty() ? statusText() : m_hoverText);
}

// ------------------------------------------------------------------------------ export

void HeadSimilarityPanel::renderTo(QPainter &p, const QSize &size)
{
    QFont bold = font();
    bold.setBold(true);
    beginFigure(p, size, bold);
    const QFontMetricsF fm(bold);
    const double w = size.width(), h = size.height();
    QString title = titleText();
    if (m_view->headCount() > 0)
        title += tr(" · layer %1 · %2 · clusters at %3")
                     .arg(m_layer)
                     .arg(kindTitle(m_kind))
                     .arg(m_threshold, 0, 'f', 2);
    p.drawText(QRectF(8, 4, w - 16, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, title);
    double top = fm.height() + 8;
    const QString status = statusText();
    if (!status.isEmpty()) {
        p.setFont(font());
        p.setPen(Accent::mutedText());
        p.drawText(QRectF(8, top, w - 16, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, status);
        top += fm.height() + 4;
    }
    p.translate(0, top);
    m_view->renderTo(p, QSize(int(w), int(h - top)));
    p.restore();
}

QString HeadSimilarityPanel::csv() const
{
    return m_view->csv();
}

} // namespace HeadLens
