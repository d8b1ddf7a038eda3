#include "headlens/ui/blockview.h"

#include "tokentext.h"

#include <QApplication>
#include <QEvent>
#include <QFontMetricsF>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace HeadLens {

namespace {

// Sizes at zoom 1, in pixels.
constexpr double kBlockW = 76;
constexpr double kBlockH = 28;
constexpr double kGapX = 14;
constexpr double kGapY = 38; // room for the attention and feed-forward nodes
constexpr double kMargin = 10;
constexpr double kMinZoom = 0.002;
constexpr double kMaxZoom = 4.0;
// Below this pitch (pixels per block) the grid is drawn from the one-pixel-per-block image.
constexpr double kImagePitch = 5.0;

QString quoted(const QString &s)
{
    return QStringLiteral("\u201c%1\u201d").arg(s);
}

} // namespace

// Where everything is for one paint: the viewport (or an export canvas) split into the legend
// strip at the top, the layer gutter at the left, the token header at the bottom, and the area
// the blocks go in; block (l, t) in that area follows from the zoom and the origin.
struct BlockView::Geometry {
    QRectF area;
    double zx = 1, zy = 1;
    double originX = 0, originY = 0; // canvas position of the grid's top-left corner
    int layers = 0, tokens = 0;

    double pitchX() const { return (kBlockW + kGapX) * zx; }
    double pitchY() const { return (kBlockH + kGapY) * zy; }
    double contentW() const { return tokens * pitchX(); }
    double contentH() const { return layers * pitchY(); }
    QRectF block(int l, int t) const
    {
        return QRectF(originX + t * pitchX() + kGapX * zx / 2,
                      originY + (layers - 1 - l) * pitchY() + kGapY * zy / 2, kBlockW * zx,
                      kBlockH * zy);
    }
    QRectF cell(int l, int t) const
    {
        return QRectF(originX + t * pitchX(), originY + (layers - 1 - l) * pitchY(), pitchX(),
                      pitchY());
    }
    double columnCentre(int t) const { return originX + (t + 0.5) * pitchX(); }
    double rowCentre(int l) const { return originY + (layers - 1 - l + 0.5) * pitchY(); }
    void visibleTokens(int &t0, int &t1) const
    {
        t0 = std::max(0, int(std::floor((area.left() - originX) / pitchX())));
        t1 = std::min(tokens - 1, int(std::floor((area.right() - originX) / pitchX())));
    }
    void visibleLayers(int &l0, int &l1) const
    {
        const int r0 = std::max(0, int(std::floor((area.top() - originY) / pitchY())));
        const int r1 = std::min(layers - 1, int(std::floor((area.bottom() - originY) / pitchY())));
        l0 = layers - 1 - r1;
        l1 = layers - 1 - r0;
    }
};

BlockView::BlockView(QWidget *parent)
    : QAbstractScrollArea(parent), m_probScale(ColourScale::Palette::Blues, 0.0, 1.0),
      m_entropyScale(ColourScale::Palette::Heat, 0.0, 1.0)
{
    setObjectName(QStringLiteral("BlockView"));
    setFocusPolicy(Qt::StrongFocus);
    setFrameShape(QFrame::NoFrame);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    viewport()->setMouseTracking(true);
    viewport()->setAttribute(Qt::WA_OpaquePaintEvent);
    viewport()->setAutoFillBackground(false);
    m_blockFont = font();
    m_headerFont = font();
    retranslateUi();
}

BlockView::~BlockView() = default;

void BlockView::retranslateUi()
{
    setToolTip(tr("Layers (bottom to top) by tokens (left to right): each block is what the "
                  "lens reads at that layer and position.\nClick or use the arrow keys to "
                  "select; Ctrl+wheel or +/- to zoom, F to fit; drag to pan.\nOutlined blocks "
                  "(a bin of the entropy histogram): Esc or a click clears them."));
    setAccessibleName(tr("Block view"));
    m_emptyText = tr("No trace to show: open a project and choose a trace.");
    viewport()->update();
}

void BlockView::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    if (event->type() == QEvent::FontChange) {
        m_blockFont = font();
        m_headerFont = font();
        std::fill(m_textWidth.begin(), m_textWidth.end(), -1.0f);
        m_staticTexts.assign(m_texts.size(), QStaticText());
        m_elidedRoom = -1;
        updateScrollBars();
    }
    QAbstractScrollArea::changeEvent(event);
}

QSize BlockView::minimumSizeHint() const
{
    return QSize(240, 160);
}
QSize BlockView::sizeHint() const
{
    return QSize(900, 560);
}

// ---------------------------------------------------------------------------------- data

void BlockView::clear()
{
    m_layers = m_tokens = m_nPrompt = 0;
    m_tokenText.clear();
    m_tokenLabel.clear();
    m_rawTexts.clear();
    m_hasLens = false;
    m_top1Id.clear();
    m_top1Text.clear();
    m_top1Prob.clear();
    m_entropy.clear();
    m_texts.clear();
    m_textWidth.clear();
    m_staticTexts.clear();
    m_rgb.clear();
    m_image = QImage();
    m_selLayer = m_selPos = -1;
    clearHighlight();
    m_highlight.clear();
    clearAttention();
    updateScrollBars();
    viewport()->update();
}

void BlockView::setTrace(const Trace &trace)
{
    clear();
    m_tokens = trace.nTokens();
    m_layers = trace.config.nLayers;
    if (m_layers <= 0) {
        // Old or hand-made traces: fall back to any lens that is there.
        for (const LensSite &s : trace.lens)
            if (!s.empty()) {
                m_layers = int(s.topkIds.dim(0));
                break;
            }
    }
    m_nPrompt = trace.nPromptTokens;
    m_tokenText.reserve(size_t(m_tokens));
    for (const TokenInfo &tok : trace.tokens) {
        m_tokenText.push_back(QString::fromStdString(tok.text));
        m_tokenLabel.push_back(tokenLabel(m_tokenText.back()));
    }
    // Keep the vocabulary text of the top-1 ids only: setLens looks them up in m_vocab.
    m_texts.clear();
    m_vocabText.clear();
    for (const auto &kv : trace.vocab)
        m_vocabText.emplace(kv.first, QString::fromStdString(kv.second));
    rebuildColours();
    updateScrollBars();
    horizontalScrollBar()->setValue(0);
    verticalScrollBar()->setValue(0);
    viewport()->update();
}

bool BlockView::setLens(const LensSite &site)
{
    const int n = m_layers * m_tokens;
    if (site.empty() || site.topkIds.rank() != 3 || site.topkIds.dim(0) != m_layers ||
        site.topkIds.dim(1) != m_tokens || site.topkProbs.shape != site.topkIds.shape ||
        site.entropy.rank() != 2 || site.entropy.dim(0) != m_layers ||
        site.entropy.dim(1) != m_tokens) {
        m_hasLens = false;
        m_top1Id.clear();
        m_top1Text.clear();
        m_top1Prob.clear();
        m_entropy.clear();
        clearHighlight();
        rebuildColours();
        viewport()->update();
        return site.empty();
    }
    const int64_t K = site.topkIds.dim(2);
    // The highlight belongs to the lens it was made on (an entropy bin of one site): the same
    // lens again (another colour or threshold) keeps it, another one drops it.
    if (!m_hasLens || m_entropy != site.entropy.data) clearHighlight();
    m_top1Id.resize(size_t(n));
    m_top1Prob.resize(size_t(n));
    m_top1Text.resize(size_t(n));
    m_entropy.assign(site.entropy.data.begin(), site.entropy.data.end());
    m_texts.clear();
    m_rawTexts.clear();
    std::unordered_map<int32_t, int> index;
    for (int i = 0; i < n; ++i) {
        const int32_t id = K > 0 ? site.topkIds.data[size_t(i * K)] : -1;
        m_top1Id[size_t(i)] = id;
        m_top1Prob[size_t(i)] = K > 0 ? site.topkProbs.data[size_t(i * K)] : 0.0f;
        auto it = index.find(id);
        if (it == index.end()) {
            auto v = m_vocabText.find(id);
            m_rawTexts.push_back(v != m_vocabText.end() ? v->second
                                                        : QStringLiteral("[%1]").arg(id));
            m_texts.push_back(tokenLabel(m_rawTexts.back()));
            it = index.emplace(id, int(m_texts.size()) - 1).first;
        }
        m_top1Text[size_t(i)] = it->second;
    }
    m_textWidth.assign(m_texts.size(), -1.0f);
    m_staticTexts.assign(m_texts.size(), QStaticText());
    m_elidedRoom = -1;
    m_hasLens = true;
    rebuildColours();
    viewport()->update();
    return true;
}

void BlockView::setColourMode(ColourMode mode)
{
    if (mode == m_colourMode) return;
    m_colourMode = mode;
    rebuildColours();
    viewport()->update();
}

const ColourScale &BlockView::colourScale() const
{
    return m_colourMode == ColourMode::Probability ? m_probScale : m_entropyScale;
}

QString BlockView::colourTitle() const
{
    return m_colourMode == ColourMode::Probability ? tr("top-1 probability") : tr("entropy (nats)");
}

void BlockView::rebuildColours()
{
    const int n = m_layers * m_tokens;
    m_maxEntropy = 0.0;
    for (float e : m_entropy)
        if (std::isfinite(e)) m_maxEntropy = std::max(m_maxEntropy, double(e));
    // A round upper end, so the legend reads well and two traces of one model look alike.
    m_maxEntropy = m_maxEntropy > 0 ? std::ceil(m_maxEntropy * 2.0) / 2.0 : 1.0;
    m_entropyScale.setRange(0.0, m_maxEntropy);

    m_rgb.assign(size_t(std::max(n, 0)), ColourScale::noDataRgb());
    if (m_hasLens) {
        const ColourScale &scale = colourScale();
        const std::vector<float> &v =
            m_colourMode == ColourMode::Probability ? m_top1Prob : m_entropy;
        for (int i = 0; i < n; ++i)
            m_rgb[size_t(i)] = scale.rgb(v[size_t(i)]);
    }
    m_image = QImage();
    if (n > 0) {
        m_image = QImage(m_tokens, m_layers, QImage::Format_RGB32);
        for (int l = 0; l < m_layers; ++l) {
            auto *row = reinterpret_cast<QRgb *>(m_image.scanLine(m_layers - 1 - l));
            std::copy_n(m_rgb.begin() + size_t(l) * size_t(m_tokens), m_tokens, row);
        }
    }
}

int BlockView::textIndexAt(int layer, int pos) const
{
    return m_hasLens ? m_top1Text[size_t(layer * m_tokens + pos)] : -1;
}

const QString &BlockView::top1Text(int layer, int pos) const
{
    static const QString none;
    const int i = textIndexAt(layer, pos);
    return i >= 0 ? m_rawTexts[size_t(i)] : none;
}

// ----------------------------------------------------------------------------- selection

void BlockView::setSelection(int layer, int pos)
{
    if (layer < 0 || pos < 0 || layer >= m_layers || pos >= m_tokens) layer = pos = -1;
    if (layer == m_selLayer && pos == m_selPos) return;
    m_selLayer = layer;
    m_selPos = pos;
    viewport()->update();
}

void BlockView::selectByUser(int layer, int pos)
{
    layer = std::clamp(layer, 0, m_layers - 1);
    pos = std::clamp(pos, 0, m_tokens - 1);
    if (m_layers <= 0 || m_tokens <= 0) return;
    const bool changed = layer != m_selLayer || pos != m_selPos;
    setSelection(layer, pos);
    ensureVisible(layer, pos);
    if (changed) Q_EMIT blockSelected(layer, pos);
}

// ----------------------------------------------------------------------------- highlight

void BlockView::setHighlightedBlocks(const QVector<QPair<int, int>> &blocks)
{
    const size_t n = size_t(std::max(0, m_layers * m_tokens));
    m_highlight.assign(n, 0);
    m_highlightCount = 0;
    for (const auto &b : blocks) {
        if (b.first < 0 || b.second < 0 || b.first >= m_layers || b.second >= m_tokens) continue;
        uint8_t &h = m_highlight[size_t(b.first) * size_t(m_tokens) + size_t(b.second)];
        if (!h) ++m_highlightCount;
        h = 1;
    }
    m_highlightImage = QImage();
    viewport()->update();
    Q_EMIT highlightChanged(m_highlightCount);
}

void BlockView::clearHighlight()
{
    if (m_highlightCount == 0) return;
    std::fill(m_highlight.begin(), m_highlight.end(), uint8_t(0));
    m_highlightCount = 0;
    m_highlightImage = QImage();
    viewport()->update();
    Q_EMIT highlightChanged(0);
}

bool BlockView::isHighlighted(int layer, int pos) const
{
    if (m_highlightCount == 0 || layer < 0 || pos < 0 || layer >= m_layers || pos >= m_tokens)
        return false;
    return m_highlight[size_t(layer) * size_t(m_tokens) + size_t(pos)] != 0;
}

QVector<QPair<int, int>> BlockView::highlightedBlocks() const
{
    QVector<QPair<int, int>> out;
    if (m_highlightCount == 0) return out;
    out.reserve(m_highlightCount);
    for (int l = 0; l < m_layers; ++l)
        for (int t = 0; t < m_tokens; ++t)
            if (m_highlight[size_t(l) * size_t(m_tokens) + size_t(t)]) out.append(qMakePair(l, t));
    return out;
}

void BlockView::showBlocks(const QVector<QPair<int, int>> &blocks)
{
    setHighlightedBlocks(blocks);
    if (m_highlightCount == 0) return;
    const QVector<QPair<int, int>> shown = highlightedBlocks(); // sorted, inside the grid
    selectByUser(shown.first().first, shown.first().second);
}

// ----------------------------------------------------------------------------- attention

void BlockView::setAttention(int layer, const FloatArray &pattern)
{
    if (layer < 0 || layer >= m_layers || pattern.rank() != 3 || pattern.dim(1) != m_tokens ||
        pattern.dim(2) != m_tokens) {
        clearAttention();
        return;
    }
    m_attnLayer = layer;
    m_pattern = pattern;
    if (m_attnHead >= int(m_pattern.dim(0))) m_attnHead = -1;
    viewport()->update();
}

void BlockView::clearAttention()
{
    m_attnLayer = -1;
    m_pattern.clear();
    viewport()->update();
}

void BlockView::setAttentionHead(int head)
{
    m_attnHead = head < 0 ? -1 : head;
    viewport()->update();
}

void BlockView::setAttentionThreshold(double weight)
{
    m_attnThreshold = std::clamp(weight, 0.0, 1.0);
    viewport()->update();
}

std::vector<float> BlockView::attentionWeights() const
{
    std::vector<float> w;
    if (m_attnLayer < 0 || m_attnLayer != m_selLayer || m_selPos < 0 || m_pattern.empty()) return w;
    const int64_t H = m_pattern.dim(0), T = m_pattern.dim(1);
    w.assign(size_t(m_selPos + 1), 0.0f);
    const int64_t h0 = m_attnHead >= 0 && m_attnHead < H ? m_attnHead : 0;
    const int64_t h1 = m_attnHead >= 0 && m_attnHead < H ? m_attnHead + 1 : H;
    for (int64_t h = h0; h < h1; ++h) {
        const float *row = m_pattern.data.data() + (h * T + m_selPos) * T;
        for (int k = 0; k <= m_selPos; ++k)
            w[size_t(k)] += row[k];
    }
    const float n = float(h1 - h0);
    for (float &x : w)
        x /= n;
    return w;
}

std::vector<int> BlockView::attentionLineTargets() const
{
    std::vector<int> out;
    const std::vector<float> w = attentionWeights();
    for (int k = 0; k < int(w.size()); ++k)
        if (k != m_selPos && w[size_t(k)] >= m_attnThreshold && w[size_t(k)] > 0) out.push_back(k);
    return out;
}

// ------------------------------------------------------------------------------ geometry

BlockView::Geometry BlockView::currentGeometry() const
{
    Geometry g;
    const QRectF canvas(viewport()->rect());
    const QFontMetricsF fm(m_headerFont);
    const double top = fm.height() * 2 + 18;
    const double left = fm.horizontalAdvance(QStringLiteral("L000")) + 14;
    const double bottom = fm.height() * 2 + 12;
    g.area = canvas.adjusted(left, top, 0, -bottom);
    g.zx = m_zoomX;
    g.zy = m_zoomY;
    g.layers = m_layers;
    g.tokens = m_tokens;
    g.originX = g.area.left() + kMargin - horizontalScrollBar()->value();
    const double h = g.contentH() + 2 * kMargin;
    if (h <= g.area.height()) // short grids sit on the token header, like a diagram
        g.originY = g.area.bottom() - kMargin - g.contentH();
    else
        g.originY = g.area.top() + kMargin - verticalScrollBar()->value();
    return g;
}

BlockView::Geometry BlockView::fittedGeometry(const QRectF &canvas) const
{
    Geometry g;
    const QFontMetricsF fm(m_headerFont);
    const double top = fm.height() * 2 + 18;
    const double left = fm.horizontalAdvance(QStringLiteral("L000")) + 14;
    const double bottom = fm.height() * 2 + 12;
    g.area = canvas.adjusted(left, top, -kMargin, -bottom);
    g.layers = m_layers;
    g.tokens = m_tokens;
    if (m_layers > 0 && m_tokens > 0) {
        g.zx = (g.area.width() - 2 * kMargin) / (m_tokens * (kBlockW + kGapX));
        g.zy = (g.area.height() - 2 * kMargin) / (m_layers * (kBlockH + kGapY));
        g.zx = std::clamp(g.zx, kMinZoom, 2.0);
        g.zy = std::clamp(g.zy, kMinZoom, std::max(1.0, 2.0 * g.zx));
    }
    g.originX = g.area.left() + kMargin;
    g.originY = g.area.bottom() - kMargin - g.contentH();
    return g;
}

QRectF BlockView::blockRect(int layer, int pos) const
{
    if (layer < 0 || pos < 0 || layer >= m_layers || pos >= m_tokens) return QRectF();
    return currentGeometry().block(layer, pos);
}

QPair<int, int> BlockView::blockAt(const QPointF &p) const
{
    const Geometry g = currentGeometry();
    if (m_layers <= 0 || m_tokens <= 0 || !g.area.contains(p)) return {-1, -1};
    const int t = int(std::floor((p.x() - g.originX) / g.pitchX()));
    const int r = int(std::floor((p.y() - g.originY) / g.pitchY()));
    if (t < 0 || t >= m_tokens || r < 0 || r >= m_layers) return {-1, -1};
    return {m_layers - 1 - r, t};
}

void BlockView::updateScrollBars()
{
    const Geometry g = currentGeometry();
    const double w = g.contentW() + 2 * kMargin, h = g.contentH() + 2 * kMargin;
    QScrollBar *hb = horizontalScrollBar();
    QScrollBar *vb = verticalScrollBar();
    hb->setRange(0, std::max(0, int(std::ceil(w - g.area.width()))));
    hb->setPageStep(std::max(1, int(g.area.width())));
    hb->setSingleStep(std::max(1, int(g.pitchX())));
    vb->setRange(0, std::max(0, int(std::ceil(h - g.area.height()))));
    vb->setPageStep(std::max(1, int(g.area.height())));
    vb->setSingleStep(std::max(1, int(g.pitchY())));
}

void BlockView::ensureVisible(int layer, int pos)
{
    if (layer < 0 || pos < 0 || layer >= m_layers || pos >= m_tokens) return;
    const Geometry g = currentGeometry();
    const QRectF c = g.cell(layer, pos);
    QScrollBar *hb = horizontalScrollBar();
    QScrollBar *vb = verticalScrollBar();
    if (c.left() < g.area.left())
        hb->setValue(hb->value() - int(std::ceil(g.area.left() - c.left())));
    else if (c.right() > g.area.right())
        hb->setValue(hb->value() + int(std::ceil(c.right() - g.area.right())));
    if (vb->maximum() > 0) {
        if (c.top() < g.area.top())
            vb->setValue(vb->value() - int(std::ceil(g.area.top() - c.top())));
        else if (c.bottom() > g.area.bottom())
            vb->setValue(vb->value() + int(std::ceil(c.bottom() - g.area.bottom())));
    }
}

void BlockView::setZoom(double zoomX, double zoomY)
{
    zoomX = std::clamp(zoomX, kMinZoom, kMaxZoom);
    zoomY = std::clamp(zoomY, kMinZoom, kMaxZoom);
    if (zoomX == m_zoomX && zoomY == m_zoomY) return;
    m_zoomX = zoomX;
    m_zoomY = zoomY;
    updateScrollBars();
    viewport()->update();
    Q_EMIT zoomChanged(m_zoomX, m_zoomY);
}

void BlockView::zoomBy(double factor, const QPointF &anchor)
{
    const Geometry before = currentGeometry();
    // The grid point under the anchor, in zoom-1 units, stays under the anchor.
    const double ux = (anchor.x() - before.originX) / before.zx;
    const double uy = (anchor.y() - before.originY) / before.zy;
    const double oldH = before.contentH();
    setZoom(m_zoomX * factor, m_zoomY * factor);
    const Geometry after = currentGeometry();
    horizontalScrollBar()->setValue(
        int(std::lround(ux * m_zoomX - (anchor.x() - after.area.left() - kMargin))));
    if (verticalScrollBar()->maximum() > 0)
        verticalScrollBar()->setValue(
            int(std::lround(uy * m_zoomY - (anchor.y() - after.area.top() - kMargin))));
    Q_UNUSED(oldH);
    viewport()->update();
}

void BlockView::zoomIn()
{
    zoomBy(1.25, currentGeometry().area.center());
}
void BlockView::zoomOut()
{
    zoomBy(1 / 1.25, currentGeometry().area.center());
}

void BlockView::resetZoom()
{
    setZoom(1.0, 1.0);
    if (m_selLayer >= 0) ensureVisible(m_selLayer, m_selPos);
}

void BlockView::zoomToFit()
{
    if (m_layers <= 0 || m_tokens <= 0) return;
    const Geometry g = currentGeometry();
    // Fit without scroll bars: the area grows by their extent once they are gone.
    QRectF area = g.area;
    if (verticalScrollBar()->isVisible())
        area.setRight(area.right() + verticalScrollBar()->width());
    if (horizontalScrollBar()->isVisible())
        area.setBottom(area.bottom() + horizontalScrollBar()->height());
    double zx = (area.width() - 2 * kMargin - 1) / (m_tokens * (kBlockW + kGapX));
    double zy = (area.height() - 2 * kMargin - 1) / (m_layers * (kBlockH + kGapY));
    zx = std::min(zx, 2.0);
    zy = std::min(zy, std::max(1.0, 2.0 * zx));
    setZoom(zx, zy);
    horizontalScrollBar()->setValue(0);
    verticalScrollBar()->setValue(0);
}

// --------------------------------------------------------------------------------- paint

void BlockView::paintEvent(QPaintEvent *)
{
    QPainter p(viewport());
    paintAll(p, currentGeometry(), QRectF(viewport()->rect()), false);
}

void BlockView::renderTo(QPainter &painter, const QSize &size)
{
    painter.save();
    const QRectF canvas(QPointF(0, 0), QSizeF(size));
    painter.setClipRect(canvas);
    paintAll(painter, fittedGeometry(canvas), canvas, true);
    painter.restore();
}

void BlockView::paintAll(QPainter &p, const Geometry &g, const QRectF &canvas, bool exporting)
{
    m_stats = Stats();
    p.fillRect(canvas, Qt::white);
    if (m_layers <= 0 || m_tokens <= 0) {
        p.setPen(Accent::mutedText());
        p.drawText(canvas, Qt::AlignCenter | Qt::TextWordWrap, m_emptyText);
        return;
    }
    int t0, t1, l0, l1;
    g.visibleTokens(t0, t1);
    g.visibleLayers(l0, l1);
    if (t0 <= t1 && l0 <= l1) {
        p.save();
        p.setClipRect(g.area);
        paintNodes(p, g, l0, l1, t0, t1, exporting);
        paintAttention(p, g, t0, t1, true);
        paintHighlights(p, g, l0, l1, t0, t1, false); // rings behind the blocks
        paintBlocks(p, g, l0, l1, t0, t1, exporting);
        paintHighlights(p, g, l0, l1, t0, t1, true); // dense: pixels over the block image
        paintAttention(p, g, t0, t1, false);
        // The prompt ends here; the rest was generated.
        if (m_nPrompt > 0 && m_nPrompt < m_tokens) {
            const double x = g.originX + m_nPrompt * g.pitchX();
            if (x >= g.area.left() && x <= g.area.right()) {
                QPen pen(Accent::mutedText(), 1, Qt::DashLine);
                p.setPen(pen);
                p.drawLine(QPointF(x, std::max(g.area.top(), g.originY)),
                           QPointF(x, std::min(g.area.bottom(), g.originY + g.contentH())));
            }
        }
        p.restore();
    }
    paintHeaders(p, g, canvas, l0, l1, t0, t1);

    // Legend and caption in the strip above the grid.
    p.save();
    p.setFont(m_headerFont);
    const QString title = colourTitle();
    const QSizeF ls = ColourScale::legendSize(p, title);
    const QRectF legend(canvas.right() - ls.width() - 8, canvas.top() + 4, ls.width(), ls.height());
    colourScale().drawLegend(p, legend, title, m_colourMode == ColourMode::Probability ? 1 : 1);
    p.setPen(Accent::mutedText());
    QString caption = tr("%1 layers \u00d7 %2 tokens").arg(m_layers).arg(m_tokens);
    if (!m_hasLens) caption += QStringLiteral(" \u00b7 ") + tr("no lens for this site");
    if (m_highlightCount > 0)
        caption +=
            QStringLiteral(" \u00b7 ") + tr("%n block(s) outlined", nullptr, m_highlightCount);
    if (m_attnLayer >= 0 && m_attnLayer == m_selLayer)
        caption += QStringLiteral(" \u00b7 ") +
                   (m_attnHead < 0 ? tr("attention: mean of heads")
                                   : tr("attention: head %1").arg(m_attnHead)) +
                   QStringLiteral(" \u2265 ") + QString::number(m_attnThreshold, 'f', 2);
    p.drawText(QRectF(canvas.left() + 8, canvas.top() + 4, legend.left() - canvas.left() - 16,
                      ls.height()),
               Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap, caption);
    p.restore();
    Q_UNUSED(exporting);
}

const QPixmap &BlockView::blockSprite(QRgb rgb, double radius)
{
    auto it = m_blockSprites.find(rgb);
    if (it != m_blockSprites.end()) return it->second;
    const QSize px(int(std::ceil(m_spriteSize.width() * m_spriteDpr)),
                   int(std::ceil(m_spriteSize.height() * m_spriteDpr)));
    QPixmap pm(px);
    pm.setDevicePixelRatio(m_spriteDpr);
    pm.fill(Qt::transparent);
    QPainter sp(&pm);
    sp.setRenderHint(QPainter::Antialiasing, true);
    sp.setPen(QPen(QColor(0, 0, 0, 28), 1));
    sp.setBrush(QColor::fromRgb(rgb));
    sp.drawRoundedRect(QRectF(QPointF(0, 0), m_spriteSize).adjusted(0.5, 0.5, -0.5, -0.5), radius,
                       radius);
    sp.end();
    return m_blockSprites.emplace(rgb, pm).first->second;
}

void BlockView::paintBlocks(QPainter &p, const Geometry &g, int l0, int l1, int t0, int t1,
                            bool vector)
{
    const double px = g.pitchX(), py = g.pitchY();
    if (px < kImagePitch || py < kImagePitch) {
        // Dense: the image, one pixel per block, scaled without smoothing.
        m_stats.image = true;
        m_stats.blocks = (t1 - t0 + 1) * (l1 - l0 + 1);
        p.save();
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);
        if (py < kImagePitch) {
            const int r0 = m_layers - 1 - l1, r1 = m_layers - 1 - l0;
            const QRectF target(g.originX + t0 * px, g.originY + r0 * py, (t1 - t0 + 1) * px,
                                (r1 - r0 + 1) * py);
            p.drawImage(target, m_image, QRectF(t0, r0, t1 - t0 + 1, r1 - r0 + 1));
        } else {
            for (int l = l0; l <= l1; ++l) {
                const QRectF b = g.block(l, t0);
                const int r = m_layers - 1 - l;
                const QRectF target(g.originX + t0 * px, b.top(), (t1 - t0 + 1) * px, b.height());
                p.drawImage(target, m_image, QRectF(t0, r, t1 - t0 + 1, 1));
            }
        }
        p.restore();
        return;
    }

    const double bw = kBlockW * g.zx, bh = kBlockH * g.zy;
    const bool rounded = bw >= 14 && bh >= 10;
    const double radius = std::min(5.0, std::min(bw, bh) / 5);
    // On screen, a rounded block is a cached sprite per colour (antialiased paths per block
    // are what makes a repaint slow); vector exports draw real shapes.
    const bool sprites = rounded && !vector;
    const qreal dpr = p.device() ? p.device()->devicePixelRatioF() : 1.0;
    if (sprites && (m_spriteSize != QSizeF(bw, bh) || m_spriteDpr != dpr)) {
        m_blockSprites.clear();
        m_nodeSprite = QPixmap();
        m_spriteSize = QSizeF(bw, bh);
        m_spriteDpr = dpr;
    }
    p.save();
    p.setRenderHint(QPainter::Antialiasing, rounded);
    const QPen frame(QColor(0, 0, 0, 28), 1); // keeps pale blocks visible on white
    for (int l = l0; l <= l1; ++l) {
        const QRgb *rgb = m_rgb.data() + size_t(l) * size_t(m_tokens);
        for (int t = t0; t <= t1; ++t) {
            const QRectF r = g.block(l, t);
            if (sprites) {
                p.drawPixmap(r.topLeft(), blockSprite(rgb[t], radius));
            } else if (rounded) {
                p.setPen(frame);
                p.setBrush(QColor::fromRgb(rgb[t]));
                p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius);
            } else {
                p.fillRect(r, QColor::fromRgb(rgb[t]));
            }
        }
    }
    m_stats.blocks = (t1 - t0 + 1) * (l1 - l0 + 1);
    p.restore();

    // Level of detail: the top-1 text only where it fits.
    if (!m_hasLens) return;
    const QFontMetricsF fm(m_blockFont);
    if (bh < fm.height() || bw < fm.averageCharWidth() * 2 + 4) return;
    p.save();
    p.setFont(m_blockFont);
    const double minElided = fm.averageCharWidth() * 3 + fm.horizontalAdvance(QChar(0x2026));
    const double room = bw - 6; // every block is as wide as the others
    if (room != m_elidedRoom) {
        m_elidedTexts.assign(m_texts.size(), QStaticText());
        m_elidedState.assign(m_texts.size(), 0);
        m_elidedRoom = room;
    }
    auto prepared = [this](QStaticText &st, const QString &text) {
        st.setText(text);
        st.setTextFormat(Qt::PlainText);
        st.setPerformanceHint(QStaticText::AggressiveCaching);
        st.prepare(QTransform(), m_blockFont);
    };
    // Every text is laid out once (whole, or elided for this zoom) and drawn from the cache.
    for (int l = l0; l <= l1; ++l) {
        for (int t = t0; t <= t1; ++t) {
            const int ti = textIndexAt(l, t);
            float &w = m_textWidth[size_t(ti)];
            if (w < 0) w = float(fm.horizontalAdvance(m_texts[size_t(ti)]));
            QStaticText *st = nullptr;
            if (w <= room) {
                st = &m_staticTexts[size_t(ti)];
                if (st->text().isEmpty()) prepared(*st, m_texts[size_t(ti)]);
            } else if (room >= minElided) {
                char &state = m_elidedState[size_t(ti)]; // 0 unknown, 1 drawn, 2 too short
                if (state == 0) {
                    const QString shown = fm.elidedText(m_texts[size_t(ti)], Qt::ElideRight, room);
                    // One letter and an ellipsis says nothing.
                    state = shown.size() < 3 ? 2 : 1;
                    if (state == 1) prepared(m_elidedTexts[size_t(ti)], shown);
                }
                if (state == 1) st = &m_elidedTexts[size_t(ti)];
            }
            if (!st || st->text().isEmpty()) continue;
            const QRectF r = g.block(l, t);
            const QSizeF size = st->size();
            p.setPen(ColourScale::textColourOn(m_rgb[size_t(l * m_tokens + t)]));
            p.drawStaticText(
                QPointF(r.center().x() - size.width() / 2.0, r.center().y() - size.height() / 2.0),
                *st);
            ++m_stats.texts;
        }
    }
    p.restore();
}

void BlockView::paintHighlights(QPainter &p, const Geometry &g, int l0, int l1, int t0, int t1,
                                bool over)
{
    if (m_highlightCount == 0) return;
    const QColor colour = Accent::highlight();
    const double px = g.pitchX(), py = g.pitchY();
    const bool dense = px < kImagePitch || py < kImagePitch;
    if (dense != over) return;
    if (dense) {
        // Dense: one image over the block image, the highlighted pixels in the accent colour
        // and the others veiled in white, so a few outlined pixels among thousands stand out.
        if (m_highlightImage.isNull()) {
            m_highlightImage = QImage(m_tokens, m_layers, QImage::Format_ARGB32_Premultiplied);
            m_highlightImage.fill(qPremultiply(qRgba(255, 255, 255, 160)));
            const QRgb on = colour.rgba();
            for (int l = 0; l < m_layers; ++l) {
                auto *row = reinterpret_cast<QRgb *>(m_highlightImage.scanLine(m_layers - 1 - l));
                const uint8_t *h = m_highlight.data() + size_t(l) * size_t(m_tokens);
                for (int t = 0; t < m_tokens; ++t)
                    if (h[t]) row[t] = on;
            }
        }
        p.save();
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);
        const int r0 = m_layers - 1 - l1, r1 = m_layers - 1 - l0;
        if (py < kImagePitch) {
            const QRectF target(g.originX + t0 * px, g.originY + r0 * py, (t1 - t0 + 1) * px,
                                (r1 - r0 + 1) * py);
            p.drawImage(target, m_highlightImage, QRectF(t0, r0, t1 - t0 + 1, r1 - r0 + 1));
        } else {
            for (int l = l0; l <= l1; ++l) {
                const QRectF b = g.block(l, t0);
                const QRectF target(g.originX + t0 * px, b.top(), (t1 - t0 + 1) * px, b.height());
                p.drawImage(target, m_highlightImage, QRectF(t0, m_layers - 1 - l, t1 - t0 + 1, 1));
            }
        }
        p.restore();
        m_stats.highlights = 1;
        return;
    }
    // A ring around each visible highlighted block: a filled rectangle a little larger than
    // the block, drawn before it, so the block covers its middle. Plain fills without
    // antialiasing are the cheapest thing a painter draws (40,000 of them stay in a frame).
    const double pad = std::clamp(std::min(kGapX * g.zx, kGapY * g.zy) * 0.45, 1.5, 3.5);
    int drawn = 0;
    p.save();
    p.setRenderHint(QPainter::Antialiasing, false);
    for (int l = l0; l <= l1; ++l) {
        const uint8_t *h = m_highlight.data() + size_t(l) * size_t(m_tokens);
        for (int t = t0; t <= t1; ++t) {
            if (!h[t]) continue;
            p.fillRect(g.block(l, t).adjusted(-pad, -pad, pad, pad), colour);
            ++drawn;
        }
    }
    p.restore();
    m_stats.highlights = drawn;
}

void BlockView::paintNodes(QPainter &p, const Geometry &g, int l0, int l1, int t0, int t1,
                           bool vector)
{
    // Between two rows: the residual stream rising through the attention node and the
    // feed-forward node of the next layer. Only when there is room to see them.
    const double gap = kGapY * g.zy;
    if (gap < 14 || g.pitchX() < 16 || m_layers < 2) return;
    const double radius = std::clamp(gap / 9, 2.5, 5.0);
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    const QPen stream(QColor(0, 0, 0, 40), 1);
    const QPen nodePen(Accent::grid(), 1.2);
    // The lower node is attention (read first), the upper one the feed-forward step.
    auto drawNodes = [&](QPainter &q, double x, double top) {
        q.setPen(stream);
        q.drawLine(QPointF(x, top), QPointF(x, top + gap));
        q.setPen(nodePen);
        q.setBrush(Qt::white);
        q.drawEllipse(QPointF(x, top + 2 * gap / 3), radius, radius);
        q.setBrush(QColor(0xd9, 0xd9, 0xd9));
        q.drawEllipse(QPointF(x, top + gap / 3), radius, radius);
    };
    const qreal dpr = p.device() ? p.device()->devicePixelRatioF() : 1.0;
    const double spriteW = 2 * radius + 4;
    if (!vector && (m_nodeSprite.isNull() || m_nodeSpriteGap != gap || m_spriteDpr != dpr)) {
        // One sprite for every gap at this zoom: antialiased circles per block are slow.
        m_nodeSprite = QPixmap(int(std::ceil(spriteW * dpr)), int(std::ceil((gap + 1) * dpr)));
        m_nodeSprite.setDevicePixelRatio(dpr);
        m_nodeSprite.fill(Qt::transparent);
        QPainter sp(&m_nodeSprite);
        sp.setRenderHint(QPainter::Antialiasing, true);
        drawNodes(sp, spriteW / 2, 0);
        m_nodeSpriteGap = gap;
    }
    const int lo = std::max(0, l0 - 1);
    for (int l = lo; l <= l1 && l + 1 < m_layers; ++l) {
        for (int t = t0; t <= t1; ++t) {
            const QRectF above = g.block(l + 1, t);
            const double x = above.center().x();
            if (vector)
                drawNodes(p, x, above.bottom());
            else
                p.drawPixmap(QPointF(x - spriteW / 2, above.bottom()), m_nodeSprite);
        }
    }
    // The attention node of the shown layer, on the selected column, in the accent colour.
    if (m_attnLayer >= 0 && m_attnLayer == m_selLayer && m_selLayer > 0) {
        const QRectF below = g.block(m_selLayer - 1, m_selPos),
                     above = g.block(m_selLayer, m_selPos);
        p.setPen(QPen(Accent::attention(), 1.5));
        p.setBrush(Accent::attention());
        p.drawEllipse(QPointF(below.center().x(), above.bottom() + 2 * gap / 3), radius, radius);
    }
    p.restore();
}

void BlockView::paintAttention(QPainter &p, const Geometry &g, int t0, int t1, bool tint)
{
    const std::vector<float> w = attentionWeights();
    if (w.empty()) return;
    float maxW = 0;
    for (float x : w)
        maxW = std::max(maxW, x);
    if (maxW <= 0) return;
    const QColor accent = Accent::attention();
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    if (tint) {
        // A halo behind each key's block, stronger for more weight (relative to the strongest
        // key), so the block's own colour and text stay readable.
        const double pad = std::clamp(std::min(kGapX * g.zx, kGapY * g.zy) * 0.35, 1.0, 6.0);
        const int last = std::min(t1, m_selPos);
        p.setPen(Qt::NoPen);
        for (int k = t0; k <= last; ++k) {
            const double rel = w[size_t(k)] / maxW;
            if (rel < 0.02) continue;
            QRectF r = g.block(m_attnLayer, k).adjusted(-pad, -pad, pad, pad);
            if (r.width() < 3) r.adjust(-(3 - r.width()) / 2, 0, (3 - r.width()) / 2, 0);
            QColor fill = accent;
            fill.setAlphaF(0.15 + 0.85 * rel);
            p.setBrush(fill);
            p.drawRoundedRect(r, pad + 2, pad + 2);
        }
        p.restore();
        return;
    }
    // Lines from the selected block to the strong sources, arcing above the row within the gap.
    const QRectF sel = g.block(m_selLayer, m_selPos);
    const QPointF from(sel.center().x(), sel.top());
    const double maxLift = std::max(8.0, kGapY * g.zy * 0.8);
    for (int k : attentionLineTargets()) {
        const QRectF r = g.block(m_attnLayer, k);
        const QPointF to(r.center().x(), r.top());
        if (std::max(from.x(), to.x()) < g.area.left() ||
            std::min(from.x(), to.x()) > g.area.right())
            continue;
        const double lift = std::min(std::abs(from.x() - to.x()) * 0.3 + 6, maxLift);
        QPainterPath path(from);
        // A quadratic curve peaks at half its control point's height.
        path.quadTo(QPointF((from.x() + to.x()) / 2, from.y() - 2 * lift), to);
        const double wk = w[size_t(k)];
        QColor c = accent;
        c.setAlphaF(0.5 + 0.5 * wk);
        p.setPen(QPen(c, 1.0 + 3.0 * wk, Qt::SolidLine, Qt::RoundCap));
        p.setBrush(Qt::NoBrush);
        p.drawPath(path);
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawEllipse(to, 2.5, 2.5);
        ++m_stats.lines;
    }
    p.restore();
}

void BlockView::paintHeaders(QPainter &p, const Geometry &g, const QRectF &canvas, int l0, int l1,
                             int t0, int t1)
{
    p.save();
    // Selection outline (drawn here, outside the area clip, so it is never cut in half).
    if (m_selLayer >= 0) {
        QRectF r = g.block(m_selLayer, m_selPos);
        if (r.width() < 4) r.adjust(-(4 - r.width()) / 2, 0, (4 - r.width()) / 2, 0);
        if (r.height() < 4) r.adjust(0, -(4 - r.height()) / 2, 0, (4 - r.height()) / 2);
        if (r.intersects(g.area)) {
            p.setClipRect(g.area.adjusted(-3, -3, 3, 3));
            p.setRenderHint(QPainter::Antialiasing, true);
            p.setPen(QPen(Accent::selection(), 2.5));
            p.setBrush(Qt::NoBrush);
            p.drawRoundedRect(r.adjusted(-2, -2, 2, 2), 4, 4);
            p.setClipping(false);
            p.setRenderHint(QPainter::Antialiasing, false);
        }
    }

    p.setFont(m_headerFont);
    const QFontMetricsF fm(m_headerFont);
    QFont bold = m_headerFont;
    bold.setBold(true);
    QFont italic = m_headerFont;
    italic.setItalic(true);
    QFont small = m_headerFont;
    small.setPointSizeF(std::max(6.0, m_headerFont.pointSizeF() * 0.85));
    const QFontMetricsF fms(small);

    // Layer labels at the left, every step-th row so they never overlap.
    const QRectF gutter(canvas.left(), g.area.top(), g.area.left() - canvas.left() - 4,
                        g.area.height());
    const int lstep = std::max(1, int(std::ceil(fm.height() / g.pitchY())));
    if (l0 <= l1) {
        for (int l = l0; l <= l1; ++l) {
            if (l % lstep != 0 && l != m_selLayer) continue;
            const double y = g.rowCentre(l);
            if (y < g.area.top() || y > g.area.bottom()) continue;
            p.setFont(l == m_selLayer ? bold : m_headerFont);
            p.setPen(l == m_selLayer ? Accent::selection() : Accent::mutedText());
            p.drawText(QRectF(gutter.left(), y - fm.height() / 2, gutter.width(), fm.height()),
                       Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("L%1").arg(l));
        }
    }

    // Token texts along the bottom, with position numbers under them.
    const QRectF header(g.area.left(), g.area.bottom() + 2, g.area.width(),
                        canvas.bottom() - g.area.bottom() - 2);
    p.setPen(QColor(0, 0, 0, 50));
    p.drawLine(QPointF(g.area.left(), g.area.bottom() + 0.5),
               QPointF(g.area.right(), g.area.bottom() + 0.5));
    p.setClipRect(header);
    const double px = g.pitchX();
    const double minText = fm.averageCharWidth() * 2 + 4;
    const int nstep = [&] {
        const double need = fms.horizontalAdvance(QString::number(m_tokens)) + 8;
        int s = 1;
        for (int m : {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000})
            if (m * px >= need) {
                s = m;
                break;
            } else {
                s = m;
            }
        return s;
    }();
    if (t0 <= t1) {
        for (int t = t0; t <= t1; ++t) {
            const QRectF col(g.originX + t * px, header.top(), px, fm.height());
            if (px >= minText) {
                const bool generated = t >= m_nPrompt;
                p.setFont(t == m_selPos ? bold : (generated ? italic : m_headerFont));
                p.setPen(t == m_selPos
                             ? Accent::selection()
                             : (generated ? Accent::mutedText() : QColor(0x20, 0x20, 0x20)));
                const QString shown =
                    fm.elidedText(m_tokenLabel[size_t(t)], Qt::ElideRight, px - 4);
                if (!(shown.size() < 3 && shown.endsWith(QChar(0x2026))))
                    p.drawText(col.adjusted(2, 0, -2, 0), Qt::AlignCenter | Qt::TextSingleLine,
                               shown);
            }
            if (t % nstep == 0 || t == m_selPos) {
                p.setFont(small);
                p.setPen(t == m_selPos ? Accent::selection() : Accent::mutedText());
                const double cx = g.columnCentre(t);
                const double y = px >= minText ? header.top() + fm.height() : header.top();
                p.drawText(QRectF(cx - 40, y, 80, fms.height()), Qt::AlignCenter,
                           QString::number(t));
            }
        }
    }
    p.restore();
}

// --------------------------------------------------------------------------------- input

void BlockView::resizeEvent(QResizeEvent *event)
{
    QAbstractScrollArea::resizeEvent(event);
    updateScrollBars();
}

void BlockView::scrollContentsBy(int, int)
{
    viewport()->update();
}

void BlockView::wheelEvent(QWheelEvent *event)
{
    const QPoint delta = event->angleDelta();
    if (event->modifiers() & Qt::ControlModifier) {
        // Smooth: a standard wheel step (120) zooms by 1.2; touchpads send small steps.
        const double factor = std::pow(1.2, delta.y() / 120.0);
        zoomBy(factor, event->position());
        event->accept();
        return;
    }
    if ((event->modifiers() & Qt::ShiftModifier) || verticalScrollBar()->maximum() == 0) {
        const int d = delta.x() != 0 ? delta.x() : delta.y();
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - d);
        event->accept();
        return;
    }
    QAbstractScrollArea::wheelEvent(event);
}

void BlockView::mousePressEvent(QMouseEvent *event)
{
    setFocus(Qt::MouseFocusReason);
    if (event->button() == Qt::LeftButton || event->button() == Qt::MiddleButton) {
        m_pressed = true;
        m_panning = event->button() == Qt::MiddleButton;
        m_pressPos = m_lastDragPos = event->position().toPoint();
        if (m_panning) viewport()->setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    QAbstractScrollArea::mousePressEvent(event);
}

void BlockView::mouseMoveEvent(QMouseEvent *event)
{
    if (m_pressed) {
        const QPoint pos = event->position().toPoint();
        if (!m_panning &&
            (pos - m_pressPos).manhattanLength() >= QApplication::startDragDistance()) {
            m_panning = true;
            viewport()->setCursor(Qt::ClosedHandCursor);
        }
        if (m_panning) {
            const QPoint d = pos - m_lastDragPos;
            horizontalScrollBar()->setValue(horizontalScrollBar()->value() - d.x());
            verticalScrollBar()->setValue(verticalScrollBar()->value() - d.y());
            m_lastDragPos = pos;
        }
        event->accept();
        return;
    }
    QAbstractScrollArea::mouseMoveEvent(event);
}

void BlockView::mouseReleaseEvent(QMouseEvent *event)
{
    if (m_pressed) {
        if (!m_panning && event->button() == Qt::LeftButton) {
            clearHighlight(); // a new click starts over
            const QPair<int, int> b = blockAt(event->position());
            if (b.first >= 0) selectByUser(b.first, b.second);
        }
        m_pressed = m_panning = false;
        viewport()->unsetCursor();
        event->accept();
        return;
    }
    QAbstractScrollArea::mouseReleaseEvent(event);
}

void BlockView::keyPressEvent(QKeyEvent *event)
{
    if (event->matches(QKeySequence::ZoomIn) || event->key() == Qt::Key_Plus ||
        event->key() == Qt::Key_Equal) {
        zoomIn();
        return;
    }
    if (event->matches(QKeySequence::ZoomOut) || event->key() == Qt::Key_Minus) {
        zoomOut();
        return;
    }
    if (event->key() == Qt::Key_F) {
        zoomToFit();
        return;
    }
    if (event->key() == Qt::Key_0) {
        resetZoom();
        return;
    }
    if (event->key() == Qt::Key_Escape && m_highlightCount > 0) {
        clearHighlight();
        event->accept();
        return;
    }
    if (m_layers <= 0 || m_tokens <= 0) {
        QAbstractScrollArea::keyPressEvent(event);
        return;
    }
    const bool none = m_selLayer < 0;
    const int l = none ? m_layers - 1 : m_selLayer, t = none ? 0 : m_selPos;
    switch (event->key()) {
    case Qt::Key_Left:
        selectByUser(l, none ? t : t - 1);
        break;
    case Qt::Key_Right:
        selectByUser(l, none ? t : t + 1);
        break;
    case Qt::Key_Up: // up the diagram: the next layer
        selectByUser(none ? l : l + 1, t);
        break;
    case Qt::Key_Down:
        selectByUser(none ? l : l - 1, t);
        break;
    case Qt::Key_Home:
        selectByUser(l, 0);
        break;
    case Qt::Key_End:
        selectByUser(l, m_tokens - 1);
        break;
    case Qt::Key_PageUp:
        selectByUser(m_layers - 1, t);
        break;
    case Qt::Key_PageDown:
        selectByUser(0, t);
        break;
    default:
        QAbstractScrollArea::keyPressEvent(event);
        return;
    }
    event->accept();
}

bool BlockView::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QPair<int, int> b = blockAt(help->pos());
        if (b.first >= 0)
            QToolTip::showText(help->globalPos(), blockToolTip(b.first, b.second), viewport());
        else
            QToolTip::showText(help->globalPos(), toolTip(), viewport());
        return true;
    }
    return QAbstractScrollArea::viewportEvent(event);
}

QString BlockView::blockToolTip(int layer, int pos) const
{
    QString s = QStringLiteral("<b>%1</b><br>")
                    .arg(tr("Layer %1 \u00b7 position %2").arg(layer).arg(pos).toHtmlEscaped());
    s += tr("token: %1").arg(quoted(m_tokenText[size_t(pos)])).toHtmlEscaped();
    if (pos >= m_nPrompt) s += QStringLiteral(" <i>%1</i>").arg(tr("(generated)").toHtmlEscaped());
    if (m_hasLens) {
        const size_t i = size_t(layer * m_tokens + pos);
        s += QStringLiteral("<br>") + tr("lens top-1: %1 (%2 %)")
                                          .arg(quoted(top1Text(layer, pos)))
                                          .arg(double(m_top1Prob[i]) * 100.0, 0, 'f', 1)
                                          .toHtmlEscaped();
        s += QStringLiteral("<br>") +
             tr("entropy: %1 nats").arg(double(m_entropy[i]), 0, 'f', 3).toHtmlEscaped();
    }
    const std::vector<float> w = attentionWeights();
    if (layer == m_attnLayer && pos < int(w.size()))
        s += QStringLiteral("<br>") + tr("attention from the selected token: %1")
                                          .arg(double(w[size_t(pos)]), 0, 'f', 3)
                                          .toHtmlEscaped();
    return s;
}

// ----------------------------------------------------------------------------------- CSV

QString BlockView::csv() const
{
    QString out = csvLine({QStringLiteral("layer"), QStringLiteral("pos"), QStringLiteral("token"),
                           QStringLiteral("top1_id"), QStringLiteral("top1"),
                           QStringLiteral("probability"), QStringLiteral("entropy")});
    for (int l = 0; l < m_layers; ++l)
        for (int t = 0; t < m_tokens; ++t) {
            const size_t i = size_t(l * m_tokens + t);
            out += csvLine({QString::number(l), QString::number(t), m_tokenText[size_t(t)],
                            m_hasLens ? QString::number(m_top1Id[i]) : QString(), top1Text(l, t),
                            m_hasLens ? QString::number(double(m_top1Prob[i]), 'g', 7) : QString(),
                            m_hasLens ? QString::number(double(m_entropy[i]), 'g', 7) : QString()});
        }
    return out;
}

} // namespace HeadLens
