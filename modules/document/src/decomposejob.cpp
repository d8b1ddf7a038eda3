#include "headlens/document/decomposejob.h"

#include "headlens/document/engineclient.h"

#include <QJsonArray>
#include <QJsonObject>

namespace HeadLens {

DecomposeJob::DecomposeJob(EngineClient *engine, DecomposeRequest request, QObject *parent)
    : RequestJob(engine, std::move(request), parent)
{
}

QString DecomposeJob::failureText(const QString &message) const
{
    return tr("The engine could not decompose the block: %1").arg(message);
}

void DecomposeJob::run()
{
    QJsonArray ids;
    for (int id : m_request.tokenIds)
        ids.append(id);
    QJsonObject fields{{"token_ids", ids},
                       {"site", QString::fromLatin1(siteName(m_request.site))},
                       {"layer", m_request.layer},
                       {"pos", m_request.pos},
                       {"steps", m_request.steps}};
    insertLensFields(fields, m_request.lensNorm, m_request.lensDecoder, m_request.lensFile);
    Q_EMIT progress(
        tr("Decomposing layer %1, position %2…").arg(m_request.layer).arg(m_request.pos), 0, 0);
    EngineRequest *r = engine()->send(QStringLiteral("decompose"), fields);
    watch(r);
    connect(r, &EngineRequest::succeeded, this, [this](const QJsonObject &result) {
        m_steps.clear();
        for (const QJsonValue &v : result.value("steps").toArray()) {
            const QJsonObject o = v.toObject();
            m_steps.push_back({o.value("id").toInt(), o.value("text").toString(),
                               o.value("prob").toDouble(), o.value("norm").toDouble()});
        }
        done(Result::Succeeded, QString());
    });
}

} // namespace HeadLens
