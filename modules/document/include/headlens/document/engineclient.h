#pragma once
// The workbench's side of the engine pipe (app/cli/PROTOCOL.md): starts the engine command
// (`headlens-cli serve`, or any command line ending in it, e.g. through ssh) as a child
// process, sends JSON-line requests and turns the answers into signals. The engine is a
// separate process on purpose: when it dies (out of memory, killed), every pending request
// fails with kind "engine", the client says why, and a new engine can be started; nothing the
// workbench holds is lost.

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <map>

namespace HeadLens {

class EngineClient;

// One request to the engine. Owned by the client; deleted (later) after finished().
class EngineRequest : public QObject {
    Q_OBJECT
public:
    int id() const { return m_id; }
    QString command() const { return m_command; }
    bool isFinished() const { return m_finished; }
    // Asks the engine to stop this request; it then fails with kind "cancelled".
    void cancel();

Q_SIGNALS:
    // stage: "load", "generate" or "trace"; done of total.
    void progress(const QString &stage, int done, int total);
    void succeeded(const QJsonObject &result);
    // kind: "input", "usage", "cancelled", "internal" from the engine, or "engine" when the
    // engine could not be started or stopped before answering.
    void failed(const QString &kind, const QString &message);
    // After succeeded() or failed().
    void finished();

private:
    friend class EngineClient;
    EngineRequest(EngineClient *client, int id, QString command);
    void finish(bool ok, const QJsonObject &result, const QString &kind, const QString &message);

    EngineClient *m_client;
    int m_id;
    QString m_command;
    bool m_finished = false;
};

// A running (or not yet started) engine process and the requests in flight.
class EngineClient : public QObject {
    Q_OBJECT
public:
    enum class State { NotRunning, Starting, Running };
    Q_ENUM(State)

    explicit EngineClient(QObject *parent = nullptr);
    // Asks a running engine to shut down; kills it if it does not exit within a moment.
    ~EngineClient() override;

    // A full command line, split like a shell would (quotes group words), e.g.
    // "/usr/bin/headlens-cli serve" or "ssh gpu-server headlens-cli serve". Takes effect at
    // the next start.
    void setCommand(const QString &commandLine);
    QString command() const { return m_command; }

    State state() const { return m_state; }
    bool isRunning() const { return m_state != State::NotRunning; }
    // Starts the engine unless it runs. False (and engineStopped) when the command is empty.
    bool start();
    // Polite stop: shutdown request, then closing stdin; kills after timeoutMs.
    void stop(int timeoutMs = 3000);
    qint64 processId() const;

    // From the engine's hello (empty / 0 until it arrived).
    QString engineVersion() const { return m_version; }
    int protocolVersion() const { return m_protocol; }
    int engineThreads() const { return m_threads; }

    // The model the engine has loaded (the last successful load request): path and tokenizer
    // as requested, and the engine's answer. Empty when none.
    QString loadedModel() const { return m_loadedModel; }
    QString loadedTokenizer() const { return m_loadedTokenizer; }
    QJsonObject loadedModelInfo() const { return m_loadedInfo; }

    // Sends {"id":..., "cmd": cmd, ...fields}; starts the engine when needed. The request
    // fails at once (from the event loop) when the engine cannot be started.
    EngineRequest *send(const QString &cmd, const QJsonObject &fields = {});
    // Requests sent and not yet answered.
    int pendingCount() const { return int(m_pending.size()); }
    // The last lines the engine wrote to stderr (its log), oldest first.
    QStringList recentLog() const { return m_log; }

Q_SIGNALS:
    void stateChanged(HeadLens::EngineClient::State state);
    // The hello event arrived.
    void ready();
    // The engine ended. unexpected: it was not asked to (crash, kill, failure to start);
    // message says what happened in a sentence for the user.
    void engineStopped(const QString &message, bool unexpected);
    void logLine(const QString &line);

private:
    friend class EngineRequest;
    void cancelRequest(int id);
    void writeLine(const QJsonObject &object);
    void readStdout();
    void readStderr();
    void handleLine(const QByteArray &line);
    void processFinished(int exitCode, QProcess::ExitStatus status);
    void processError(QProcess::ProcessError error);
    void processGone(const QString &message, bool unexpected);
    void setState(State s);

    QString m_command;
    QProcess *m_process = nullptr;
    State m_state = State::NotRunning;
    bool m_stopping = false;
    int m_nextId = 1;
    std::map<int, QPointer<EngineRequest>> m_pending;
    QList<QByteArray> m_unsent; // written once the process has started
    QByteArray m_stdoutBuffer;
    QByteArray m_stderrBuffer;
    QStringList m_log;
    QString m_version;
    int m_protocol = 0;
    int m_threads = 0;
    QString m_loadedModel;
    QString m_loadedTokenizer;
    QJsonObject m_loadedInfo;
};

} // namespace HeadLens
