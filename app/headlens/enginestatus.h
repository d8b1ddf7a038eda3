#pragma once
// The status bar's engine label: whether the engine process runs, its threads and the model it
// has loaded, kept up to date from the EngineClient, with the Engine menu's actions enabled to
// match; and restarting the engine with the command the settings give.

#include <QLabel>

namespace HeadLens {

class EngineClient;
class WorkbenchActions;

class EngineStatus : public QLabel {
    Q_OBJECT
public:
    EngineStatus(EngineClient *engine, WorkbenchActions *actions, QWidget *parent = nullptr);

    void refresh();
    void retranslate();
    // Starts the engine anew with the settings' command (a running one is stopped first).
    void restart();

private:
    EngineClient *m_engine;
    WorkbenchActions *m_actions;
};

} // namespace HeadLens
