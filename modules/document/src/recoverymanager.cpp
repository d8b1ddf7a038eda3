#include "headlens/document/recoverymanager.h"

#include "headlens/document/projectdocument.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QUndoStack>
#include <QUuid>

#include <algorithm>

#include <cerrno>
#include <csignal>
#include <unistd.h>

namespace HeadLens {

namespace {

QString lockPath(const QString &session)
{
    return QDir(RecoveryManager::folder()).filePath(session + QStringLiteral(".lock"));
}

constexpr const char *kScratchPrefix = "HeadLens-scratch-";

// Whether a process of this id runs on this machine (one we may not signal still runs).
bool processRuns(qint64 pid)
{
    return pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM);
}

} // namespace

QString RecoveryManager::scratchTemplate()
{
    return QDir(QDir::tempPath())
        .filePath(QString::fromLatin1(kScratchPrefix) + QString::number(::getpid()) +
                  QStringLiteral("-XXXXXX"));
}

int RecoveryManager::removeLeftovers()
{
    int removed = 0;
    // Scratch folders "HeadLens-scratch-<pid>-XXXXXX" of processes that are gone.
    QDir temp(QDir::tempPath());
    for (const QString &name :
         temp.entryList({QString::fromLatin1(kScratchPrefix) + QStringLiteral("*")},
                        QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QStringList parts = name.mid(int(qstrlen(kScratchPrefix))).split(QLatin1Char('-'));
        bool ok = false;
        const qint64 pid = parts.value(0).toLongLong(&ok);
        if (!ok || processRuns(pid)) continue;
        if (QDir(temp.filePath(name)).removeRecursively()) ++removed;
    }
    // Lock files of sessions that are not running and left no copy (those with a copy stay
    // until it is recovered or declined: pending() needs them to tell it is not in use).
    QDir dir(folder());
    for (const QString &name : dir.entryList({QStringLiteral("*.lock")}, QDir::Files)) {
        const QString session = QFileInfo(name).completeBaseName();
        bool hasCopy = false;
        for (const QString &note : dir.entryList({QStringLiteral("*.json")}, QDir::Files)) {
            QFile f(dir.filePath(note));
            if (f.open(QIODevice::ReadOnly) &&
                QJsonDocument::fromJson(f.readAll()).object().value("session").toString() ==
                    session)
                hasCopy = true;
        }
        if (hasCopy) continue;
        QLockFile lock(lockPath(session));
        lock.setStaleLockTime(0);
        if (!lock.tryLock(0)) continue; // that session still runs
        lock.unlock();                  // removes the file
        ++removed;
    }
    return removed;
}

RecoveryManager::RecoveryManager(QObject *parent)
    : QObject(parent), m_session(QUuid::createUuid().toString(QUuid::Id128))
{
    QDir().mkpath(folder());
    m_lock = std::make_unique<QLockFile>(lockPath(m_session));
    m_lock->setStaleLockTime(0); // held for the whole session; stale only when we are gone
    m_lock->tryLock(0);
    connect(&m_timer, &QTimer::timeout, this, &RecoveryManager::saveNow);
}

RecoveryManager::~RecoveryManager()
{
    for (auto &[doc, slot] : m_slots)
        dropFiles(slot);
    m_lock.reset(); // unlocks and removes the lock file
}

QString RecoveryManager::folder()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("recovery"));
}

void RecoveryManager::setInterval(int minutes)
{
    m_minutes = std::max(0, minutes);
    if (m_minutes == 0)
        m_timer.stop();
    else
        m_timer.start(m_minutes * 60 * 1000);
}

void RecoveryManager::addDocument(ProjectDocument *document)
{
    if (m_slots.count(document)) return;
    Slot &slot = m_slots[document];
    slot.document = document;
    const QString base = QStringLiteral("%1-%2").arg(m_session).arg(++m_counter);
    slot.file = QDir(folder()).filePath(base + QStringLiteral(".hlproj"));
    slot.note = QDir(folder()).filePath(base + QStringLiteral(".json"));
    connect(document, &QObject::destroyed, this, [this, document] {
        auto it = m_slots.find(document);
        if (it == m_slots.end()) return;
        dropFiles(it->second);
        m_slots.erase(it);
    });
    // A saved document is safe on disk: its copy is not needed any more.
    connect(document, &ProjectDocument::changed, this, [this, document](const ChangeEvent &e) {
        if (e.type != ChangeEvent::Type::Saved) return;
        auto it = m_slots.find(document);
        if (it != m_slots.end()) dropFiles(it->second);
    });
}

void RecoveryManager::removeDocument(ProjectDocument *document)
{
    auto it = m_slots.find(document);
    if (it == m_slots.end()) return;
    dropFiles(it->second);
    disconnect(document, nullptr, this, nullptr);
    m_slots.erase(it);
}

QString RecoveryManager::recoveryFileOf(ProjectDocument *document) const
{
    auto it = m_slots.find(document);
    if (it == m_slots.end() || !QFile::exists(it->second.file)) return QString();
    return it->second.file;
}

void RecoveryManager::saveNow()
{
    for (auto &[doc, slot] : m_slots)
        if (slot.document && slot.document->isModified()) writeCopy(slot);
}

void RecoveryManager::writeCopy(Slot &slot)
{
    const int revision = slot.document->undoStack()->index();
    if (revision == slot.revision && QFile::exists(slot.file)) return; // nothing new
    QString error;
    if (!slot.document->writeCopy(slot.file, &error)) return; // next time, maybe
    QJsonObject note{{"original", slot.document->fileName()},
                     {"title", slot.document->displayName()},
                     {"saved", QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
                     {"session", m_session}};
    QFile f(slot.note);
    if (f.open(QIODevice::WriteOnly | QIODevice::Truncate)) f.write(QJsonDocument(note).toJson());
    slot.revision = revision;
}

void RecoveryManager::dropFiles(Slot &slot)
{
    QFile::remove(slot.file);
    QFile::remove(slot.note);
    slot.revision = -1;
}

QList<RecoveryManager::Recovery> RecoveryManager::pending()
{
    QList<Recovery> out;
    QDir dir(folder());
    for (const QString &name : dir.entryList({QStringLiteral("*.json")}, QDir::Files)) {
        QFile f(dir.filePath(name));
        if (!f.open(QIODevice::ReadOnly)) continue;
        const QJsonObject note = QJsonDocument::fromJson(f.readAll()).object();
        const QString session = note.value("session").toString();
        if (session.isEmpty()) continue;
        QLockFile lock(lockPath(session));
        lock.setStaleLockTime(0);
        if (!lock.tryLock(0)) continue; // that session is still running
        lock.unlock();
        Recovery r;
        r.file = dir.filePath(QFileInfo(name).completeBaseName() + QStringLiteral(".hlproj"));
        if (!QFile::exists(r.file)) continue;
        r.originalFile = note.value("original").toString();
        r.title = note.value("title").toString();
        r.saved = QDateTime::fromString(note.value("saved").toString(), Qt::ISODate);
        out << r;
    }
    std::sort(out.begin(), out.end(),
              [](const Recovery &a, const Recovery &b) { return a.saved > b.saved; });
    return out;
}

void RecoveryManager::discard(const Recovery &recovery)
{
    QFile::remove(recovery.file);
    QFileInfo info(recovery.file);
    QFile::remove(info.dir().filePath(info.completeBaseName() + QStringLiteral(".json")));
}

} // namespace HeadLens
