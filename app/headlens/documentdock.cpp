#include "documentdock.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"

#include <QAction>
#include <QEvent>

namespace HeadLens {

DocumentDock::DocumentDock(QWidget *parent) : QDockWidget(parent) {}

ViewState *DocumentDock::view() const
{
    return m_document ? m_document->view() : nullptr;
}

std::shared_ptr<const Trace> DocumentDock::shownTrace() const
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) return nullptr;
    try {
        return m_document->trace(v->trace());
    } catch (const std::exception &) {
        return nullptr;
    }
}

void DocumentDock::pickHead(int head)
{
    if (ViewState *v = view()) v->setHead(head);
}

void DocumentDock::setDocument(ProjectDocument *document)
{
    if (m_document == document) return;
    if (m_document) {
        m_document->disconnect(this);
        m_document->view()->disconnect(this);
    }
    m_document = document;
    if (m_document) {
        connect(m_document->view(), &ViewState::changed, this,
                [this](ViewState::Aspects what) { viewChanged(int(what)); });
        connect(m_document, &ProjectDocument::changed, this, &DocumentDock::documentChanged);
    }
    refresh();
}

void DocumentDock::setTitles(const QString &shortTitle, const QString &fullTitle)
{
    setWindowTitle(shortTitle); // also names the View menu's action: name it again below
    toggleViewAction()->setText(fullTitle);
}

void DocumentDock::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QDockWidget::changeEvent(event);
}

} // namespace HeadLens
