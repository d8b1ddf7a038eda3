#pragma once
// Undo commands that change one value of a document (Tiled's ChangeValue): the command keeps
// the value that is not currently applied and swaps it in on undo and redo.

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QString>
#include <QUndoCommand>

#include <utility>

namespace HeadLens {

class ProjectDocument;

// Generic "change a value" command; subclasses say how to read and write the value.
template <typename T> class ChangeValue : public QUndoCommand {
public:
    ChangeValue(ProjectDocument *document, const QString &text, T newValue,
                QUndoCommand *parent = nullptr)
        : QUndoCommand(text, parent), m_document(document), m_value(std::move(newValue))
    {
    }
    void redo() override { swap(); }
    void undo() override { swap(); }

protected:
    virtual T value() const = 0;
    virtual void setValue(const T &value) = 0;
    ProjectDocument *document() const { return m_document; }
    // Before the first redo: the new value; afterwards the value it replaced while applied.
    const T &storedValue() const { return m_value; }

private:
    void swap()
    {
        T current = value();
        setValue(m_value);
        m_value = std::move(current);
    }

    ProjectDocument *m_document;
    T m_value;
};

// The project's notes. Typing merges into one step until the user pauses for a few seconds.
class ChangeNotes : public ChangeValue<QString> {
    Q_DECLARE_TR_FUNCTIONS(ChangeNotes)
public:
    ChangeNotes(ProjectDocument *document, const QString &notes, QUndoCommand *parent = nullptr);
    int id() const override { return 1; }
    bool mergeWith(const QUndoCommand *other) override;

protected:
    QString value() const override;
    void setValue(const QString &value) override;

private:
    QElapsedTimer m_lastEdit;
};

// The view settings saved in the project; consecutive changes of the same key merge.
class ChangeViewSettings : public ChangeValue<QJsonObject> {
    Q_DECLARE_TR_FUNCTIONS(ChangeViewSettings)
public:
    ChangeViewSettings(ProjectDocument *document, const QJsonObject &settings,
                       const QString &key = QString(), QUndoCommand *parent = nullptr);
    int id() const override { return m_key.isEmpty() ? -1 : 2; }
    bool mergeWith(const QUndoCommand *other) override;

protected:
    QJsonObject value() const override;
    void setValue(const QJsonObject &value) override;

private:
    QString m_key;
};

} // namespace HeadLens
