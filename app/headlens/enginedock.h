#pragma once
// The base of the docks that send requests to the engine (Inspector, Head Roles): one job at a
// time per dock, its progress in the status bar, its failure in the message bar.

#include "documentdock.h"

#include "headlens/document/enginejob.h"

#include <QPointer>

#include <functional>

namespace HeadLens {

class EngineClient;

class EngineDock : public DocumentDock {
    Q_OBJECT
public:
    bool isBusy() const;

protected:
    EngineDock(EngineClient *engine, QWidget *parent);

    EngineClient *engine() const;
    // The shown trace, when a request about it can be sent now (a trace is shown, no job runs,
    // there is an engine); else null, after error() where the trace could not be read.
    std::shared_ptr<const Trace> traceForRequest();
    // Runs a job: updateActions() before and after, progress (progressPrefix's %1, or as it
    // comes) to status(), a failure to error(); then `then`.
    using Finished = std::function<void(EngineJob::Result result, const QString &message)>;
    void run(EngineJob *job, const QString &progressPrefix, const Finished &then);
    // The dock's controls follow isBusy().
    virtual void updateActions() = 0;

private:
    QPointer<EngineClient> m_engine;
    QPointer<EngineJob> m_job;
};

} // namespace HeadLens
