#include "blockpainter.h"

#include "blocklabel.h"
#include "uitext.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace HeadLens {

namespace {

constexpr QChar kEllipsis(0x2026);
// An attention tag never gets wider than this; its full text is in the tooltip.
constexpr double kTagRoom = 110;

void prepareText(QStaticText &st, const QString &text, const QFont &font)
{
    st.setText(text);
    st.setTextFormat(Qt::PlainText);
    st.setPerformanceHint(QStaticText::AggressiveCaching);
    st.prepare(QTransform(), font);
}

} // namespace

BlockPainter::BlockPainter(const BlockGridData &data) : m_data(data)
{
    setFonts(QFont(), QFont());
}

void BlockPainter::setFonts(const QFont &blockFont, const QFont &headerFont)
{
    m_blockFont = blockFont;
    m_headerFont = headerFont;
    m_smallFont = headerFont;
    m_smallFont.setPointSizeF(std::max(6.0, headerFont.pointSizeF() * 0.85));
    // The ellipsis of a cut label is drawn small: a font's own ellipsis is often a whole em
    // wide, more than the two letters it stands for in a narrow block.
    m_ellipsisFont = blockFont;
    m_ellipsisFont.setPointSizeF(std::max(5.0, blockFont.pointSizeF() * 0.6));
    m_ellipsis = QStaticText();
    prepareText(m_ellipsis, QString(kEllipsis), m_ellipsisFont);
    resetTexts();
    m_blockSprites.clear();
    m_nodeSprite = QPixmap();
}

void BlockPainter::resetTexts()
{
    const size_t n = m_data.labels().size();
    m_textWidth.assign(n, -1.0f);
    m_whole.assign(n, QStaticText());
    m_elided.assign(n, Elided());
    m_elidedRoom = -1;
}

double BlockPainter::minTextHeight() const
{
    return QFontMetricsF(m_blockFont).height() - 2;
}

bool BlockPainter::showsText(const BlockGridLayout &g) const
{
    // A block narrower than an average letter would only show a smudge.
    return m_data.hasLens() && !g.dense() && g.blockH() >= minTextHeight() &&
           g.blockW() >= QFontMetricsF(m_blockFont).averageCharWidth();
}

double BlockPainter::textRoom(const BlockGridLayout &g) const
{
    // Every block is as wide as the others; narrow ones keep only a hair of padding.
    return g.blockW() - 2 * std::clamp(g.blockW() * 0.06, 0.5, 3.0);
}

QString BlockPainter::shownText(const BlockGridLayout &g, int layer, int pos) const
{
    if (!showsText(g) || !m_data.contains(layer, pos)) return QString();
    const QString &label = m_data.labels()[size_t(m_data.textIndex(layer, pos))];
    return elideLabel(label, QFontMetricsF(m_blockFont), m_ellipsis.size().width(), textRoom(g))
        .text();
}

// --------------------------------------------------------------------------------- paint

void BlockPainter::paint(QPainter &p, const BlockGridLayout &g, const QRectF &canvas, bool vector)
{
    m_stats = Stats();
    p.fillRect(canvas, Qt::white);
    if (m_data.layers() <= 0 || m_data.tokens() <= 0) {
        p.setPen(Accent::mutedText());
        p.drawText(canvas, Qt::AlignCenter | Qt::TextWordWrap, m_emptyText);
        return;
    }
    int t0, t1, l0, l1;
    g.visibleTokens(t0, t1);
    g.visibleLayers(l0, l1);
    if (t0 <= t1 && l0 <= l1) {
        p.save();
        p.setClipRect(g.area());
        paintAttentionStreams(p, g, t0, t1);
        paintNodes(p, g, l0, l1, t0, t1, vector);
        paintHighlights(p, g, l0, l1, t0, t1, false); // rings behind the blocks
        paintBlocks(p, g, l0, l1, t0, t1, vector);
        if (showsText(g)) paintLabels(p, g, l0, l1, t0, t1);
        paintHighlights(p, g, l0, l1, t0, t1, true); // dense: pixels over the block image
        paintAttentionArcs(p, g);
        // The prompt ends here; the rest was generated.
        const int nPrompt = m_data.promptTokens();
        if (nPrompt > 0 && nPrompt < m_data.tokens()) {
            const double x = g.originX() + nPrompt * g.pitchX();
            if (x >= g.area().left() && x <= g.area().right()) {
                p.setPen(QPen(Accent::mutedText(), 1, Qt::DashLine));
                p.drawLine(QPointF(x, std::max(g.area().top(), g.originY())),
                           QPointF(x, std::min(g.area().bottom(), g.originY() + g.contentH())));
            }
        }
        p.restore();
    }
    paintSelection(p, g);
    paintLayerLabels(p, g, canvas, l0, l1);
    paintTokenHeader(p, g, canvas, t0, t1);
    paintLegend(p, canvas, g.showsNodes());
}

const QPixmap &BlockPainter::blockSprite(QRgb rgb, double radius)
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

void BlockPainter::paintBlocks(QPainter &p, const BlockGridLayout &g, int l0, int l1, int t0,
                               int t1, bool vector)
{
    const int L = m_data.layers();
    const double px = g.pitchX(), py = g.pitchY();
    m_stats.blocks = (t1 - t0 + 1) * (l1 - l0 + 1);
    if (g.dense()) {
        // Dense: the image, one pixel per block, scaled without smoothing.
        m_stats.image = true;
        p.save();
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);
        if (py < BlockGridLayout::kImagePitch) {
            const int r0 = L - 1 - l1, r1 = L - 1 - l0;
            const QRectF target(g.originX() + t0 * px, g.block(l1, t0).top(), (t1 - t0 + 1) * px,
                                (r1 - r0 + 1) * py);
            p.drawImage(target, m_data.image(), QRectF(t0, r0, t1 - t0 + 1, r1 - r0 + 1));
        } else {
            for (int l = l0; l <= l1; ++l) {
                const QRectF b = g.block(l, t0);
                const QRectF target(g.originX() + t0 * px, b.top(), (t1 - t0 + 1) * px, b.height());
                p.drawImage(target, m_data.image(), QRectF(t0, L - 1 - l, t1 - t0 + 1, 1));
            }
        }
        p.restore();
        return;
    }

    const double bw = g.blockW(), bh = g.blockH();
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
        const QRgb *rgb = m_data.rgbRow(l);
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
    p.restore();
}

void BlockPainter::paintLabels(QPainter &p, const BlockGridLayout &g, int l0, int l1, int t0,
                               int t1)
{
    const QFontMetricsF fm(m_blockFont);
    const double room = textRoom(g);
    if (room != m_elidedRoom) {
        m_elided.assign(m_data.labels().size(), Elided());
        m_elidedRoom = room;
    }
    const double ellipsisW = m_ellipsis.size().width();
    struct Mark {
        QPointF at;
        QColor colour;
    };
    std::vector<Mark> marks; // ellipses, drawn after the labels in their own font
    p.save();
    p.setFont(m_blockFont);
    // Every label is laid out once (whole, or elided for this zoom) and drawn from the cache.
    for (int l = l0; l <= l1; ++l) {
        const QRgb *rgb = m_data.rgbRow(l);
        for (int t = t0; t <= t1; ++t) {
            const size_t ti = size_t(m_data.textIndex(l, t));
            const QString &label = m_data.labels()[ti];
            float &w = m_textWidth[ti];
            if (w < 0) w = float(fm.horizontalAdvance(label));
            const QStaticText *st = nullptr;
            bool ellipsis = false;
            if (w <= room) {
                QStaticText &whole = m_whole[ti];
                if (whole.text().isEmpty()) prepareText(whole, label, m_blockFont);
                st = &whole;
            } else {
                Elided &e = m_elided[ti];
                if (!e.known) {
                    const ElidedLabel shown = elideLabel(label, fm, ellipsisW, room);
                    prepareText(e.prefix, shown.prefix, m_blockFont);
                    e.ellipsis = shown.ellipsis;
                    e.known = true;
                }
                st = &e.prefix;
                ellipsis = e.ellipsis;
            }
            if (st->text().isEmpty()) continue;
            const QRectF r = g.block(l, t);
            const QSizeF size = st->size();
            const double total = size.width() + (ellipsis ? ellipsisW : 0);
            const QPointF at(r.center().x() - total / 2, r.center().y() - size.height() / 2);
            const QColor colour = ColourScale::textColourOn(rgb[t]);
            p.setPen(colour);
            p.drawStaticText(at, *st);
            if (ellipsis) marks.push_back({QPointF(at.x() + size.width(), at.y()), colour});
            ++m_stats.texts;
        }
    }
    if (!marks.empty()) {
        // Baselines line up: the small ellipsis moves down by the difference of the ascents.
        p.setFont(m_ellipsisFont);
        const double dy = fm.ascent() - QFontMetricsF(m_ellipsisFont).ascent();
        for (const Mark &m : marks) {
            p.setPen(m.colour);
            p.drawStaticText(m.at + QPointF(0, dy), m_ellipsis);
        }
    }
    p.restore();
}

void BlockPainter::paintHighlights(QPainter &p, const BlockGridLayout &g, int l0, int l1, int t0,
                                   int t1, bool over)
{
    if (m_data.highlightCount() == 0) return;
    const QColor colour = Accent::highlight();
    const int L = m_data.layers(), T = m_data.tokens();
    const double px = g.pitchX(), py = g.pitchY();
    const bool dense = g.dense();
    if (dense != over) return;
    if (dense) {
        // Dense: one image over the block image, the highlighted pixels in the accent colour
        // and the others veiled in white, so a few outlined pixels among thousands stand out.
        if (m_highlightImage.isNull()) {
            m_highlightImage = QImage(T, L, QImage::Format_ARGB32_Premultiplied);
            m_highlightImage.fill(qPremultiply(qRgba(255, 255, 255, 160)));
            const QRgb on = colour.rgba();
            for (int l = 0; l < L; ++l) {
                auto *row = reinterpret_cast<QRgb *>(m_highlightImage.scanLine(L - 1 - l));
                const uint8_t *h = m_data.highlightRow(l);
                for (int t = 0; t < T; ++t)
                    if (h[t]) row[t] = on;
            }
        }
        p.save();
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);
        const int r0 = L - 1 - l1, r1 = L - 1 - l0;
        if (py < BlockGridLayout::kImagePitch) {
            const QRectF target(g.originX() + t0 * px, g.block(l1, t0).top(), (t1 - t0 + 1) * px,
                                (r1 - r0 + 1) * py);
            p.drawImage(target, m_highlightImage, QRectF(t0, r0, t1 - t0 + 1, r1 - r0 + 1));
        } else {
            for (int l = l0; l <= l1; ++l) {
                const QRectF b = g.block(l, t0);
                const QRectF target(g.originX() + t0 * px, b.top(), (t1 - t0 + 1) * px, b.height());
                p.drawImage(target, m_highlightImage, QRectF(t0, L - 1 - l, t1 - t0 + 1, 1));
            }
        }
        p.restore();
        m_stats.highlights = 1;
        return;
    }
    // A ring around each visible highlighted block: a filled rectangle a little larger than
    // the block, drawn before it, so the block covers its middle. Plain fills without
    // antialiasing are the cheapest thing a painter draws (40,000 of them stay in a frame).
    const double pad = std::clamp(std::min(g.gapX(), g.gapY()) * 0.45, 1.5, 3.5);
    int drawn = 0;
    p.save();
    p.setRenderHint(QPainter::Antialiasing, false);
    for (int l = l0; l <= l1; ++l) {
        const uint8_t *h = m_data.highlightRow(l);
        for (int t = t0; t <= t1; ++t) {
            if (!h[t]) continue;
            p.fillRect(g.block(l, t).adjusted(-pad, -pad, pad, pad), colour);
            ++drawn;
        }
    }
    p.restore();
    m_stats.highlights = drawn;
}

void BlockPainter::paintNodes(QPainter &p, const BlockGridLayout &g, int l0, int l1, int t0, int t1,
                              bool vector)
{
    // Below each row: the residual stream rising through that layer's attention node and
    // then its feed-forward node. Only when there is room to see them.
    if (!g.showsNodes()) return;
    const double gap = g.gapY();
    const double radius = g.nodeRadius();
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    const QPen stream(QColor(0, 0, 0, 40), 1);
    const QPen nodePen(Accent::grid(), 1.2);
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
    // The row above the top visible one hangs its nodes into the area too.
    const int hi = std::min(m_data.layers() - 1, l1 + 1);
    for (int l = l0; l <= hi; ++l) {
        for (int t = t0; t <= t1; ++t) {
            const double x = g.columnCentre(t), top = g.block(l, t).bottom();
            if (vector)
                drawNodes(p, x, top);
            else
                p.drawPixmap(QPointF(x - spriteW / 2, top), m_nodeSprite);
        }
    }
    p.restore();
}

void BlockPainter::paintAttentionStreams(QPainter &p, const BlockGridLayout &g, int t0, int t1)
{
    // The residual stream of every key the selected position reads, in the gap where its
    // layer reads it, tinted by weight (relative to the strongest key).
    const std::vector<float> w = m_data.attentionWeights();
    if (w.empty() || g.gapY() < 4) return;
    const float maxW = *std::max_element(w.begin(), w.end());
    if (maxW <= 0) return;
    const int layer = m_data.attentionLayer();
    const double width = std::clamp(g.pitchX() * 0.3, 2.0, 6.0);
    p.save();
    p.setPen(Qt::NoPen);
    QColor fill = Accent::attention();
    for (int k = t0; k <= std::min(t1, int(w.size()) - 1); ++k) {
        const double rel = w[size_t(k)] / maxW;
        if (rel < 0.02) continue;
        fill.setAlphaF(0.12 + 0.6 * rel);
        const double x = g.columnCentre(k), top = g.block(layer, k).bottom();
        p.fillRect(QRectF(x - width / 2, top, width, g.gapY()), fill);
    }
    p.restore();
}

void BlockPainter::paintAttentionArcs(QPainter &p, const BlockGridLayout &g)
{
    const std::vector<float> w = m_data.attentionWeights();
    if (w.empty()) return;
    std::vector<int> targets = m_data.attentionLineTargets();
    const int layer = m_data.attentionLayer(), q = m_data.selectedPos();
    const QColor accent = Accent::attention();
    const QPointF from = g.attentionNode(layer, q);
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    // The node the arcs leave from: the selected position's attention step.
    p.setPen(QPen(accent, 1.5));
    p.setBrush(accent);
    p.drawEllipse(from, g.nodeRadius(), g.nodeRadius());
    // Arcs within the gap the layer reads, bulging up towards the row; the weakest first, so
    // the strongest lie on top.
    std::sort(targets.begin(), targets.end(),
              [&](int a, int b) { return w[size_t(a)] < w[size_t(b)]; });
    const double maxLift = std::max(4.0, 2 * g.gapY() / 3 - 3);
    const QRectF &area = g.area();
    for (int k : targets) {
        const QPointF to = g.attentionArcEnd(layer, k);
        if (std::max(from.x(), to.x()) < area.left() || std::min(from.x(), to.x()) > area.right())
            continue;
        const double lift = std::min(std::abs(from.x() - to.x()) * 0.3 + 4, maxLift);
        QPainterPath path(from);
        // A quadratic curve peaks at half its control point's height.
        path.quadTo(QPointF((from.x() + to.x()) / 2, from.y() - 2 * lift), to);
        const double wk = w[size_t(k)];
        QColor c = accent;
        c.setAlphaF(0.5 + 0.5 * wk);
        // Thin arcs take the cosmetic stroker, many times faster on long curves than a
        // widened outline (a spread-out head can send a hundred arcs off the screen).
        const double width = 1.0 + 3.0 * wk;
        p.setPen(width < 1.5 ? QPen(c, 0) : QPen(c, width, Qt::SolidLine, Qt::RoundCap));
        p.setBrush(Qt::NoBrush);
        p.drawPath(path);
        p.setPen(Qt::NoPen);
        p.setBrush(c);
        p.drawEllipse(to, 2.5, 2.5);
        ++m_stats.lines;
    }
    // Each arc's end is tagged with the input token of its position, the strongest first; a
    // tag that would cover a stronger one is left out (its column header says the same).
    p.setFont(m_smallFont);
    const QFontMetricsF fm(m_smallFont);
    const double ellipsisW = fm.horizontalAdvance(kEllipsis);
    std::vector<QRectF> placed;
    for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
        const int k = *it;
        const QPointF to = g.attentionArcEnd(layer, k);
        if (!area.contains(to)) continue;
        const QString text = elideLabel(m_data.tokenLabel(k), fm, ellipsisW, kTagRoom).text();
        const double tw = fm.horizontalAdvance(text) + 8;
        const QRectF tag(to.x() - tw / 2, to.y() + 4, tw, fm.height() + 2);
        if (std::any_of(placed.begin(), placed.end(),
                        [&](const QRectF &r) { return r.intersects(tag.adjusted(-2, 0, 2, 0)); }))
            continue;
        placed.push_back(tag);
        p.setPen(QPen(accent, 1));
        p.setBrush(QColor(255, 255, 255, 235));
        p.drawRoundedRect(tag, 3, 3);
        p.setPen(accent.darker(130));
        p.drawText(tag, Qt::AlignCenter | Qt::TextSingleLine, text);
        m_stats.arcTags.emplace_back(k, text);
    }
    p.restore();
}

void BlockPainter::paintSelection(QPainter &p, const BlockGridLayout &g)
{
    // Drawn outside the area clip, so it is never cut in half.
    if (m_data.selectedLayer() < 0) return;
    QRectF r = g.block(m_data.selectedLayer(), m_data.selectedPos());
    if (r.width() < 4) r.adjust(-(4 - r.width()) / 2, 0, (4 - r.width()) / 2, 0);
    if (r.height() < 4) r.adjust(0, -(4 - r.height()) / 2, 0, (4 - r.height()) / 2);
    if (!r.intersects(g.area())) return;
    p.save();
    p.setClipRect(g.area().adjusted(-3, -3, 3, 3));
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setPen(QPen(Accent::selection(), 2.5));
    p.setBrush(Qt::NoBrush);
    p.drawRoundedRect(r.adjusted(-2, -2, 2, 2), 4, 4);
    p.restore();
}

void BlockPainter::paintLayerLabels(QPainter &p, const BlockGridLayout &g, const QRectF &canvas,
                                    int l0, int l1)
{
    // Every step-th row, so they never overlap.
    p.save();
    const QFontMetricsF fm(m_headerFont);
    QFont bold = m_headerFont;
    bold.setBold(true);
    const QRectF gutter(canvas.left(), g.area().top(), g.area().left() - canvas.left() - 4,
                        g.area().height());
    const int step = std::max(1, int(std::ceil(fm.height() / g.pitchY())));
    const int selected = m_data.selectedLayer();
    for (int l = l0; l <= l1; ++l) {
        if (l % step != 0 && l != selected) continue;
        const double y = g.rowCentre(l);
        if (y < g.area().top() || y > g.area().bottom()) continue;
        p.setFont(l == selected ? bold : m_headerFont);
        p.setPen(l == selected ? Accent::selection() : Accent::mutedText());
        p.drawText(QRectF(gutter.left(), y - fm.height() / 2, gutter.width(), fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("L%1").arg(l));
    }
    p.restore();
}

void BlockPainter::paintTokenHeader(QPainter &p, const BlockGridLayout &g, const QRectF &canvas,
                                    int t0, int t1)
{
    // The input tokens along the bottom, with position numbers under them.
    p.save();
    const QFontMetricsF fm(m_headerFont);
    const QFontMetricsF fms(m_smallFont);
    QFont bold = m_headerFont;
    bold.setBold(true);
    QFont italic = m_headerFont;
    italic.setItalic(true);
    const QRectF &area = g.area();
    const QRectF header(area.left(), area.bottom() + 2, area.width(),
                        canvas.bottom() - area.bottom() - 2);
    p.setPen(QColor(0, 0, 0, 50));
    p.drawLine(QPointF(area.left(), area.bottom() + 0.5),
               QPointF(area.right(), area.bottom() + 0.5));
    p.setClipRect(header);
    const double px = g.pitchX();
    const bool labels = px >= 6;
    const int selected = m_data.selectedPos();
    const int nPrompt = m_data.promptTokens();
    const int nstep = [&] {
        const double need = fms.horizontalAdvance(QString::number(m_data.tokens())) + 8;
        for (int m : {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000})
            if (m * px >= need) return m;
        return 5000;
    }();
    // The keys the selected position reads are tinted by weight, as their streams are.
    const std::vector<float> w = m_data.attentionWeights();
    const float maxW = w.empty() ? 0.0f : *std::max_element(w.begin(), w.end());
    const double ellipsisW = fm.horizontalAdvance(kEllipsis);
    for (int t = t0; t <= t1 && t0 >= 0; ++t) {
        const QRectF col(g.originX() + t * px, header.top(), px, fm.height());
        if (maxW > 0 && t < int(w.size()) && w[size_t(t)] / maxW >= 0.02) {
            QColor fill = Accent::attention();
            fill.setAlphaF(0.08 + 0.4 * w[size_t(t)] / maxW);
            p.fillRect(col.adjusted(0.5, 0, -0.5, 0), fill);
        }
        if (labels) {
            const bool generated = t >= nPrompt;
            const QFont &font = t == selected ? bold : (generated ? italic : m_headerFont);
            p.setFont(font);
            p.setPen(t == selected ? Accent::selection()
                                   : (generated ? Accent::mutedText() : QColor(0x20, 0x20, 0x20)));
            const QString shown =
                elideLabel(m_data.tokenLabel(t), QFontMetricsF(font), ellipsisW, px - 3).text();
            p.drawText(col, Qt::AlignCenter | Qt::TextSingleLine, shown);
        }
        if (t % nstep == 0 || t == selected) {
            p.setFont(m_smallFont);
            p.setPen(t == selected ? Accent::selection() : Accent::mutedText());
            const double y = labels ? header.top() + fm.height() : header.top();
            p.drawText(QRectF(g.columnCentre(t) - 40, y, 80, fms.height()), Qt::AlignCenter,
                       QString::number(t));
        }
    }
    p.restore();
}

// -------------------------------------------------------------------------------- legend

QString BlockPainter::colourTitle() const
{
    if (m_data.followToken() >= 0) {
        const QString token = quoted(m_data.vocabText(m_data.followToken()));
        return m_data.followMeasure() == FollowMeasure::Probability
                   ? tr("probability of %1").arg(token)
                   : tr("rank of %1 in the lens top-%2").arg(token).arg(m_data.topk());
    }
    if (m_data.colourMode() == BlockColour::Patching)
        return m_data.hasPatching() ? tr("clean answer recovered by patching")
                                    : tr("no patching map for this trace");
    return m_data.colourMode() == BlockColour::Probability ? tr("top-1 probability")
                                                           : tr("entropy (nats)");
}

QString BlockPainter::caption() const
{
    QString caption = tr("%1 layers \u00d7 %2 tokens").arg(m_data.layers()).arg(m_data.tokens());
    if (!m_data.hasLens()) caption += QStringLiteral(" \u00b7 ") + tr("no lens for this site");
    if (m_data.highlightCount() > 0)
        caption += QStringLiteral(" \u00b7 ") +
                   tr("%n block(s) outlined", nullptr, m_data.highlightCount());
    if (m_data.attentionShown())
        caption +=
            QStringLiteral(" \u00b7 ") +
            (m_data.attentionHead() < 0 ? tr("attention: mean of heads")
                                        : tr("attention: head %1").arg(m_data.attentionHead())) +
            QStringLiteral(" \u2265 ") + QString::number(m_data.attentionThreshold(), 'f', 2);
    return caption;
}

void BlockPainter::paintLegend(QPainter &p, const QRectF &canvas, bool nodes)
{
    p.save();
    p.setFont(m_headerFont);
    const QSizeF ls = ColourScale::legendSize(p, colourTitle());
    const QRectF strip(canvas.left() + 8, canvas.top() + 4, canvas.width() - 16, ls.height());
    double left = paintColourLegend(p, strip, strip.right());
    if (nodes) left = paintNodeLegend(p, strip, left - 12);
    p.setFont(m_headerFont);
    p.setPen(Accent::mutedText());
    p.drawText(
        QRectF(strip.left(), strip.top(), std::max(0.0, left - strip.left() - 8), strip.height()),
        Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap, caption());
    p.restore();
}

double BlockPainter::paintColourLegend(QPainter &p, const QRectF &strip, double right)
{
    const QString title = colourTitle();
    const QFontMetricsF fm(p.font());
    const bool rank = m_data.followToken() >= 0 && m_data.followMeasure() == FollowMeasure::Rank;
    QSizeF size = ColourScale::legendSize(p, title);
    if (!rank) {
        const QRectF rect(right - size.width(), strip.top(), size.width(), size.height());
        m_data.colourScale().drawLegend(p, rect, title, 1);
        right = rect.left();
    } else {
        // Ranks are few and discrete: one swatch each, numbered, as followRgb colours them.
        const int K = std::max(1, m_data.topk());
        const double sw = std::clamp(120.0 / K, 10.0, 22.0);
        size.setWidth(std::max(size.width(), K * sw + 16));
        // No frame: the swatches stand on their own under the title.
        const QRectF rect(right - size.width(), strip.top(), size.width(), size.height());
        const QRectF inner = rect.adjusted(8, 4, -8, -4);
        p.save();
        p.setPen(QColor(0x30, 0x30, 0x30));
        p.drawText(QRectF(inner.left(), inner.top(), inner.width(), fm.height()),
                   Qt::AlignLeft | Qt::AlignVCenter, title);
        const ColourScale &scale = m_data.colourScale();
        for (int r = 1; r <= K; ++r) {
            const QRectF box(inner.left() + (r - 1) * sw, inner.top() + fm.height() + 1, sw - 1, 8);
            p.fillRect(box, QColor::fromRgb(scale.rgbAt(
                                K > 1 ? 1.0 - 0.75 * double(r - 1) / double(K - 1) : 1.0)));
            if (r == 1 || r == K || K <= 10) {
                p.setPen(QColor(0x50, 0x50, 0x50));
                p.drawText(QRectF(box.left() - 4, box.bottom() + 1, sw + 8, fm.height()),
                           Qt::AlignCenter, QString::number(r));
            }
        }
        p.restore();
        right = rect.left();
    }
    if (m_data.followToken() < 0) return right;
    // Where the token is not in a block's top-k.
    const QString below = tr("below top-%1").arg(m_data.topk());
    const double w = fm.horizontalAdvance(below) + 30;
    const QRectF rect(right - 8 - w, strip.top(), w, size.height());
    p.save();
    const QRectF swatch(rect.left() + 4, rect.center().y() - 7, 14, 14);
    p.setPen(QColor(0, 0, 0, 40));
    p.setBrush(QColor::fromRgb(BlockGridData::belowTopkRgb()));
    p.drawRect(swatch);
    p.setPen(QColor(0x30, 0x30, 0x30));
    p.drawText(
        QRectF(swatch.right() + 6, rect.top(), rect.right() - swatch.right() - 6, rect.height()),
        Qt::AlignLeft | Qt::AlignVCenter, below);
    p.restore();
    return rect.left();
}

double BlockPainter::paintNodeLegend(QPainter &p, const QRectF &strip, double right)
{
    // The two nodes under each row, drawn as in the grid, and the arcs when there are some.
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setFont(m_smallFont);
    const QFontMetricsF fm(m_smallFont);
    const QString attention = tr("attention");
    const QString feedForward = tr("feed-forward (MLP)");
    const QString arcs = tr("reads input token");
    const bool withArcs = m_data.attentionShown();
    const double r = 4.5, item = 2 * r + 5;
    const double w1 = item + fm.horizontalAdvance(attention),
                 w2 = item + fm.horizontalAdvance(feedForward),
                 w3 = withArcs ? 22 + fm.horizontalAdvance(arcs) : 0;
    const double width = std::max({w1, w2, w3});
    const double left = right - width;
    const double lineH = fm.height();
    const double y0 = strip.top() + (strip.height() - (withArcs ? 3 : 2) * lineH) / 2;
    auto node = [&](double y, const QColor &fill, const QString &text) {
        p.setPen(QPen(Accent::grid(), 1.2));
        p.setBrush(fill);
        p.drawEllipse(QPointF(left + r + 1, y + lineH / 2), r, r);
        p.setPen(Accent::mutedText());
        p.drawText(QRectF(left + item, y, width - item, lineH), Qt::AlignLeft | Qt::AlignVCenter,
                   text);
    };
    // Top to bottom as in the grid: feed-forward above, attention below.
    node(y0, QColor(0xd9, 0xd9, 0xd9), feedForward);
    node(y0 + lineH, Qt::white, attention);
    if (withArcs) {
        const double y = y0 + 2 * lineH + lineH / 2;
        QPainterPath path(QPointF(left + 1, y + 2));
        path.quadTo(QPointF(left + 9, y - 6), QPointF(left + 17, y + 2));
        p.setPen(QPen(Accent::attention(), 2, Qt::SolidLine, Qt::RoundCap));
        p.setBrush(Qt::NoBrush);
        p.drawPath(path);
        p.setPen(Accent::mutedText());
        p.drawText(QRectF(left + 22, y - lineH / 2, width - 22, lineH),
                   Qt::AlignLeft | Qt::AlignVCenter, arcs);
    }
    p.restore();
    return left;
}

} // namespace HeadLens
