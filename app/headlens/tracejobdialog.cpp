#include "tracejobdialog.h"

#include "widgettexts.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"

#include <QCloseEvent>
#include <QLabel>
#include <QProgressBar>

namespace HeadLens {

TraceJobDialog::TraceJobDialog(EngineClient *engine, ProjectDocument *document, QWidget *parent)
    : QDialog(parent), m_engine(engine), m_document(document), m_progress(new QProgressBar(this)),
      m_status(new QLabel(this))
{
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
}

TraceJobDialog::~TraceJobDialog()
{
    if (isRunning()) m_job->cancel();
}

bool TraceJobDialog::isRunning() const
{
    return m_job && m_job->isRunning();
}

TraceJob *TraceJobDialog::runJob(const TraceSpec &spec)
{
    delete m_job;
    m_job = new TraceJob(m_engine, m_document, spec, this);
    connect(m_job, &TraceJob::progress, this, &TraceJobDialog::jobProgress);
    connect(m_job, &TraceJob::finished, this, &TraceJobDialog::jobFinished);
    setRunning(true);
    m_progress->setRange(0, 0);
    m_status->setText(tr("Starting the engine…"));
    m_job->start();
    return m_job;
}

void TraceJobDialog::cancelJob()
{
    if (isRunning()) m_job->cancel();
}

void TraceJobDialog::closeEvent(QCloseEvent *event)
{
    cancelJob(); // closing the window stops the trace, nothing half-made stays
    QDialog::closeEvent(event);
}

void TraceJobDialog::jobProgress(const QString &text, int done, int total)
{
    m_status->setText(text);
    showProgress(m_progress, done, total);
}

void TraceJobDialog::jobFinished(TraceJob::Result result, const QString &message)
{
    setRunning(false);
    switch (result) {
    case TraceJob::Result::Succeeded:
        m_status->setText(tr("Added trace %1.").arg(message));
        Q_EMIT traceAdded(m_document, message);
        accept();
        break;
    case TraceJob::Result::Cancelled:
        m_status->setText(tr("Cancelled. The project is unchanged."));
        break;
    case TraceJob::Result::Failed:
        m_status->setText(message);
        Q_EMIT traceFailed(message);
        break;
    }
}

} // namespace HeadLens
