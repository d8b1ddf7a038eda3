#include "headlens/document/headrolesjob.h"

#include "headlens/document/engineclient.h"

#include <QJsonArray>

#include <limits>

namespace HeadLens {

HeadRolesJob::HeadRolesJob(EngineClient *engine, HeadRolesRequest request, QObject *parent)
    : RequestJob(engine, std::move(request), parent)
{
}

QString HeadRolesJob::failureText(const QString &message) const
{
    return tr("The engine could not measure the head roles: %1").arg(message);
}

void HeadRolesJob::run()
{
    QJsonObject fields{{"sequences", m_request.sequences}, {"seed", m_request.seed}};
    if (m_request.length > 0) fields.insert("length", m_request.length);
    Q_EMIT progress(tr("Measuring the head roles…"), 0, 0);
    EngineRequest *r = engine()->send(QStringLiteral("head_roles"), fields);
    watch(r);
    connect(r, &EngineRequest::succeeded, this, [this](const QJsonObject &result) {
        QString error;
        if (!fromJson(result, &m_roles, &error)) {
            done(Result::Failed, failureText(error));
            return;
        }
        done(Result::Succeeded, QString());
    });
}

bool HeadRolesJob::fromJson(const QJsonObject &o, HeadRoles *out, QString *error)
{
    HeadRoles r;
    r.nLayers = o.value("n_layers").toInt();
    r.nHeads = o.value("n_heads").toInt();
    if (r.nLayers <= 0 || r.nHeads <= 0 || r.nLayers > 100000 || r.nHeads > 100000) {
        *error = tr("the answer names no layers or no heads");
        return false;
    }
    const std::vector<int64_t> shape{r.nLayers, r.nHeads};
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (auto &a : r.score)
        a.reset(shape, nan);
    r.meanDistance.reset(shape, nan);
    auto number = [nan](const QJsonValue &v) { return v.isDouble() ? v.toDouble() : nan; };
    const QJsonArray heads = o.value("heads").toArray();
    if (heads.size() != qsizetype(r.nLayers) * r.nHeads) {
        *error = tr("the answer has %1 heads, not %2 x %3")
                     .arg(heads.size())
                     .arg(r.nLayers)
                     .arg(r.nHeads);
        return false;
    }
    for (const QJsonValue &v : heads) {
        const QJsonObject h = v.toObject();
        const int l = h.value("layer").toInt(-1), k = h.value("head").toInt(-1);
        if (l < 0 || l >= r.nLayers || k < 0 || k >= r.nHeads) {
            *error = tr("the answer has a head outside the model");
            return false;
        }
        const size_t i = size_t(l) * size_t(r.nHeads) + size_t(k);
        for (HeadRole role : allHeadRoles())
            r.score[size_t(role)].data[i] = number(h.value(QLatin1String(headRoleName(role))));
        r.meanDistance.data[i] = number(h.value("mean_distance"));
    }
    r.nQueries = qint64(o.value("n_queries").toDouble());
    r.nRepeatQueries = qint64(o.value("n_repeat_queries").toDouble());
    r.sequenceLength = o.value("sequence_length").toInt();
    r.sequences = o.value("sequences").toInt();
    r.seed = qint64(o.value("seed").toDouble());
    r.modelFingerprint = o.value("model_fingerprint").toString().toStdString();
    const QJsonArray seqs = o.value("tokens").toArray();
    const qsizetype perSequence = seqs.isEmpty() ? 0 : seqs.first().toArray().size();
    if (perSequence > 0) {
        r.tokens.reset({int64_t(seqs.size()), int64_t(perSequence)}, 0);
        size_t i = 0;
        for (const QJsonValue &s : seqs) {
            const QJsonArray ids = s.toArray();
            if (ids.size() != perSequence) {
                *error = tr("the answer's probe sequences differ in length");
                return false;
            }
            for (const QJsonValue &id : ids)
                r.tokens.data[i++] = int32_t(id.toInt());
        }
    }
    *out = std::move(r);
    return true;
}

} // namespace HeadLens
