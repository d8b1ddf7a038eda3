#pragma once
// What each head selects: a sortable table of heads x role scores (previous token, first
// token, self, duplicate token, induction, mean distance, strongest role), as the engine
// measured them on repeated random tokens (headlens/trace/headroles.h). A click on a row
// selects that head.

#include "headlens/trace/headroles.h"
#include "headlens/ui/viewpanel.h"

#include <QWidget>

#include <optional>

class QLabel;
class QPushButton;
class QStandardItemModel;
class QTableView;

namespace HeadLens {

// The role as the workbench names it ("previous token", "induction", ...), translated.
QString headRoleText(HeadRole role);
// The same in a word or less, where space is short (a bar's label): "prev", "ind", ...
QString headRoleShortText(HeadRole role);
// "previous token 0.98" for a head's strongest role (analysis' strongestRole), empty when no
// role reaches the threshold or roles is empty.
QString headRoleLabel(const HeadRoles &roles, int layer, int head);

class HeadRolesPanel : public ViewPanel {
    Q_OBJECT
public:
    enum Column {
        Layer = 0,
        Head,
        Previous,
        First,
        Self,
        Duplicate,
        Induction,
        Distance,
        Strongest,
        ColumnCount
    };

    explicit HeadRolesPanel(QWidget *parent = nullptr);

    // The roles of the shown trace's model; empty: the table is empty and the panel says how
    // to measure them.
    void setRoles(const HeadRoles &roles);
    void clear();
    const HeadRoles &roles() const { return m_roles; }
    // Highlights the row of (layer, head) without emitting anything; -1 clears.
    void setSelectedHead(int layer, int head);

    // The Measure button (measureRequested): enabled or not, with why in its tooltip.
    void setMeasureEnabled(bool enabled, const QString &why = QString());
    QPushButton *measureButton() const { return m_measure; }

    QTableView *table() const { return m_table; }
    QStandardItemModel *model() const { return m_model; }
    QString captionText() const;

    void renderTo(QPainter &painter, const QSize &size) override;
    // layer,head,previous_token,first_token,self,duplicate_token,induction,mean_distance,strongest
    // in the table's current (sorted) order.
    QString csv() const override;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    void headSelected(int layer, int head);
    // The user asked to measure the roles of the shown trace's model (in the engine).
    void measureRequested();

private:
    void fill();
    void showCaption();

    HeadRoles m_roles;
    QLabel *m_caption;
    QPushButton *m_measure;
    QString m_measureWhy;
    QTableView *m_table;
    QStandardItemModel *m_model;
    bool m_selecting = false;
};

} // namespace HeadLens
