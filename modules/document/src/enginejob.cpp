#include "headlens/document/enginejob.h"

#include "headlens/document/engineclient.h"
#include "headlens/trace/trace.h"

#include <QFileInfo>
#include <QJsonObject>

namespace HeadLens {

namespace {

QString absolute(const QString &path)
{
    return path.isEmpty() ? QString() : QFileInfo(path).absoluteFilePath();
}

} // namespace

void insertLensFields(QJsonObject &fields, const QString &norm, const QString &decoder,
                      const QString &file)
{
    fields.insert("lens_norm", norm);
    fields.insert("lens_decoder", decoder);
    if (decoder == QLatin1String(lensDecoderName(LensDecoder::Tuned))) fields.insert("lens", file);
}

EngineJob::EngineJob(EngineClient *engine, QObject *parent) : QObject(parent), m_engine(engine) {}

EngineClient *EngineJob::engine() const
{
    return m_engine;
}

EngineJob::~EngineJob()
{
    if (m_request) m_request->disconnect(this);
}

void EngineJob::start()
{
    if (m_running) return;
    m_running = true;
    m_cancelled = false;
    if (!m_engine) {
        done(Result::Failed, tr("There is no engine to run the request."));
        return;
    }
    const ModelSpec spec = model();
    if (m_engine->isRunning() && m_engine->loadedModel() == absolute(spec.model) &&
        m_engine->loadedTokenizer() == absolute(spec.tokenizer))
        run(); // the engine keeps the model between requests
    else
        runLoad();
}

void EngineJob::runLoad()
{
    const ModelSpec spec = model();
    Q_EMIT progress(tr("Loading the model…"), 0, 0);
    QJsonObject fields{{"model", absolute(spec.model)}, {"dtype", spec.dtype}};
    if (!spec.tokenizer.isEmpty()) fields.insert("tokenizer", absolute(spec.tokenizer));
    EngineRequest *r = m_engine->send(QStringLiteral("load"), fields);
    watch(r);
    connect(r, &EngineRequest::succeeded, this, [this] {
        if (m_cancelled)
            done(Result::Cancelled, tr("Cancelled."));
        else
            run();
    });
}

void EngineJob::watch(EngineRequest *request)
{
    m_request = request;
    connect(request, &EngineRequest::progress, this, &EngineJob::onProgress);
    connect(request, &EngineRequest::failed, this, &EngineJob::onFailed);
}

void EngineJob::onProgress(const QString &stage, int done, int total)
{
    if (stage == QLatin1String("load"))
        Q_EMIT progress(tr("Loading the model…"), done, total);
    else if (stage == QLatin1String("generate"))
        Q_EMIT progress(tr("Generating token %1 of %2").arg(done).arg(total) +
                            eta(stage, done, total),
                        done, total);
    else if (stage == QLatin1String("trace"))
        Q_EMIT progress(tr("Tracing layer %1 of %2").arg(done).arg(total) + eta(stage, done, total),
                        done, total);
    else if (stage == QLatin1String("head_roles"))
        Q_EMIT progress(tr("Measuring the head roles on sequence %1 of %2").arg(done).arg(total) +
                            eta(stage, done, total),
                        done, total);
    else if (stage == QLatin1String("patch"))
        Q_EMIT progress(tr("Patching: step %1 of %2").arg(done).arg(total) +
                            eta(stage, done, total),
                        done, total);
    else
        Q_EMIT progress(stage, done, total);
}

QString EngineJob::eta(const QString &stage, int done, int total)
{
    // From the pace of this stage so far; nothing until one step is done.
    if (stage != m_stage || done <= 0) {
        m_stage = stage;
        m_stageTimer.start();
        return QString();
    }
    if (total <= done) return QString();
    const qint64 left = m_stageTimer.elapsed() * (total - done) / done / 1000;
    return left < 60 ? tr(" (about %n s left)", nullptr, int(left) + 1)
                     : tr(" (about %n min left)", nullptr, int(left / 60) + 1);
}

void EngineJob::onFailed(const QString &kind, const QString &message)
{
    if (kind == QLatin1String("cancelled") || m_cancelled)
        done(Result::Cancelled, tr("Cancelled."));
    else if (kind == QLatin1String("engine"))
        done(Result::Failed, message); // a stopped engine: its own sentence
    else
        done(Result::Failed, failureText(message));
}

void EngineJob::cancel()
{
    if (!m_running) return;
    m_cancelled = true;
    Q_EMIT progress(tr("Cancelling…"), 0, 0);
    if (m_request) m_request->cancel();
}

void EngineJob::done(Result result, const QString &message)
{
    if (!m_running) return;
    m_running = false;
    m_request = nullptr;
    cleanup(result);
    Q_EMIT finished(result, message);
}

} // namespace HeadLens
