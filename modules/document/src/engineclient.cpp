#include "headlens/document/engineclient.h"

#include <QJsonDocument>
#include <QTimer>

namespace HeadLens {

namespace {
constexpr int kLogLines = 50;
}

// ----------------------------------------------------------------------------- EngineRequest

EngineRequest::EngineRequest(EngineClient *client, int id, QString command)
    : QObject(client), m_client(client), m_id(id), m_command(std::move(command))
{
}

void EngineRequest::cancel()
{
    if (!m_finished) m_client->cancelRequest(m_id);
}

void EngineRequest::finish(bool ok, const QJsonObject &result, const QString &kind,
                           const QString &message)
{
    if (m_finished) return;
    m_finished = true;
    if (ok)
        Q_EMIT succeeded(result);
    else
        Q_EMIT failed(kind, message);
    Q_EMIT finished();
    deleteLater();
}

// ------------------------------------------------------------------------------ EngineClient

EngineClient::EngineClient(QObject *parent) : QObject(parent) {}

EngineClient::~EngineClient()
{
    if (m_process) {
        // No signals to a half-destroyed client: the requests just go away with it.
        m_process->disconnect(this);
        if (m_process->state() != QProcess::NotRunning) {
            m_process->write("{\"id\":-1,\"cmd\":\"shutdown\"}\n");
            m_process->closeWriteChannel();
            if (!m_process->waitForFinished(2000)) {
                m_process->kill();
                m_process->waitForFinished(1000);
            }
        }
    }
}

void EngineClient::setCommand(const QString &commandLine)
{
    m_command = commandLine.trimmed();
}

qint64 EngineClient::processId() const
{
    return m_process ? m_process->processId() : 0;
}

void EngineClient::setState(State s)
{
    if (s == m_state) return;
    m_state = s;
    Q_EMIT stateChanged(s);
}

bool EngineClient::start()
{
    if (m_state != State::NotRunning) return true;
    QStringList args = QProcess::splitCommand(m_command);
    if (args.isEmpty()) {
        processGone(tr("No engine command is set. Choose one in Settings (for example "
                       "\"headlens-cli serve\")."),
                    true);
        return false;
    }
    m_stopping = false;
    m_stdoutBuffer.clear();
    m_stderrBuffer.clear();
    m_version.clear();
    m_protocol = 0;
    m_threads = 0;
    m_process = new QProcess(this);
    m_process->setProgram(args.takeFirst());
    m_process->setArguments(args);
    connect(m_process, &QProcess::readyReadStandardOutput, this, &EngineClient::readStdout);
    connect(m_process, &QProcess::readyReadStandardError, this, &EngineClient::readStderr);
    connect(m_process, &QProcess::finished, this, &EngineClient::processFinished);
    connect(m_process, &QProcess::errorOccurred, this, &EngineClient::processError);
    connect(m_process, &QProcess::started, this, [this] {
        for (const QByteArray &line : std::as_const(m_unsent))
            m_process->write(line);
        m_unsent.clear();
    });
    setState(State::Starting);
    m_process->start(QIODevice::ReadWrite);
    return true;
}

void EngineClient::stop(int timeoutMs)
{
    if (!m_process || m_process->state() == QProcess::NotRunning) return;
    m_stopping = true;
    writeLine({{"id", m_nextId++}, {"cmd", "shutdown"}});
    m_process->closeWriteChannel();
    QProcess *p = m_process;
    QTimer::singleShot(timeoutMs, p, [p] {
        if (p->state() != QProcess::NotRunning) p->kill();
    });
}

EngineRequest *EngineClient::send(const QString &cmd, const QJsonObject &fields)
{
    const int id = m_nextId++;
    auto *request = new EngineRequest(this, id, cmd);
    m_pending[id] = request;
    if (cmd == QLatin1String("load")) {
        request->setProperty("model", fields.value("model").toString());
        request->setProperty("tokenizer", fields.value("tokenizer").toString());
    }
    if (m_state == State::NotRunning && !start()) return request; // already failed (queued)
    QJsonObject object = fields;
    object.insert("id", id);
    object.insert("cmd", cmd);
    writeLine(object);
    return request;
}

void EngineClient::cancelRequest(int id)
{
    if (!m_pending.count(id) || !m_process) return;
    writeLine({{"id", m_nextId++}, {"cmd", "cancel"}, {"target", id}});
}

void EngineClient::writeLine(const QJsonObject &object)
{
    if (!m_process) return;
    QByteArray line = QJsonDocument(object).toJson(QJsonDocument::Compact);
    line.append('\n');
    if (m_process->state() == QProcess::Running)
        m_process->write(line);
    else
        m_unsent << line;
}

void EngineClient::readStdout()
{
    m_stdoutBuffer += m_process->readAllStandardOutput();
    for (;;) {
        const int nl = m_stdoutBuffer.indexOf('\n');
        if (nl < 0) break;
        const QByteArray line = m_stdoutBuffer.left(nl).trimmed();
        m_stdoutBuffer.remove(0, nl + 1);
        if (!line.isEmpty()) handleLine(line);
    }
}

void EngineClient::readStderr()
{
    m_stderrBuffer += m_process->readAllStandardError();
    for (;;) {
        const int nl = m_stderrBuffer.indexOf('\n');
        if (nl < 0) break;
        const QString line = QString::fromUtf8(m_stderrBuffer.left(nl)).trimmed();
        m_stderrBuffer.remove(0, nl + 1);
        if (line.isEmpty()) continue;
        m_log << line;
        while (m_log.size() > kLogLines)
            m_log.removeFirst();
        Q_EMIT logLine(line);
    }
}

void EngineClient::handleLine(const QByteArray &line)
{
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(line, &err);
    if (!doc.isObject()) {
        // Not the protocol (a wrapper's banner, say): keep it as log.
        m_log << QString::fromUtf8(line);
        Q_EMIT logLine(QString::fromUtf8(line));
        return;
    }
    const QJsonObject o = doc.object();
    const QString event = o.value("event").toString();
    if (event == QLatin1String("hello")) {
        m_protocol = o.value("protocol").toInt();
        m_version = o.value("version").toString();
        m_threads = o.value("threads").toInt();
        setState(State::Running);
        Q_EMIT ready();
        return;
    }
    const int id = o.value("id").toInt(-1);
    auto it = m_pending.find(id);
    if (it == m_pending.end()) return; // our own cancel/shutdown, or an unparseable request
    QPointer<EngineRequest> request = it->second;
    if (event == QLatin1String("progress")) {
        if (request)
            Q_EMIT request->progress(o.value("stage").toString(), o.value("done").toInt(),
                                     o.value("total").toInt());
        return;
    }
    m_pending.erase(it);
    if (!request) return;
    if (o.value("ok").toBool()) {
        const QJsonObject result = o.value("result").toObject();
        if (request->command() == QLatin1String("load")) {
            m_loadedModel = request->property("model").toString();
            m_loadedTokenizer = request->property("tokenizer").toString();
            m_loadedInfo = result;
        } else if (request->command() == QLatin1String("unload")) {
            m_loadedModel.clear();
            m_loadedTokenizer.clear();
            m_loadedInfo = {};
        }
        request->finish(true, result, {}, {});
    } else {
        if (request->command() == QLatin1String("load")) { // the old model is gone too
            m_loadedModel.clear();
            m_loadedTokenizer.clear();
            m_loadedInfo = {};
        }
        request->finish(false, {}, o.value("kind").toString(), o.value("error").toString());
    }
}

void EngineClient::processFinished(int exitCode, QProcess::ExitStatus status)
{
    readStdout(); // answers that arrived with the end still count
    readStderr();
    QString message;
    if (m_stopping && status == QProcess::NormalExit && exitCode == 0) {
        message = tr("The engine was stopped.");
    } else if (status == QProcess::CrashExit) {
        message = tr("The engine stopped (it crashed or was killed, signal %1). Your projects "
                     "are unaffected.")
                      .arg(exitCode);
    } else {
        message =
            tr("The engine stopped (exit code %1). Your projects are unaffected.").arg(exitCode);
    }
    if (!m_log.isEmpty() && !(m_stopping && exitCode == 0))
        message += QLatin1Char(' ') + tr("Its last message: %1").arg(m_log.last());
    processGone(message, !m_stopping || status != QProcess::NormalExit);
}

void EngineClient::processError(QProcess::ProcessError error)
{
    if (error != QProcess::FailedToStart) return; // the others end in finished()
    const QString program = m_process ? m_process->program() : QString();
    processGone(tr("The engine could not be started (%1: %2). Check the engine command in "
                   "Settings.")
                    .arg(program, m_process ? m_process->errorString() : QString()),
                true);
}

void EngineClient::processGone(const QString &message, bool unexpected)
{
    if (m_process) {
        m_process->disconnect(this);
        m_process->deleteLater();
        m_process = nullptr;
    }
    m_unsent.clear();
    m_loadedModel.clear();
    m_loadedTokenizer.clear();
    m_loadedInfo = {};
    auto pending = std::move(m_pending);
    m_pending.clear();
    setState(State::NotRunning);
    // Failing requests from the event loop keeps send() from answering before it returned.
    QTimer::singleShot(0, this, [pending, message] {
        for (const auto &[id, request] : pending)
            if (request) request->finish(false, {}, QStringLiteral("engine"), message);
    });
    Q_EMIT engineStopped(message, unexpected);
}

} // namespace HeadLens
