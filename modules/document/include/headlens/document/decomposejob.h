#pragma once
// Iterative decoding of one block in the engine (its decompose request): the most likely
// token of the block's vector, that token's direction subtracted, again, `steps` times.

#include "headlens/document/enginejob.h"
#include "headlens/trace/trace.h"

#include <QList>
#include <QVector>

namespace HeadLens {

// One step of the decoding: the token taken, its probability, and the norm of the vector
// before that token was subtracted.
struct DecomposeStep {
    int id = -1;
    QString text;
    double prob = 0;
    double norm = 0;
};

// What to decompose: a block of a trace, under the trace's own lens.
struct DecomposeRequest {
    ModelSpec model;
    QList<int> tokenIds;
    Site site = Site::ResidPost;
    int layer = 0;
    int pos = 0;
    QString lensNorm = QStringLiteral("full");
    QString lensDecoder = QStringLiteral("output");
    QString lensFile; // the tuned lens file (lensDecoder tuned only)
    int steps = 10;
};

class DecomposeJob : public RequestJob<DecomposeRequest> {
    Q_OBJECT
public:
    DecomposeJob(EngineClient *engine, DecomposeRequest request, QObject *parent = nullptr);

    // The steps, after success.
    const QVector<DecomposeStep> &steps() const { return m_steps; }

protected:
    void run() override;
    QString failureText(const QString &message) const override;

private:
    QVector<DecomposeStep> m_steps;
};

} // namespace HeadLens
