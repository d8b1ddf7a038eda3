#pragma once
// A dock whose whole body is one ui panel: it makes the panel, names the dock (the name keys
// the window state QMainWindow saves), and gives the panel's common wiring once: a head picked
// in the panel becomes the view's head, and a view that shows no trace clears the panel.
// Base is DocumentDock, or EngineDock for a dock that also sends engine requests.

#include "documentdock.h"

#include <memory>
#include <utility>

namespace HeadLens {

template <class Panel, class Base = DocumentDock> class PanelDock : public Base {
public:
    Panel *panel() const { return m_panel; }

protected:
    // `name` names the dock (the panels name themselves); `baseArgs` go to Base's constructor.
    template <class... BaseArgs>
    explicit PanelDock(const char *name, BaseArgs &&...baseArgs)
        : Base(std::forward<BaseArgs>(baseArgs)...), m_panel(new Panel)
    {
        this->setObjectName(name);
        this->setWidget(m_panel);
    }

    // The panel's headSelected(layer, head) picks the head of the selected block's layer.
    void followHeadPicks()
    {
        QObject::connect(m_panel, &Panel::headSelected, this,
                         [this](int, int head) { this->pickHead(head); });
    }

    // Gives the panel the shown trace; false, the panel cleared, when none is shown.
    bool showTraceInPanel() const
    {
        const auto trace = this->shownTrace();
        if (!trace) {
            m_panel->clear();
            return false;
        }
        m_panel->setTrace(*trace);
        return true;
    }

    Panel *const m_panel;
};

} // namespace HeadLens
