#include "traceview.h"

#include "widgettexts.h"

#include "lensselector.h"
#include "tracespec.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/blockview.h"

#include <QAction>
#include <QBoxLayout>
#include <QComboBox>
#include <QEvent>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QResizeEvent>
#include <QSignalBlocker>
#include <QSlider>
#include <QToolBar>
#include <QVBoxLayout>

#include <cmath>

namespace HeadLens {

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

TraceView::TraceView(EngineClient *engine, QWidget *parent) : QWidget(parent)
{
    m_bar = new QToolBar;
    m_bar->setObjectName("ViewToolBar");
    m_blockView = new BlockView;
    m_blockView->setObjectName("BlockView");

    m_siteLabel = new QLabel;
    m_siteBox = new QComboBox;
    m_siteBox->setObjectName("SiteBox");
    for (Site s : allSites())
        m_siteBox->addItem(QString::fromLatin1(siteName(s)), int(s));
    m_siteBox->setCurrentIndex(int(Site::ResidPost));
    m_colourLabel = new QLabel;
    m_colourBox = new QComboBox;
    m_colourBox->setObjectName("ColourBox");
    m_colourBox->addItem(QString(), int(ViewState::Colour::Probability));
    m_colourBox->addItem(QString(), int(ViewState::Colour::Entropy));
    m_colourBox->addItem(QString(), int(ViewState::Colour::Patching));
    m_headLabel = new QLabel;
    m_headBox = new QComboBox;
    m_headBox->setObjectName("HeadBox");
    m_headBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_thresholdLabel = new QLabel;
    m_threshold = new QSlider(Qt::Horizontal);
    m_threshold->setObjectName("ThresholdSlider");
    m_threshold->setRange(0, 100);
    m_threshold->setValue(10);
    m_threshold->setFixedWidth(120);
    m_thresholdValue = new QLabel;
    m_thresholdValue->setMinimumWidth(QFontMetrics(font()).horizontalAdvance("0.000"));
    m_thresholdValue->setText(QString::number(m_threshold->value() / 100.0, 'f', 2));
    m_lensInfo = new QLabel;
    m_lensInfo->setObjectName("LensInfo");
    // The lens norm and decoder: another choice shows or makes the trace with that lens.
    m_lensSelector =
        new LensSelector(engine, [engine](const Trace &t) { return specForTrace(t, *engine); });
    connect(m_lensSelector, &LensSelector::traceChosen, this, &TraceView::traceChosen);
    connect(m_lensSelector, &LensSelector::status, this,
            [this](const QString &text) { Q_EMIT status(text, 5000); });
    connect(m_lensSelector, &LensSelector::message, this, &TraceView::error);

    // The user's choices go to the view state; what it then says comes back in viewChanged.
    connect(m_siteBox, &QComboBox::currentIndexChanged, this, [this] {
        if (ViewState *v = view()) v->setSite(Site(m_siteBox->currentData().toInt()));
    });
    connect(m_colourBox, &QComboBox::currentIndexChanged, this, [this] {
        if (ViewState *v = view())
            v->setColour(ViewState::Colour(m_colourBox->currentData().toInt()));
    });
    connect(m_headBox, &QComboBox::currentIndexChanged, this, [this] {
        if (ViewState *v = view()) v->setHead(m_headBox->currentData().toInt());
    });
    connect(m_threshold, &QSlider::valueChanged, this, [this](int value) {
        m_thresholdValue->setText(QString::number(value / 100.0, 'f', 2));
        if (ViewState *v = view()) v->setThreshold(value / 100.0);
    });
    connect(m_blockView, &BlockView::blockSelected, this, [this](int layer, int pos) {
        if (ViewState *v = view()) v->setBlock(layer, pos);
    });
    // A token followed from a block's menu is the view state's (the Follow Token dock plots it).
    connect(m_blockView, &BlockView::followTokenChanged, this, [this](int id) {
        if (ViewState *v = view()) v->setFollowToken(id);
    });

    auto make = [this](const QKeySequence &key, auto slot) {
        auto *a = new QAction(this);
        a->setShortcut(key);
        connect(a, &QAction::triggered, m_blockView, slot);
        return a;
    };
    m_zoomInAction = make(QKeySequence::ZoomIn, &BlockView::zoomIn);
    m_zoomOutAction = make(QKeySequence::ZoomOut, &BlockView::zoomOut);
    m_zoomFitAction = make(QKeySequence(tr("Ctrl+0")), &BlockView::zoomToFit);
    m_zoomResetAction = make(QKeySequence(tr("Ctrl+1")), &BlockView::resetZoom);

    m_bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_bar->addWidget(m_siteLabel);
    m_bar->addWidget(m_siteBox);
    m_bar->addWidget(m_lensSelector); // what the blocks decode: the site and the lens
    m_bar->addSeparator();
    m_bar->addWidget(m_colourLabel);
    m_bar->addWidget(m_colourBox);
    // Attention and zoom: a second bar, beside the first where the width allows, else below
    // it, so that no control hides in an overflow menu on a laptop.
    m_bar2 = new QToolBar;
    m_bar2->setObjectName("ViewToolBar2");
    m_bar2->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_bar2->addWidget(m_headLabel);
    m_bar2->addWidget(m_headBox);
    m_bar2->addWidget(m_thresholdLabel);
    m_bar2->addWidget(m_threshold);
    m_bar2->addWidget(m_thresholdValue);
    m_bar2->addSeparator();
    m_bar2->addAction(m_zoomOutAction);
    m_bar2->addAction(m_zoomInAction);
    m_bar2->addAction(m_zoomFitAction);

    m_bars = new QBoxLayout(QBoxLayout::LeftToRight);
    m_bars->setContentsMargins(0, 0, 0, 0);
    m_bars->setSpacing(0);
    m_bars->addWidget(m_bar);
    m_bars->addWidget(m_bar2);
    m_bars->addStretch(1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(m_bars);
    layout->addWidget(m_blockView, 1);
    retranslateUi();
    clear();
}

QList<QAction *> TraceView::zoomActions() const
{
    return {m_zoomInAction, m_zoomOutAction, m_zoomFitAction, m_zoomResetAction};
}

ViewState *TraceView::view() const
{
    return m_document ? m_document->view() : nullptr;
}

void TraceView::setDocument(ProjectDocument *document)
{
    if (m_document == document) return;
    if (m_document) m_document->view()->disconnect(this);
    m_document = document;
    if (m_document)
        connect(m_document->view(), &ViewState::changed, this,
                [this](ViewState::Aspects what) { viewChanged(int(what)); });
    showTrace();
}

void TraceView::viewChanged(int aspects)
{
    const auto what = ViewState::Aspects(aspects);
    if (what & ViewState::TraceAspect) {
        showTrace(); // everything
        return;
    }
    syncControls();
    if (what & (ViewState::ColourAspect | ViewState::SiteAspect)) showColour();
    if (what & ViewState::HeadAspect) m_blockView->setAttentionHead(view()->head());
    if (what & ViewState::ThresholdAspect) m_blockView->setAttentionThreshold(view()->threshold());
    if (what & ViewState::SiteAspect) showLens();
    if (what & ViewState::BlockAspect) showSelection();
    if (what & ViewState::FollowAspect) m_blockView->setFollowToken(view()->followToken());
}

void TraceView::clear()
{
    m_blockView->clear();
    m_lensInfo->clear();
    m_lensSelector->setTrace(nullptr, QString());
    fillHeads(0);
    m_bar->setEnabled(false);
    m_bar2->setEnabled(false);
    for (QAction *a : zoomActions())
        a->setEnabled(false);
}

void TraceView::fillHeads(int heads)
{
    const QSignalBlocker block(m_headBox);
    m_headBox->clear();
    if (heads <= 0) return;
    m_headBox->addItem(tr("Mean of heads"), -1);
    for (int h = 0; h < heads; ++h)
        m_headBox->addItem(tr("Head %1").arg(h), h);
}

void TraceView::syncControls()
{
    const ViewState *v = view();
    if (!v) return;
    {
        const QSignalBlocker block(m_siteBox);
        m_siteBox->setCurrentIndex(m_siteBox->findData(int(v->site())));
    }
    {
        const QSignalBlocker block(m_colourBox);
        m_colourBox->setCurrentIndex(m_colourBox->findData(int(v->colour())));
    }
    {
        const QSignalBlocker block(m_headBox);
        const int i = m_headBox->findData(v->head());
        m_headBox->setCurrentIndex(i < 0 ? 0 : i);
    }
    const int threshold = int(std::lround(v->threshold() * 100));
    {
        const QSignalBlocker block(m_threshold);
        m_threshold->setValue(threshold);
    }
    m_thresholdValue->setText(QString::number(threshold / 100.0, 'f', 2));
}

void TraceView::showTrace()
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) {
        clear();
        Q_EMIT selectionText(QString());
        return;
    }
    try {
        const auto t = m_document->trace(v->trace());
        m_blockView->setTrace(*t);
        fillHeads(t->config.nHeads);
        syncControls();
        m_lensInfo->setText(tr("%1 · %2 layers × %3 tokens · lens: %4 norm, %5 decoder ")
                                .arg(q(t->modelName))
                                .arg(t->config.nLayers)
                                .arg(t->nTokens())
                                .arg(QString::fromLatin1(lensNormName(t->lensNorm)),
                                     QString::fromLatin1(lensDecoderName(t->lensDecoder))));
        m_lensSelector->setTrace(m_document, v->trace());
        m_blockView->setFollowToken(v->followToken());
        showColour();
        m_blockView->setAttentionHead(v->head());
        m_blockView->setAttentionThreshold(v->threshold());
        m_bar->setEnabled(true);
        m_bar2->setEnabled(true);
        for (QAction *a : zoomActions())
            a->setEnabled(true);
        showLens();
        markEdit(*t);
        if (v->hasBlock()) m_blockView->ensureVisible(v->layer(), v->pos());
    } catch (const std::exception &e) {
        clear();
        Q_EMIT error(tr("Cannot show trace %1: %2").arg(v->trace(), q(e.what())));
    }
}

void TraceView::showColour()
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) return;
    switch (v->colour()) {
    case ViewState::Colour::Probability:
        m_blockView->setColourMode(BlockView::ColourMode::Probability);
        return;
    case ViewState::Colour::Entropy:
        m_blockView->setColourMode(BlockView::ColourMode::Entropy);
        return;
    case ViewState::Colour::Patching:
        break;
    }
    // The map of the shown site, [layer, pos]; none when the trace has no map.
    std::vector<float> recovered, heads;
    int nHeads = 0;
    try {
        if (const auto m = m_document->patchMap(v->trace())) {
            const size_t n = size_t(m->nLayers) * size_t(m->nPos);
            const auto first = m->sites.data.begin() + std::ptrdiff_t(size_t(v->site()) * n);
            recovered.assign(first, first + std::ptrdiff_t(n));
            heads = m->heads.data;
            nHeads = m->nHeads;
            Q_EMIT status(tr("Patching %1 into %2: logit(%3) − logit(%4) is %5 clean, %6 "
                             "corrupted; blocks show the fraction recovered")
                              .arg(q(m_document->trace(v->trace())->prompt), q(m->corruptedPrompt),
                                   q(m->answerText), q(m->wrongText))
                              .arg(m->ldClean, 0, 'f', 3)
                              .arg(m->ldCorrupted, 0, 'f', 3),
                          8000);
        }
    } catch (const std::exception &e) {
        Q_EMIT error(tr("Cannot read the patching map of %1: %2").arg(v->trace(), q(e.what())));
    }
    m_blockView->setPatching(recovered, heads, nHeads);
    m_blockView->setColourMode(BlockView::ColourMode::Patching);
}

void TraceView::markEdit(const Trace &t)
{
    // A child trace (propagate, inject) outlines the block its parent was edited at.
    const QJsonObject edit = QJsonDocument::fromJson(QByteArray::fromStdString(t.edit)).object();
    const int layer = edit.value("layer").toInt(-1), pos = edit.value("pos").toInt(-1);
    if (layer < 0 || pos < 0 || layer >= t.config.nLayers || pos >= t.nTokens()) return;
    m_blockView->setHighlightedBlocks({{layer, pos}});
    Q_EMIT status(tr("A child of %1: the block edited there (%2 at layer %3, position %4) is "
                     "outlined.")
                      .arg(q(t.parent), edit.value("site").toString())
                      .arg(layer)
                      .arg(pos),
                  8000);
}

void TraceView::showLens()
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) return;
    try {
        const auto lens = m_document->lens(v->trace(), v->site());
        m_blockView->setLens(*lens);
        ++m_lensLoads;
        showSelection();
    } catch (const std::exception &e) {
        Q_EMIT error(tr("Cannot read the lens of %1: %2").arg(v->trace(), q(e.what())));
    }
}

void TraceView::showSelection()
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) return;
    if (!v->hasBlock()) {
        m_blockView->setSelection(-1, -1);
        m_blockView->clearAttention();
        Q_EMIT selectionText(tr("Click a block to see what it decodes to and what it attends to."));
        return;
    }
    m_blockView->setSelection(v->layer(), v->pos());
    showAttention();
    QString token;
    try {
        const auto t = m_document->trace(v->trace());
        if (v->pos() < t->nTokens()) token = q(t->tokens[size_t(v->pos())].text);
    } catch (const std::exception &) {
    }
    Q_EMIT selectionText(tr("Layer %1, position %2 (%3), %4")
                             .arg(v->layer())
                             .arg(v->pos())
                             .arg(token, QString::fromLatin1(siteName(v->site()))));
}

void TraceView::showAttention()
{
    const ViewState *v = view();
    if (!v || !v->hasBlock()) {
        m_blockView->clearAttention();
        return;
    }
    // Small traces: the whole layer (cached, so moving along a row is instant). Large ones:
    // only the selected position's row is read, since a whole layer of a long trace takes
    // seconds to read; the block view needs no more than that row.
    constexpr int64_t kWholeLayerElements = int64_t(4) << 20;
    try {
        const auto t = m_document->trace(v->trace());
        const int64_t H = t->config.nHeads, T = t->nTokens();
        if (H * T * T <= kWholeLayerElements) {
            const auto pattern = m_document->attention(v->trace(), v->layer());
            if (pattern)
                m_blockView->setAttention(v->layer(), *pattern);
            else
                m_blockView->clearAttention();
            return;
        }
        const auto row = m_document->attentionRow(v->trace(), v->layer(), v->pos());
        if (!row) {
            m_blockView->clearAttention();
            return;
        }
        m_blockView->setAttentionRow(v->layer(), v->pos(), *row);
    } catch (const std::exception &e) {
        m_blockView->clearAttention();
        Q_EMIT error(tr("Cannot read the attention of %1: %2").arg(v->trace(), q(e.what())));
    }
}

void TraceView::selectBlock(int layer, int pos)
{
    if (ViewState *v = view()) v->setBlock(layer, pos);
    m_blockView->ensureVisible(layer, pos);
}

void TraceView::showBlocks(const QVector<QPair<int, int>> &blocks)
{
    if (blocks.isEmpty()) return;
    // All of the blocks outlined, the first selected (blockSelected).
    m_blockView->showBlocks(blocks);
    Q_EMIT selectionText(tr("%n block(s) in this bin, outlined; the first is selected. Esc clears "
                            "the outlines.",
                            nullptr, int(blocks.size())));
}

void TraceView::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    const int wanted = m_bar->sizeHint().width() + m_bar2->sizeHint().width();
    m_bars->setDirection(width() >= wanted ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom);
}

void TraceView::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QWidget::changeEvent(event);
}

void TraceView::retranslateUi()
{
    m_bar->setWindowTitle(tr("View Toolbar"));
    m_bar2->setWindowTitle(tr("Attention Toolbar"));
    const auto set = setActionTexts;
    set(m_zoomInAction, tr("Zoom &In"), tr("Make the blocks larger"));
    set(m_zoomOutAction, tr("Zoom &Out"), tr("Make the blocks smaller"));
    set(m_zoomFitAction, tr("&Fit"), tr("Fit the whole trace into the view"));
    set(m_zoomResetAction, tr("&Actual Size"), tr("Blocks at their natural size"));
    // Short labels for the view toolbar.
    m_zoomInAction->setIconText(tr("+"));
    m_zoomOutAction->setIconText(tr("−"));
    m_zoomFitAction->setIconText(tr("Fit"));

    m_siteLabel->setText(tr(" Site: "));
    m_siteBox->setToolTip(tr("Which vector of each layer the blocks decode: before the layer "
                             "(resid_pre), the attention output, between attention and MLP "
                             "(resid_mid), the MLP output, or after the layer (resid_post)"));
    m_colourLabel->setText(tr(" Colour: "));
    m_colourBox->setItemText(0, tr("Certainty"));
    m_colourBox->setItemText(1, tr("Entropy"));
    m_colourBox->setItemText(2, tr("Patching"));
    m_colourBox->setToolTip(tr("What a block's colour shows: certainty = the top-1 "
                               "probability of the lens, the entropy of its distribution, or "
                               "patching = how much of the clean answer patching that block "
                               "into the corrupted prompt recovers (headlens-cli patch)"));
    m_headLabel->setText(tr(" Attention: "));
    m_headBox->setToolTip(tr("Whose attention a selected block shows: the mean over heads or "
                             "one head"));
    if (m_headBox->count() > 0) m_headBox->setItemText(0, tr("Mean of heads"));
    for (int i = 1; i < m_headBox->count(); ++i)
        m_headBox->setItemText(i, tr("Head %1").arg(m_headBox->itemData(i).toInt()));
    m_thresholdLabel->setText(tr(" Lines ≥ "));
    m_threshold->setToolTip(tr("Attention lines are drawn to the positions whose weight is at "
                               "least this"));
    m_thresholdValue->setToolTip(m_threshold->toolTip());
    m_lensInfo->setToolTip(tr("The lens the current trace was made with"));
}

} // namespace HeadLens
