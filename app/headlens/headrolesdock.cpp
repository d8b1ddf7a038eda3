#include "headrolesdock.h"

#include "tracespec.h"

#include "headlens/document/changeevent.h"
#include "headlens/document/engineclient.h"
#include "headlens/document/headrolesjob.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/headrolespanel.h"

namespace HeadLens {

namespace {

// Whether a trace was made by the model of `fingerprint` (traces of older files without a
// fingerprint: by a model of the same configuration).
bool sameModel(const Trace &t, const std::string &fingerprint, const ModelConfig &config)
{
    return t.modelFingerprint.empty() ? t.config == config : t.modelFingerprint == fingerprint;
}

} // namespace

HeadRolesDock::HeadRolesDock(EngineClient *engine, QWidget *parent)
    : PanelDock("HeadRolesDock", engine, parent)
{
    connect(m_panel, &HeadRolesPanel::headSelected, this, [this](int layer, int head) {
        ViewState *v = view();
        if (!v) return;
        // The head of another layer: select the block of that layer at the same position.
        if (layer != v->layer() && v->hasBlock()) v->setBlock(layer, v->pos());
        v->setHead(head);
    });
    connect(m_panel, &HeadRolesPanel::measureRequested, this, &HeadRolesDock::measure);
    retranslateUi();
}

void HeadRolesDock::retranslateUi()
{
    setTitles(tr("Roles"), tr("Head Roles"));
    updateActions();
}

void HeadRolesDock::updateActions()
{
    const ViewState *v = view();
    if (isBusy())
        m_panel->setMeasureEnabled(false, tr("The head roles are being measured."));
    else if (!v || v->trace().isEmpty())
        m_panel->setMeasureEnabled(false, tr("No trace is shown."));
    else if (!engine())
        m_panel->setMeasureEnabled(false, tr("There is no engine."));
    else
        m_panel->setMeasureEnabled(true);
}

void HeadRolesDock::refresh()
{
    updateActions();
    const ViewState *v = view();
    if (!v || v->trace().isEmpty()) {
        m_panel->clear();
        return;
    }
    const auto roles = document()->headRoles(v->trace());
    m_panel->setRoles(roles ? *roles : HeadRoles());
    m_panel->setSelectedHead(v->layer(), v->head());
}

void HeadRolesDock::viewChanged(int aspects)
{
    if (aspects & ViewState::TraceAspect) {
        refresh();
        return;
    }
    if (aspects & (ViewState::HeadAspect | ViewState::BlockAspect))
        m_panel->setSelectedHead(view()->layer(), view()->head());
}

void HeadRolesDock::documentChanged(const ChangeEvent &event)
{
    if (event.type == ChangeEvent::Type::ResultsChanged && view() && event.trace == view()->trace())
        refresh();
}

void HeadRolesDock::measure()
{
    const auto t = traceForRequest();
    if (!t) return;
    ProjectDocument *doc = document();
    const QString traceName = view()->trace();
    const TraceSpec spec = specForTrace(*t, *engine());
    HeadRolesRequest request;
    request.model = {spec.model, spec.tokenizer, spec.dtype};
    auto *job = new HeadRolesJob(engine(), request, this);
    const QPointer<ProjectDocument> target = doc;
    const std::string fingerprint = t->modelFingerprint;
    const ModelConfig config = t->config;
    const std::string modelName = doc->listing(traceName).modelName;
    run(job, QString(),
        [this, job, target, traceName, fingerprint, config, modelName](EngineJob::Result result,
                                                                       const QString &) {
            if (result != EngineJob::Result::Succeeded || !target || !target->hasTrace(traceName))
                return;
            const HeadRoles &roles = job->roles();
            if (!fingerprint.empty() && roles.modelFingerprint != fingerprint) {
                Q_EMIT error(tr("The model the engine loaded for %1 is not the one that made it "
                                "(the fingerprints differ); its head roles were not kept.")
                                 .arg(traceName));
                return;
            }
            // Every trace of the document made by the same model gets them.
            QStringList traces;
            for (const QString &name : target->traceNames()) {
                if (target->listing(name).modelName != modelName) continue; // read no more traces
                try {
                    if (name == traceName || sameModel(*target->trace(name), fingerprint, config))
                        traces << name;
                } catch (const std::exception &) {
                    // an unreadable trace keeps what it has
                }
            }
            QString problem;
            if (!target->setHeadRoles(traces, roles, &problem)) {
                Q_EMIT error(problem);
                return;
            }
            Q_EMIT status(tr("Head roles measured for %n trace(s)", nullptr, int(traces.size())),
                          5000);
        });
}

} // namespace HeadLens
