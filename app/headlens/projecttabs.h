#pragma once
// The open projects as tabs, as Kate's document tabs: each tab's document, its name ("Untitled
// N" until it has a file, "(recovered)" for an unsaved recovered copy, "•" while modified), the
// order the user drags the tabs into, and which project is current. The window reacts to
// currentDocumentChanged and decides what closing a tab means (closeRequested).

#include <QTabBar>

#include <vector>

namespace HeadLens {

class ProjectDocument;

class ProjectTabs : public QTabBar {
    Q_OBJECT
public:
    explicit ProjectTabs(QWidget *parent = nullptr);

    // Appends the document's tab and makes it current.
    void add(ProjectDocument *document);
    // Removes the document's tab (the document itself is the caller's).
    void remove(ProjectDocument *document);

    int indexOf(const ProjectDocument *document) const;
    ProjectDocument *document(int index) const; // null outside the tabs
    ProjectDocument *currentDocument() const;
    void setCurrentDocument(ProjectDocument *document);
    QList<ProjectDocument *> documents() const; // in tab order

    // The name the tab and the window title show (without the modified mark).
    QString projectName(const ProjectDocument *document) const;
    // Shows the document's name, modified mark and file anew (after a change of either).
    void updateText(const ProjectDocument *document);
    void retranslate();

Q_SIGNALS:
    void currentDocumentChanged(HeadLens::ProjectDocument *document); // null: no project
    void closeRequested(HeadLens::ProjectDocument *document);

private:
    struct Project {
        ProjectDocument *document = nullptr;
        int untitled = 0; // "Untitled N" while the project has no file
    };
    std::vector<Project> m_projects; // in tab order
    int m_untitledCount = 0;
};

} // namespace HeadLens
