#pragma once
// Making a new trace through the engine: load the model (unless the engine has it loaded
// already), trace the prompt into a scratch project of the document, then import the trace
// into the document with an AddTrace undo command. Everything is asynchronous; progress and
// Cancel cross the engine pipe, so the workbench stays responsive.

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

namespace HeadLens {

class EngineClient;
class EngineRequest;
class ProjectDocument;

// What to trace and how (the fields of the engine's load and trace requests).
struct TraceSpec {
    QString model;     // Hugging Face folder or llama2.c checkpoint file
    QString tokenizer; // llama2.c: tokenizer.bin; may be empty for a folder
    QString dtype = QStringLiteral("f32");
    QString prompt; // used unless useTokenIds
    QList<int> tokenIds;
    bool useTokenIds = false;
    int generate = 0;
    int topk = 10;
    QString lensNorm = QStringLiteral("full");      // full | unit | none
    QString lensDecoder = QStringLiteral("output"); // output | input | linear | quadratic
    QString attention = QStringLiteral("f16");      // none | f16 | f32
    QString residuals = QStringLiteral("none");     // none | f16 | f32
    bool storeZ = false;
    QString name; // the trace's name in the document; empty: the engine's
    // "trace", or "propagate" (a child trace of a parent: extra then holds parent, tokens,
    // prompt, site, layer, pos, kind, subtract / inject_text; see app/cli/PROTOCOL.md).
    QString command = QStringLiteral("trace");
    QJsonObject extra;

    // The fields of the request (without output and name).
    QJsonObject traceFields() const;
};

// One trace being made. Emits finished() exactly once.
class TraceJob : public QObject {
    Q_OBJECT
public:
    enum class Result { Succeeded, Failed, Cancelled };
    Q_ENUM(Result)

    TraceJob(EngineClient *engine, ProjectDocument *document, TraceSpec spec,
             QObject *parent = nullptr);
    ~TraceJob() override;

    void start();
    // Stops the running request; finished(Cancelled) follows once the engine confirmed.
    void cancel();
    bool isRunning() const { return m_running; }
    // The name the trace got in the document (after success).
    QString traceName() const { return m_traceName; }
    const TraceSpec &spec() const { return m_spec; }

Q_SIGNALS:
    // A sentence for the user ("Tracing layer 3 of 8") and the progress in done of total
    // (total 0: unknown, a busy indicator).
    void progress(const QString &text, int done, int total);
    // Before a new trace is computed, what it will need and what the engine's machine has
    // (the engine's estimate request; bytes, free -1 when unknown). A trace that would not fit
    // fails instead, with the engine's figures.
    void estimated(qint64 memoryNeeded, qint64 memoryAvailable, qint64 diskNeeded, qint64 diskFree);
    // message: the trace's name on success, else what went wrong, for the user.
    void finished(HeadLens::TraceJob::Result result, const QString &message);

private:
    void runLoad();
    void runTrace();
    void runEstimate();
    void sendTrace();
    void watch(EngineRequest *request);
    void onProgress(const QString &stage, int done, int total);
    void onFailed(const QString &kind, const QString &message);
    void done(Result result, const QString &message);

    QPointer<EngineClient> m_engine;
    QPointer<ProjectDocument> m_document;
    TraceSpec m_spec;
    QPointer<EngineRequest> m_request;
    QString m_output;
    QString m_traceName;
    bool m_running = false;
    bool m_cancelled = false;
};

} // namespace HeadLens
