#include "lensselector.h"

#include "widgettexts.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"

#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QProcess>
#include <QProgressBar>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QStyle>
#include <QToolButton>

namespace HeadLens {

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

constexpr LensNorm kNorms[] = {LensNorm::Full, LensNorm::Unit, LensNorm::None};
constexpr LensDecoder kDecoders[] = {LensDecoder::Output, LensDecoder::Input, LensDecoder::Linear,
                                     LensDecoder::Quadratic, LensDecoder::Tuned};

} // namespace

LensSelector::LensSelector(EngineClient *engine, SpecFunction specFor, QWidget *parent)
    : QWidget(parent), m_engine(engine), m_specFor(std::move(specFor)), m_label(new QLabel),
      m_norm(new QComboBox), m_decoder(new QComboBox), m_progress(new QProgressBar),
      m_cancel(new QToolButton)
{
    setObjectName("LensSelector");
    m_norm->setObjectName("LensNormBox");
    m_decoder->setObjectName("LensDecoderBox");
    for (LensNorm n : kNorms)
        m_norm->addItem(QString::fromLatin1(lensNormName(n)), int(n));
    for (LensDecoder d : kDecoders)
        m_decoder->addItem(QString::fromLatin1(lensDecoderName(d)), int(d));
    m_progress->setObjectName("LensProgress");
    m_progress->setFixedWidth(170);
    m_progress->setTextVisible(true);
    m_cancel->setObjectName("LensCancel");
    m_cancel->setIcon(style()->standardIcon(QStyle::SP_DialogCancelButton));
    m_cancel->setAutoRaise(true);

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_label);
    layout->addWidget(m_norm);
    layout->addWidget(m_decoder);
    layout->addWidget(m_progress);
    layout->addWidget(m_cancel);

    connect(m_norm, &QComboBox::currentIndexChanged, this, &LensSelector::userChose);
    connect(m_decoder, &QComboBox::currentIndexChanged, this, &LensSelector::userChose);
    connect(m_cancel, &QToolButton::clicked, this, &LensSelector::cancel);
    if (m_engine)
        connect(m_engine, &EngineClient::stateChanged, this, &LensSelector::updateToolTips);

    retranslateUi();
    setRunning(false);
    setTrace(nullptr, QString());
}

LensSelector::~LensSelector()
{
    if (m_job && m_job->isRunning()) {
        m_job->disconnect(this);
        m_job->cancel();
    }
}

void LensSelector::retranslateUi()
{
    m_label->setText(tr(" Lens: "));
    const QStringList normTips = {
        tr("full: the model's final norm with its weights, as the model reads its last layer"),
        tr("unit: RMS norm without the final norm's weights"),
        tr("none: the vector as it is, not normalised")};
    for (int i = 0; i < m_norm->count(); ++i)
        m_norm->setItemData(i, normTips.value(i), Qt::ToolTipRole);
    const QStringList decoderTips = {
        tr("output: the unembedding matrix, as the model decodes its last layer"),
        tr("input: the embedding matrix"),
        tr("linear: a blend of embedding and unembedding by depth"),
        tr("quadratic: a blend of embedding and unembedding, quadratic in depth")};
    for (int i = 0; i < m_decoder->count(); ++i)
        m_decoder->setItemData(i, decoderTips.value(i), Qt::ToolTipRole);
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Stop tracing with the other lens; the project stays as it was"));
    m_progress->setToolTip(tr("Tracing the shown trace's tokens again with the chosen lens"));
    updateToolTips();
}

void LensSelector::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QWidget::changeEvent(event);
}

void LensSelector::updateToolTips()
{
    QString norm = tr("How the lens normalises a vector before decoding it. The lens is made "
                      "with the trace: another choice shows the project's trace of the same "
                      "tokens with that lens, or traces them again in the engine.");
    QString decoder = tr("Which matrix the lens decodes a vector with. The lens is made with the "
                         "trace: another choice shows the project's trace of the same tokens with "
                         "that lens, or traces them again in the engine.");
    QString why = traceProblem();
    if (why.isEmpty()) why = engineProblem();
    if (!why.isEmpty() && !m_trace.isEmpty()) {
        norm += QStringLiteral("\n\n") + why;
        decoder += QStringLiteral("\n\n") + why;
    }
    m_norm->setToolTip(norm);
    m_decoder->setToolTip(decoder);
    m_label->setToolTip(tr("The lens of the shown trace: its norm and its decoder"));
}

// ------------------------------------------------------------------------------ the trace

void LensSelector::setTrace(ProjectDocument *document, const QString &trace)
{
    m_document = document;
    m_trace = document && document->hasTrace(trace) ? trace : QString();
    m_hasLens = false;
    if (!m_trace.isEmpty()) {
        try {
            const auto t = document->trace(m_trace);
            m_traceNorm = t->lensNorm;
            m_traceDecoder = t->lensDecoder;
            m_hasLens = true;
        } catch (const std::exception &) {
            m_trace.clear(); // the window says what is wrong with it
        }
    }
    showTraceLens();
    // A trace that cannot be made again keeps its lens; the tool tip says why. Without an
    // engine the lists stay usable: the project may hold the trace with the other lens.
    const bool usable = m_hasLens && traceProblem().isEmpty();
    m_norm->setEnabled(usable);
    m_decoder->setEnabled(usable);
    updateToolTips();
}

void LensSelector::showTraceLens()
{
    m_filling = true;
    m_norm->setCurrentIndex(m_norm->findData(int(m_traceNorm)));
    m_decoder->setCurrentIndex(m_decoder->findData(int(m_traceDecoder)));
    m_filling = false;
}

QString LensSelector::traceProblem() const
{
    if (!m_document || m_trace.isEmpty()) return tr("No trace is shown.");
    try {
        const auto t = m_document->trace(m_trace);
        if (t->modelPath.empty())
            return tr("This trace does not record the model it was made with, so it cannot be "
                      "traced again with another lens.");
        if (!t->parent.empty())
            return tr("This trace was made by an edit of %1 in the engine; change the lens of "
                      "%1 instead.")
                .arg(q(t->parent));
        if (t->nTokens() == 0) return tr("This trace has no tokens.");
    } catch (const std::exception &e) {
        return q(e.what());
    }
    return {};
}

QString LensSelector::engineProblem() const
{
    if (!m_engine) return tr("There is no engine to trace with.");
    if (m_engine->isRunning()) return {};
    const QStringList words = QProcess::splitCommand(m_engine->command());
    if (words.isEmpty())
        return tr("No engine command is set: set one in Edit \u25b8 Settings to trace with "
                  "another lens.");
    const QString program = words.first();
    const bool found = program.contains(QLatin1Char('/'))
                           ? QFileInfo(program).isExecutable()
                           : !QStandardPaths::findExecutable(program).isEmpty();
    if (!found)
        return tr("The engine %1 is not installed here, so traces with another lens cannot be "
                  "made: install headlens-cli or set the engine command in Edit \u25b8 Settings.")
            .arg(program);
    return {};
}

QString LensSelector::siblingName(const QString &name, LensNorm norm, LensDecoder decoder)
{
    static const QRegularExpression suffix(QStringLiteral(" \\(lens: [a-z]+, [a-z]+\\)$"));
    QString base = name;
    base.remove(suffix);
    return QStringLiteral("%1 (lens: %2, %3)")
        .arg(base, QString::fromLatin1(lensNormName(norm)),
             QString::fromLatin1(lensDecoderName(decoder)));
}

QString LensSelector::findSibling(const ProjectDocument *document, const QString &trace,
                                  LensNorm norm, LensDecoder decoder)
{
    if (!document || !document->hasTrace(trace)) return {};
    try {
        const auto t = document->trace(trace);
        if (t->lensNorm == norm && t->lensDecoder == decoder) return trace;
        if (t->modelPath.empty()) return {};
        const std::vector<int32_t> ids = t->tokenIds();
        for (const QString &name : document->traceNames()) {
            if (name == trace) continue;
            // The table of contents first: most traces differ there already.
            const TraceListing l = document->listing(name);
            if (l.nTokens != t->nTokens() || l.parent != t->parent || l.modelName != t->modelName)
                continue;
            const auto o = document->trace(name);
            if (o->lensNorm == norm && o->lensDecoder == decoder && o->modelPath == t->modelPath &&
                o->modelFingerprint == t->modelFingerprint && o->edit == t->edit &&
                o->tokenIds() == ids)
                return name;
        }
    } catch (const std::exception &) {
        // an unreadable trace is no sibling
    }
    return {};
}

// ------------------------------------------------------------------------------ choosing

void LensSelector::userChose()
{
    if (m_filling) return;
    const LensNorm norm = LensNorm(m_norm->currentData().toInt());
    const LensDecoder decoder = LensDecoder(m_decoder->currentData().toInt());
    if (decoder == LensDecoder::Tuned && m_traceDecoder != LensDecoder::Tuned &&
        m_tunedLensFile.isEmpty() && m_document && !m_trace.isEmpty() &&
        findSibling(m_document, m_trace, norm, decoder).isEmpty()) {
        // A tuned trace needs the lens file it decodes with (headlens-cli fit-lens makes one).
        const QString file =
            QFileDialog::getOpenFileName(this, tr("Choose a tuned lens for this model"), QString(),
                                         tr("Tuned lenses (*.safetensors);;All files (*)"));
        if (file.isEmpty()) {
            showTraceLens();
            return;
        }
        m_tunedLensFile = file;
    }
    choose(norm, decoder);
}

bool LensSelector::choose(LensNorm norm, LensDecoder decoder)
{
    if (!m_document || m_trace.isEmpty() || !m_hasLens) {
        showTraceLens();
        return false;
    }
    // Keep the lists on the choice, also when it came from code.
    m_filling = true;
    m_norm->setCurrentIndex(m_norm->findData(int(norm)));
    m_decoder->setCurrentIndex(m_decoder->findData(int(decoder)));
    m_filling = false;

    if (norm == m_traceNorm && decoder == m_traceDecoder) {
        // Back to the shown lens: nothing more to start, and what runs for it stops.
        m_next.reset();
        if (isRunning() && m_running.document == m_document && m_running.trace == m_trace)
            m_job->cancel();
        return true;
    }
    const QString sibling = findSibling(m_document, m_trace, norm, decoder);
    if (!sibling.isEmpty()) {
        m_next.reset();
        Q_EMIT traceChosen(m_document, sibling);
        return true;
    }
    QString why = traceProblem();
    if (why.isEmpty()) why = engineProblem();
    if (!why.isEmpty()) {
        Q_EMIT message(tr("Cannot show %1 with the lens %2, %3: %4")
                           .arg(m_trace, QString::fromLatin1(lensNormName(norm)),
                                QString::fromLatin1(lensDecoderName(decoder)), why));
        showTraceLens();
        return false;
    }
    const Request request{m_document, m_trace, norm, decoder};
    if (isRunning()) {
        const bool same = m_running.document == request.document &&
                          m_running.trace == request.trace && m_running.norm == norm &&
                          m_running.decoder == decoder;
        if (!same) {
            // One trace at a time: the running one stops, then this one starts.
            m_next = request;
            m_job->cancel();
        }
        return true;
    }
    startJob(request);
    return true;
}

void LensSelector::startJob(const Request &request)
{
    if (!request.document || !request.document->hasTrace(request.trace)) return;
    std::shared_ptr<const Trace> t;
    try {
        t = request.document->trace(request.trace);
    } catch (const std::exception &e) {
        Q_EMIT message(q(e.what()));
        return;
    }
    TraceSpec spec = m_specFor ? m_specFor(*t) : TraceSpec();
    if (spec.model.isEmpty()) spec.model = q(t->modelPath);
    // The same input as the trace: its prompt text (so the new trace keeps the text and the
    // offsets of its tokens), or its prompt tokens; the generated rest is generated again
    // (greedy, so the same tokens).
    const int nPrompt =
        t->nPromptTokens > 0 && t->nPromptTokens <= t->nTokens() ? t->nPromptTokens : t->nTokens();
    spec.useTokenIds = t->prompt.empty();
    spec.prompt = q(t->prompt);
    spec.tokenIds.clear();
    for (int i = 0; i < nPrompt; ++i)
        spec.tokenIds.append(t->tokens[size_t(i)].id);
    spec.generate = t->nTokens() - nPrompt;
    spec.lensNorm = QString::fromLatin1(lensNormName(request.norm));
    spec.lensDecoder = QString::fromLatin1(lensDecoderName(request.decoder));
    // The shown trace's own tuned lens, else the one the user chose.
    if (request.decoder == LensDecoder::Tuned && !t->tunedLensPath.empty())
        spec.lensFile = q(t->tunedLensPath);
    else if (request.decoder == LensDecoder::Tuned)
        spec.lensFile = m_tunedLensFile;
    spec.command = QStringLiteral("trace");
    spec.extra = QJsonObject();
    spec.name = request.document->uniqueTraceName(
        siblingName(request.trace, request.norm, request.decoder));
    m_expectedIds = t->tokenIds();

    delete m_job;
    m_job = new TraceJob(m_engine, request.document, spec, this);
    m_running = request;
    connect(m_job, &TraceJob::progress, this, &LensSelector::jobProgress);
    connect(m_job, &TraceJob::finished, this, &LensSelector::jobFinished);
    setRunning(true);
    m_progress->setFormat(tr("Starting the engine…"));
    m_job->start();
}

bool LensSelector::isRunning() const
{
    return m_job && m_job->isRunning();
}

void LensSelector::cancel()
{
    m_next.reset();
    if (isRunning()) m_job->cancel();
}

void LensSelector::setRunning(bool running)
{
    m_progress->setVisible(running);
    m_cancel->setVisible(running);
    if (running) {
        m_progress->setRange(0, 0);
        m_progress->setValue(0);
    }
}

void LensSelector::jobProgress(const QString &text, int done, int total)
{
    m_progress->setFormat(text);
    showProgress(m_progress, done, total);
}

void LensSelector::jobFinished(TraceJob::Result result, const QString &message)
{
    setRunning(false);
    m_job->deleteLater();
    m_job = nullptr;
    const Request done = m_running;
    m_running = Request();
    std::optional<Request> next;
    std::swap(next, m_next);

    switch (result) {
    case TraceJob::Result::Succeeded: {
        try {
            if (done.document && done.document->trace(message)->tokenIds() != m_expectedIds)
                Q_EMIT this->message(
                    tr("The trace %1 did not get the same tokens as %2 (the model or its "
                       "tokenizer is not the same as then); compare them with care.")
                        .arg(message, done.trace));
        } catch (const std::exception &) {
        }
        if (done.document && done.document == m_document && done.trace == m_trace && !next)
            Q_EMIT traceChosen(done.document, message);
        else
            Q_EMIT status(tr("Added trace %1").arg(message));
        break;
    }
    case TraceJob::Result::Cancelled:
        if (!next) Q_EMIT status(tr("Cancelled. The project is unchanged."));
        break;
    case TraceJob::Result::Failed:
        // A stopped engine has said so in the message bar already.
        if (m_engine && m_engine->isRunning())
            Q_EMIT this->message(
                tr("Cannot trace %1 with another lens: %2").arg(done.trace, message));
        break;
    }
    if (next && next->document && next->document == m_document && next->trace == m_trace) {
        choose(next->norm, next->decoder); // a sibling may exist by now
        return;
    }
    showTraceLens();
}

} // namespace HeadLens
