#pragma once
// The block view's lens control: the norm and the decoder the shown trace was made with, as
// two choices. A lens is computed when a trace is made, so choosing another one shows a sibling
// trace made with those options (same model, same tokens) when the project has one, and
// otherwise traces the same tokens again in the engine into a new trace, "<name> (lens: norm,
// decoder)", one undoable step like the New Trace dialog's. Progress and Cancel show in place;
// the workbench stays usable meanwhile. Without an engine, or for a trace that cannot be made
// again (no model recorded, or the child of a propagate), the control says why instead.

#include "headlens/document/tracejob.h"
#include "headlens/trace/trace.h"

#include <QPointer>
#include <QWidget>

#include <functional>
#include <optional>
#include <vector>

class QComboBox;
class QLabel;
class QProgressBar;
class QToolButton;

namespace HeadLens {

class EngineClient;
class ProjectDocument;

class LensSelector : public QWidget {
    Q_OBJECT
public:
    // The request that makes a trace like this one again (model, tokenizer, stored data);
    // the selector sets the input and the lens. MainWindow's, which knows the tokenizers.
    using SpecFunction = std::function<TraceSpec(const Trace &)>;

    LensSelector(EngineClient *engine, SpecFunction specFor, QWidget *parent = nullptr);
    ~LensSelector() override;

    // The trace the block view shows (null / empty: none); the choices follow its lens.
    void setTrace(ProjectDocument *document, const QString &trace);
    ProjectDocument *document() const { return m_document; }
    QString trace() const { return m_trace; }

    // Chooses a lens as the user does with the two lists: switches to a sibling, or starts a
    // trace. False (and message()) when neither can be done; the lists then show the trace's.
    bool choose(LensNorm norm, LensDecoder decoder);

    // A trace of document made from the same model and tokens as trace, with this lens and
    // no edit (not a propagate child); empty when there is none. trace itself counts.
    static QString findSibling(const ProjectDocument *document, const QString &trace, LensNorm norm,
                               LensDecoder decoder);
    // "<base> (lens: unit, input)", base being name without such a suffix.
    static QString siblingName(const QString &name, LensNorm norm, LensDecoder decoder);
    // Why the engine cannot be used ("" when it can, as far as this machine can tell).
    QString engineProblem() const;
    // Why the shown trace cannot be traced again ("" when it can).
    QString traceProblem() const;

    bool isRunning() const;
    TraceJob *job() const { return m_job; }
    QComboBox *normBox() const { return m_norm; }
    QComboBox *decoderBox() const { return m_decoder; }
    QProgressBar *progressBar() const { return m_progress; }
    QToolButton *cancelButton() const { return m_cancel; }

public Q_SLOTS:
    // Stops a running trace; the project stays as it was.
    void cancel();
    void retranslateUi();

Q_SIGNALS:
    // Show this trace (a sibling found, or the trace just made from the shown one).
    void traceChosen(HeadLens::ProjectDocument *document, const QString &name);
    // A trace was added while the user looked elsewhere, or other news for the status bar.
    void status(const QString &text);
    // Something went wrong or cannot be done: a sentence for the message bar.
    void message(const QString &text);

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Request {
        QPointer<ProjectDocument> document;
        QString trace;
        LensNorm norm = LensNorm::Full;
        LensDecoder decoder = LensDecoder::Output;
    };
    void userChose();
    void showTraceLens();
    void updateToolTips();
    void startJob(const Request &request);
    void jobProgress(const QString &text, int done, int total);
    void jobFinished(TraceJob::Result result, const QString &message);
    void setRunning(bool running);

    QPointer<EngineClient> m_engine;
    SpecFunction m_specFor;
    QPointer<ProjectDocument> m_document;
    QString m_trace;
    bool m_hasLens = false;
    LensNorm m_traceNorm = LensNorm::Full;
    LensDecoder m_traceDecoder = LensDecoder::Output;

    TraceJob *m_job = nullptr;
    Request m_running;                  // what the job makes
    std::optional<Request> m_next;      // chosen while a job ran: started once it has stopped
    std::vector<int32_t> m_expectedIds; // the tokens the job should reproduce

    QLabel *m_label;
    QComboBox *m_norm;
    QComboBox *m_decoder;
    QProgressBar *m_progress;
    QToolButton *m_cancel;
    bool m_filling = false;
    // The tuned lens file a tuned trace is made with when the shown trace has none (asked for
    // when the user first chooses the tuned decoder).
    QString m_tunedLensFile;
};

} // namespace HeadLens
