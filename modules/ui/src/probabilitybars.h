#pragma once
// Module-private: a list of tokens with their probabilities drawn as bars (the inspector's
// top-k). Rows are plain records; one row can be marked (the model's own prediction).

#include <QWidget>

#include <vector>

namespace HeadLens {

class ProbabilityBars : public QWidget {
    Q_OBJECT
public:
    struct Row {
        int id = -1;
        QString text;
        double prob = 0;
        bool marked = false;
    };
    explicit ProbabilityBars(QWidget *parent = nullptr);
    void setRows(const std::vector<Row> &rows);
    const std::vector<Row> &rows() const { return m_rows; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    double rowHeight() const;
    std::vector<Row> m_rows;
};

} // namespace HeadLens
