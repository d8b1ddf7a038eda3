#pragma once
// The Inspector dock: the selected block's top-k, decision depth and model prediction, and
// the engine requests made from it: iterative decoding (decompose) and a child trace of the
// block edited and propagated to the end of the model (propagate, inject).

#include "documentdock.h"

#include "headlens/document/enginejob.h"

#include <QPointer>

#include <functional>

namespace HeadLens {

class EngineClient;
class InspectorPanel;
enum class Site;

class InspectorDock : public DocumentDock {
    Q_OBJECT
public:
    InspectorDock(EngineClient *engine, QWidget *parent);

    InspectorPanel *panel() const { return m_panel; }
    // Iterative decoding of the selected block.
    void decomposeSelection();
    void decompose(Site site, int layer, int pos);
    void propagate(Site site, int layer, int pos, int kind, int subtractCount,
                   const QString &injectText, int generate);
    bool isBusy() const { return m_job; }

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void retranslateUi() override;

private:
    void showLens();
    void updateActions();
    // Runs a job: the inspector's actions wait for it, progress goes to the status bar, a
    // failure to error(); then `then`.
    using Finished = std::function<void(EngineJob::Result result, const QString &message)>;
    void run(EngineJob *job, const QString &progressPrefix, const Finished &then);

    QPointer<EngineClient> m_engine;
    InspectorPanel *m_panel;
    QPointer<EngineJob> m_job;
};

} // namespace HeadLens
