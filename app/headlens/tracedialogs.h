#pragma once
// The window's two dialogs that ask the engine for a new trace, New Trace and Activation
// Patching: at most one of each, a running one raised instead of replaced, and what they add
// or fail with reported to the window.

#include <QObject>
#include <QPointer>
#include <QString>

class QWidget;

namespace HeadLens {

class EngineClient;
class NewTraceDialog;
class PatchDialog;
class ProjectDocument;

class TraceDialogs : public QObject {
    Q_OBJECT
public:
    TraceDialogs(EngineClient *engine, QWidget *window);

    // New Trace into document (the running one, raised, while a trace is being made).
    NewTraceDialog *showNewTrace(ProjectDocument *document);
    // Activation patching with trace of document as the clean run.
    PatchDialog *showPatch(ProjectDocument *document, const QString &trace);

    // Whether New Trace is making a trace now, and stopping it.
    bool traceRunning() const;
    void cancelTrace();
    // The project closes: its New Trace dialog goes with it.
    void projectClosing(ProjectDocument *document);

Q_SIGNALS:
    // A trace was added; patching: it carries a patching map.
    void traceAdded(HeadLens::ProjectDocument *document, const QString &name, bool patching);
    void failed(const QString &message);

private:
    // The running dialog of `slot`, raised; else a new one from make(), in `slot`.
    template <class Dialog, class Make>
    Dialog *showOne(QPointer<Dialog> &slot, bool patching, Make make);

    EngineClient *m_engine;
    QWidget *m_window;
    QPointer<NewTraceDialog> m_newTrace;
    QPointer<PatchDialog> m_patch;
};

} // namespace HeadLens
