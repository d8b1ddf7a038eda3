#include "comparisondock.h"

#include "headlens/document/projectdocument.h"
#include "headlens/ui/comparisonpanel.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace HeadLens {

namespace {
// The combo items carry "<index of document>\n<trace>".
QString key(int doc, const QString &trace)
{
    return QString::number(doc) + QLatin1Char('\n') + trace;
}
} // namespace

ComparisonDock::ComparisonDock(QWidget *parent)
    : QDockWidget(parent), m_leftLabel(new QLabel), m_rightLabel(new QLabel), m_left(new QComboBox),
      m_right(new QComboBox), m_panel(new ComparisonPanel)
{
    setObjectName("ComparisonDock");
    m_left->setObjectName("ComparisonLeft");
    m_right->setObjectName("ComparisonRight");
    for (QComboBox *box : {m_left, m_right}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(16);
        connect(box, &QComboBox::currentIndexChanged, this, [this] {
            if (!m_filling) update();
        });
    }
    connect(m_panel, &ComparisonPanel::blockSelected, this, [this](int side, int layer, int pos) {
        if (ProjectDocument *doc = documentOf(side))
            Q_EMIT blockSelected(doc, traceOf(side), layer, pos);
    });
    auto *row = new QHBoxLayout;
    row->addWidget(m_leftLabel);
    row->addWidget(m_left, 1);
    row->addSpacing(12);
    row->addWidget(m_rightLabel);
    row->addWidget(m_right, 1);
    auto *body = new QWidget;
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(row);
    layout->addWidget(m_panel, 1);
    setWidget(body);
    retranslateUi();
}

void ComparisonDock::retranslateUi()
{
    setWindowTitle(tr("Comparison"));
    m_leftLabel->setText(tr("&Left:"));
    m_leftLabel->setBuddy(m_left);
    m_rightLabel->setText(tr("&Right:"));
    m_rightLabel->setBuddy(m_right);
    m_left->setToolTip(tr("The first trace to compare (from any open project)"));
    m_right->setToolTip(tr("The second trace to compare (from any open project)"));
    refreshChoices();
}

void ComparisonDock::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QDockWidget::changeEvent(event);
}

void ComparisonDock::setDocuments(const QList<ProjectDocument *> &documents)
{
    for (const auto &d : std::as_const(m_documents))
        if (d) d->disconnect(this);
    m_documents.clear();
    for (ProjectDocument *d : documents) {
        m_documents << d;
        connect(d, &ProjectDocument::changed, this, [this](const ChangeEvent &e) {
            if (e.type == ChangeEvent::Type::TraceAdded ||
                e.type == ChangeEvent::Type::TraceRemoved ||
                e.type == ChangeEvent::Type::TraceRenamed ||
                e.type == ChangeEvent::Type::FileNameChanged)
                refreshChoices();
        });
    }
    refreshChoices();
}

void ComparisonDock::refreshChoices()
{
    const QString left = m_left->currentData().toString();
    const QString right = m_right->currentData().toString();
    m_filling = true;
    for (QComboBox *box : {m_left, m_right}) {
        box->clear();
        box->addItem(tr("(choose a trace)"), QString());
        for (int d = 0; d < m_documents.size(); ++d) {
            ProjectDocument *doc = m_documents[d];
            if (!doc) continue;
            for (const QString &t : doc->traceNames()) {
                const QString text = m_documents.size() > 1
                                         ? QStringLiteral("%1 ▸ %2").arg(doc->displayName(), t)
                                         : t;
                box->addItem(text, key(d, t));
            }
        }
    }
    const int l = m_left->findData(left), r = m_right->findData(right);
    m_left->setCurrentIndex(l < 0 ? 0 : l);
    m_right->setCurrentIndex(r < 0 ? 0 : r);
    m_filling = false;
    update();
}

ProjectDocument *ComparisonDock::documentOf(int side) const
{
    const QString k = (side == 0 ? m_left : m_right)->currentData().toString();
    if (k.isEmpty()) return nullptr;
    const int d = k.section(QLatin1Char('\n'), 0, 0).toInt();
    return d >= 0 && d < m_documents.size() ? m_documents[d].data() : nullptr;
}

QString ComparisonDock::traceOf(int side) const
{
    return (side == 0 ? m_left : m_right)->currentData().toString().section(QLatin1Char('\n'), 1);
}

bool ComparisonDock::compare(ProjectDocument *left, const QString &leftTrace,
                             ProjectDocument *right, const QString &rightTrace)
{
    const int l = m_left->findData(key(m_documents.indexOf(left), leftTrace));
    const int r = m_right->findData(key(m_documents.indexOf(right), rightTrace));
    if (l < 0 || r < 0) return false;
    m_filling = true;
    m_left->setCurrentIndex(l);
    m_right->setCurrentIndex(r);
    m_filling = false;
    update();
    return true;
}

void ComparisonDock::update()
{
    ProjectDocument *a = documentOf(0), *b = documentOf(1);
    if (!a || !b) {
        m_panel->clear();
        return;
    }
    try {
        const QString ta = traceOf(0), tb = traceOf(1);
        auto left = a->trace(ta);
        auto right = b->trace(tb);
        auto leftLens = a->lens(ta, Site::ResidPost);
        auto rightLens = b->lens(tb, Site::ResidPost);
        m_panel->setTraces(*left, *leftLens, *right, *rightLens, Site::ResidPost);
    } catch (const std::exception &e) {
        m_panel->clear();
        Q_EMIT message(tr("Cannot compare: %1").arg(QString::fromStdString(e.what())));
    }
}

} // namespace HeadLens
