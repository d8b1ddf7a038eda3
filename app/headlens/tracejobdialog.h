#pragma once
// The base of the dialogs that make a trace in the engine (New Trace, Activation Patching):
// one TraceJob at a time, its progress in a bar and a status line, Cancel while it runs,
// closing the dialog stops it (nothing half-made stays), and the trace added or the failure
// reported once it ends.

#include "headlens/document/tracejob.h"

#include <QDialog>
#include <QPointer>

class QLabel;
class QProgressBar;

namespace HeadLens {

class EngineClient;
class ProjectDocument;

class TraceJobDialog : public QDialog {
    Q_OBJECT
public:
    ~TraceJobDialog() override;

    bool isRunning() const;
    TraceJob *job() const { return m_job; }
    QProgressBar *progressBar() const { return m_progress; }
    QLabel *statusLabel() const { return m_status; }
    ProjectDocument *document() const { return m_document; }

Q_SIGNALS:
    // The trace is in the document under this name (the dialog then closes).
    void traceAdded(HeadLens::ProjectDocument *document, const QString &name);
    // The engine could not make it (not cancelled): the message for the user.
    void traceFailed(const QString &message);

protected:
    TraceJobDialog(EngineClient *engine, ProjectDocument *document, QWidget *parent);

    // Starts a job for spec; the form follows setRunning() until it ends.
    TraceJob *runJob(const TraceSpec &spec);
    // Stops the running job.
    void cancelJob();
    // The dialog's form while a job runs (true) and after.
    virtual void setRunning(bool running) = 0;
    void closeEvent(QCloseEvent *event) override;

    QPointer<EngineClient> m_engine;
    QPointer<ProjectDocument> m_document;
    QProgressBar *m_progress;
    QLabel *m_status;

private:
    void jobProgress(const QString &text, int done, int total);
    void jobFinished(TraceJob::Result result, const QString &message);

    QPointer<TraceJob> m_job;
};

} // namespace HeadLens
