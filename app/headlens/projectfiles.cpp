#include "projectfiles.h"

#include "appsettings.h"
#include "projectcheck.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/recoverymanager.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLocale>

namespace HeadLens {

namespace {

bool isProjectFile(const QString &path)
{
    return path.endsWith(QStringLiteral(".hlproj"), Qt::CaseInsensitive);
}

// Runs f with the wait cursor shown.
template <typename F> auto busy(F &&f) -> decltype(f())
{
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    auto result = f();
    QGuiApplication::restoreOverrideCursor();
    return result;
}

} // namespace

ProjectFiles::ProjectFiles(QWidget *window, Ask ask)
    : QObject(window), m_window(window), m_ask(std::move(ask))
{
}

ProjectDocument *ProjectFiles::open(const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QString error;
    ProjectDocument *doc = busy([&]() -> ProjectDocument * {
        // A damaged file can crash libhdf5: read it in a child process first, so that it
        // cannot take the open projects with it.
        const ProjectCheck check = checkProjectInChild(absolute);
        if (!check.ok) {
            error = check.problem;
            return nullptr;
        }
        return ProjectDocument::open(absolute, &error, m_window);
    });
    if (!doc) {
        Q_EMIT this->error(tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), error));
        return nullptr;
    }
    AppSettings::addRecentFile(absolute);
    return doc;
}

QStringList ProjectFiles::chooseToOpen()
{
    const QStringList files = QFileDialog::getOpenFileNames(
        m_window, tr("Open Project"), AppSettings::value("lastFolder").toString(),
        tr("HeadLens projects (*.hlproj);;All files (*)"));
    if (!files.isEmpty())
        AppSettings::setValue("lastFolder", QFileInfo(files.last()).absolutePath());
    return files;
}

bool ProjectFiles::save(ProjectDocument *document)
{
    if (!document) return false;
    if (document->fileName().isEmpty()) return saveAs(document);
    QString error;
    if (!busy([&] { return document->save(&error); })) {
        Q_EMIT this->error(tr("Could not save %1: %2").arg(document->displayName(), error));
        return false;
    }
    AppSettings::addRecentFile(document->fileName());
    Q_EMIT saved(document->fileName());
    return true;
}

bool ProjectFiles::saveAs(ProjectDocument *document, const QString &path)
{
    if (!document) return false;
    QString target = path;
    if (target.isEmpty()) {
        const QString start = document->fileName().isEmpty()
                                  ? AppSettings::value("lastFolder").toString()
                                  : document->fileName();
        target = QFileDialog::getSaveFileName(m_window, tr("Save Project As"), start,
                                              tr("HeadLens projects (*.hlproj)"));
        if (target.isEmpty()) return false;
    }
    if (!isProjectFile(target)) target += QStringLiteral(".hlproj");
    QString error;
    if (!busy([&] { return document->saveAs(target, &error); })) {
        Q_EMIT this->error(tr("Could not save %1: %2").arg(QFileInfo(target).fileName(), error));
        return false;
    }
    AppSettings::setValue("lastFolder", QFileInfo(target).absolutePath());
    AppSettings::addRecentFile(document->fileName());
    Q_EMIT saved(document->fileName());
    return true;
}

bool ProjectFiles::maybeSave(ProjectDocument *document, const QString &name)
{
    if (!document->isModified()) return true;
    const auto answer =
        m_ask(tr("Unsaved changes"),
              tr("The project %1 has changes that are not saved. Save them?").arg(name),
              QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Save) return save(document);
    return answer == QMessageBox::Discard;
}

QList<ProjectDocument *> ProjectFiles::offerRecovery()
{
    QList<ProjectDocument *> recovered;
    const auto pending = RecoveryManager::pending();
    if (pending.isEmpty()) return recovered;
    QStringList lines;
    for (const auto &r : pending)
        lines << QStringLiteral("<li>%1 (%2)</li>")
                     .arg((r.originalFile.isEmpty() ? r.title : r.originalFile).toHtmlEscaped(),
                          QLocale().toString(r.saved.toLocalTime(), QLocale::ShortFormat));
    const auto answer =
        m_ask(tr("Recover unsaved projects"),
              tr("HeadLens did not close normally last time. These projects had unsaved changes:"
                 "<ul>%1</ul>Open the recovered versions? (No discards them.)")
                  .arg(lines.join(QString())),
              QMessageBox::Yes | QMessageBox::No | QMessageBox::Cancel, QMessageBox::Yes);
    if (answer == QMessageBox::Cancel) return recovered; // ask again next time
    for (const auto &r : pending) {
        if (answer == QMessageBox::Yes) {
            QString error;
            ProjectDocument *doc = ProjectDocument::open(r.file, &error, m_window);
            if (!doc) {
                Q_EMIT this->error(tr("Could not recover %1: %2").arg(r.title, error));
                continue;
            }
            doc->markRecovered(r.originalFile);
            recovered << doc;
        }
        RecoveryManager::discard(r);
    }
    return recovered;
}

} // namespace HeadLens
