#include "headsimilaritydock.h"

#include "headlens/document/changeevent.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/headsimilaritypanel.h"

#include <QPointer>

namespace HeadLens {

HeadSimilarityDock::HeadSimilarityDock(QWidget *parent) : PanelDock("HeadSimilarityDock", parent)
{
    followHeadPicks();
    // Its tab chosen: compute what it shows now (it computes nothing while behind another tab).
    connect(this, &QDockWidget::visibilityChanged, m_panel, [this](bool visible) {
        if (visible) m_panel->ensureComputed();
    });
    retranslateUi();
}

void HeadSimilarityDock::retranslateUi()
{
    setTitles(tr("Similarity"), tr("Head Similarity"));
}

void HeadSimilarityDock::refresh()
{
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) {
        m_panel->clear();
        return;
    }
    // The shown trace first; the panel reads the others only for the project scope.
    QStringList names{v->trace()};
    for (const QString &n : document()->traceNames())
        if (n != v->trace()) names << n;
    std::vector<HeadSimilaritySource> sources;
    const QPointer<ProjectDocument> doc = document();
    for (const QString &name : names) {
        HeadSimilaritySource s;
        s.name = name;
        s.trace = [doc, name]() -> std::shared_ptr<const Trace> {
            return doc ? doc->trace(name) : nullptr;
        };
        s.pattern = [doc, name](int layer) -> std::shared_ptr<const FloatArray> {
            return doc ? doc->attention(name, layer) : nullptr;
        };
        sources.push_back(std::move(s));
    }
    m_panel->setTraces(sources);
    if (v->layer() >= 0) m_panel->setLayer(v->layer());
    m_panel->setSelectedHead(v->head());
}

void HeadSimilarityDock::viewChanged(int aspects)
{
    if (aspects & ViewState::TraceAspect) {
        refresh();
        return;
    }
    if ((aspects & ViewState::BlockAspect) && view()->layer() >= 0)
        m_panel->setLayer(view()->layer());
    if (aspects & ViewState::HeadAspect) m_panel->setSelectedHead(view()->head());
}

void HeadSimilarityDock::documentChanged(const ChangeEvent &event)
{
    // The project scope's list of traces (an added trace also becomes the shown one).
    if (event.type == ChangeEvent::Type::TraceRemoved ||
        event.type == ChangeEvent::Type::TraceRenamed)
        refresh();
}

} // namespace HeadLens
