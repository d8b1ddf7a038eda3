#include "headlens/ui/attentionpatternview.h"

#include "tokentext.h"

#include <QEvent>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <cmath>
#include <limits>

namespace HeadLens {

namespace {

constexpr double kMargin = 8;

} // namespace

AttentionPatternView::AttentionPatternView(QWidget *parent)
    : ViewPanel(parent), m_scale(ColourScale::Palette::Heat, 0.0, 1.0)
{
    setObjectName(QStringLiteral("AttentionPatternView"));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    retranslateUi();
}

void AttentionPatternView::retranslateUi()
{
    if (m_T == 0 && m_emptyText.isEmpty()) m_emptyText = tr("Select a block to see its layer.");
    setToolTip(QString());
    update();
}

void AttentionPatternView::setPattern(int layer, int head, const FloatArray &pattern,
                                      const std::vector<std::string> &tokens)
{
    if (pattern.rank() != 3 || pattern.dim(1) != pattern.dim(2) ||
        pattern.dim(1) != int64_t(tokens.size()) || pattern.dim(0) <= 0) {
        clear(tr("This trace's attention does not fit its tokens."));
        return;
    }
    const int64_t H = pattern.dim(0), T = pattern.dim(1);
    m_T = int(T);
    m_layer = layer;
    m_head = head >= 0 && head < H ? head : -1;
    m_tokens = tokens;
    m_weights.assign(size_t(T * T), 0.0f);
    const int64_t h0 = m_head >= 0 ? m_head : 0, h1 = m_head >= 0 ? m_head + 1 : H;
    for (int64_t h = h0; h < h1; ++h) {
        const float *src = pattern.data.data() + h * T * T;
        for (int64_t i = 0; i < T * T; ++i)
            m_weights[size_t(i)] += src[i];
    }
    const float n = float(h1 - h0);
    for (float &w : m_weights)
        w /= n;
    if (m_selected >= m_T) m_selected = -1;
    rebuildImage();
    update();
}

void AttentionPatternView::clear(const QString &why)
{
    m_weights.clear();
    m_tokens.clear();
    m_T = 0;
    m_layer = m_head = -1;
    m_image = QImage();
    m_emptyText = why.isEmpty() ? tr("Select a block to see its layer.") : why;
    update();
}

void AttentionPatternView::setSelectedQuery(int pos)
{
    m_selected = pos >= 0 && pos < m_T ? pos : -1;
    update();
}

float AttentionPatternView::weight(int query, int key) const
{
    if (query < 0 || key < 0 || query >= m_T || key >= m_T)
        return std::numeric_limits<float>::quiet_NaN();
    return m_weights[size_t(query) * size_t(m_T) + size_t(key)];
}

void AttentionPatternView::rebuildImage()
{
    m_image = QImage(m_T, m_T, QImage::Format_RGB32);
    for (int q = 0; q < m_T; ++q) {
        auto *line = reinterpret_cast<QRgb *>(m_image.scanLine(q));
        for (int k = 0; k < m_T; ++k)
            line[k] = k > q ? qRgb(255, 255, 255) // masked: the future
                            : m_scale.rgb(double(m_weights[size_t(q) * size_t(m_T) + size_t(k)]));
    }
}

QString AttentionPatternView::titleText() const
{
    if (m_T == 0) return QString();
    return (m_head >= 0 ? tr("Layer %1 · head %2").arg(m_layer).arg(m_head)
                        : tr("Layer %1 · mean of heads").arg(m_layer)) +
           tr(" · query ↓ reads key →");
}

QRectF AttentionPatternView::matrixRectIn(const QRectF &canvas, const QFontMetricsF &fm) const
{
    // Title and legend above, row labels on the left, column numbers below.
    // The title line above; the colour legend goes right of the square matrix.
    const double top = fm.height() * 2 + 2 * kMargin;
    const double left = fm.horizontalAdvance(QStringLiteral("0000 wwwwww")) + kMargin;
    const double bottom = fm.height() + kMargin;
    const QRectF room = canvas.adjusted(left, top, -kMargin, -bottom);
    const double side = std::max(0.0, std::min(room.width(), room.height()));
    return QRectF(room.left(), room.top(), side, side);
}

QRectF AttentionPatternView::matrixRect() const
{
    return matrixRectIn(QRectF(rect()), QFontMetricsF(font()));
}

QPair<int, int> AttentionPatternView::cellAt(const QPointF &point) const
{
    const QRectF m = matrixRect();
    if (m_T == 0 || !m.contains(point) || m.width() <= 0) return {-1, -1};
    const double cell = m.width() / m_T;
    const int q = std::clamp(int((point.y() - m.top()) / cell), 0, m_T - 1);
    const int k = std::clamp(int((point.x() - m.left()) / cell), 0, m_T - 1);
    return {q, k};
}

void AttentionPatternView::paint(QPainter &p, const QRectF &canvas) const
{
    p.fillRect(canvas, Qt::white);
    const QFontMetricsF fm(p.font());
    if (m_T == 0) {
        p.setPen(Accent::mutedText());
        p.drawText(canvas.adjusted(kMargin, kMargin, -kMargin, -kMargin),
                   Qt::AlignCenter | Qt::TextWordWrap, m_emptyText);
        return;
    }
    const QRectF m = matrixRectIn(canvas, fm);
    p.setPen(QColor(0x20, 0x20, 0x20));
    p.drawText(QRectF(canvas.left() + kMargin, canvas.top() + kMargin / 2,
                      canvas.width() - 2 * kMargin, fm.height()),
               Qt::AlignLeft | Qt::AlignVCenter,
               fm.elidedText(titleText(), Qt::ElideRight, canvas.width() - 2 * kMargin));
    const QSizeF legend = ColourScale::legendSize(p, tr("weight"));
    if (m.right() + kMargin + legend.width() <= canvas.right())
        m_scale.drawLegend(p, QRectF(m.right() + kMargin, m.top(), legend.width(), legend.height()),
                           tr("weight"));
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(m, m_image);
    p.setPen(QPen(Accent::grid(), 1));
    p.setBrush(Qt::NoBrush);
    p.drawRect(m);

    // Labels: every row's token where rows are a text line tall, else every n-th position.
    const double cell = m.width() / m_T;
    const int every = std::max(1, int(std::ceil(fm.height() / std::max(cell, 1e-9))));
    p.setPen(QColor(0x30, 0x30, 0x30));
    for (int q = 0; q < m_T; q += every) {
        const QString label =
            QStringLiteral("%1 %2").arg(q).arg(tokenLabel(displayToken(m_tokens[size_t(q)])));
        const QRectF r(canvas.left(), m.top() + q * cell + cell / 2 - fm.height() / 2,
                       m.left() - canvas.left() - 4, fm.height());
        p.drawText(r, Qt::AlignRight | Qt::AlignVCenter,
                   fm.elidedText(label, Qt::ElideRight, r.width()));
    }
    const int everyK =
        std::max(1, int(std::ceil(fm.horizontalAdvance(QStringLiteral("0000")) / cell)));
    for (int k = 0; k < m_T; k += everyK)
        p.drawText(QRectF(m.left() + k * cell + cell / 2 - 30, m.bottom() + 2, 60, fm.height()),
                   Qt::AlignHCenter | Qt::AlignTop, QString::number(k));
    if (m_selected >= 0) {
        p.setPen(QPen(Accent::selection(), 2));
        p.drawRect(QRectF(m.left(), m.top() + m_selected * cell, m.width(), std::max(cell, 2.0)));
    }
}

void AttentionPatternView::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    paint(p, QRectF(rect()));
}

void AttentionPatternView::renderTo(QPainter &painter, const QSize &size)
{
    painter.save();
    paint(painter, QRectF(QPointF(0, 0), QSizeF(size)));
    painter.restore();
}

QString AttentionPatternView::csv() const
{
    QString out =
        csvLine({QStringLiteral("query"), QStringLiteral("key"), QStringLiteral("weight")});
    for (int q = 0; q < m_T; ++q)
        for (int k = 0; k <= q; ++k)
            out += csvLine({QString::number(q), QString::number(k),
                            QString::number(double(weight(q, k)), 'g', 7)});
    return out;
}

void AttentionPatternView::mousePressEvent(QMouseEvent *event)
{
    const auto [q, k] = cellAt(event->position());
    if (q >= 0) Q_EMIT querySelected(q);
    QWidget::mousePressEvent(event);
}

bool AttentionPatternView::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const auto [q, k] = cellAt(help->pos());
        if (q < 0) {
            QToolTip::hideText();
            event->ignore();
            return true;
        }
        const QString text =
            k > q ? tr("Position %1 cannot read position %2, which comes after it.").arg(q).arg(k)
                  : tr("Position %1 (%2) reads position %3 (%4) with weight %5")
                        .arg(q)
                        .arg(displayToken(m_tokens[size_t(q)]))
                        .arg(k)
                        .arg(displayToken(m_tokens[size_t(k)]))
                        .arg(double(weight(q, k)), 0, 'f', 3);
        QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

QSize AttentionPatternView::minimumSizeHint() const
{
    return {200, 160};
}

QSize AttentionPatternView::sizeHint() const
{
    return {420, 380};
}

} // namespace HeadLens
