#pragma once
// Measuring what each head of a model selects, in the engine (its head_roles request): the
// engine's repeated random tokens, scored from the attention (headlens/trace/headroles.h).

#include "headlens/document/enginejob.h"
#include "headlens/trace/headroles.h"

#include <QJsonObject>

namespace HeadLens {

struct HeadRolesRequest {
    ModelSpec model;
    int length = 0;    // n of the probe's [BOS, r_1..r_n, r_1..r_n]; 0: the engine's default
    int sequences = 4; // random sequences averaged
    qint64 seed = 0;
};

class HeadRolesJob : public RequestJob<HeadRolesRequest> {
    Q_OBJECT
public:
    HeadRolesJob(EngineClient *engine, HeadRolesRequest request, QObject *parent = nullptr);

    // The roles, after success.
    const HeadRoles &roles() const { return m_roles; }

    // The roles in the engine's answer; false with *error set when it is not one.
    static bool fromJson(const QJsonObject &result, HeadRoles *roles, QString *error);

protected:
    void run() override;
    QString failureText(const QString &message) const override;

private:
    HeadRoles m_roles;
};

} // namespace HeadLens
