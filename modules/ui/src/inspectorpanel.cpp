#include "headlens/ui/inspectorpanel.h"

#include "headlens/analysis/decision.h"
#include "probabilitybars.h"
#include "tokentext.h"
#include "uitext.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

namespace HeadLens {

InspectorPanel::InspectorPanel(QWidget *parent) : ViewPanel(parent)
{
    setObjectName(QStringLiteral("InspectorPanel"));
    setMinimumRoom({240, 320});

    m_empty = new QLabel(this);
    m_empty->setObjectName(QStringLiteral("inspectorEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    QPalette muted = m_empty->palette();
    muted.setColor(QPalette::WindowText, QColor(0x70, 0x70, 0x70));
    m_empty->setPalette(muted);

    m_body = new QWidget(this);
    m_token = new QLabel(m_body);
    m_token->setObjectName(QStringLiteral("inspectorToken"));
    m_token->setTextFormat(Qt::PlainText);
    m_token->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont big = m_token->font();
    big.setPointSizeF(big.pointSizeF() * 1.5);
    big.setBold(true);
    m_token->setFont(big);
    m_where = new QLabel(m_body);
    m_where->setObjectName(QStringLiteral("inspectorWhere"));
    m_where->setTextFormat(Qt::PlainText);
    m_where->setPalette(muted);

    m_topkTitle = new QLabel(m_body);
    QFont bold = m_topkTitle->font();
    bold.setBold(true);
    m_topkTitle->setFont(bold);
    m_bars = new ProbabilityBars(m_body);
    m_bars->setObjectName(QStringLiteral("inspectorTopK"));

    m_facts = new QFormLayout;
    m_facts->setLabelAlignment(Qt::AlignLeft);
    m_entropyLabel = new QLabel(m_body);
    m_entropy = new QLabel(m_body);
    m_modelLabel = new QLabel(m_body);
    m_model = new QLabel(m_body);
    m_depthLabel = new QLabel(m_body);
    m_depthValue = new QLabel(m_body);
    for (QLabel *l : {m_entropy, m_model, m_depthValue}) {
        l->setTextFormat(Qt::PlainText);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    m_entropy->setObjectName(QStringLiteral("inspectorEntropy"));
    m_model->setObjectName(QStringLiteral("inspectorModel"));
    m_depthValue->setObjectName(QStringLiteral("inspectorDepth"));
    m_facts->addRow(m_entropyLabel, m_entropy);
    m_facts->addRow(m_modelLabel, m_model);
    m_facts->addRow(m_depthLabel, m_depthValue);

    m_decodeBox = new QGroupBox(m_body);
    m_decodeBox->setObjectName(QStringLiteral("inspectorDecoding"));
    m_decodeList = new QTreeWidget(m_decodeBox);
    m_decodeList->setObjectName(QStringLiteral("inspectorDecodingList"));
    m_decodeList->setRootIsDecorated(false);
    m_decodeList->setColumnCount(4);
    m_decodeList->setUniformRowHeights(true);
    m_decodeList->setAlternatingRowColors(true);
    m_decodeList->header()->setStretchLastSection(false);
    m_decodeList->header()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_decodeList->setMinimumHeight(90);
    m_decompose = new QPushButton(m_decodeBox);
    m_decompose->setObjectName(QStringLiteral("inspectorDecompose"));
    auto *decodeLayout = new QVBoxLayout(m_decodeBox);
    decodeLayout->addWidget(m_decodeList);
    auto *decodeButtons = new QHBoxLayout;
    decodeButtons->addStretch(1);
    decodeButtons->addWidget(m_decompose);
    decodeLayout->addLayout(decodeButtons);

    m_propagate = new QPushButton(m_body);
    m_propagate->setObjectName(QStringLiteral("inspectorPropagate"));
    m_inject = new QPushButton(m_body);
    m_inject->setObjectName(QStringLiteral("inspectorInject"));

    // The inline form for propagate / inject.
    m_form = new QGroupBox(m_body);
    m_form->setObjectName(QStringLiteral("inspectorPropagateForm"));
    m_kind = new QComboBox(m_form);
    m_kind->setObjectName(QStringLiteral("inspectorPropagateKind"));
    for (int i = 0; i < 3; ++i)
        m_kind->addItem(QString(), i);
    m_count = new QSpinBox(m_form);
    m_count->setObjectName(QStringLiteral("inspectorSubtractCount"));
    m_count->setRange(1, 50);
    m_count->setValue(1);
    m_injectText = new QLineEdit(m_form);
    m_injectText->setObjectName(QStringLiteral("inspectorInjectText"));
    m_generate = new QSpinBox(m_form);
    m_generate->setObjectName(QStringLiteral("inspectorGenerate"));
    m_generate->setRange(0, 4096);
    m_generate->setValue(20);
    m_run = new QPushButton(m_form);
    m_run->setObjectName(QStringLiteral("inspectorRun"));
    m_run->setDefault(true);
    m_cancel = new QPushButton(m_form);
    m_cancel->setObjectName(QStringLiteral("inspectorCancelForm"));
    m_kindLabel = new QLabel(m_form);
    m_countLabel = new QLabel(m_form);
    m_textLabel = new QLabel(m_form);
    m_generateLabel = new QLabel(m_form);
    m_kindLabel->setBuddy(m_kind);
    m_countLabel->setBuddy(m_count);
    m_textLabel->setBuddy(m_injectText);
    m_generateLabel->setBuddy(m_generate);
    auto *formLayout = new QFormLayout;
    formLayout->addRow(m_kindLabel, m_kind);
    formLayout->addRow(m_countLabel, m_count);
    formLayout->addRow(m_textLabel, m_injectText);
    formLayout->addRow(m_generateLabel, m_generate);
    auto *formButtons = new QHBoxLayout;
    formButtons->addStretch(1);
    formButtons->addWidget(m_cancel);
    formButtons->addWidget(m_run);
    auto *formBox = new QVBoxLayout(m_form);
    formBox->addLayout(formLayout);
    formBox->addLayout(formButtons);
    m_form->hide();

    auto *actions = new QHBoxLayout;
    actions->addWidget(m_propagate);
    actions->addWidget(m_inject);
    actions->addStretch(1);

    auto *body = new QVBoxLayout(m_body);
    body->setContentsMargins(0, 0, 0, 0);
    body->addWidget(m_token);
    body->addWidget(m_where);
    body->addSpacing(6);
    body->addWidget(m_topkTitle);
    body->addWidget(m_bars);
    body->addSpacing(4);
    body->addLayout(m_facts);
    body->addSpacing(4);
    body->addWidget(m_decodeBox, 1);
    body->addLayout(actions);
    body->addWidget(m_form);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(m_empty);
    layout->addWidget(m_body);

    connect(m_decompose, &QPushButton::clicked, this, [this] {
        if (m_layer >= 0) Q_EMIT decomposeRequested(m_site, m_layer, m_pos);
    });
    connect(m_propagate, &QPushButton::clicked, this, &InspectorPanel::showPropagateForm);
    connect(m_inject, &QPushButton::clicked, this, &InspectorPanel::showInjectForm);
    connect(m_kind, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this] { updateFormFields(); });
    connect(m_injectText, &QLineEdit::textChanged, this, [this] { updateFormFields(); });
    connect(m_injectText, &QLineEdit::returnPressed, this, [this] {
        if (m_run->isEnabled()) submitForm();
    });
    connect(m_run, &QPushButton::clicked, this, [this] { submitForm(); });
    connect(m_cancel, &QPushButton::clicked, m_form, &QWidget::hide);

    retranslateUi();
    refresh();
}

InspectorPanel::~InspectorPanel() = default;

void InspectorPanel::retranslateUi()
{
    setWindowTitle(tr("Inspector"));
    m_empty->setText(tr("Select a block in the block view to inspect it."));
    m_token->setToolTip(tr("The token at the selected position."));
    m_where->setToolTip(tr("The selected block: layer, position and residual-stream site."));
    m_topkTitle->setText(tr("Lens top-k"));
    m_bars->setToolTip(tr("What the lens reads at this block: the most likely tokens and their "
                          "probabilities. The model's own prediction is in bold."));
    m_entropyLabel->setText(tr("Entropy:"));
    m_entropy->setToolTip(tr("Entropy of the lens distribution at this block, in nats."));
    m_modelLabel->setText(tr("Model predicts:"));
    m_model->setToolTip(tr("The model's own next-token prediction at this position."));
    m_depthLabel->setText(tr("Decided at layer:"));
    m_depthValue->setToolTip(tr("The first layer from which the resid_post lens top-1 equals the "
                                "model's prediction and stays equal to the last layer."));
    m_decodeBox->setTitle(tr("Iterative decoding"));
    // Short headers, so that in a dock a laptop leaves narrow the token column keeps its room
    // (with "probability" and "remaining norm" the tokens were cut to their quote at 1280x720).
    m_decodeList->setHeaderLabels({tr("#"), tr("token"), tr("prob."), tr("norm left")});
    QTreeWidgetItem *header = m_decodeList->headerItem();
    header->setToolTip(1, tr("The step's most likely token"));
    header->setToolTip(2, tr("Its probability under the lens"));
    header->setToolTip(3, tr("The norm of the vector left after removing this token's "
                             "direction"));
    m_decodeList->setToolTip(tr("Find the most likely token, remove its direction, repeat: the "
                                "tokens this vector holds, and the norm left after each."));
    m_decompose->setText(tr("&Decompose"));
    m_propagate->setText(tr("&Propagate\u2026"));
    m_inject->setText(tr("&Inject token\u2026"));
    m_form->setTitle(tr("New trace from this block"));
    m_kind->setItemText(Unchanged, tr("propagate unchanged"));
    m_kind->setItemText(Subtract, tr("subtract the top tokens"));
    m_kind->setItemText(Inject, tr("inject a token"));
    m_kind->setToolTip(tr("How to change the block's vector before running the later layers."));
    m_kindLabel->setText(tr("&Edit:"));
    m_countLabel->setText(tr("&Subtract:"));
    m_count->setSuffix(tr(" token(s)"));
    m_count->setToolTip(tr("How many of the block's top tokens to remove (iterative decoding)."));
    m_textLabel->setText(tr("&Token:"));
    m_injectText->setPlaceholderText(tr("text of the token to inject"));
    m_injectText->setToolTip(tr("The token whose embedding direction replaces the current "
                                "top token's."));
    m_generateLabel->setText(tr("&Generate:"));
    m_generate->setSuffix(tr(" token(s)"));
    m_generate->setToolTip(tr("How many tokens to generate greedily after the edit."));
    m_run->setText(tr("&Run"));
    m_run->setToolTip(tr("Ask the engine for the new trace (it appears under this trace)."));
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Close this form without running anything."));
    setActionsEnabled(m_actionsEnabled, m_actionsReason);
    refresh();
}

void InspectorPanel::setActionsEnabled(bool enabled, const QString &reason)
{
    m_actionsEnabled = enabled;
    m_actionsReason = reason;
    const bool on = enabled && m_layer >= 0;
    m_decompose->setEnabled(on);
    m_propagate->setEnabled(on);
    m_inject->setEnabled(on);
    const QString why = enabled ? QString() : QStringLiteral("\n") + reason;
    m_decompose->setToolTip(tr("Decode this block's vector iteratively in the engine.") + why);
    m_propagate->setToolTip(tr("Run the later layers from this block (unchanged, or with tokens "
                               "subtracted) and generate: a new child trace.") +
                            why);
    m_inject->setToolTip(tr("Inject a token's direction into this block, run the later layers "
                            "and generate: a new child trace.") +
                         why);
    updateFormFields();
}

// ---------------------------------------------------------------------------------- data

void InspectorPanel::clear()
{
    m_tokenText.clear();
    m_vocab.clear();
    m_layers = m_nPrompt = 0;
    m_logitsIds.clear();
    m_logitsProbs.clear();
    m_lens = LensSite();
    m_depth.clear();
    m_layer = m_pos = -1;
    m_steps.clear();
    m_form->hide();
    refresh();
}

void InspectorPanel::setTrace(const Trace &trace)
{
    clear();
    for (const TokenInfo &t : trace.tokens)
        m_tokenText.push_back(displayToken(t.text));
    for (const auto &kv : trace.vocab)
        m_vocab.emplace(kv.first, displayToken(kv.second));
    m_layers = trace.config.nLayers;
    m_nPrompt = trace.nPromptTokens;
    m_logitsIds = trace.logitsTopkIds;
    m_logitsProbs = trace.logitsTopkProbs;
    if (!trace.lens[size_t(Site::ResidPost)].empty()) m_depth = HeadLens::decisionDepth(trace);
    refresh();
}

void InspectorPanel::setLens(Site site, const LensSite &lens)
{
    m_site = site;
    m_lens = lens;
    if (site == Site::ResidPost && !lens.empty() && !m_logitsIds.empty())
        m_depth = HeadLens::decisionDepth(lens, m_logitsIds);
    refresh();
}

void InspectorPanel::setDecisionDepth(const std::vector<int> &depth)
{
    m_depth = depth;
    refresh();
}

void InspectorPanel::setSelection(int layer, int pos)
{
    if (layer < 0 || pos < 0 || pos >= int(m_tokenText.size()) ||
        (m_layers > 0 && layer >= m_layers))
        layer = pos = -1;
    if (layer != m_layer || pos != m_pos) m_steps.clear();
    m_layer = layer;
    m_pos = pos;
    if (m_layer < 0) m_form->hide();
    setActionsEnabled(m_actionsEnabled, m_actionsReason);
    refresh();
}

void InspectorPanel::setDecomposition(const std::vector<DecodeStepRow> &steps)
{
    m_steps = steps;
    refresh();
}

void InspectorPanel::clearDecomposition()
{
    m_steps.clear();
    refresh();
}

QString InspectorPanel::idText(int id) const
{
    auto it = m_vocab.find(id);
    return it != m_vocab.end() ? it->second : QStringLiteral("[%1]").arg(id);
}

std::vector<InspectorPanel::TopEntry> InspectorPanel::topK() const
{
    std::vector<TopEntry> out;
    if (m_layer < 0 || m_lens.empty() || m_lens.topkIds.dim(0) <= m_layer ||
        m_lens.topkIds.dim(1) <= m_pos)
        return out;
    const int64_t T = m_lens.topkIds.dim(1), K = m_lens.topkIds.dim(2);
    for (int64_t k = 0; k < K; ++k) {
        const size_t i = size_t((m_layer * T + m_pos) * K + k);
        TopEntry e;
        e.id = m_lens.topkIds.data[i];
        e.text = idText(e.id);
        e.prob = m_lens.topkProbs.data[i];
        out.push_back(e);
    }
    return out;
}

double InspectorPanel::entropy() const
{
    if (m_layer < 0 || m_lens.empty() || m_lens.entropy.dim(0) <= m_layer ||
        m_lens.entropy.dim(1) <= m_pos)
        return std::numeric_limits<double>::quiet_NaN();
    return m_lens.entropy.data[size_t(m_layer * m_lens.entropy.dim(1) + m_pos)];
}

int InspectorPanel::decisionDepth() const
{
    return m_pos >= 0 && m_pos < int(m_depth.size()) ? m_depth[size_t(m_pos)] : -1;
}

InspectorPanel::TopEntry InspectorPanel::modelPrediction() const
{
    TopEntry e;
    if (m_pos < 0 || m_logitsIds.empty() || m_logitsIds.dim(0) <= m_pos) return e;
    const int64_t K = m_logitsIds.dim(1);
    e.id = m_logitsIds.data[size_t(m_pos * K)];
    e.text = idText(e.id);
    e.prob = m_logitsProbs.empty() ? 0.0 : m_logitsProbs.data[size_t(m_pos * K)];
    return e;
}

// ------------------------------------------------------------------------------- display

void InspectorPanel::refresh()
{
    const bool has = m_layer >= 0;
    m_empty->setVisible(!has);
    m_body->setVisible(has);
    if (!has) return;
    m_token->setText(quoted(m_tokenText[size_t(m_pos)]));
    QString where = tr("Layer %1 \u00b7 position %2 \u00b7 %3")
                        .arg(m_layer)
                        .arg(m_pos)
                        .arg(QString::fromLatin1(siteName(m_site)));
    if (m_pos >= m_nPrompt) where += QStringLiteral(" \u00b7 ") + tr("generated");
    m_where->setText(where);

    const TopEntry model = modelPrediction();
    std::vector<ProbabilityBars::Row> rows;
    for (const TopEntry &e : topK())
        rows.push_back({e.id, e.text, e.prob, e.id == model.id});
    m_bars->setRows(rows);
    m_topkTitle->setText(rows.empty() ? tr("Lens top-k: no lens for this site")
                                      : tr("Lens top-%1").arg(rows.size()));

    const double h = entropy();
    m_entropy->setText(std::isnan(h) ? tr("unknown") : tr("%1 nats").arg(h, 0, 'f', 3));
    m_model->setText(
        model.id < 0 ? tr("unknown")
                     : tr("%1 (%2 %)").arg(quoted(model.text)).arg(model.prob * 100.0, 0, 'f', 1));
    const int d = decisionDepth();
    m_depthValue->setText(
        d < 0 ? tr("unknown")
              : (m_layers > 0 ? tr("%1 of %2").arg(d).arg(m_layers) : QString::number(d)));

    m_decodeList->clear();
    for (size_t i = 0; i < m_steps.size(); ++i) {
        const DecodeStepRow &s = m_steps[i];
        auto *item = new QTreeWidgetItem(m_decodeList);
        item->setText(0, QString::number(i + 1));
        item->setText(1, quoted(s.text));
        item->setText(2, QStringLiteral("%1 %").arg(s.prob * 100.0, 0, 'f', 1));
        item->setText(3, QString::number(s.norm, 'f', 3));
        item->setTextAlignment(0, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(3, Qt::AlignRight | Qt::AlignVCenter);
    }
    for (int c : {0, 2, 3})
        m_decodeList->resizeColumnToContents(c);
}

void InspectorPanel::showPropagateForm()
{
    if (m_layer < 0) return;
    if (m_kind->currentIndex() == Inject) m_kind->setCurrentIndex(Unchanged);
    m_form->show();
    updateFormFields();
    m_kind->setFocus();
}

void InspectorPanel::showInjectForm()
{
    if (m_layer < 0) return;
    m_kind->setCurrentIndex(Inject);
    m_form->show();
    updateFormFields();
    m_injectText->setFocus();
}

void InspectorPanel::updateFormFields()
{
    const int kind = m_kind->currentIndex();
    m_count->setEnabled(kind == Subtract);
    m_countLabel->setEnabled(kind == Subtract);
    m_injectText->setEnabled(kind == Inject);
    m_textLabel->setEnabled(kind == Inject);
    m_run->setEnabled(m_actionsEnabled && m_layer >= 0 &&
                      (kind != Inject || !m_injectText->text().trimmed().isEmpty()));
}

void InspectorPanel::submitForm()
{
    if (m_layer < 0 || !m_actionsEnabled) return;
    const int kind = m_kind->currentIndex();
    Q_EMIT propagateRequested(m_site, m_layer, m_pos, kind, kind == Subtract ? m_count->value() : 0,
                              kind == Inject ? m_injectText->text() : QString(),
                              m_generate->value());
    m_form->hide();
}

// -------------------------------------------------------------------------------- export

void InspectorPanel::renderTo(QPainter &painter, const QSize &size)
{
    // An information panel: drawn as it looks, scaled to fit (vector output stays vector).
    renderWidgetScaled(this, painter, size);
}

QString InspectorPanel::csv() const
{
    QString out = csvLine({QStringLiteral("layer"), QStringLiteral("pos"), QStringLiteral("site"),
                           QStringLiteral("rank"), QStringLiteral("id"), QStringLiteral("token"),
                           QStringLiteral("probability")});
    int rank = 1;
    for (const TopEntry &e : topK())
        out += csvLine({QString::number(m_layer), QString::number(m_pos),
                        QString::fromLatin1(siteName(m_site)), QString::number(rank++),
                        QString::number(e.id), e.text, QString::number(e.prob, 'g', 7)});
    return out;
}

QString InspectorPanel::decompositionCsv() const
{
    QString out = csvLine({QStringLiteral("step"), QStringLiteral("id"), QStringLiteral("token"),
                           QStringLiteral("probability"), QStringLiteral("norm")});
    for (size_t i = 0; i < m_steps.size(); ++i)
        out += csvLine({QString::number(i + 1), QString::number(m_steps[i].id), m_steps[i].text,
                        QString::number(m_steps[i].prob, 'g', 7),
                        QString::number(m_steps[i].norm, 'g', 7)});
    return out;
}

} // namespace HeadLens
