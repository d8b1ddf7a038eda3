#include "tracedialogs.h"

#include "newtracedialog.h"
#include "patchdialog.h"

namespace HeadLens {

TraceDialogs::TraceDialogs(EngineClient *engine, QWidget *window)
    : QObject(window), m_engine(engine), m_window(window)
{
}

NewTraceDialog *TraceDialogs::showNewTrace(ProjectDocument *document)
{
    if (m_newTrace && m_newTrace->isRunning()) {
        m_newTrace->raise();
        m_newTrace->activateWindow();
        return m_newTrace;
    }
    delete m_newTrace;
    auto *dialog = new NewTraceDialog(m_engine, document, m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &NewTraceDialog::traceAdded, this,
            [this](ProjectDocument *d, const QString &name) { Q_EMIT traceAdded(d, name, false); });
    connect(dialog, &NewTraceDialog::traceFailed, this, &TraceDialogs::failed);
    m_newTrace = dialog;
    dialog->show();
    return dialog;
}

PatchDialog *TraceDialogs::showPatch(ProjectDocument *document, const QString &trace)
{
    if (m_patch && m_patch->isRunning()) {
        m_patch->raise();
        return m_patch;
    }
    delete m_patch;
    auto *dialog = new PatchDialog(m_engine, document, trace, m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &PatchDialog::traceAdded, this,
            [this](ProjectDocument *d, const QString &name) { Q_EMIT traceAdded(d, name, true); });
    connect(dialog, &PatchDialog::traceFailed, this, &TraceDialogs::failed);
    m_patch = dialog;
    dialog->show();
    return dialog;
}

bool TraceDialogs::traceRunning() const
{
    return m_newTrace && m_newTrace->isRunning();
}

void TraceDialogs::cancelTrace()
{
    if (m_newTrace) m_newTrace->cancel();
}

void TraceDialogs::projectClosing(ProjectDocument *document)
{
    if (m_newTrace && m_newTrace->document() == document) m_newTrace->close();
}

} // namespace HeadLens
