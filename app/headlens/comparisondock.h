#pragma once
// The Comparison dock: choose two traces from any open project (two prompts, or two models)
// and see them side by side in the ComparisonPanel of modules/ui.

#include "headlens/document/projectdocument.h"

#include <QDockWidget>
#include <QList>
#include <QPointer>

class QComboBox;
class QLabel;

namespace HeadLens {

class ComparisonPanel;
class ProjectDocument;

class ComparisonDock : public QDockWidget {
    Q_OBJECT
public:
    explicit ComparisonDock(QWidget *parent = nullptr);

    // The projects whose traces can be compared (all open ones).
    void setDocuments(const QList<ProjectDocument *> &documents);
    // Chooses the two traces; false when one of them is not open.
    bool compare(ProjectDocument *left, const QString &leftTrace, ProjectDocument *right,
                 const QString &rightTrace);
    ComparisonPanel *panel() const { return m_panel; }
    QComboBox *leftBox() const { return m_left; }
    QComboBox *rightBox() const { return m_right; }

    // The trace shown on one side (side 0 left, 1 right).
    ProjectDocument *documentOf(int side) const;
    QString traceOf(int side) const;

public Q_SLOTS:
    void retranslateUi();
    void refreshChoices();

Q_SIGNALS:
    // A block of one side was clicked in the panel.
    void blockSelected(HeadLens::ProjectDocument *document, const QString &trace, int layer,
                       int pos);
    void message(const QString &text);

protected:
    void changeEvent(QEvent *event) override;

private:
    void update();

    QList<QPointer<ProjectDocument>> m_documents;
    QLabel *m_leftLabel;
    QLabel *m_rightLabel;
    QComboBox *m_left;
    QComboBox *m_right;
    ComparisonPanel *m_panel;
    bool m_filling = false;
};

} // namespace HeadLens
