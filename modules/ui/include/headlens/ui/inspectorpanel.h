#pragma once
// Everything about one block, (site, layer, pos): its token, the lens top-k with probability
// bars, the entropy, the model's own prediction at that position and the layer where it is
// decided; the block's iterative decoding (filled in by whoever runs the engine); and the
// requests to decompose, propagate or inject from it, which it only reports as signals.

#include "headlens/trace/trace.h"
#include "headlens/ui/viewpanel.h"

#include <QString>
#include <QWidget>

#include <map>
#include <vector>

class QComboBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace HeadLens {

class ProbabilityBars;

// One step of iterative decoding (TRACE.md): the token found, its probability, and the norm
// of what remained of the vector when it was found.
struct DecodeStepRow {
    int id = -1;
    QString text;
    double prob = 0;
    double norm = 0;
};

class InspectorPanel : public ViewPanel {
    Q_OBJECT
public:
    // What propagateRequested's kind means (TRACE.md "Propagate and inject").
    enum PropagateKind { Unchanged = 0, Subtract = 1, Inject = 2 };
    Q_ENUM(PropagateKind)

    struct TopEntry {
        int id = -1;
        QString text;
        double prob = 0;
    };

    explicit InspectorPanel(QWidget *parent = nullptr);
    ~InspectorPanel() override;

    // Tokens, vocabulary text, the model's own prediction (logits top-k) and, when the trace
    // holds its resid_post lens, the decision depth. Clears lens and selection.
    void setTrace(const Trace &trace);
    // The lens of the shown site, [layer, pos, k]; resid_post also gives the decision depth.
    void setLens(Site site, const LensSite &lens);
    // Decision depth per position, when the caller has it from elsewhere.
    void setDecisionDepth(const std::vector<int> &depth);
    void clear();

    void setSelection(int layer, int pos); // clears the decomposition; (-1, -1) clears
    int selectedLayer() const { return m_layer; }
    int selectedPos() const { return m_pos; }
    Site site() const { return m_site; }

    void setDecomposition(const std::vector<DecodeStepRow> &steps);
    void clearDecomposition();
    const std::vector<DecodeStepRow> &decomposition() const { return m_steps; }

    // Disables the engine actions (no engine, or busy), with the reason as their tooltip.
    void setActionsEnabled(bool enabled, const QString &reason = QString());

    // --- what is shown
    std::vector<TopEntry> topK() const;
    double entropy() const;           // NaN without a selection or lens
    int decisionDepth() const;        // -1 when unknown
    TopEntry modelPrediction() const; // id -1 when unknown

    void renderTo(QPainter &painter, const QSize &size) override;
    // layer,pos,site,rank,id,token,probability — the lens top-k of the selected block.
    QString csv() const override;
    // step,id,token,probability,norm
    QString decompositionCsv() const;

public Q_SLOTS:
    void retranslateUi() override;
    // Open the inline propagate form (kind Unchanged or Subtract) or the inject form.
    void showPropagateForm();
    void showInjectForm();

Q_SIGNALS:
    void decomposeRequested(HeadLens::Site site, int layer, int pos);
    // kind: PropagateKind; subtractCount for Subtract; injectText for Inject; generateN tokens
    // to generate after the edit.
    void propagateRequested(HeadLens::Site site, int layer, int pos, int kind, int subtractCount,
                            const QString &injectText, int generateN);

private:
    void refresh();
    void updateFormFields();
    void submitForm();
    QString idText(int id) const;

    // data
    std::vector<QString> m_tokenText;
    std::map<int, QString> m_vocab;
    int m_layers = 0;
    int m_nPrompt = 0;
    IntArray m_logitsIds; // [pos, k]
    FloatArray m_logitsProbs;
    Site m_site = Site::ResidPost;
    LensSite m_lens;
    std::vector<int> m_depth;
    int m_layer = -1, m_pos = -1;
    std::vector<DecodeStepRow> m_steps;
    bool m_actionsEnabled = true;
    QString m_actionsReason;

    // widgets
    QLabel *m_token = nullptr;
    QLabel *m_where = nullptr;
    QLabel *m_topkTitle = nullptr;
    ProbabilityBars *m_bars = nullptr;
    QFormLayout *m_facts = nullptr;
    QLabel *m_entropyLabel = nullptr, *m_entropy = nullptr;
    QLabel *m_modelLabel = nullptr, *m_model = nullptr;
    QLabel *m_depthLabel = nullptr, *m_depthValue = nullptr;
    QGroupBox *m_decodeBox = nullptr;
    QTreeWidget *m_decodeList = nullptr;
    QPushButton *m_decompose = nullptr;
    QPushButton *m_propagate = nullptr;
    QPushButton *m_inject = nullptr;
    QGroupBox *m_form = nullptr;
    QLabel *m_kindLabel = nullptr, *m_countLabel = nullptr, *m_textLabel = nullptr,
           *m_generateLabel = nullptr;
    QComboBox *m_kind = nullptr;
    QSpinBox *m_count = nullptr;
    QLineEdit *m_injectText = nullptr;
    QSpinBox *m_generate = nullptr;
    QPushButton *m_run = nullptr;
    QPushButton *m_cancel = nullptr;
    QLabel *m_empty = nullptr;
    QWidget *m_body = nullptr;
};

} // namespace HeadLens
