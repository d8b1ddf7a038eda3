#include "projectcheck.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QProcess>

namespace HeadLens {

QString projectChecker()
{
    const QString named = qEnvironmentVariable("HEADLENS_CHECK");
    if (!named.isEmpty()) return named;
    const QString dir = QCoreApplication::applicationDirPath();
    for (const QString &candidate :
         {dir + "/headlens-check", dir + "/../libexec/headlens/headlens-check"})
        if (QFileInfo(candidate).isExecutable()) return QFileInfo(candidate).absoluteFilePath();
    return QString();
}

ProjectCheck checkProjectInChild(const QString &path, int timeoutMs)
{
    const QString checker = projectChecker();
    if (checker.isEmpty()) return {};
    QProcess p;
    p.start(checker, {path});
    if (!p.waitForStarted(10000)) return {}; // no checker to run: the open says what is wrong
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
        return {false,
                QCoreApplication::translate("HeadLens::ProjectCheck",
                                            "reading it took over %1 s; the file may be damaged")
                    .arg(timeoutMs / 1000)};
    }
    if (p.exitStatus() == QProcess::CrashExit)
        return {false, QCoreApplication::translate(
                           "HeadLens::ProjectCheck",
                           "the file is damaged: reading it crashed the HDF5 library (in a "
                           "separate process, so nothing else was lost)")};
    if (p.exitCode() == 0) return {};
    QString line = QString::fromLocal8Bit(p.readAllStandardError()).section('\n', 0, 0).trimmed();
    line.remove(QStringLiteral("headlens-check: error: "));
    if (line.isEmpty())
        line = QCoreApplication::translate("HeadLens::ProjectCheck",
                                           "headlens-check exited with status %1")
                   .arg(p.exitCode());
    return {false, line};
}

} // namespace HeadLens
