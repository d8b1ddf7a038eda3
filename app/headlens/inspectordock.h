#pragma once
// The Inspector dock: the selected block's top-k, decision depth and model prediction, and
// the engine requests made from it: iterative decoding (decompose) and a child trace of the
// block edited and propagated to the end of the model (propagate, inject).

#include "enginedock.h"
#include "paneldock.h"

namespace HeadLens {

class InspectorPanel;
enum class Site;

class InspectorDock : public PanelDock<InspectorPanel, EngineDock> {
    Q_OBJECT
public:
    InspectorDock(EngineClient *engine, QWidget *parent);

    // Iterative decoding of the selected block.
    void decomposeSelection();
    void decompose(Site site, int layer, int pos);
    void propagate(Site site, int layer, int pos, int kind, int subtractCount,
                   const QString &injectText, int generate);

protected:
    void refresh() override;
    void viewChanged(int aspects) override;
    void retranslateUi() override;

private:
    void showLens();
    void updateActions() override;
};

} // namespace HeadLens
