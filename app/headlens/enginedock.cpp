#include "enginedock.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"

namespace HeadLens {

EngineDock::EngineDock(EngineClient *engine, QWidget *parent)
    : DocumentDock(parent), m_engine(engine)
{
}

bool EngineDock::isBusy() const
{
    return m_job;
}

EngineClient *EngineDock::engine() const
{
    return m_engine;
}

std::shared_ptr<const Trace> EngineDock::traceForRequest()
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty() || isBusy() || !engine()) return nullptr;
    try {
        return document()->trace(v->trace());
    } catch (const std::exception &e) {
        Q_EMIT error(QString::fromStdString(e.what()));
        return nullptr;
    }
}

void EngineDock::run(EngineJob *job, const QString &progressPrefix, const Finished &then)
{
    m_job = job;
    updateActions();
    connect(job, &EngineJob::progress, this, [this, progressPrefix](const QString &text) {
        Q_EMIT status(progressPrefix.isEmpty() ? text : progressPrefix.arg(text), 0);
    });
    connect(job, &EngineJob::finished, this,
            [this, job, then](EngineJob::Result result, const QString &message) {
                job->deleteLater();
                m_job = nullptr;
                updateActions();
                Q_EMIT status(QString(), 0);
                if (result == EngineJob::Result::Failed && m_engine && m_engine->isRunning())
                    Q_EMIT error(message); // a stopped engine has said so in the message bar
                then(result, message);
            });
    job->start();
}

} // namespace HeadLens
