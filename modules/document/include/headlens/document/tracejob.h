#pragma once
// Making a new trace through the engine (the request, and the job that runs it).

#include "headlens/document/enginejob.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

namespace HeadLens {

class ProjectDocument;

// What to trace and how (the fields of the engine's load and trace requests).
struct TraceSpec {
    QString model;     // Hugging Face folder or llama2.c checkpoint file
    QString tokenizer; // llama2.c: tokenizer.bin; may be empty for a folder
    QString dtype = QStringLiteral("f32");
    QString prompt; // used unless useTokenIds
    QList<int> tokenIds;
    bool useTokenIds = false;
    int generate = 0;
    int topk = 10;
    QString lensNorm = QStringLiteral("full");      // full | unit | none
    QString lensDecoder = QStringLiteral("output"); // output | input | linear | quadratic | tuned
    QString lensFile;                               // the tuned lens file (lensDecoder tuned only)
    QString attention = QStringLiteral("f16");      // none | f16 | f32
    QString residuals = QStringLiteral("none");     // none | f16 | f32
    bool storeZ = false;
    QString name; // the trace's name in the document; empty: the engine's
    // "trace"; "propagate" (a child trace of a parent: extra then holds parent, tokens,
    // prompt, site, layer, pos, kind, subtract / inject_text); or "patch" (the clean prompt
    // traced with its activation patching map: extra holds clean or clean_ids, corrupted,
    // answer, wrong, heads). See app/cli/PROTOCOL.md.
    QString command = QStringLiteral("trace");
    QJsonObject extra;

    // The fields of the request (without output and name).
    QJsonObject traceFields() const;
};

// One trace being made: the model loaded (EngineJob), the prompt traced into a scratch project
// of the document, the trace imported into the document with an AddTrace undo command.
class TraceJob : public EngineJob {
    Q_OBJECT
public:
    using Result = EngineJob::Result;

    TraceJob(EngineClient *engine, ProjectDocument *document, TraceSpec spec,
             QObject *parent = nullptr);

    // The name the trace got in the document (after success).
    QString traceName() const { return m_traceName; }
    const TraceSpec &spec() const { return m_spec; }

Q_SIGNALS:
    // Before a new trace is computed, what it will need and what the engine's machine has
    // (the engine's estimate request; bytes, free -1 when unknown). A trace that would not fit
    // fails instead, with the engine's figures.
    void estimated(qint64 memoryNeeded, qint64 memoryAvailable, qint64 diskNeeded, qint64 diskFree);

protected:
    ModelSpec model() const override;
    void run() override;
    QString failureText(const QString &message) const override;
    void cleanup(Result result) override;

private:
    void runEstimate();
    void sendTrace();

    QPointer<ProjectDocument> m_document;
    TraceSpec m_spec;
    QString m_output;
    QString m_traceName;
};

} // namespace HeadLens
