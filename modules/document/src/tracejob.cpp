#include "headlens/document/tracejob.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QUuid>

namespace HeadLens {

QJsonObject TraceSpec::traceFields() const
{
    QJsonObject o = extra;
    if (command == QLatin1String("propagate")) {
        // the parent's tokens and the edit come in extra
    } else if (useTokenIds) {
        QJsonArray ids;
        for (int id : tokenIds)
            ids.append(id);
        o.insert("token_ids", ids);
    } else {
        o.insert("prompt", prompt);
    }
    o.insert("generate", generate);
    o.insert("topk", topk);
    o.insert("lens_norm", lensNorm);
    o.insert("lens_decoder", lensDecoder);
    o.insert("attention", attention);
    o.insert("residuals", residuals);
    o.insert("store_z", storeZ);
    return o;
}

TraceJob::TraceJob(EngineClient *engine, ProjectDocument *document, TraceSpec spec, QObject *parent)
    : QObject(parent), m_engine(engine), m_document(document), m_spec(std::move(spec))
{
}

TraceJob::~TraceJob()
{
    if (m_request) m_request->disconnect(this);
}

void TraceJob::start()
{
    if (m_running) return;
    m_running = true;
    m_cancelled = false;
    if (!m_engine || !m_document) {
        done(Result::Failed, tr("There is no engine or no project to trace into."));
        return;
    }
    const QString model = QFileInfo(m_spec.model).absoluteFilePath();
    const QString tokenizer =
        m_spec.tokenizer.isEmpty() ? QString() : QFileInfo(m_spec.tokenizer).absoluteFilePath();
    if (m_engine->isRunning() && m_engine->loadedModel() == model &&
        m_engine->loadedTokenizer() == tokenizer)
        runTrace(); // the engine keeps the model between requests
    else
        runLoad();
}

void TraceJob::runLoad()
{
    Q_EMIT progress(tr("Loading the model…"), 0, 0);
    QJsonObject fields{{"model", QFileInfo(m_spec.model).absoluteFilePath()},
                       {"dtype", m_spec.dtype}};
    if (!m_spec.tokenizer.isEmpty())
        fields.insert("tokenizer", QFileInfo(m_spec.tokenizer).absoluteFilePath());
    EngineRequest *r = m_engine->send(QStringLiteral("load"), fields);
    watch(r);
    connect(r, &EngineRequest::succeeded, this, [this] {
        if (m_cancelled)
            done(Result::Cancelled, tr("Cancelled."));
        else
            runTrace();
    });
}

void TraceJob::runTrace()
{
    if (!m_document) {
        done(Result::Failed, tr("The project was closed."));
        return;
    }
    m_output = m_document->scratchPath(
        QStringLiteral("trace-%1.hlproj").arg(QUuid::createUuid().toString(QUuid::Id128)));
    if (m_spec.command == QLatin1String("trace"))
        runEstimate();
    else
        sendTrace();
}

void TraceJob::runEstimate()
{
    QJsonObject fields = m_spec.traceFields();
    fields.insert("output", m_output);
    EngineRequest *r = m_engine->send(QStringLiteral("estimate"), fields);
    watch(r);
    connect(r, &EngineRequest::succeeded, this, [this](const QJsonObject &e) {
        auto bytes = [&](const char *key) { return qint64(e.value(key).toDouble(-1)); };
        Q_EMIT estimated(bytes("memory_bytes"), bytes("memory_available"), bytes("disk_bytes"),
                         bytes("disk_free"));
        const QString problem = e.value("problem").toString();
        if (m_cancelled)
            done(Result::Cancelled, tr("Cancelled."));
        else if (!problem.isEmpty())
            done(Result::Failed, tr("The engine could not make the trace: %1").arg(problem));
        else
            sendTrace();
    });
}

void TraceJob::sendTrace()
{
    Q_EMIT progress(tr("Starting the trace…"), 0, 0);
    QJsonObject fields = m_spec.traceFields();
    fields.insert("output", m_output);
    EngineRequest *r = m_engine->send(m_spec.command, fields);
    watch(r);
    connect(r, &EngineRequest::succeeded, this, [this](const QJsonObject &result) {
        if (!m_document) {
            done(Result::Failed, tr("The project was closed before the trace was finished."));
            return;
        }
        QString error;
        const QString name =
            m_document->importTrace(m_output, result.value("name").toString(), m_spec.name, &error);
        if (name.isEmpty()) {
            done(Result::Failed, tr("The engine made a trace that cannot be read: %1").arg(error));
            return;
        }
        m_traceName = name;
        done(Result::Succeeded, name);
    });
}

void TraceJob::watch(EngineRequest *request)
{
    m_request = request;
    connect(request, &EngineRequest::progress, this, &TraceJob::onProgress);
    connect(request, &EngineRequest::failed, this, &TraceJob::onFailed);
}

void TraceJob::onProgress(const QString &stage, int done, int total)
{
    if (stage == QLatin1String("load"))
        Q_EMIT progress(tr("Loading the model…"), done, total);
    else if (stage == QLatin1String("generate"))
        Q_EMIT progress(tr("Generating token %1 of %2").arg(done).arg(total), done, total);
    else if (stage == QLatin1String("trace"))
        Q_EMIT progress(tr("Tracing layer %1 of %2").arg(done).arg(total), done, total);
    else
        Q_EMIT progress(stage, done, total);
}

void TraceJob::onFailed(const QString &kind, const QString &message)
{
    if (kind == QLatin1String("cancelled") || m_cancelled)
        done(Result::Cancelled, tr("Cancelled."));
    else if (kind == QLatin1String("engine"))
        done(Result::Failed, message);
    else
        done(Result::Failed, tr("The engine could not make the trace: %1").arg(message));
}

void TraceJob::cancel()
{
    if (!m_running) return;
    m_cancelled = true;
    Q_EMIT progress(tr("Cancelling…"), 0, 0);
    if (m_request) m_request->cancel();
}

void TraceJob::done(Result result, const QString &message)
{
    if (!m_running) return;
    m_running = false;
    m_request = nullptr;
    if (result != Result::Succeeded && !m_output.isEmpty()) QFile::remove(m_output);
    Q_EMIT finished(result, message);
}

} // namespace HeadLens
