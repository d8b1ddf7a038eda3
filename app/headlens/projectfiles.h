#pragma once
// The workbench's project files on disk and the user's choices about them: opening (read in a
// child process first, so a file that crashes the HDF5 library cannot take the window with
// it), Save and Save As (with the file dialog), the question about unsaved changes, and the
// offer to recover projects of a session that crashed. The window keeps the open projects and
// their tabs; this class never holds a document.

#include <QMessageBox>
#include <QObject>

#include <functional>

class QWidget;

namespace HeadLens {

class ProjectDocument;

class ProjectFiles : public QObject {
    Q_OBJECT
public:
    // How a question is put to the user (the window's, replaceable in tests).
    using Ask = std::function<QMessageBox::StandardButton(const QString &title, const QString &text,
                                                          QMessageBox::StandardButtons buttons,
                                                          QMessageBox::StandardButton fallback)>;

    // window: the parent of dialogs, and of the documents opened.
    ProjectFiles(QWidget *window, Ask ask);

    // Opens the project at path; null (error() emitted with the file's name and why) when it
    // cannot be used.
    ProjectDocument *open(const QString &path);
    // The files the user picks in the Open dialog (remembering their folder).
    QStringList chooseToOpen();
    // Saves the document to its file (Save As when it has none). False when it was not saved:
    // error() says why, or the user cancelled the dialog.
    bool save(ProjectDocument *document);
    // Saves under path, or under a name chosen in the Save dialog when path is empty.
    bool saveAs(ProjectDocument *document, const QString &path = QString());
    // Asks whether to save unsaved changes of the document shown as `name`; false when the
    // user cancelled (or saving failed), true when the document may be closed.
    bool maybeSave(ProjectDocument *document, const QString &name);
    // Asks about projects a crashed session left unsaved; returns those the user recovered
    // (marked recovered, so they must still be saved). The others are discarded.
    QList<ProjectDocument *> offerRecovery();

Q_SIGNALS:
    // A sentence for the message bar.
    void error(const QString &text);
    // The document was written to fileName.
    void saved(const QString &fileName);

private:
    QWidget *m_window;
    Ask m_ask;
};

} // namespace HeadLens
