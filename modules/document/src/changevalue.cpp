#include "headlens/document/changevalue.h"

#include "headlens/document/projectdocument.h"

namespace HeadLens {

namespace {
constexpr qint64 kTypingPauseMs = 3000;
}

ChangeNotes::ChangeNotes(ProjectDocument *document, const QString &notes, QUndoCommand *parent)
    : ChangeValue<QString>(document, tr("Edit notes"), notes, parent)
{
    m_lastEdit.start();
}

bool ChangeNotes::mergeWith(const QUndoCommand *other)
{
    if (other->id() != id() || m_lastEdit.elapsed() > kTypingPauseMs) return false;
    m_lastEdit.restart(); // the other command's value is applied; ours keeps the oldest
    setObsolete(value() == storedValue());
    return true;
}

QString ChangeNotes::value() const
{
    return document()->notes();
}

void ChangeNotes::setValue(const QString &value)
{
    document()->applyNotes(value);
}

ChangeViewSettings::ChangeViewSettings(ProjectDocument *document, const QJsonObject &settings,
                                       const QString &key, QUndoCommand *parent)
    : ChangeValue<QJsonObject>(document,
                               key.isEmpty() ? tr("Change view settings")
                                             : tr("Change view setting %1").arg(key),
                               settings, parent),
      m_key(key)
{
}

bool ChangeViewSettings::mergeWith(const QUndoCommand *other)
{
    auto o = dynamic_cast<const ChangeViewSettings *>(other);
    if (!o || o->m_key != m_key || m_key.isEmpty()) return false;
    setObsolete(value() == storedValue());
    return true;
}

QJsonObject ChangeViewSettings::value() const
{
    return document()->viewSettings();
}

void ChangeViewSettings::setValue(const QJsonObject &value)
{
    document()->applyViewSettings(value);
}

} // namespace HeadLens
