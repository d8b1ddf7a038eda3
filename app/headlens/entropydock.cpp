#include "entropydock.h"

#include "headlens/document/changeevent.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/entropypanel.h"

#include <QCheckBox>
#include <QTimer>
#include <QVBoxLayout>

namespace HeadLens {

EntropyDock::EntropyDock(QWidget *parent)
    : DocumentDock(parent), m_panel(new EntropyPanel), m_all(new QCheckBox)
{
    setObjectName("EntropyDock");
    m_panel->setObjectName("EntropyPanel");
    m_all->setObjectName("EntropyAllTraces");
    connect(m_all, &QCheckBox::toggled, this, &EntropyDock::schedule);
    auto *body = new QWidget;
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 2, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_all);
    layout->addWidget(m_panel, 1);
    setWidget(body);
    connect(this, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible) fill(false);
    });
    connect(m_panel, &EntropyPanel::binSelected, this, &EntropyDock::blocksChosen);
    retranslateUi();
}

void EntropyDock::retranslateUi()
{
    setWindowTitle(tr("Entropy"));
    m_all->setText(tr("All traces of the project"));
    m_all->setToolTip(tr("Show the distributions of every trace of the project, not only "
                         "the one in the block view"));
}

void EntropyDock::refresh()
{
    schedule();
}

void EntropyDock::viewChanged(int aspects)
{
    if (aspects & (ViewState::TraceAspect | ViewState::SiteAspect)) schedule();
}

void EntropyDock::documentChanged(const ChangeEvent &event)
{
    if (m_all->isChecked() && (event.type == ChangeEvent::Type::TraceRemoved ||
                               event.type == ChangeEvent::Type::TraceRenamed))
        schedule();
}

void EntropyDock::schedule()
{
    m_dirty = true;
    QTimer::singleShot(0, this, [this] { fill(false); });
}

void EntropyDock::fill(bool force)
{
    if (!m_dirty || (!force && !isVisible())) return;
    m_dirty = false;
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) {
        m_panel->clear();
        return;
    }
    ++m_fills;
    try {
        // The shown trace first: a click on a bin selects its blocks in the block view.
        QStringList names{v->trace()};
        if (m_all->isChecked())
            for (const QString &n : document()->traceNames())
                if (n != v->trace()) names << n;
        std::vector<std::shared_ptr<const Trace>> traces;
        std::vector<std::shared_ptr<const LensSite>> lenses;
        std::vector<EntropySource> sources;
        for (const QString &n : names) {
            traces.push_back(document()->trace(n));
            lenses.push_back(document()->lens(n, v->site()));
        }
        for (size_t i = 0; i < traces.size(); ++i)
            sources.push_back(
                {traces[i].get(), lenses[i]->empty() ? nullptr : lenses[i].get(), names[int(i)]});
        m_panel->setTraces(sources);
    } catch (const std::exception &) {
        m_panel->clear(); // the block view says what is wrong with the trace
    }
}

} // namespace HeadLens
