#pragma once
// Running headlens-cli as a user does, for the CLI tests: its exit status, stdout and stderr.

#include <nlohmann/json.hpp>

#include <QProcess>
#include <QString>
#include <QStringList>

namespace CliTest {

inline const QString kCli = QStringLiteral(HEADLENS_CLI);
inline const QString kStories = QStringLiteral(HEADLENS_SHARED_DIR "/models/stories260K");

struct Run {
    int code = -1;
    QByteArray out, err;
    QString describe() const
    {
        return QString("exit %1\n--- stdout:\n%2\n--- stderr:\n%3")
            .arg(code)
            .arg(QString::fromUtf8(out.left(3000)), QString::fromUtf8(err.left(2000)));
    }
    nlohmann::json parsed() const
    {
        return nlohmann::json::parse(out.toStdString(), nullptr, false);
    }
};

inline Run cli(const QStringList &args)
{
    QProcess p;
    p.start(kCli, args);
    Run r;
    if (!p.waitForStarted(30000)) {
        r.err = "could not start " + kCli.toUtf8();
        return r;
    }
    p.closeWriteChannel();
    if (!p.waitForFinished(300000)) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return r;
}

// serve's answer to req, sent with the given id, from a running `headlens-cli serve`:
// {"ok", "result"} or {"ok", "kind", "error"}; progress events are skipped.
inline nlohmann::json serveAnswer(QProcess &serve, int id, nlohmann::json req)
{
    req["id"] = id;
    serve.write(QByteArray::fromStdString(req.dump() + "\n"));
    for (;;) {
        while (serve.canReadLine()) {
            const nlohmann::json j =
                nlohmann::json::parse(serve.readLine().toStdString(), nullptr, false);
            if (j.is_object() && !j.contains("event") && j.value("id", nlohmann::json()) == id)
                return j;
        }
        if (!serve.waitForReadyRead(300000)) return {{"ok", false}, {"error", "no answer"}};
    }
}

} // namespace CliTest
