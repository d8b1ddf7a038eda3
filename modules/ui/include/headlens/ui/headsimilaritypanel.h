#pragma once
// The head-similarity dock (issue 8): HeadSimilarityView with a layer selector, the kind of
// similarity (pattern JSD, pattern correlation, contribution cosine), the scope (the shown
// trace or every trace of the project) and the cluster threshold. The matrices come from
// HeadSimilarityBuilder, one layer at a time and off the GUI thread when the layer is large,
// so the numbers are the ones `headlens-cli heads --similarity` writes. Nothing here reads a
// file: the sources are callbacks the application fills in (from a ProjectDocument).

#include "headlens/analysis/redundancy.h"
#include "headlens/trace/trace.h"
#include "headlens/ui/viewpanel.h"

#include <QWidget>

#include <functional>
#include <map>
#include <memory>
#include <vector>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
template <typename T> class QFutureWatcher;

namespace HeadLens {

class HeadSimilarityView;

// What the panel needs of one trace. Both callbacks are called on the GUI thread only, when
// a layer is shown. pattern may return null (the trace stores no attention).
struct HeadSimilaritySource {
    QString name;
    // Name, layer/head/token counts and heads/contrib_similarity (may be empty).
    std::function<std::shared_ptr<const Trace>()> trace;
    // [H, T, T] attention of one layer, or null.
    std::function<std::shared_ptr<const FloatArray>(int layer)> pattern;
};

// The heatmap with its controls and a status line; follows the rest of the workbench through
// setLayer / setSelectedHead and reports clicks as headSelected(layer, head).
class HeadSimilarityPanel : public ViewPanel {
    Q_OBJECT
public:
    enum class Scope { Trace, Project };
    Q_ENUM(Scope)

    explicit HeadSimilarityPanel(QWidget *parent = nullptr);
    ~HeadSimilarityPanel() override;

    // The first source is the shown trace; the others are used in Project scope (those with
    // another layer/head count or without attention are left out). Keeps layer, kind, scope
    // and threshold where they still apply; forgets computed results.
    void setTraces(const std::vector<HeadSimilaritySource> &traces);
    // One trace held in memory (its attentionPattern, copied).
    void setTrace(const Trace &trace);
    void clear();

    void setLayer(int layer);
    int layer() const { return m_layer; }
    int layerCount() const { return m_nLayers; }
    void setKind(SimilarityKind kind);
    SimilarityKind kind() const { return m_kind; }
    // Whether every trace in scope brings a contribution similarity.
    bool hasContribution() const;
    void setScope(Scope scope);
    Scope scope() const { return m_scope; }
    void setThreshold(double threshold);
    double threshold() const { return m_threshold; }
    // The highlighted head (-1: none); emits nothing.
    void setSelectedHead(int head);

    // Computes the shown layer if it is not known yet. Small layers are computed at once,
    // large ones on a worker thread (isComputing() until done) unless wait is true. Called by
    // showEvent; setters call it only while the panel is visible.
    void ensureComputed(bool wait = false);
    bool isComputing() const;

    HeadSimilarityView *view() const { return m_view; }
    // What the shown matrix covers (the status line says the cell under the mouse instead).
    QString statusText() const;

    void renderTo(QPainter &painter, const QSize &size) override;
    QString csv() const override;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    void headSelected(int layer, int head);
    // A layer's matrices are known (computed now or taken from the cache).
    void computed(int layer);

protected:
    void showEvent(QShowEvent *event) override;

public:
    // One layer's similarities over the traces in scope (public for the worker function).
    struct LayerResult {
        DoubleArray matrix[3]; // per SimilarityKind, [H, H]; contribution may be empty
        int nTraces = 0;
        int64_t nQueries = 0;
        QString error;
    };

private:
    QString kindTitle(SimilarityKind k) const;
    QString titleText() const;
    std::vector<int> sourcesInScope() const;
    void showLayer();
    void showLayerLater();
    void showResult();
    void finishJob();
    void updateKinds();
    void updateTexts();
    void hover(int a, int b);

    std::vector<HeadSimilaritySource> m_sources;
    mutable std::vector<std::shared_ptr<const Trace>> m_traces; // [source], read on demand
    int m_nLayers = 0, m_nHeads = 0;
    int m_layer = 0;
    int m_head = -1;
    SimilarityKind m_kind = SimilarityKind::Jsd;
    Scope m_scope = Scope::Trace;
    double m_threshold = 0.9;
    std::map<std::pair<int, int>, LayerResult> m_cache; // (scope, layer)
    int m_generation = 0;
    int m_jobGeneration = -1;
    std::pair<int, int> m_jobKey{-1, -1};
    QFutureWatcher<LayerResult> *m_watcher = nullptr;
    QString m_hoverText;
    int m_nLeftOut = 0;

    QLabel *m_layerLabel = nullptr;
    QSpinBox *m_layerBox = nullptr;
    QLabel *m_kindLabel = nullptr;
    QComboBox *m_kindBox = nullptr;
    QLabel *m_scopeLabel = nullptr;
    QComboBox *m_scopeBox = nullptr;
    QLabel *m_thresholdLabel = nullptr;
    QDoubleSpinBox *m_thresholdBox = nullptr;
    HeadSimilarityView *m_view = nullptr;
    QLabel *m_status = nullptr;
    bool m_updating = false;
    bool m_showPending = false; // showLayerLater() has a check queued
};

} // namespace HeadLens
