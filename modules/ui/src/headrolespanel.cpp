#include "headlens/ui/headrolespanel.h"

#include "headlens/analysis/headroles.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace HeadLens {

namespace {

constexpr int kScoreColumns[] = {HeadRolesPanel::Previous, HeadRolesPanel::First,
                                 HeadRolesPanel::Self, HeadRolesPanel::Duplicate,
                                 HeadRolesPanel::Induction};

// A number cell: sorts by its value (NaN last), shows three decimals.
QStandardItem *numberItem(double v, int decimals = 3)
{
    auto *item = new QStandardItem;
    item->setEditable(false);
    if (std::isfinite(v)) {
        item->setData(v, Qt::UserRole);
        item->setData(QString::number(v, 'f', decimals), Qt::DisplayRole);
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    } else {
        item->setData(-1e300, Qt::UserRole);
        item->setData(QStringLiteral("\u2013"), Qt::DisplayRole);
        item->setTextAlignment(Qt::AlignCenter);
    }
    return item;
}

} // namespace

QString headRoleText(HeadRole role)
{
    switch (role) {
    case HeadRole::PreviousToken:
        return HeadRolesPanel::tr("previous token");
    case HeadRole::FirstToken:
        return HeadRolesPanel::tr("first token");
    case HeadRole::Self:
        return HeadRolesPanel::tr("self");
    case HeadRole::DuplicateToken:
        return HeadRolesPanel::tr("duplicate token");
    case HeadRole::Induction:
        return HeadRolesPanel::tr("induction");
    }
    return QString();
}

QString headRoleShortText(HeadRole role)
{
    switch (role) {
    case HeadRole::PreviousToken:
        return HeadRolesPanel::tr("prev", "previous-token head, on a bar");
    case HeadRole::FirstToken:
        return HeadRolesPanel::tr("first", "first-token head, on a bar");
    case HeadRole::Self:
        return HeadRolesPanel::tr("self", "self-attending head, on a bar");
    case HeadRole::DuplicateToken:
        return HeadRolesPanel::tr("dup", "duplicate-token head, on a bar");
    case HeadRole::Induction:
        return HeadRolesPanel::tr("ind", "induction head, on a bar");
    }
    return QString();
}

QString headRoleLabel(const HeadRoles &roles, int layer, int head)
{
    const auto best = strongestRole(roles, layer, head);
    if (!best) return QString();
    return QStringLiteral("%1 %2").arg(headRoleText(best->role)).arg(best->score, 0, 'f', 2);
}

HeadRolesPanel::HeadRolesPanel(QWidget *parent)
    : ViewPanel(parent), m_caption(new QLabel(this)), m_measure(new QPushButton(this)),
      m_table(new QTableView(this)), m_model(new QStandardItemModel(0, ColumnCount, this))
{
    setObjectName(QStringLiteral("HeadRolesPanel"));
    m_caption->setObjectName(QStringLiteral("headRolesCaption"));
    m_caption->setWordWrap(true);
    m_caption->setTextFormat(Qt::PlainText);
    m_caption->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_model->setSortRole(Qt::UserRole);
    m_table->setObjectName(QStringLiteral("headRolesTable"));
    m_table->setModel(m_model);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(Layer, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    // A row as tall as its text: a short dock shows more heads.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_measure->setObjectName(QStringLiteral("measureHeadRoles"));
    connect(m_measure, &QPushButton::clicked, this, &HeadRolesPanel::measureRequested);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    auto *top = new QHBoxLayout;
    top->addWidget(m_caption, 1);
    top->addWidget(m_measure, 0, Qt::AlignTop);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (m_selecting || !current.isValid()) return;
                const int row = current.row();
                Q_EMIT headSelected(m_model->item(row, Layer)->data(Qt::UserRole).toInt(),
                                    m_model->item(row, Head)->data(Qt::UserRole).toInt());
            });
    retranslateUi();
}

void HeadRolesPanel::retranslateUi()
{
    const QStringList headers{tr("Layer"),     tr("Head"),     tr("Previous"),
                              tr("First"),     tr("Self"),     tr("Duplicate"),
                              tr("Induction"), tr("Distance"), tr("Strongest role")};
    const QStringList tips{
        QString(),
        QString(),
        tr("Mean attention from each position to the one before it"),
        tr("Mean attention to the first position (an attention sink)"),
        tr("Mean attention of each position to itself"),
        tr("In the second copy of a repeated random sequence: mean attention to the earlier "
           "copy of the same token"),
        tr("In the second copy of a repeated random sequence: mean attention to the token "
           "after the earlier copy of the current one"),
        tr("Mean number of tokens back the head reads, weighted by its attention"),
        tr("The highest score, when it is at least 0.4")};
    for (int c = 0; c < ColumnCount; ++c) {
        m_model->setHeaderData(c, Qt::Horizontal, headers[c]);
        m_model->setHeaderData(c, Qt::Horizontal, tips[c], Qt::ToolTipRole);
    }
    showCaption();
    m_measure->setToolTip(m_measureWhy.isEmpty()
                              ? tr("Measure what each head of this trace's model selects, on "
                                   "repeated random tokens (in the engine); kept with the "
                                   "model's traces when the project is saved")
                              : m_measureWhy);
    if (!m_roles.empty()) fill(); // the role names in the last column
}

void HeadRolesPanel::setMeasureEnabled(bool enabled, const QString &why)
{
    m_measure->setEnabled(enabled);
    m_measureWhy = why;
    retranslateUi();
}

QString HeadRolesPanel::captionText() const
{
    if (m_roles.empty())
        return tr("No head roles are kept with this trace. Measure them here, or with "
                  "headlens-cli heads MODEL PROJECT.hlproj --roles");
    return tr("Measured on %1 random sequences of %2 tokens repeated once (seed %3); the "
              "first four scores average %4 query positions, duplicate and induction the %5 "
              "of the second copies. Click a column to sort.")
        .arg(m_roles.sequences)
        .arg(m_roles.sequenceLength)
        .arg(m_roles.seed)
        .arg(m_roles.nQueries)
        .arg(m_roles.nRepeatQueries);
}

void HeadRolesPanel::setRoles(const HeadRoles &roles)
{
    m_roles = roles;
    fill();
    showCaption();
}

void HeadRolesPanel::showCaption()
{
    // On screen a line or two, so that a short dock keeps its rows; the whole caption (what
    // exports print) in the tooltip.
    m_caption->setText(m_roles.empty()
                           ? captionText()
                           : tr("%1 random sequences of %2 tokens, repeated (seed %3). Click a "
                                "column to sort.")
                                 .arg(m_roles.sequences)
                                 .arg(m_roles.sequenceLength)
                                 .arg(m_roles.seed));
    m_caption->setToolTip(captionText());
    m_measure->setText(m_roles.empty() ? tr("Measure") : tr("Measure again"));
}

void HeadRolesPanel::clear()
{
    setRoles(HeadRoles());
}

void HeadRolesPanel::fill()
{
    const int sortColumn = m_table->horizontalHeader()->sortIndicatorSection();
    const Qt::SortOrder order = m_table->horizontalHeader()->sortIndicatorOrder();
    m_selecting = true;
    m_model->removeRows(0, m_model->rowCount());
    for (int l = 0; l < m_roles.nLayers; ++l)
        for (int h = 0; h < m_roles.nHeads; ++h) {
            QList<QStandardItem *> row;
            auto *layer = new QStandardItem(QString::number(l));
            layer->setData(l, Qt::UserRole);
            auto *head = new QStandardItem(QString::number(h));
            head->setData(h, Qt::UserRole);
            row << layer << head;
            for (HeadRole r : allHeadRoles())
                row << numberItem(m_roles.at(r, l, h));
            row << numberItem(m_roles.distanceAt(l, h), 2);
            const auto best = strongestRole(m_roles, l, h);
            auto *strongest = new QStandardItem(best ? headRoleText(best->role) : QString());
            strongest->setData(best ? QString::fromLatin1(headRoleName(best->role)) : QString(),
                               Qt::UserRole);
            row << strongest;
            for (QStandardItem *item : row)
                item->setEditable(false);
            m_model->appendRow(row);
        }
    if (sortColumn >= 0 && sortColumn < ColumnCount) m_model->sort(sortColumn, order);
    m_selecting = false;
}

void HeadRolesPanel::setSelectedHead(int layer, int head)
{
    m_selecting = true;
    m_table->clearSelection();
    for (int row = 0; row < m_model->rowCount(); ++row)
        if (m_model->item(row, Layer)->data(Qt::UserRole).toInt() == layer &&
            m_model->item(row, Head)->data(Qt::UserRole).toInt() == head) {
            m_table->selectRow(row);
            m_table->scrollTo(m_model->index(row, 0));
        }
    m_selecting = false;
}

QString HeadRolesPanel::csv() const
{
    QString out = csvLine({"layer", "head", "previous_token", "first_token", "self",
                           "duplicate_token", "induction", "mean_distance", "strongest"});
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const int l = m_model->item(row, Layer)->data(Qt::UserRole).toInt();
        const int h = m_model->item(row, Head)->data(Qt::UserRole).toInt();
        QStringList f{QString::number(l), QString::number(h)};
        for (HeadRole r : allHeadRoles()) {
            const double v = m_roles.at(r, l, h);
            f << (std::isfinite(v) ? QString::number(v, 'g', 9) : QString());
        }
        const double d = m_roles.distanceAt(l, h);
        f << (std::isfinite(d) ? QString::number(d, 'g', 9) : QString());
        f << m_model->item(row, Strongest)->data(Qt::UserRole).toString();
        out += csvLine(f);
    }
    return out;
}

void HeadRolesPanel::renderTo(QPainter &p, const QSize &size)
{
    // The table as laid out for the canvas: a header row and one row per head, sorted as shown.
    p.save();
    p.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    p.setPen(Qt::black);
    QFont f = font();
    p.setFont(f);
    const QFontMetrics fm(f);
    const int rowH = fm.height() + 4, margin = 8;
    int y = margin;
    const QRect cap(margin, y, size.width() - 2 * margin, size.height());
    const QRect used = p.boundingRect(cap, Qt::TextWordWrap, m_caption->text());
    p.drawText(cap, Qt::TextWordWrap, m_caption->text());
    y += used.height() + 6;
    const int colW = (size.width() - 2 * margin) / ColumnCount;
    QFont bold = f;
    bold.setBold(true);
    p.setFont(bold);
    for (int c = 0; c < ColumnCount; ++c)
        p.drawText(QRect(margin + c * colW, y, colW - 4, rowH), Qt::AlignLeft | Qt::AlignVCenter,
                   m_model->headerData(c, Qt::Horizontal).toString());
    p.setFont(f);
    y += rowH;
    for (int row = 0; row < m_model->rowCount() && y + rowH <= size.height(); ++row, y += rowH) {
        if (row % 2)
            p.fillRect(QRect(margin, y, size.width() - 2 * margin, rowH), QColor(245, 245, 245));
        for (int c = 0; c < ColumnCount; ++c)
            p.drawText(QRect(margin + c * colW, y, colW - 4, rowH),
                       Qt::AlignLeft | Qt::AlignVCenter, m_model->item(row, c)->text());
    }
    p.restore();
}

} // namespace HeadLens
