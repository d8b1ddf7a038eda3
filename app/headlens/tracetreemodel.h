#pragma once
// The traces of a project as a tree for the Project dock: traces made by propagate/inject sit
// under the trace they came from (their `parent`). Columns: name (editable: a rename through
// the document's undo stack), model, prompt, tokens, created.

#include "headlens/document/projectdocument.h"

#include <QAbstractItemModel>
#include <QPointer>

#include <vector>

namespace HeadLens {

class ProjectDocument;
struct ChangeEvent;

class TraceTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column { Name, Model, Prompt, Tokens, Created, ColumnCount };

    explicit TraceTreeModel(QObject *parent = nullptr);

    void setDocument(ProjectDocument *document);
    ProjectDocument *document() const { return m_document; }

    QModelIndex indexOf(const QString &traceName, int column = Name) const;
    QString traceAt(const QModelIndex &index) const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    // A rename typed into the tree was refused (name taken or invalid).
    void renameFailed(const QString &message);

private:
    struct Node {
        QString name;
        int parent = -1;           // index into m_nodes, -1: top level
        std::vector<int> children; // indices into m_nodes
        int row = 0;               // row under its parent
    };
    void rebuild();
    void documentChanged(const ChangeEvent &event);
    const std::vector<int> &childrenOf(int node) const;

    QPointer<ProjectDocument> m_document;
    std::vector<Node> m_nodes;
    std::vector<int> m_roots;
};

} // namespace HeadLens
