#include "tracetreemodel.h"

#include "headlens/document/projectdocument.h"

#include <QDateTime>
#include <QLocale>

#include <map>

namespace HeadLens {

TraceTreeModel::TraceTreeModel(QObject *parent) : QAbstractItemModel(parent) {}

void TraceTreeModel::setDocument(ProjectDocument *document)
{
    if (m_document == document) return;
    if (m_document) m_document->disconnect(this);
    m_document = document;
    if (m_document)
        connect(m_document, &ProjectDocument::changed, this, &TraceTreeModel::documentChanged);
    rebuild();
}

void TraceTreeModel::documentChanged(const ChangeEvent &event)
{
    switch (event.type) {
    case ChangeEvent::Type::TraceAdded:
    case ChangeEvent::Type::TraceRemoved:
    case ChangeEvent::Type::TraceRenamed:
        rebuild();
        break;
    default:
        break;
    }
}

void TraceTreeModel::rebuild()
{
    beginResetModel();
    m_nodes.clear();
    m_roots.clear();
    if (m_document) {
        const QStringList names = m_document->traceNames();
        std::map<QString, int> byName;
        for (const QString &name : names) {
            byName[name] = int(m_nodes.size());
            m_nodes.push_back({name, -1, {}, 0});
        }
        for (Node &n : m_nodes) {
            const auto it = byName.find(QString::fromStdString(m_document->listing(n.name).parent));
            if (it != byName.end()) n.parent = it->second;
        }
        // A parent chain that loops (a damaged file) puts its traces at the top level.
        for (size_t i = 0; i < m_nodes.size(); ++i) {
            int p = m_nodes[i].parent;
            for (size_t steps = 0; p >= 0 && steps <= m_nodes.size(); ++steps)
                p = m_nodes[size_t(p)].parent;
            if (p >= 0) m_nodes[i].parent = -1;
        }
        for (size_t i = 0; i < m_nodes.size(); ++i) {
            auto &siblings =
                m_nodes[i].parent < 0 ? m_roots : m_nodes[size_t(m_nodes[i].parent)].children;
            m_nodes[i].row = int(siblings.size());
            siblings.push_back(int(i));
        }
    }
    endResetModel();
}

const std::vector<int> &TraceTreeModel::childrenOf(int node) const
{
    return node < 0 ? m_roots : m_nodes[size_t(node)].children;
}

QModelIndex TraceTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    const int p = parent.isValid() ? int(parent.internalId()) - 1 : -1;
    const auto &children = childrenOf(p);
    if (row < 0 || row >= int(children.size()) || column < 0 || column >= ColumnCount) return {};
    return createIndex(row, column, quintptr(children[size_t(row)] + 1));
}

QModelIndex TraceTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid()) return {};
    const int p = m_nodes[size_t(child.internalId() - 1)].parent;
    if (p < 0) return {};
    return createIndex(m_nodes[size_t(p)].row, 0, quintptr(p + 1));
}

int TraceTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() && parent.column() != 0) return 0;
    return int(childrenOf(parent.isValid() ? int(parent.internalId()) - 1 : -1).size());
}

int TraceTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QString TraceTreeModel::traceAt(const QModelIndex &index) const
{
    if (!index.isValid()) return {};
    return m_nodes[size_t(index.internalId() - 1)].name;
}

QModelIndex TraceTreeModel::indexOf(const QString &traceName, int column) const
{
    for (size_t i = 0; i < m_nodes.size(); ++i)
        if (m_nodes[i].name == traceName)
            return createIndex(m_nodes[i].row, column, quintptr(i + 1));
    return {};
}

QVariant TraceTreeModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || !m_document) return {};
    const Node &n = m_nodes[size_t(index.internalId() - 1)];
    if (!m_document->hasTrace(n.name)) return {};
    const TraceListing l = m_document->listing(n.name);
    const QString prompt = QString::fromStdString(l.prompt);
    const QDateTime created = QDateTime::fromString(QString::fromStdString(l.created), Qt::ISODate);
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (index.column()) {
        case Name:
            return n.name;
        case Model:
            return QString::fromStdString(l.modelName);
        case Prompt: {
            QString line = prompt.simplified();
            return line.size() > 60 ? line.left(59) + QChar(0x2026) : line;
        }
        case Tokens:
            return l.nTokens;
        case Created:
            return created.isValid()
                       ? QLocale().toString(created.toLocalTime(), QLocale::ShortFormat)
                       : QString::fromStdString(l.created);
        }
    } else if (role == Qt::ToolTipRole) {
        QString tip =
            tr("<b>%1</b><br>Model: %2<br>%3 layers, %4 heads, %5 tokens")
                .arg(n.name.toHtmlEscaped(), QString::fromStdString(l.modelName).toHtmlEscaped())
                .arg(l.nLayers)
                .arg(l.nHeads)
                .arg(l.nTokens);
        if (!l.parent.empty())
            tip += tr("<br>Made from %1 by propagate/inject")
                       .arg(QString::fromStdString(l.parent).toHtmlEscaped());
        if (!prompt.isEmpty()) tip += tr("<br>Prompt: %1").arg(prompt.toHtmlEscaped());
        tip += tr("<br><i>Double-click or F2 to rename.</i>");
        return tip;
    } else if (role == Qt::TextAlignmentRole && index.column() == Tokens) {
        return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

bool TraceTreeModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!index.isValid() || role != Qt::EditRole || index.column() != Name || !m_document)
        return false;
    const QString from = traceAt(index);
    const QString to = value.toString().trimmed();
    if (to == from) return false;
    QString error;
    if (!m_document->renameTrace(from, to, &error)) {
        Q_EMIT renameFailed(error);
        return false;
    }
    return true;
}

Qt::ItemFlags TraceTreeModel::flags(const QModelIndex &index) const
{
    if (!index.isValid()) return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.column() == Name) f |= Qt::ItemIsEditable;
    return f;
}

QVariant TraceTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Name:
        return tr("Trace");
    case Model:
        return tr("Model");
    case Prompt:
        return tr("Prompt");
    case Tokens:
        return tr("Tokens");
    case Created:
        return tr("Created");
    }
    return {};
}

} // namespace HeadLens
