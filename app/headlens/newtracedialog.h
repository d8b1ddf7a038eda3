#pragma once
// The New Trace dialog: a model (Hugging Face folder or llama2.c file with its tokenizer,
// remembered), a prompt or token ids, generation length and lens options. Tracing runs in the
// engine (TraceJob) while the dialog shows a progress bar and a Cancel button; the dialog is
// not modal, so the rest of the workbench stays usable. The new trace enters the project as
// one undoable step.

#include "headlens/document/projectdocument.h"
#include "tracejobdialog.h"

#include "headlens/document/tracejob.h"

#include <QDialog>
#include <QPointer>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QToolButton;

namespace HeadLens {

class EngineClient;
class ProjectDocument;

class NewTraceDialog : public TraceJobDialog {
    Q_OBJECT
public:
    NewTraceDialog(EngineClient *engine, ProjectDocument *document, QWidget *parent = nullptr);

    // The request the form describes.
    TraceSpec spec() const;
    // Fills the form (tests, and "trace again with these settings").
    void setSpec(const TraceSpec &spec);
    // Why the form cannot be traced as it is ("" when it can).
    QString problem() const;

    QLabel *estimateLabel() const { return m_estimate; }
    QPushButton *traceButton() const { return m_traceButton; }
    QPushButton *cancelButton() const { return m_cancelButton; }

public Q_SLOTS:
    // Starts tracing (like the Trace button); false when the form has a problem.
    bool startTrace();
    // Stops a running trace, or closes the dialog when none runs.
    void cancel();
    void retranslateUi();

protected:
    void changeEvent(QEvent *event) override;
    void setRunning(bool running) override;

private:
    void browseFolder();
    // A file chosen in a file dialog (starting beside edit's file) goes into edit.
    void browseFile(QLineEdit *edit, const QString &title, const QString &filter);
    void updateForm();
    void showEstimate(qint64 memoryNeeded, qint64 memoryAvailable, qint64 diskNeeded,
                      qint64 diskFree);
    void remember() const;
    void recall();

    QLabel *m_intro;
    QLabel *m_modelLabel, *m_tokenizerLabel, *m_inputLabel, *m_generateLabel, *m_topkLabel,
        *m_normLabel, *m_decoderLabel, *m_attentionLabel, *m_residualLabel, *m_nameLabel,
        *m_dtypeLabel;
    QLineEdit *m_model;
    QToolButton *m_modelFolder;
    QToolButton *m_modelFile;
    QLineEdit *m_tokenizer;
    QToolButton *m_tokenizerBrowse;
    QRadioButton *m_usePrompt;
    QRadioButton *m_useIds;
    QPlainTextEdit *m_prompt;
    QLineEdit *m_ids;
    QSpinBox *m_generate;
    QSpinBox *m_topk;
    QComboBox *m_norm;
    QComboBox *m_decoder;
    QComboBox *m_dtype;
    QComboBox *m_attention;
    QComboBox *m_residuals;
    QCheckBox *m_storeZ;
    QLineEdit *m_name;
    QLabel *m_problem;
    QLabel *m_estimate; // what the running trace needs, from the engine's estimate
    QPushButton *m_traceButton;
    QPushButton *m_cancelButton;
    QWidget *m_form;
    // The tuned lens file, for the tuned decoder (fit-lens makes one).
    QLineEdit *m_lensFile = nullptr;
    QToolButton *m_lensBrowse = nullptr;
};

} // namespace HeadLens
