#pragma once
// Activation patching from the workbench (headlens-cli patch): the shown trace's prompt is the
// clean run; the user gives a corrupted prompt of the same token count, the answer and the
// wrong token. The engine traces the clean prompt again into a new trace that holds the map,
// which the block grid then shows (colour "Patching").

#include "tracejobdialog.h"

class QCheckBox;
class QLineEdit;
class QPushButton;

namespace HeadLens {

class EngineClient;
class ProjectDocument;

class PatchDialog : public TraceJobDialog {
    Q_OBJECT
public:
    // clean: the document's trace whose prompt is the clean run.
    PatchDialog(EngineClient *engine, ProjectDocument *document, const QString &clean,
                QWidget *parent = nullptr);

    // The corrupted prompt: text, or with ids on, token ids ("1, 17, 42").
    void setCorrupted(const QString &prompt, bool ids = false);
    void setAnswer(const QString &text);
    void setWrong(const QString &text);
    void setPerHead(bool on);
    // What keeps the request from being sent (a sentence), or empty.
    QString problem() const;
    // Sends the request; false (the problem shown) when it cannot be sent.
    bool start();

    QPushButton *patchButton() const { return m_patchButton; }

protected:
    void setRunning(bool running) override;

private:
    TraceSpec spec() const;
    // The corrupted field's token ids; empty when it is not a list of whole numbers.
    QJsonArray corruptedIds() const;
    // The token field's request value: the trace's id while the text is the one filled in,
    // else the text (the engine looks it up).
    void putToken(QJsonObject &fields, const char *key, const QLineEdit *edit, int id,
                  const QString &idText) const;

    QString m_clean;
    QList<int> m_cleanIds;
    int m_answerId = -1, m_wrongId = -1;
    QString m_answerText, m_wrongText;

    QLineEdit *m_corrupted;
    QCheckBox *m_useIds;
    QLineEdit *m_answer;
    QLineEdit *m_wrong;
    QCheckBox *m_perHead;
    QPushButton *m_patchButton;
    QPushButton *m_closeButton;
};

} // namespace HeadLens
