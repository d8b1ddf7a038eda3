#include "tracedialogs.h"

#include "newtracedialog.h"
#include "patchdialog.h"

namespace HeadLens {

TraceDialogs::TraceDialogs(EngineClient *engine, QWidget *window)
    : QObject(window), m_engine(engine), m_window(window)
{
}

template <class Dialog, class Make>
Dialog *TraceDialogs::showOne(QPointer<Dialog> &slot, bool patching, Make make)
{
    if (slot && slot->isRunning()) {
        slot->raise();
        slot->activateWindow();
        return slot;
    }
    delete slot;
    Dialog *dialog = make();
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &Dialog::traceAdded, this,
            [this, patching](ProjectDocument *d, const QString &name) {
                Q_EMIT traceAdded(d, name, patching);
            });
    connect(dialog, &Dialog::traceFailed, this, &TraceDialogs::failed);
    slot = dialog;
    dialog->show();
    return dialog;
}

NewTraceDialog *TraceDialogs::showNewTrace(ProjectDocument *document)
{
    return showOne(m_newTrace, false,
                   [&] { return new NewTraceDialog(m_engine, document, m_window); });
}

PatchDialog *TraceDialogs::showPatch(ProjectDocument *document, const QString &trace)
{
    return showOne(m_patch, true,
                   [&] { return new PatchDialog(m_engine, document, trace, m_window); });
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
