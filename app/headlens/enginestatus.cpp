#include "enginestatus.h"

#include "appsettings.h"
#include "workbenchactions.h"

#include "headlens/document/engineclient.h"

#include <QAction>
#include <QTimer>

namespace HeadLens {

EngineStatus::EngineStatus(EngineClient *engine, WorkbenchActions *actions, QWidget *parent)
    : QLabel(parent), m_engine(engine), m_actions(actions)
{
    setObjectName("EngineStatus");
    connect(m_engine, &EngineClient::stateChanged, this, &EngineStatus::refresh);
    connect(m_engine, &EngineClient::ready, this, &EngineStatus::refresh);
    connect(m_engine, &EngineClient::engineStopped, this, &EngineStatus::refresh);
}

void EngineStatus::refresh()
{
    QString text;
    switch (m_engine->state()) {
    case EngineClient::State::NotRunning:
        text = tr("Engine: not running");
        break;
    case EngineClient::State::Starting:
        text = tr("Engine: starting…");
        break;
    case EngineClient::State::Running: {
        text = tr("Engine: ready (%n thread(s))", nullptr, m_engine->engineThreads());
        const QString model = m_engine->loadedModelInfo().value("name").toString();
        if (!model.isEmpty()) text += QStringLiteral(" · ") + model;
        break;
    }
    }
    setText(text);
    m_actions->setEngineStarted(m_engine->state() != EngineClient::State::NotRunning);
    m_actions->stopEngine->setEnabled(m_engine->isRunning());
}

void EngineStatus::retranslate()
{
    setToolTip(tr("The engine process that runs models"));
    refresh();
}

void EngineStatus::restart()
{
    m_engine->setCommand(AppSettings::engineCommand());
    if (m_engine->isRunning()) {
        m_engine->stop();
        QTimer::singleShot(300, this, [this] { m_engine->start(); });
    } else {
        m_engine->start();
    }
}

} // namespace HeadLens
