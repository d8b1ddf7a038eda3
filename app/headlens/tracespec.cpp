#include "tracespec.h"

#include "appsettings.h"

#include "headlens/document/engineclient.h"
#include "headlens/trace/trace.h"

#include <QDir>
#include <QFileInfo>

namespace HeadLens {

TraceSpec specForTrace(const Trace &t, const EngineClient &engine)
{
    TraceSpec spec;
    spec.model = QString::fromStdString(t.modelPath);
    spec.tokenizer = engine.loadedModel() == spec.model ? engine.loadedTokenizer()
                                                        : AppSettings::tokenizerFor(spec.model);
    if (spec.tokenizer.isEmpty() && QFileInfo(spec.model).isFile()) {
        // A llama2.c checkpoint needs its tokenizer; the trace does not record it. One
        // tokenizer file beside the checkpoint is the one (as llama2.c's own layout has it).
        const QDir dir = QFileInfo(spec.model).dir();
        const QStringList candidates =
            dir.entryList({"tokenizer.bin", "tok*.bin"}, QDir::Files, QDir::Name);
        if (candidates.size() == 1) spec.tokenizer = dir.filePath(candidates.first());
    }
    spec.dtype = QString::fromStdString(t.computeDtype);
    spec.topk = t.topk;
    spec.lensNorm = QString::fromLatin1(lensNormName(t.lensNorm));
    spec.lensDecoder = QString::fromLatin1(lensDecoderName(t.lensDecoder));
    spec.lensFile = QString::fromStdString(t.tunedLensPath);
    spec.attention = QString::fromLatin1(storeTypeName(t.attentionStore));
    spec.residuals = QString::fromLatin1(storeTypeName(t.residualStore));
    spec.storeZ = t.zStore != StoreType::None;
    return spec;
}

} // namespace HeadLens
