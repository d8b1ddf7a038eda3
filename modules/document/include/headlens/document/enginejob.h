#pragma once
// One request of the workbench to the engine, as an object: load the model the request needs
// (unless the engine has it loaded already), then run the request. Everything is asynchronous;
// progress and Cancel cross the engine pipe, so the workbench stays responsive. Subclasses
// (TraceJob, DecomposeJob) say what runs once the model is there.

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>

#include <utility>

namespace HeadLens {

class EngineClient;
class EngineRequest;

// Which model a request runs on (the fields of the engine's load request).
struct ModelSpec {
    QString model;     // Hugging Face folder or llama2.c checkpoint file
    QString tokenizer; // llama2.c: tokenizer.bin; may be empty for a folder
    QString dtype = QStringLiteral("f32");
};

// The lens fields of an engine request: lens_norm, lens_decoder and, for the tuned decoder, the
// lens file.
void insertLensFields(QJsonObject &fields, const QString &norm, const QString &decoder,
                      const QString &file);

// A request that needs a model. Emits finished() exactly once per start().
class EngineJob : public QObject {
    Q_OBJECT
public:
    enum class Result { Succeeded, Failed, Cancelled };
    Q_ENUM(Result)

    ~EngineJob() override;

    void start();
    // Stops the running request; finished(Cancelled) follows once the engine confirmed.
    void cancel();
    bool isRunning() const { return m_running; }

Q_SIGNALS:
    // A sentence for the user ("Tracing layer 3 of 8") and the progress in done of total
    // (total 0: unknown, a busy indicator).
    void progress(const QString &text, int done, int total);
    // message: what the job made on success (a trace's name), else what went wrong.
    void finished(HeadLens::EngineJob::Result result, const QString &message);

protected:
    EngineJob(EngineClient *engine, QObject *parent);

    // The model the job runs on (read at start()).
    virtual ModelSpec model() const = 0;
    // Runs the request once the engine has the model; ends with done().
    virtual void run() = 0;
    // The failure sentence for a message of the engine ("The engine could not make the
    // trace: %1").
    virtual QString failureText(const QString &message) const = 0;
    // Called once before finished(), whatever the result (cleanup of scratch files).
    virtual void cleanup(Result) {}

    // Follows a request's progress and failure (its success is the subclass's).
    void watch(EngineRequest *request);
    void done(Result result, const QString &message);
    EngineClient *engine() const;
    bool isCancelled() const { return m_cancelled; }

private:
    void runLoad();
    void onProgress(const QString &stage, int done, int total);
    // " (about 12 s left)" for a stage done of total, or nothing yet.
    QString eta(const QString &stage, int done, int total);
    void onFailed(const QString &kind, const QString &message);

    QPointer<EngineClient> m_engine;
    QPointer<EngineRequest> m_request;
    bool m_running = false;
    bool m_cancelled = false;
    QString m_stage;
    QElapsedTimer m_stageTimer;
};

// A job of one kind of request: it keeps the request and runs on the model the request names
// (Request has a ModelSpec `model`).
template <class Request> class RequestJob : public EngineJob {
public:
    const Request &request() const { return m_request; }

protected:
    RequestJob(EngineClient *engine, Request request, QObject *parent)
        : EngineJob(engine, parent), m_request(std::move(request))
    {
    }
    ModelSpec model() const override { return m_request.model; }

    Request m_request;
};

} // namespace HeadLens
