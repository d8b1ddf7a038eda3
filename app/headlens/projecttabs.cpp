#include "projecttabs.h"

#include "headlens/document/projectdocument.h"

namespace HeadLens {

ProjectTabs::ProjectTabs(QWidget *parent) : QTabBar(parent)
{
    setObjectName("ProjectTabs");
    setDocumentMode(true);
    setTabsClosable(true);
    setMovable(true);
    setExpanding(false);
    setElideMode(Qt::ElideMiddle);
    connect(this, &QTabBar::currentChanged, this,
            [this](int index) { Q_EMIT currentDocumentChanged(document(index)); });
    connect(this, &QTabBar::tabCloseRequested, this, [this](int index) {
        if (ProjectDocument *doc = document(index)) Q_EMIT closeRequested(doc);
    });
    connect(this, &QTabBar::tabMoved, this, [this](int from, int to) {
        const Project p = m_projects[size_t(from)];
        m_projects.erase(m_projects.begin() + from);
        m_projects.insert(m_projects.begin() + to, p);
    });
}

void ProjectTabs::add(ProjectDocument *document)
{
    Project p;
    p.document = document;
    if (document->fileName().isEmpty()) p.untitled = ++m_untitledCount;
    m_projects.push_back(p); // before addTab, whose currentChanged reads it for the first tab
    const int index = addTab(QString());
    updateText(document);
    setCurrentIndex(index);
}

void ProjectTabs::remove(ProjectDocument *document)
{
    const int index = indexOf(document);
    if (index < 0) return;
    m_projects.erase(m_projects.begin() + index); // before removeTab's currentChanged
    removeTab(index);
}

int ProjectTabs::indexOf(const ProjectDocument *document) const
{
    for (size_t i = 0; i < m_projects.size(); ++i)
        if (m_projects[i].document == document) return int(i);
    return -1;
}

ProjectDocument *ProjectTabs::document(int index) const
{
    return index >= 0 && index < int(m_projects.size()) ? m_projects[size_t(index)].document
                                                        : nullptr;
}

ProjectDocument *ProjectTabs::currentDocument() const
{
    return document(currentIndex());
}

void ProjectTabs::setCurrentDocument(ProjectDocument *document)
{
    const int index = indexOf(document);
    if (index >= 0) setCurrentIndex(index);
}

QList<ProjectDocument *> ProjectTabs::documents() const
{
    QList<ProjectDocument *> out;
    for (const Project &p : m_projects)
        out << p.document;
    return out;
}

QString ProjectTabs::projectName(const ProjectDocument *document) const
{
    const int index = indexOf(document);
    if (index < 0) return QString();
    const Project &p = m_projects[size_t(index)];
    const QString name = document->fileName().isEmpty() ? tr("Untitled %1").arg(p.untitled)
                                                        : document->displayName();
    // A recovered copy beside its original (opened too) must not read the same.
    return document->isRecovered() && document->isModified() ? tr("%1 (recovered)").arg(name)
                                                             : name;
}

void ProjectTabs::updateText(const ProjectDocument *document)
{
    const int index = indexOf(document);
    if (index < 0) return;
    QString name = projectName(document);
    if (document->isModified()) name += QStringLiteral(" •");
    setTabText(index, name);
    setTabToolTip(index,
                  document->fileName().isEmpty() ? tr("Not saved yet") : document->fileName());
}

void ProjectTabs::retranslate()
{
    setToolTip(tr("The open projects"));
    for (const Project &p : m_projects)
        updateText(p.document);
}

} // namespace HeadLens
