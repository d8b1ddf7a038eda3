#include "newtracedialog.h"

#include "appsettings.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/trace/trace.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace HeadLens {

namespace {

void addChoice(QComboBox *box, const QString &value)
{
    box->addItem(value, value);
}

void selectData(QComboBox *box, const QString &value)
{
    const int i = box->findData(value);
    if (i >= 0) box->setCurrentIndex(i);
}

QString currentData(const QComboBox *box)
{
    return box->currentData().toString();
}

bool tunedDecoder(const QComboBox *decoders)
{
    return currentData(decoders) == QLatin1String(lensDecoderName(LensDecoder::Tuned));
}

// "1, 5 6;7" -> {1, 5, 6, 7}; ok false when something else is in there.
QList<int> parseIds(const QString &text, bool *ok)
{
    QList<int> ids;
    *ok = true;
    const QStringList parts = text.split(QRegularExpression("[\\s,;\\[\\]]+"), Qt::SkipEmptyParts);
    for (const QString &p : parts) {
        bool good = false;
        const int id = p.toInt(&good);
        if (!good || id < 0) {
            *ok = false;
            return {};
        }
        ids << id;
    }
    return ids;
}

} // namespace

NewTraceDialog::NewTraceDialog(EngineClient *engine, ProjectDocument *document, QWidget *parent)
    : TraceJobDialog(engine, document, parent), m_intro(new QLabel), m_modelLabel(new QLabel),
      m_tokenizerLabel(new QLabel), m_inputLabel(new QLabel), m_generateLabel(new QLabel),
      m_topkLabel(new QLabel), m_normLabel(new QLabel), m_decoderLabel(new QLabel),
      m_attentionLabel(new QLabel), m_residualLabel(new QLabel), m_nameLabel(new QLabel),
      m_dtypeLabel(new QLabel), m_model(new QLineEdit), m_modelFolder(new QToolButton),
      m_modelFile(new QToolButton), m_tokenizer(new QLineEdit), m_tokenizerBrowse(new QToolButton),
      m_usePrompt(new QRadioButton), m_useIds(new QRadioButton), m_prompt(new QPlainTextEdit),
      m_ids(new QLineEdit), m_generate(new QSpinBox), m_topk(new QSpinBox), m_norm(new QComboBox),
      m_decoder(new QComboBox), m_dtype(new QComboBox), m_attention(new QComboBox),
      m_residuals(new QComboBox), m_storeZ(new QCheckBox), m_name(new QLineEdit),
      m_problem(new QLabel), m_estimate(new QLabel), m_traceButton(new QPushButton),
      m_cancelButton(new QPushButton), m_form(new QWidget)
{
    setObjectName("NewTraceDialog");
    setAttribute(Qt::WA_DeleteOnClose, false);
    m_intro->setWordWrap(true);

    auto *modelRow = new QHBoxLayout;
    modelRow->addWidget(m_model, 1);
    modelRow->addWidget(m_modelFolder);
    modelRow->addWidget(m_modelFile);
    auto *tokenizerRow = new QHBoxLayout;
    tokenizerRow->addWidget(m_tokenizer, 1);
    tokenizerRow->addWidget(m_tokenizerBrowse);
    auto *inputChoice = new QHBoxLayout;
    inputChoice->addWidget(m_usePrompt);
    inputChoice->addWidget(m_useIds);
    inputChoice->addStretch();
    auto *inputBox = new QVBoxLayout;
    inputBox->addLayout(inputChoice);
    inputBox->addWidget(m_prompt);
    inputBox->addWidget(m_ids);
    m_prompt->setMinimumHeight(70);
    m_prompt->setTabChangesFocus(true);

    m_generate->setRange(0, 4096);
    m_topk->setRange(1, 100);
    m_topk->setValue(10);
    for (LensNorm n : {LensNorm::Full, LensNorm::Unit, LensNorm::None})
        addChoice(m_norm, lensNormName(n));
    for (LensDecoder d : {LensDecoder::Output, LensDecoder::Input, LensDecoder::Linear,
                          LensDecoder::Quadratic, LensDecoder::Tuned})
        addChoice(m_decoder, lensDecoderName(d));
    m_lensFile = new QLineEdit;
    m_lensFile->setObjectName("NewTraceLensFile");
    m_lensBrowse = new QToolButton;
    for (const char *v : {"f32", "bf16", "f16"})
        addChoice(m_dtype, v);
    for (StoreType t : {StoreType::F16, StoreType::F32, StoreType::None})
        addChoice(m_attention, storeTypeName(t));
    for (StoreType t : {StoreType::None, StoreType::F16, StoreType::F32})
        addChoice(m_residuals, storeTypeName(t));
    auto *lensRow = new QHBoxLayout;
    lensRow->addWidget(m_norm);
    lensRow->addWidget(m_decoderLabel);
    lensRow->addWidget(m_decoder);
    lensRow->addWidget(m_lensFile, 1);
    lensRow->addWidget(m_lensBrowse);
    auto *storeRow = new QHBoxLayout;
    storeRow->addWidget(m_attention);
    storeRow->addWidget(m_residualLabel);
    storeRow->addWidget(m_residuals);
    storeRow->addWidget(m_storeZ);
    storeRow->addStretch();
    auto *sizeRow = new QHBoxLayout;
    sizeRow->addWidget(m_generate);
    sizeRow->addWidget(m_topkLabel);
    sizeRow->addWidget(m_topk);
    sizeRow->addWidget(m_dtypeLabel);
    sizeRow->addWidget(m_dtype);
    sizeRow->addStretch();

    auto *form = new QFormLayout(m_form);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(m_modelLabel, modelRow);
    form->addRow(m_tokenizerLabel, tokenizerRow);
    form->addRow(m_inputLabel, inputBox);
    form->addRow(m_generateLabel, sizeRow);
    form->addRow(m_normLabel, lensRow);
    form->addRow(m_attentionLabel, storeRow);
    form->addRow(m_nameLabel, m_name);

    m_problem->setWordWrap(true);
    m_problem->setObjectName("NewTraceProblem");
    QPalette warn = m_problem->palette();
    warn.setColor(QPalette::WindowText, QColor(0xa0, 0x30, 0x20));
    m_problem->setPalette(warn);
    m_status->setWordWrap(true);
    m_estimate->setWordWrap(true);
    m_estimate->setObjectName("NewTraceEstimate");
    m_estimate->hide();
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setTextVisible(false);

    auto *buttons = new QDialogButtonBox;
    buttons->addButton(m_traceButton, QDialogButtonBox::AcceptRole);
    buttons->addButton(m_cancelButton, QDialogButtonBox::RejectRole);
    m_traceButton->setDefault(true);
    connect(m_traceButton, &QPushButton::clicked, this, &NewTraceDialog::startTrace);
    connect(m_cancelButton, &QPushButton::clicked, this, &NewTraceDialog::cancel);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_intro);
    layout->addWidget(m_form);
    layout->addWidget(m_problem);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    layout->addWidget(m_estimate);
    layout->addStretch(1); // extra height goes below the messages, not between them
    layout->addWidget(buttons);

    connect(m_modelFolder, &QToolButton::clicked, this, &NewTraceDialog::browseFolder);
    connect(m_modelFile, &QToolButton::clicked, this, [this] {
        browseFile(m_model, tr("Choose a llama2.c checkpoint"),
                   tr("llama2.c checkpoints (*.bin);;All files (*)"));
    });
    connect(m_tokenizerBrowse, &QToolButton::clicked, this, [this] {
        browseFile(m_tokenizer, tr("Choose the tokenizer"),
                   tr("Tokenizers (*.bin *.model *.json);;All files (*)"));
    });
    connect(m_lensBrowse, &QToolButton::clicked, this, [this] {
        browseFile(m_lensFile, tr("Choose a tuned lens"),
                   tr("Tuned lenses (*.safetensors);;All files (*)"));
    });
    connect(m_decoder, qOverload<int>(&QComboBox::currentIndexChanged), this,
            &NewTraceDialog::updateForm);
    for (QLineEdit *e : {m_model, m_tokenizer, m_ids, m_name, m_lensFile})
        connect(e, &QLineEdit::textChanged, this, &NewTraceDialog::updateForm);
    connect(m_prompt, &QPlainTextEdit::textChanged, this, &NewTraceDialog::updateForm);
    connect(m_usePrompt, &QRadioButton::toggled, this, &NewTraceDialog::updateForm);

    retranslateUi();
    m_usePrompt->setChecked(true);
    recall();
    updateForm();
    setRunning(false);
    resize(640, sizeHint().height());
}

void NewTraceDialog::retranslateUi()
{
    setWindowTitle(tr("New Trace"));
    m_intro->setText(tr("Runs a prompt through a model in the engine and records every layer "
                        "into the project <b>%1</b>.")
                         .arg(m_document ? m_document->displayName().toHtmlEscaped() : QString()));
    m_modelLabel->setText(tr("&Model:"));
    m_modelLabel->setBuddy(m_model);
    m_model->setPlaceholderText(tr("A Hugging Face folder or a llama2.c .bin file"));
    m_model->setToolTip(tr("The model to trace: a Hugging Face Llama-family folder "
                           "(config.json and safetensors) or a llama2.c checkpoint file"));
    m_modelFolder->setText(tr("Folder…"));
    m_modelFolder->setToolTip(tr("Choose a Hugging Face model folder"));
    m_modelFile->setText(tr("File…"));
    m_modelFile->setToolTip(tr("Choose a llama2.c checkpoint file"));
    m_tokenizerLabel->setText(tr("&Tokenizer:"));
    m_tokenizerLabel->setBuddy(m_tokenizer);
    m_tokenizer->setPlaceholderText(tr("tokenizer.bin (needed for a llama2.c file)"));
    m_tokenizer->setToolTip(tr("The tokenizer file; a Hugging Face folder brings its own, a "
                               "llama2.c checkpoint needs its tokenizer.bin"));
    m_tokenizerBrowse->setText(tr("Browse…"));
    m_tokenizerBrowse->setToolTip(tr("Choose the tokenizer file"));
    m_inputLabel->setText(tr("Input:"));
    m_usePrompt->setText(tr("&Prompt text"));
    m_usePrompt->setToolTip(tr("Type the prompt; the model's tokenizer splits it into tokens"));
    m_useIds->setText(tr("Token &ids"));
    m_useIds->setToolTip(tr("Give token ids directly (for models without a tokenizer)"));
    m_prompt->setPlaceholderText(tr("Once upon a time"));
    m_prompt->setToolTip(tr("The prompt to trace"));
    m_ids->setPlaceholderText(tr("1, 9038, 2501, 263, 931"));
    m_ids->setToolTip(tr("Token ids separated by commas or spaces"));
    m_generateLabel->setText(tr("&Generate:"));
    m_generateLabel->setBuddy(m_generate);
    m_generate->setSuffix(tr(" tokens"));
    m_generate->setToolTip(tr("How many tokens to generate greedily after the prompt; they are "
                              "traced too"));
    m_topkLabel->setText(tr("Top-&k:"));
    m_topkLabel->setBuddy(m_topk);
    m_topk->setToolTip(tr("How many of the most likely tokens the lens keeps per block"));
    m_dtypeLabel->setText(tr("&Compute:"));
    m_dtypeLabel->setBuddy(m_dtype);
    m_dtype->setToolTip(tr("The number type the engine computes in: f32 is exact; bf16 and f16 "
                           "are faster only on CPUs that multiply in them (AVX512-BF16, "
                           "AVX512-FP16 or AMX), and slower than f32 on others"));
    m_normLabel->setText(tr("&Lens norm:"));
    m_normLabel->setBuddy(m_norm);
    m_norm->setToolTip(tr("How a vector is normalised before decoding: full = the model's final "
                          "norm, unit = RMS norm without its weights, none = as it is"));
    m_decoderLabel->setText(tr("&Decoder:"));
    m_decoderLabel->setBuddy(m_decoder);
    m_decoder->setToolTip(tr("Which matrix decodes a vector into tokens: output = unembedding, "
                             "input = embedding, linear / quadratic = a blend by depth, tuned = "
                             "unembedding after a tuned lens's learned translator"));
    m_lensFile->setPlaceholderText(tr("tuned lens file (.safetensors)"));
    m_lensFile->setToolTip(tr("The tuned lens the tuned decoder uses (made by headlens-cli "
                              "fit-lens for this model)"));
    m_lensBrowse->setText(tr("Lens…"));
    m_lensBrowse->setToolTip(tr("Choose a tuned lens file"));
    m_attentionLabel->setText(tr("&Attention:"));
    m_attentionLabel->setBuddy(m_attention);
    m_attention->setToolTip(tr("How the attention patterns [layer, head, query, key] are stored: "
                               "needed to show what a block attends to"));
    m_residualLabel->setText(tr("&Residuals:"));
    m_residualLabel->setBuddy(m_residuals);
    m_residuals->setToolTip(tr("How the residual stream vectors are stored (large: layers x "
                               "tokens x d_model per site)"));
    m_storeZ->setText(tr("Per-head &outputs"));
    m_storeZ->setToolTip(tr("Also store each head's attention output before the output "
                            "projection"));
    m_nameLabel->setText(tr("&Name:"));
    m_nameLabel->setBuddy(m_name);
    m_name->setPlaceholderText(tr("automatic (trace-1, trace-2, …)"));
    m_name->setToolTip(tr("The new trace's name in the project"));
    m_traceButton->setText(tr("&Trace"));
    m_traceButton->setToolTip(tr("Start tracing in the engine"));
    m_progress->setToolTip(tr("Progress of the trace"));
    setRunning(isRunning());
}

void NewTraceDialog::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QDialog::changeEvent(event);
}

TraceSpec NewTraceDialog::spec() const
{
    TraceSpec s;
    s.model = m_model->text().trimmed();
    // A Hugging Face folder brings its own tokenizer: the greyed-out field is never sent.
    s.tokenizer = m_tokenizer->isEnabled() ? m_tokenizer->text().trimmed() : QString();
    s.dtype = currentData(m_dtype);
    s.useTokenIds = m_useIds->isChecked();
    s.prompt = m_prompt->toPlainText();
    bool ok = false;
    s.tokenIds = parseIds(m_ids->text(), &ok);
    s.generate = m_generate->value();
    s.topk = m_topk->value();
    s.lensNorm = currentData(m_norm);
    s.lensDecoder = currentData(m_decoder);
    s.lensFile = m_lensFile->text().trimmed();
    s.attention = currentData(m_attention);
    s.residuals = currentData(m_residuals);
    s.storeZ = m_storeZ->isChecked();
    s.name = m_name->text().trimmed();
    return s;
}

void NewTraceDialog::setSpec(const TraceSpec &s)
{
    m_model->setText(s.model);
    m_tokenizer->setText(s.tokenizer);
    selectData(m_dtype, s.dtype);
    (s.useTokenIds ? m_useIds : m_usePrompt)->setChecked(true);
    m_prompt->setPlainText(s.prompt);
    QStringList ids;
    for (int id : s.tokenIds)
        ids << QString::number(id);
    m_ids->setText(ids.join(QStringLiteral(", ")));
    m_generate->setValue(s.generate);
    m_topk->setValue(s.topk);
    selectData(m_norm, s.lensNorm);
    selectData(m_decoder, s.lensDecoder);
    m_lensFile->setText(s.lensFile);
    selectData(m_attention, s.attention);
    selectData(m_residuals, s.residuals);
    m_storeZ->setChecked(s.storeZ);
    m_name->setText(s.name);
    updateForm();
}

QString NewTraceDialog::problem() const
{
    const QString model = m_model->text().trimmed();
    if (!m_document) return tr("The project was closed.");
    if (model.isEmpty()) return tr("Choose a model.");
    // The engine may run on another machine (ssh): a path missing here is only a warning.
    if (m_useIds->isChecked()) {
        bool ok = false;
        const QList<int> ids = parseIds(m_ids->text(), &ok);
        if (!ok) return tr("Token ids must be whole numbers separated by commas or spaces.");
        if (ids.isEmpty()) return tr("Give at least one token id.");
    } else if (m_prompt->toPlainText().isEmpty()) {
        return tr("Type a prompt.");
    }
    if (tunedDecoder(m_decoder) && m_lensFile->text().trimmed().isEmpty())
        return tr("The tuned decoder needs a tuned lens file (headlens-cli fit-lens makes one).");
    const QString name = m_name->text().trimmed();
    if (name.contains(QLatin1Char('/'))) return tr("A trace name cannot contain '/'.");
    return {};
}

void NewTraceDialog::updateForm()
{
    m_prompt->setVisible(m_usePrompt->isChecked());
    m_ids->setVisible(m_useIds->isChecked());
    const QFileInfo model(m_model->text().trimmed());
    const bool isFile = model.isFile();
    m_tokenizer->setEnabled(!model.isDir());
    if (model.isDir()) m_tokenizer->clear(); // it does not apply: show no stale path
    m_tokenizerBrowse->setEnabled(!model.isDir());
    const bool tuned = tunedDecoder(m_decoder);
    m_lensFile->setVisible(tuned);
    m_lensBrowse->setVisible(tuned);
    QString p = problem();
    if (p.isEmpty() && isFile && m_tokenizer->text().trimmed().isEmpty() &&
        m_usePrompt->isChecked())
        p = tr("A llama2.c checkpoint needs its tokenizer.bin for a prompt (or give token ids).");
    m_problem->setText(p);
    m_problem->setVisible(!p.isEmpty() && !m_model->text().isEmpty());
    m_traceButton->setEnabled(p.isEmpty() && !isRunning());
}

void NewTraceDialog::browseFolder()
{
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Choose a model folder"), m_model->text());
    if (!dir.isEmpty()) m_model->setText(dir);
}

void NewTraceDialog::browseFile(QLineEdit *edit, const QString &title, const QString &filter)
{
    const QString file =
        QFileDialog::getOpenFileName(this, title, QFileInfo(edit->text()).path(), filter);
    if (!file.isEmpty()) edit->setText(file);
}

bool NewTraceDialog::startTrace()
{
    if (isRunning()) return false;
    const QString p = problem();
    if (!p.isEmpty()) {
        m_problem->setText(p);
        m_problem->show();
        return false;
    }
    remember();
    m_estimate->hide();
    TraceJob *job = runJob(spec());
    connect(job, &TraceJob::estimated, this, &NewTraceDialog::showEstimate);
    return true;
}

void NewTraceDialog::cancel()
{
    if (isRunning())
        cancelJob();
    else
        reject();
}

void NewTraceDialog::setRunning(bool running)
{
    m_form->setEnabled(!running);
    m_progress->setVisible(running);
    m_cancelButton->setText(running ? tr("&Cancel") : tr("Close"));
    m_cancelButton->setToolTip(running ? tr("Stop the trace; the project stays as it was")
                                       : tr("Close this dialog"));
    if (running) {
        m_progress->setRange(0, 0);
        m_traceButton->setEnabled(false);
    } else {
        updateForm();
    }
}

void NewTraceDialog::showEstimate(qint64 memoryNeeded, qint64 memoryAvailable, qint64 diskNeeded,
                                  qint64 diskFree)
{
    const QLocale locale;
    auto size = [&](qint64 b) {
        return b < 0 ? tr("unknown") : locale.formattedDataSize(b, 1, QLocale::DataSizeSIFormat);
    };
    m_estimate->setText(
        tr("This trace needs about %1 of memory (%2 available) and %3 of disk "
           "(%4 free).")
            .arg(size(memoryNeeded), size(memoryAvailable), size(diskNeeded), size(diskFree)));
    m_estimate->show();
}

void NewTraceDialog::remember() const
{
    const TraceSpec s = spec();
    AppSettings::setValue("newTrace/model", s.model);
    AppSettings::setValue("newTrace/tokenizer", s.tokenizer);
    if (!s.model.isEmpty()) AppSettings::setTokenizerFor(s.model, s.tokenizer);
    AppSettings::setValue("newTrace/dtype", s.dtype);
    AppSettings::setValue("newTrace/useTokenIds", s.useTokenIds);
    AppSettings::setValue("newTrace/prompt", s.prompt);
    AppSettings::setValue("newTrace/tokenIds", m_ids->text());
    AppSettings::setValue("newTrace/generate", s.generate);
    AppSettings::setValue("newTrace/topk", s.topk);
    AppSettings::setValue("newTrace/lensNorm", s.lensNorm);
    AppSettings::setValue("newTrace/lensDecoder", s.lensDecoder);
    AppSettings::setValue("newTrace/lensFile", s.lensFile);
    AppSettings::setValue("newTrace/attention", s.attention);
    AppSettings::setValue("newTrace/residuals", s.residuals);
    AppSettings::setValue("newTrace/storeZ", s.storeZ);
}

void NewTraceDialog::recall()
{
    m_model->setText(AppSettings::value("newTrace/model").toString());
    m_tokenizer->setText(AppSettings::value("newTrace/tokenizer").toString());
    selectData(m_dtype, AppSettings::value("newTrace/dtype", "f32").toString());
    (AppSettings::value("newTrace/useTokenIds", false).toBool() ? m_useIds : m_usePrompt)
        ->setChecked(true);
    m_prompt->setPlainText(AppSettings::value("newTrace/prompt").toString());
    m_ids->setText(AppSettings::value("newTrace/tokenIds").toString());
    m_generate->setValue(AppSettings::value("newTrace/generate", 0).toInt());
    m_topk->setValue(AppSettings::value("newTrace/topk", 10).toInt());
    selectData(m_norm, AppSettings::value("newTrace/lensNorm", "full").toString());
    selectData(m_decoder, AppSettings::value("newTrace/lensDecoder", "output").toString());
    m_lensFile->setText(AppSettings::value("newTrace/lensFile").toString());
    selectData(m_attention, AppSettings::value("newTrace/attention", "f16").toString());
    selectData(m_residuals, AppSettings::value("newTrace/residuals", "none").toString());
    m_storeZ->setChecked(AppSettings::value("newTrace/storeZ", false).toBool());
}

} // namespace HeadLens
