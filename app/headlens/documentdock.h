#pragma once
// The base of the docks that show the current project: setDocument() attaches the dock to a
// project's ViewState and change events, and the dock shows what they say. A dock keeps no
// copy of the selection; it reads it from the ViewState.

#include <QDockWidget>
#include <QPointer>

#include <memory>

namespace HeadLens {

class ProjectDocument;
class ViewState;
struct Trace;
struct ChangeEvent;

class DocumentDock : public QDockWidget {
    Q_OBJECT
public:
    void setDocument(ProjectDocument *document);
    ProjectDocument *document() const { return m_document; }

Q_SIGNALS:
    // Something the user should read (a file that cannot deliver data, a failed request).
    void error(const QString &text);
    // A passing note for the status bar.
    void status(const QString &text, int timeoutMs);

protected:
    explicit DocumentDock(QWidget *parent);

    ViewState *view() const;
    // The trace the view state shows, or null when it shows none or the file cannot deliver it
    // (the block view says what is wrong with it, so the docks just clear).
    std::shared_ptr<const Trace> shownTrace() const;
    // Selects `head` of the selected block's layer (no document: nothing).
    void pickHead(int head);
    // The document changed (also to none): show everything again.
    virtual void refresh() = 0;
    // Aspects of the view state changed (ViewState::Aspects).
    virtual void viewChanged(int aspects) = 0;
    // The document's traces or files changed.
    virtual void documentChanged(const ChangeEvent &) {}
    void changeEvent(QEvent *event) override;
    virtual void retranslateUi() = 0;
    // A short title for the dock's tab and title bar (the four head docks share one row of
    // tabs, which a 1280-pixel window gives about 80 pixels a tab), and the full name for the
    // View menu.
    void setTitles(const QString &shortTitle, const QString &fullTitle);

private:
    QPointer<ProjectDocument> m_document;
};

} // namespace HeadLens
