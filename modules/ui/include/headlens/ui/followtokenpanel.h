#pragma once
// Follow one token (the classic logit-lens plot): pick a token by its text, and see its lens
// probability at every layer of the selected position, beside the lens's own top-1. Where the
// token is not in a block's stored top-k its probability is unknown but below the k-th
// probability there, which the chart marks as an open point at that bound. The block grid is
// coloured by the same token (BlockView::setFollowToken).

#include "headlens/trace/trace.h"
#include "headlens/ui/viewpanel.h"

#include <QWidget>

#include <map>
#include <vector>

class QChart;
class QChartView;
class QLabel;
class QLineEdit;
class QLineSeries;
class QPushButton;
class QScatterSeries;
class QValueAxis;

namespace HeadLens {

class FollowTokenPanel : public ViewPanel {
    Q_OBJECT
public:
    explicit FollowTokenPanel(QWidget *parent = nullptr);

    // The trace's readable tokens (what can be typed), and its lens at one site.
    void setTrace(const Trace &trace);
    void setLens(Site site, const LensSite &lens);
    void setSelection(int layer, int pos);
    // -1: none.
    void setFollowToken(int id);
    void clear();

    int followToken() const { return m_follow; }
    // At the selected position, per layer: the followed token's probability, NaN where it is
    // below the stored top-k; bound(): the k-th probability there (what it is below).
    std::vector<double> probabilities() const;
    std::vector<double> bounds() const;
    // The id whose text is `text` in this trace (its readable tokens), or -1.
    int tokenId(const QString &text) const;

    QLineEdit *tokenEdit() const { return m_edit; }
    QPushButton *followButton() const { return m_followButton; }
    QString captionText() const;

    void renderTo(QPainter &painter, const QSize &size) override;
    // layer,probability,rank,top1_probability (probability and rank empty below the top-k).
    QString csv() const override;

public Q_SLOTS:
    void retranslateUi() override;

Q_SIGNALS:
    // The reader asked to follow this token (-1: stop following).
    void followRequested(int id);

private:
    void followTyped();
    void updateChart();
    // The followed token's rank at (layer, selected position): 1..K, 0 below the top-k.
    int rankAt(int layer) const;
    float topProb(int layer, int k) const;

    std::map<int32_t, std::string> m_vocab;
    std::vector<std::string> m_tokenText; // input tokens, for the caption
    LensSite m_lens;
    Site m_site = Site::ResidPost;
    int m_layers = 0, m_tokens = 0, m_k = 0;
    int m_pos = -1;
    int m_follow = -1;

    QLabel *m_caption;
    QLineEdit *m_edit;
    QPushButton *m_followButton;
    QPushButton *m_stopButton;
    QChart *m_chart;
    QChartView *m_chartView;
    QLineSeries *m_followSeries;
    QLineSeries *m_topSeries;
    QScatterSeries *m_belowSeries;
    QValueAxis *m_axisX;
    QValueAxis *m_axisY;
};

} // namespace HeadLens
