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
    if (command != QLatin1String("trace")) {
        // propagate: the parent's tokens and the edit come in extra; patch: the clean and
        // corrupted prompts, the answer and the wrong token
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
    insertLensFields(o, lensNorm, lensDecoder, lensFile);
    o.insert("attention", attention);
    o.insert("residuals", residuals);
    o.insert("store_z", storeZ);
    return o;
}

TraceJob::TraceJob(EngineClient *engine, ProjectDocument *document, TraceSpec spec, QObject *parent)
    : EngineJob(engine, parent), m_document(document), m_spec(std::move(spec))
{
}

ModelSpec TraceJob::model() const
{
    return {m_spec.model, m_spec.tokenizer, m_spec.dtype};
}

QString TraceJob::failureText(const QString &message) const
{
    if (m_spec.command == QLatin1String("patch"))
        return tr("The engine could not patch the prompts: %1").arg(message);
    return tr("The engine could not make the trace: %1").arg(message);
}

void TraceJob::run()
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
    EngineRequest *r = engine()->send(QStringLiteral("estimate"), fields);
    watch(r);
    connect(r, &EngineRequest::succeeded, this, [this](const QJsonObject &e) {
        auto bytes = [&](const char *key) { return qint64(e.value(key).toDouble(-1)); };
        Q_EMIT estimated(bytes("memory_bytes"), bytes("memory_available"), bytes("disk_bytes"),
                         bytes("disk_free"));
        const QString problem = e.value("problem").toString();
        if (isCancelled())
            done(Result::Cancelled, tr("Cancelled."));
        else if (!problem.isEmpty())
            done(Result::Failed, failureText(problem));
        else
            sendTrace();
    });
}

void TraceJob::sendTrace()
{
    Q_EMIT progress(tr("Starting the trace…"), 0, 0);
    QJsonObject fields = m_spec.traceFields();
    fields.insert("output", m_output);
    EngineRequest *r = engine()->send(m_spec.command, fields);
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

void TraceJob::cleanup(Result result)
{
    if (result != Result::Succeeded && !m_output.isEmpty()) QFile::remove(m_output);
}

} // namespace HeadLens
