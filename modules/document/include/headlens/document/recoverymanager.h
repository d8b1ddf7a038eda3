#pragma once
// Crash recovery: every few minutes each modified document is written as a complete project
// into the application's data folder (AppDataLocation/recovery), with a small JSON note that
// says which file it belongs to. The files of a session are removed when a document is saved
// or closed and when the session ends normally; whatever a crashed session left behind is
// offered at the next start.

#include <QDateTime>
#include <QList>
#include <QLockFile>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <map>
#include <memory>

namespace HeadLens {

class ProjectDocument;

// Keeps recovery copies of the modified documents it was given.
class RecoveryManager : public QObject {
    Q_OBJECT
public:
    // One copy left behind by a session that did not end normally.
    struct Recovery {
        QString file;         // the recovery copy (a complete .hlproj)
        QString originalFile; // the document's file; empty when it was untitled
        QString title;        // what the window called it
        QDateTime saved;
    };

    explicit RecoveryManager(QObject *parent = nullptr);
    // Ends the session normally: removes this session's copies.
    ~RecoveryManager() override;

    // Copies are written every `minutes` minutes (0: never) for modified documents.
    void setInterval(int minutes);
    int interval() const { return m_minutes; }

    void addDocument(ProjectDocument *document);
    // Removes the document's copy (closed, or saved and so safe).
    void removeDocument(ProjectDocument *document);
    // Writes copies of every modified document now (what the timer does).
    void saveNow();
    // The copy written for a document, empty when none.
    QString recoveryFileOf(ProjectDocument *document) const;

    static QString folder();
    // Copies left by earlier sessions that are not running any more, newest first.
    static QList<Recovery> pending();
    // Removes a left-over copy (after it was recovered or declined).
    static void discard(const Recovery &recovery);
    // The template of a document's scratch folder in the temp folder, named with this process's
    // id so that the folders of a session that crashed can be told from those in use.
    static QString scratchTemplate();
    // Removes what sessions that did not end normally left and nothing uses: the lock files of
    // sessions no longer running, with no copy to offer, and the scratch folders of processes
    // that are gone. Returns how many it removed.
    static int removeLeftovers();

private:
    struct Slot {
        QPointer<ProjectDocument> document;
        QString file;
        QString note;
        int revision = -1; // the undo stack's index at the last copy
    };
    void writeCopy(Slot &slot);
    void dropFiles(Slot &slot);

    QString m_session;
    std::unique_ptr<QLockFile> m_lock;
    QTimer m_timer;
    int m_minutes = 0;
    std::map<ProjectDocument *, Slot> m_slots;
    int m_counter = 0;
};

} // namespace HeadLens
