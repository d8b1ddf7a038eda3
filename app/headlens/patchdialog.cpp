#include "patchdialog.h"

#include "tracespec.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>

namespace HeadLens {

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

// A token as a field shows it: its text with the spaces it has.
QString tokenText(const Trace &t, int id)
{
    auto it = t.vocab.find(id);
    return it == t.vocab.end() ? QString() : q(it->second);
}

} // namespace

PatchDialog::PatchDialog(EngineClient *engine, ProjectDocument *document, const QString &clean,
                         QWidget *parent)
    : TraceJobDialog(engine, document, parent), m_clean(clean), m_corrupted(new QLineEdit(this)),
      m_useIds(new QCheckBox(this)), m_answer(new QLineEdit(this)), m_wrong(new QLineEdit(this)),
      m_perHead(new QCheckBox(this))
{
    setObjectName("PatchDialog");
    setWindowTitle(tr("Activation Patching"));
    auto *intro = new QLabel(this);
    intro->setWordWrap(true);
    intro->setTextFormat(Qt::PlainText);
    QString cleanPrompt;
    if (m_document && m_document->hasTrace(clean)) {
        try {
            const auto t = m_document->trace(clean);
            const int n = std::max(1, t->nPromptTokens);
            for (int i = 0; i < n && i < t->nTokens(); ++i)
                m_cleanIds << t->tokens[size_t(i)].id;
            cleanPrompt = q(t->prompt);
            m_useIds->setChecked(cleanPrompt.isEmpty()); // traced from ids: corrupt ids too
            // The model's two most likely next tokens after the prompt: the usual question
            // is why the first and not the second.
            const IntArray &top = t->logitsTopkIds;
            if (top.shape.size() == 2 && top.shape[0] >= n && top.shape[1] >= 2) {
                m_answerId = top.data[size_t((n - 1) * top.shape[1])];
                m_wrongId = top.data[size_t((n - 1) * top.shape[1] + 1)];
                m_answerText = tokenText(*t, m_answerId);
                m_wrongText = tokenText(*t, m_wrongId);
            }
        } catch (const std::exception &e) {
            m_status->setText(q(e.what()));
        }
    }
    if (cleanPrompt.isEmpty()) { // traced from token ids: show those
        QStringList ids;
        for (int id : m_cleanIds)
            ids << QString::number(id);
        cleanPrompt = ids.join(QStringLiteral(", "));
    }
    intro->setText(tr("Trace %1 is the clean run (%2 tokens): \"%3\". Give a corrupted prompt "
                      "of the same token count. Each block of the corrupted run is replaced by "
                      "the clean one in turn, and the map shows how much of the clean logit "
                      "difference between the answer and the wrong token that recovers "
                      "(0: none, 1: all).")
                       .arg(clean)
                       .arg(m_cleanIds.size())
                       .arg(cleanPrompt));
    m_corrupted->setObjectName("corruptedPrompt");
    m_corrupted->setPlaceholderText(tr("The prompt with the fact changed"));
    m_useIds->setObjectName("corruptedIds");
    m_useIds->setText(tr("Token ids"));
    m_useIds->setToolTip(tr("Give the corrupted prompt as token ids separated by commas or "
                            "spaces (for a model without a tokenizer)"));
    m_answer->setObjectName("answerToken");
    m_answer->setText(m_answerText);
    m_wrong->setObjectName("wrongToken");
    m_wrong->setText(m_wrongText);
    for (QLineEdit *e : {m_answer, m_wrong})
        e->setToolTip(tr("A token's text as the model writes it (with its leading space); "
                         "filled in with the model's two most likely next tokens"));
    m_perHead->setObjectName("perHead");
    m_perHead->setText(tr("Also patch each head's output (slower)"));
    m_status->setObjectName("patchStatus");
    // Room for an engine's error of a few lines without the dialog having to grow.
    m_status->setMinimumHeight(3 * m_status->fontMetrics().lineSpacing());
    m_status->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_progress->hide();

    auto *form = new QFormLayout;
    auto *corruptedRow = new QHBoxLayout;
    corruptedRow->addWidget(m_corrupted, 1);
    corruptedRow->addWidget(m_useIds);
    form->addRow(tr("Corrupted prompt:"), corruptedRow);
    form->addRow(tr("Answer token:"), m_answer);
    form->addRow(tr("Wrong token:"), m_wrong);
    form->addRow(QString(), m_perHead);

    auto *buttons = new QDialogButtonBox(this);
    m_patchButton = buttons->addButton(tr("&Patch"), QDialogButtonBox::AcceptRole);
    m_patchButton->setObjectName("patchButton");
    m_closeButton = buttons->addButton(QDialogButtonBox::Close);
    connect(m_patchButton, &QPushButton::clicked, this, [this] { start(); });
    connect(m_closeButton, &QPushButton::clicked, this, [this] {
        if (isRunning())
            cancelJob();
        else
            reject();
    });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    layout->addWidget(buttons);
    setMinimumWidth(480);
}

void PatchDialog::setCorrupted(const QString &prompt, bool ids)
{
    m_corrupted->setText(prompt);
    m_useIds->setChecked(ids);
}

QJsonArray PatchDialog::corruptedIds() const
{
    QJsonArray ids;
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    for (const QString &part : m_corrupted->text().split(separators, Qt::SkipEmptyParts)) {
        bool ok = false;
        const int id = part.toInt(&ok);
        if (!ok || id < 0) return QJsonArray();
        ids.append(id);
    }
    return ids;
}

void PatchDialog::setAnswer(const QString &text)
{
    m_answer->setText(text);
}

void PatchDialog::setWrong(const QString &text)
{
    m_wrong->setText(text);
}

void PatchDialog::setPerHead(bool on)
{
    m_perHead->setChecked(on);
}

QString PatchDialog::problem() const
{
    if (!m_document || !m_document->hasTrace(m_clean))
        return tr("Trace %1 is no longer in the project.").arg(m_clean);
    if (!m_engine) return tr("There is no engine.");
    if (m_cleanIds.isEmpty()) return tr("Trace %1 has no tokens.").arg(m_clean);
    if (m_corrupted->text().trimmed().isEmpty()) return tr("Give the corrupted prompt.");
    if (m_useIds->isChecked() && corruptedIds().isEmpty())
        return tr("The corrupted prompt is not a list of token ids.");
    if (m_answer->text().isEmpty() || m_wrong->text().isEmpty())
        return tr("Give the answer and the wrong token.");
    if (m_answer->text() == m_wrong->text())
        return tr("The answer and the wrong token must differ.");
    return QString();
}

void PatchDialog::putToken(QJsonObject &fields, const char *key, const QLineEdit *edit, int id,
                           const QString &idText) const
{
    if (id >= 0 && edit->text() == idText)
        fields.insert(QLatin1String(key) + QLatin1String("_id"), id);
    else
        fields.insert(QLatin1String(key), edit->text());
}

TraceSpec PatchDialog::spec() const
{
    const auto t = m_document->trace(m_clean);
    TraceSpec s = specForTrace(*t, *m_engine);
    s.command = QStringLiteral("patch");
    s.name = m_document->uniqueTraceName(m_clean + QStringLiteral("-patching"));
    QJsonArray ids;
    for (int id : m_cleanIds)
        ids.append(id);
    s.extra = QJsonObject{{"clean_ids", ids}, {"heads", m_perHead->isChecked()}};
    if (m_useIds->isChecked())
        s.extra.insert("corrupted_ids", corruptedIds());
    else
        s.extra.insert("corrupted", m_corrupted->text());
    putToken(s.extra, "answer", m_answer, m_answerId, m_answerText);
    putToken(s.extra, "wrong", m_wrong, m_wrongId, m_wrongText);
    return s;
}

bool PatchDialog::start()
{
    if (isRunning()) return false;
    const QString p = problem();
    if (!p.isEmpty()) {
        m_status->setText(p);
        return false;
    }
    TraceSpec s;
    try {
        s = spec();
    } catch (const std::exception &e) {
        m_status->setText(q(e.what()));
        return false;
    }
    runJob(s);
    return true;
}

void PatchDialog::setRunning(bool running)
{
    for (QWidget *w : std::initializer_list<QWidget *>{m_corrupted, m_useIds, m_answer, m_wrong,
                                                       m_perHead, m_patchButton})
        w->setEnabled(!running);
    m_progress->setVisible(running);
    m_closeButton->setText(running ? tr("&Cancel") : tr("Close"));
}

} // namespace HeadLens
