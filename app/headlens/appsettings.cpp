#include "appsettings.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace HeadLens {

namespace {

QString quoted(const QString &path)
{
    return path.contains(QLatin1Char(' ')) ? QLatin1Char('"') + path + QLatin1Char('"') : path;
}

} // namespace

QString AppSettings::engineCommand()
{
    const QString c = QSettings().value("engine/command").toString().trimmed();
    return c.isEmpty() ? defaultEngineCommand() : c;
}

void AppSettings::setEngineCommand(const QString &command)
{
    QSettings s;
    if (command.trimmed().isEmpty() || command.trimmed() == defaultEngineCommand())
        s.remove("engine/command");
    else
        s.setValue("engine/command", command.trimmed());
}

QString AppSettings::defaultEngineCommand()
{
    const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath("headlens-cli");
    if (QFileInfo(beside).isExecutable()) return quoted(beside) + QStringLiteral(" serve");
#ifdef HEADLENS_BUILD_TREE_CLI
    const QString built = QStringLiteral(HEADLENS_BUILD_TREE_CLI);
    if (QFileInfo(built).isExecutable()) return quoted(built) + QStringLiteral(" serve");
#endif
    return QStringLiteral("headlens-cli serve");
}

int AppSettings::autosaveMinutes()
{
    return QSettings().value("autosave/minutes", 2).toInt();
}

void AppSettings::setAutosaveMinutes(int minutes)
{
    QSettings().setValue("autosave/minutes", minutes);
}

QString AppSettings::language()
{
    return QSettings().value("ui/language").toString();
}

void AppSettings::setLanguage(const QString &language)
{
    QSettings().setValue("ui/language", language);
}

QStringList AppSettings::recentFiles()
{
    return QSettings().value("recentFiles").toStringList();
}

void AppSettings::addRecentFile(const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList files = recentFiles();
    files.removeAll(absolute);
    files.prepend(absolute);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    QSettings().setValue("recentFiles", files);
}

void AppSettings::removeRecentFile(const QString &path)
{
    QStringList files = recentFiles();
    files.removeAll(QFileInfo(path).absoluteFilePath());
    QSettings().setValue("recentFiles", files);
}

void AppSettings::clearRecentFiles()
{
    QSettings().remove("recentFiles");
}

static QString tokenizerKey(const QString &modelPath)
{
    const QByteArray hash = QCryptographicHash::hash(
        QFileInfo(modelPath).absoluteFilePath().toUtf8(), QCryptographicHash::Sha1);
    return QStringLiteral("tokenizers/") + QString::fromLatin1(hash.toHex());
}

QString AppSettings::tokenizerFor(const QString &modelPath)
{
    return QSettings().value(tokenizerKey(modelPath)).toString();
}

void AppSettings::setTokenizerFor(const QString &modelPath, const QString &tokenizer)
{
    QSettings().setValue(tokenizerKey(modelPath), tokenizer);
}

QVariant AppSettings::value(const QString &key, const QVariant &fallback)
{
    return QSettings().value(key, fallback);
}

void AppSettings::setValue(const QString &key, const QVariant &value)
{
    QSettings().setValue(key, value);
}

} // namespace HeadLens
