#include "inspectordock.h"

#include "tracespec.h"

#include "headlens/document/decomposejob.h"
#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/tracejob.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/inspectorpanel.h"

#include <QJsonArray>

namespace HeadLens {

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

InspectorDock::InspectorDock(EngineClient *engine, QWidget *parent)
    : PanelDock("InspectorDock", engine, parent)
{
    connect(m_panel, &InspectorPanel::decomposeRequested, this, &InspectorDock::decompose);
    connect(m_panel, &InspectorPanel::propagateRequested, this, &InspectorDock::propagate);
    retranslateUi();
}

void InspectorDock::retranslateUi()
{
    setWindowTitle(tr("Inspector"));
    updateActions();
}

void InspectorDock::refresh()
{
    if (!showTraceInPanel()) return;
    showLens();
}

void InspectorDock::showLens()
{
    const ViewState *v = view();
    try {
        m_panel->setLens(v->site(), *document()->lens(v->trace(), v->site()));
        m_panel->setSelection(v->layer(), v->pos());
    } catch (const std::exception &) {
        m_panel->clear();
    }
}

void InspectorDock::viewChanged(int aspects)
{
    if (aspects & ViewState::TraceAspect)
        refresh();
    else if (aspects & ViewState::SiteAspect)
        showLens();
    else if (aspects & ViewState::BlockAspect)
        m_panel->setSelection(view()->layer(), view()->pos());
}

void InspectorDock::updateActions()
{
    if (isBusy())
        m_panel->setActionsEnabled(false, tr("The engine is busy with the last request."));
    else
        m_panel->setActionsEnabled(true);
}

void InspectorDock::decomposeSelection()
{
    if (const ViewState *v = view(); v && v->hasBlock()) decompose(v->site(), v->layer(), v->pos());
}

void InspectorDock::decompose(Site site, int layer, int pos)
{
    const auto t = traceForRequest();
    if (!t) return;
    const QString traceName = view()->trace();
    const TraceSpec spec = specForTrace(*t, *engine());
    DecomposeRequest request;
    request.model = {spec.model, spec.tokenizer, spec.dtype};
    for (const TokenInfo &tok : t->tokens)
        request.tokenIds << tok.id;
    request.site = site;
    request.layer = layer;
    request.pos = pos;
    request.lensNorm = spec.lensNorm;
    request.lensDecoder = spec.lensDecoder;
    request.lensFile = spec.lensFile;
    auto *job = new DecomposeJob(engine(), request, this);
    const QPointer<ViewState> state = view();
    run(job, QString(),
        [this, job, state, traceName, site, layer, pos](EngineJob::Result result, const QString &) {
            if (result != EngineJob::Result::Succeeded || !state || state != view() ||
                state->trace() != traceName || state->layer() != layer || state->pos() != pos ||
                state->site() != site)
                return; // failed, or the user moved on
            std::vector<DecodeStepRow> rows;
            for (const DecomposeStep &s : job->steps())
                rows.push_back({s.id, s.text, s.prob, s.norm});
            m_panel->setDecomposition(rows);
        });
}

void InspectorDock::propagate(Site site, int layer, int pos, int kind, int subtractCount,
                              const QString &injectText, int generate)
{
    const auto t = traceForRequest();
    if (!t) return;
    ProjectDocument *doc = document();
    const QString parent = view()->trace();
    const QString kindName = QString::fromLatin1(editKindName(EditKind(std::clamp(kind, 0, 2))));
    TraceSpec spec = specForTrace(*t, *engine());
    spec.command = QStringLiteral("propagate");
    spec.generate = generate;
    spec.name = doc->uniqueTraceName(parent + QLatin1Char('-') + kindName);
    QJsonArray tokens;
    for (int i = 0; i <= pos && i < t->nTokens(); ++i) {
        const TokenInfo &tok = t->tokens[size_t(i)];
        tokens.append(QJsonObject{
            {"id", tok.id}, {"text", q(tok.text)}, {"begin", tok.begin}, {"end", tok.end}});
    }
    spec.extra = QJsonObject{{"parent", parent}, {"prompt", q(t->prompt)},
                             {"tokens", tokens}, {"site", QString::fromLatin1(siteName(site))},
                             {"layer", layer},   {"pos", pos},
                             {"kind", kindName}, {"subtract", subtractCount}};
    if (kind == InspectorPanel::Inject) spec.extra.insert("inject_text", injectText);

    run(new TraceJob(engine(), doc, spec, this), tr("Propagating: %1"),
        [this](EngineJob::Result result, const QString &message) {
            if (result == EngineJob::Result::Succeeded)
                Q_EMIT status(tr("Added trace %1").arg(message), 5000);
        });
}

} // namespace HeadLens
