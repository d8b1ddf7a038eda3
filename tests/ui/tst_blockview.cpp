// BlockView on hand-built traces: selection by click and by keys, attention tint and arcs
// against the threshold (and where the arcs go), level of detail, labels that are shortened
// and never dropped, geometry, zoom (both axes, widths only, fitted, per trace), following one
// token, tooltips, CSV, and highlighted blocks.
#include "headlens/ui/blockview.h"
#include "uitestdata.h"

#include <QImage>
#include <QPainter>
#include <QProcessEnvironment>
#include <QScrollBar>
#include <QSignalSpy>
#include <QtTest>

#include <cstdlib>

using namespace HeadLens;

class TestBlockView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void clickSelects_data();
    void clickSelects();
    void keysMoveSelection();
    void setSelectionEmitsNothing();
    void attentionWeights();
    void attentionThreshold_data();
    void attentionThreshold();
    void attentionHead();
    void attentionOnlyOnItsLayer();
    void attentionRowAlone();
    void levelOfDetail();
    void geometryRoundTrip_data();
    void geometryRoundTrip();
    void zoomToFitShowsAll();
    void ctrlWheelZooms();
    void dragPans();
    void colourModeAndLens();
    void patchingColours();
    void csv();
    void renderToDraws();
    void highlight();
    void highlightDrawn_data();
    void highlightDrawn();
    void showBlocksSelectsTheFirst();
    void noBlankBlockAtDefaultFit();
    void fitAtLaptopSizeShowsRows();
    void noBlankBlockAtTinyZoom();
    void longLabelElided();
    void arcsTargetAttendedInputPositions_data();
    void arcsTargetAttendedInputPositions();
    void nodeToolTips();
    void followTokenColours();
    void followTokenByRank();
    void horizontalZoomChangesOnlyWidths();
    void zoomRememberedPerTrace();

private:
    void paint() { m_view->viewport()->repaint(); }
    // A trace of 4 layers x 10 tokens x 2 heads; head 1 attends only to the query itself.
    Trace m_trace;
    BlockView *m_view = nullptr;
};

void TestBlockView::init()
{
    m_trace = TestData::makeTrace(4, 10, 2);
    for (int l = 0; l < 4; ++l)
        for (int q = 0; q < 10; ++q)
            for (int k = 0; k < 10; ++k)
                m_trace.attentionPattern.at({l, 1, q, k}) = k == q ? 1.0f : 0.0f;
    m_view = new BlockView;
    m_view->resize(1200, 600);
    m_view->setTrace(m_trace);
    QVERIFY(m_view->setLens(m_trace.lens[size_t(Site::ResidPost)]));
    m_view->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_view));
}

void TestBlockView::cleanup()
{
    delete m_view;
    m_view = nullptr;
}

void TestBlockView::clickSelects_data()
{
    QTest::addColumn<int>("layer");
    QTest::addColumn<int>("pos");
    QTest::newRow("bottom-left") << 0 << 0;
    QTest::newRow("top layer") << 3 << 2;
    QTest::newRow("middle") << 1 << 5;
    QTest::newRow("right") << 2 << 9;
}

void TestBlockView::clickSelects()
{
    QFETCH(int, layer);
    QFETCH(int, pos);
    m_view->setZoom(0.9, 0.9);
    m_view->ensureVisible(layer, pos);
    const QRectF r = m_view->blockRect(layer, pos);
    QVERIFY(m_view->viewport()->rect().contains(r.center().toPoint()));
    QSignalSpy spy(m_view, &BlockView::blockSelected);
    QTest::mouseClick(m_view->viewport(), Qt::LeftButton, {}, r.center().toPoint());
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), layer);
    QCOMPARE(spy.at(0).at(1).toInt(), pos);
    QCOMPARE(m_view->selectedLayer(), layer);
    QCOMPARE(m_view->selectedPos(), pos);
    // Layer 0 is the bottom row: a higher layer is drawn higher up.
    if (layer > 0)
        QVERIFY(m_view->blockRect(layer, pos).top() < m_view->blockRect(layer - 1, pos).top());
}

void TestBlockView::keysMoveSelection()
{
    m_view->setFocus();
    m_view->setSelection(1, 4);
    QSignalSpy spy(m_view, &BlockView::blockSelected);
    QTest::keyClick(m_view, Qt::Key_Right);
    QTest::keyClick(m_view, Qt::Key_Up); // up the diagram: the next layer
    QTest::keyClick(m_view, Qt::Key_Up);
    QTest::keyClick(m_view, Qt::Key_Left);
    QTest::keyClick(m_view, Qt::Key_Left);
    QTest::keyClick(m_view, Qt::Key_Down);
    QCOMPARE(spy.count(), 6);
    const QList<QPair<int, int>> expected = {{1, 5}, {2, 5}, {3, 5}, {3, 4}, {3, 3}, {2, 3}};
    for (int i = 0; i < spy.count(); ++i) {
        QCOMPARE(spy.at(i).at(0).toInt(), expected[i].first);
        QCOMPARE(spy.at(i).at(1).toInt(), expected[i].second);
    }
    // At the edges the selection stays and nothing is emitted.
    QTest::keyClick(m_view, Qt::Key_PageUp);
    QCOMPARE(m_view->selectedLayer(), 3);
    const int before = spy.count();
    QTest::keyClick(m_view, Qt::Key_Up);
    QCOMPARE(spy.count(), before);
    QTest::keyClick(m_view, Qt::Key_End);
    QCOMPARE(m_view->selectedPos(), 9);
    QTest::keyClick(m_view, Qt::Key_Home);
    QCOMPARE(m_view->selectedPos(), 0);
}

void TestBlockView::setSelectionEmitsNothing()
{
    QSignalSpy spy(m_view, &BlockView::blockSelected);
    m_view->setSelection(2, 3);
    QCOMPARE(spy.count(), 0);
    QCOMPARE(m_view->selectedLayer(), 2);
    m_view->setSelection(7, 3); // out of range clears
    QCOMPARE(m_view->selectedLayer(), -1);
    QCOMPARE(m_view->selectedPos(), -1);
}

void TestBlockView::attentionWeights()
{
    // Head 0: weight (k+1) / sum; head 1: all on the query. Mean of heads at query 3:
    // k<3: (k+1)/10/2, k=3: (4/10 + 1)/2.
    m_view->setSelection(2, 3);
    m_view->setAttention(2, TestData::attentionLayer(m_trace, 2));
    const std::vector<float> w = m_view->attentionWeights();
    QCOMPARE(int(w.size()), 4);
    QVERIFY(qFuzzyCompare(w[0], 0.05f));
    QVERIFY(qFuzzyCompare(w[1], 0.10f));
    QVERIFY(qFuzzyCompare(w[2], 0.15f));
    QVERIFY(qFuzzyCompare(w[3], 0.70f));
}

void TestBlockView::attentionThreshold_data()
{
    QTest::addColumn<double>("threshold");
    QTest::addColumn<QList<int>>("targets");
    // Query 5 on head 0 alone: weights (k+1)/21 for k = 0..5 -> 0.048 0.095 0.143 0.190 0.238
    // and 0.286 for the query itself, which never gets a line.
    QTest::newRow("0.0: every earlier key") << 0.0 << QList<int>{0, 1, 2, 3, 4};
    QTest::newRow("0.1") << 0.1 << QList<int>{2, 3, 4};
    QTest::newRow("0.19") << 0.19 << QList<int>{3, 4};
    QTest::newRow("0.2") << 0.2 << QList<int>{4};
    QTest::newRow("0.25: only the query itself is above") << 0.25 << QList<int>{};
}

void TestBlockView::attentionThreshold()
{
    QFETCH(double, threshold);
    QFETCH(QList<int>, targets);
    m_view->setSelection(1, 5);
    m_view->setAttention(1, TestData::attentionLayer(m_trace, 1));
    m_view->setAttentionHead(0);
    m_view->setAttentionThreshold(threshold);
    const std::vector<int> got = m_view->attentionLineTargets();
    QCOMPARE(QList<int>(got.begin(), got.end()), targets);
    // Everything is on screen at this size, so each target gets a line.
    m_view->setZoom(0.8, 0.8);
    paint();
    QCOMPARE(m_view->linesDrawn(), targets.size());
}

void TestBlockView::attentionHead()
{
    m_view->setSelection(0, 4);
    m_view->setAttention(0, TestData::attentionLayer(m_trace, 0));
    m_view->setAttentionThreshold(0.01);
    m_view->setAttentionHead(1); // attends only to itself: no lines
    QVERIFY(m_view->attentionLineTargets().empty());
    QCOMPARE(m_view->attentionWeights()[4], 1.0f);
    m_view->setAttentionHead(-1);
    QCOMPARE(int(m_view->attentionLineTargets().size()), 4);
}

void TestBlockView::attentionOnlyOnItsLayer()
{
    m_view->setSelection(2, 5);
    m_view->setAttention(1, TestData::attentionLayer(m_trace, 1));
    QVERIFY(m_view->attentionWeights().empty()); // stale layer: nothing shown
    paint();
    QCOMPARE(m_view->linesDrawn(), 0);
    // A pattern of the wrong shape is refused.
    m_view->setSelection(1, 5);
    m_view->setAttention(1, FloatArray({2, 3, 3}));
    QCOMPARE(m_view->attentionLayer(), -1);
}

// A long trace hands the view only the selected position's row: the same weights and lines as
// the whole layer gives, and nothing once another position is selected.
void TestBlockView::attentionRowAlone()
{
    const FloatArray layer = TestData::attentionLayer(m_trace, 1);
    const int64_t H = layer.dim(0), T = layer.dim(1);
    m_view->setSelection(1, 5);
    m_view->setAttention(1, layer);
    m_view->setAttentionThreshold(0.05);
    const std::vector<float> whole = m_view->attentionWeights();
    const std::vector<int> wholeTargets = m_view->attentionLineTargets();
    QCOMPARE(int(whole.size()), 6);

    FloatArray row({H, T});
    for (int64_t h = 0; h < H; ++h)
        for (int64_t k = 0; k < T; ++k)
            row.data[size_t(h * T + k)] = layer.data[size_t((h * T + 5) * T + k)];
    m_view->setAttentionRow(1, 5, row);
    QCOMPARE(m_view->attentionLayer(), 1);
    QCOMPARE(m_view->attentionWeights(), whole);
    QCOMPARE(m_view->attentionLineTargets(), wholeTargets);
    m_view->setAttentionHead(0);
    QCOMPARE(m_view->attentionWeights()[2], layer.data[size_t(5 * T + 2)]);
    m_view->setAttentionHead(-1);

    m_view->setSelection(1, 4); // the row is of position 5 only
    QVERIFY(m_view->attentionWeights().empty());
    m_view->setSelection(1, 5);
    QCOMPARE(m_view->attentionWeights(), whole);
    m_view->setAttentionRow(1, 5, FloatArray({H, T - 1})); // another trace's row: refused
    QCOMPARE(m_view->attentionLayer(), -1);
}

void TestBlockView::levelOfDetail()
{
    m_view->setZoom(1.0, 1.0);
    paint();
    QVERIFY(m_view->textsDrawn() > 0);
    QVERIFY(!m_view->lastPaintUsedImage());
    m_view->setZoom(0.2, 0.2); // blocks of 15 x 6 pixels: no text fits
    paint();
    QCOMPARE(m_view->textsDrawn(), 0);
    QVERIFY(m_view->blocksDrawn() > 0);
    m_view->setZoom(0.02, 0.05); // under a few pixels a block: drawn from the image
    paint();
    QCOMPARE(m_view->textsDrawn(), 0);
    QVERIFY(m_view->lastPaintUsedImage());
}

void TestBlockView::geometryRoundTrip_data()
{
    QTest::addColumn<double>("zoom");
    QTest::newRow("1") << 1.0;
    QTest::newRow("0.5") << 0.5;
    QTest::newRow("2") << 2.0;
}

void TestBlockView::geometryRoundTrip()
{
    QFETCH(double, zoom);
    m_view->setZoom(zoom, zoom);
    for (int l = 0; l < 4; ++l)
        for (int t = 0; t < 10; ++t) {
            const QRectF r = m_view->blockRect(l, t);
            if (!m_view->viewport()->rect().contains(r.center().toPoint())) continue;
            const QPair<int, int> hit = m_view->blockAt(r.center());
            QCOMPARE(hit.first, l);
            QCOMPARE(hit.second, t);
        }
    QCOMPARE(m_view->blockAt(QPointF(-5, -5)).first, -1);
}

void TestBlockView::zoomToFitShowsAll()
{
    m_view->setZoom(3.0, 3.0);
    m_view->zoomToFit();
    const QRect vp = m_view->viewport()->rect();
    QVERIFY(vp.contains(m_view->blockRect(0, 0).toAlignedRect()));
    QVERIFY(vp.contains(m_view->blockRect(3, 9).toAlignedRect()));
    QCOMPARE(m_view->horizontalScrollBar()->maximum(), 0);
}

void TestBlockView::ctrlWheelZooms()
{
    m_view->setZoom(1.0, 1.0);
    QSignalSpy spy(m_view, &BlockView::zoomChanged);
    const QPointF at = m_view->blockRect(1, 2).center();
    QWheelEvent in(at, m_view->viewport()->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton,
                   Qt::ControlModifier, Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(m_view->viewport(), &in);
    QCOMPARE(spy.count(), 1);
    QVERIFY(m_view->zoomX() > 1.0);
    // The block under the cursor stays under it.
    QCOMPARE(m_view->blockAt(at).first, 1);
    QCOMPARE(m_view->blockAt(at).second, 2);
    QTest::keyClick(m_view, Qt::Key_Minus);
    QTest::keyClick(m_view, Qt::Key_Minus);
    QVERIFY(m_view->zoomX() < 1.0);
}

void TestBlockView::dragPans()
{
    m_view->setZoom(3.0, 3.0); // wider and taller than the viewport
    QScrollBar *h = m_view->horizontalScrollBar();
    QScrollBar *v = m_view->verticalScrollBar();
    QVERIFY(h->maximum() > 400 && v->maximum() > 200);
    h->setValue(200);
    v->setValue(100);
    QSignalSpy spy(m_view, &BlockView::blockSelected);
    QWidget *vp = m_view->viewport();
    const QPoint from(600, 300), to(520, 260);
    QTest::mousePress(vp, Qt::LeftButton, {}, from);
    QMouseEvent move(QEvent::MouseMove, QPointF(to), vp->mapToGlobal(QPointF(to)), Qt::NoButton,
                     Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(vp, &move);
    QTest::mouseRelease(vp, Qt::LeftButton, {}, to);
    QCOMPARE(h->value(), 280); // the content follows the mouse
    QCOMPARE(v->value(), 140);
    QCOMPARE(spy.count(), 0); // a drag is not a click
}

void TestBlockView::colourModeAndLens()
{
    QCOMPARE(m_view->colourScale().upper(), 1.0);
    m_view->setColourMode(BlockView::ColourMode::Entropy);
    // Entropies reach 0.25 * 11 = 2.75 nats; the scale rounds up to 3.
    QCOMPARE(m_view->colourScale().upper(), 3.0);
    LensSite wrong;
    wrong.topkIds.reset({2, 10, 3});
    QVERIFY(!m_view->setLens(wrong)); // wrong layer count: refused
    paint();
    QCOMPARE(m_view->textsDrawn(), 0);
}

// The patching map colours blocks on the diverging scale: 0 white, 1 the darkest red, -1 the
// darkest blue; without a map (or with one of another shape) the blocks are grey.
void TestBlockView::patchingColours()
{
    std::vector<float> map(4 * 10, 0.0f);
    map[size_t(3 * 10 + 9)] = 1.0f;  // layer 3, position 9
    map[size_t(1 * 10 + 2)] = -1.0f; // layer 1, position 2
    map[size_t(2 * 10 + 5)] = 0.5f;
    m_view->setColourMode(BlockView::ColourMode::Patching);
    const BlockGridData &d = m_view->data();
    QCOMPARE(d.rgb(0, 0), ColourScale::noDataRgb()); // no map yet
    m_view->setPatching(map);
    QVERIFY(d.hasPatching());
    QCOMPARE(m_view->colourScale().lower(), -1.0);
    QCOMPARE(m_view->colourScale().upper(), 1.0);
    // 0 sits between two of the 256 table entries: white within a step.
    const QRgb zero = d.rgb(0, 0);
    for (int c : {qRed(zero), qGreen(zero), qBlue(zero)})
        QVERIFY(std::abs(c - 0xf7) <= 2);
    QCOMPARE(d.rgb(3, 9), qRgb(0xb2, 0x18, 0x2b));
    QCOMPARE(d.rgb(1, 2), qRgb(0x21, 0x66, 0xac));
    QCOMPARE(d.rgb(2, 5), m_view->colourScale().rgb(0.5));
    QCOMPARE(d.patching(2, 5), 0.5f);
    // The grid image (one pixel per block, the top layer first) shows the same.
    QCOMPARE(d.image().pixel(9, 0), qRgb(0xb2, 0x18, 0x2b));
    QCOMPARE(d.patchingHeads(), 0);
    // Per-head values ride along ([layer, head, pos]), shown in the tooltip, not coloured.
    std::vector<float> heads(4 * 2 * 10, 0.0f);
    heads[size_t((3 * 2 + 1) * 10 + 9)] = 0.75f;
    m_view->setPatching(map, heads, 2);
    QCOMPARE(d.patchingHeads(), 2);
    QCOMPARE(d.headPatching(3, 1, 9), 0.75f);
    QCOMPARE(d.headPatching(3, 0, 9), 0.0f);
    QCOMPARE(d.rgb(3, 9), qRgb(0xb2, 0x18, 0x2b));
    m_view->setPatching(map, std::vector<float>(5, 0.0f), 2); // heads of the wrong size
    QVERIFY(d.hasPatching());
    QCOMPARE(d.patchingHeads(), 0);
    paint();
    m_view->setPatching(std::vector<float>(7, 1.0f)); // not [layers, tokens]
    QVERIFY(!d.hasPatching());
    QCOMPARE(d.rgb(3, 9), ColourScale::noDataRgb());
    m_view->setColourMode(BlockView::ColourMode::Probability); // the lens colours come back
    QCOMPARE(d.rgb(3, 9), m_view->colourScale().rgb(d.top1Prob(3, 9)));
}

void TestBlockView::csv()
{
    const QString text = m_view->csv();
    const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1 + 4 * 10);
    QCOMPARE(lines[0], QStringLiteral("layer,pos,token,top1_id,top1,probability,entropy"));
    // Block (2, 3): top-1 id (2 + 3) % 50 = 5, text " w5".
    const QStringList f = lines[1 + 2 * 10 + 3].split(QLatin1Char(','));
    QCOMPARE(f[0], QStringLiteral("2"));
    QCOMPARE(f[1], QStringLiteral("3"));
    QCOMPARE(f[3], QStringLiteral("5"));
    QCOMPARE(f[4], QStringLiteral(" w5"));
    QVERIFY(qAbs(f[5].toDouble() - double(TestData::top1Prob(2, 3))) < 1e-6);
}

void TestBlockView::renderToDraws()
{
    QImage image(800, 400, QImage::Format_ARGB32);
    image.fill(Qt::white);
    QPainter p(&image);
    m_view->renderTo(p, image.size());
    p.end();
    int coloured = 0;
    for (int y = 0; y < image.height(); y += 4)
        for (int x = 0; x < image.width(); x += 4)
            coloured += image.pixel(x, y) != qRgb(255, 255, 255) ? 1 : 0;
    QVERIFY(coloured > 500);
}

using Blocks = QVector<QPair<int, int>>;

void TestBlockView::highlight()
{
    QSignalSpy changed(m_view, &BlockView::highlightChanged);
    QSignalSpy selected(m_view, &BlockView::blockSelected);
    // Duplicates and blocks outside the 4 x 10 grid are ignored; nothing gets selected.
    m_view->setHighlightedBlocks({{2, 5}, {0, 1}, {2, 5}, {4, 0}, {-1, 3}, {3, 10}});
    QCOMPARE(m_view->highlightCount(), 2);
    QCOMPARE(m_view->highlightedBlocks(), (Blocks{{0, 1}, {2, 5}}));
    QVERIFY(m_view->isHighlighted(2, 5));
    QVERIFY(!m_view->isHighlighted(2, 4));
    QVERIFY(!m_view->isHighlighted(9, 9));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.last().at(0).toInt(), 2);
    QCOMPARE(selected.count(), 0);
    QCOMPARE(m_view->selectedLayer(), -1);

    // Esc clears them (and only them).
    m_view->setSelection(1, 1);
    m_view->setFocus();
    QTest::keyClick(m_view, Qt::Key_Escape);
    QCOMPARE(m_view->highlightCount(), 0);
    QCOMPARE(changed.last().at(0).toInt(), 0);
    QCOMPARE(m_view->selectedLayer(), 1);

    // So does a click, which selects the clicked block as always.
    m_view->setHighlightedBlocks({{1, 1}, {2, 2}});
    m_view->setZoom(0.9, 0.9);
    m_view->ensureVisible(3, 3);
    QTest::mouseClick(m_view->viewport(), Qt::LeftButton, {},
                      m_view->blockRect(3, 3).center().toPoint());
    QCOMPARE(m_view->highlightCount(), 0);
    QCOMPARE(m_view->selectedLayer(), 3);
    QCOMPARE(selected.count(), 1);

    // The same lens again (another colour, threshold or head) keeps them; another lens or
    // another trace drops them.
    const LensSite &lens = m_trace.lens[size_t(Site::ResidPost)];
    m_view->setHighlightedBlocks({{1, 1}});
    QVERIFY(m_view->setLens(lens));
    m_view->setColourMode(BlockView::ColourMode::Entropy);
    QCOMPARE(m_view->highlightCount(), 1);
    LensSite other = lens;
    other.entropy.data[3] += 0.5f;
    QVERIFY(m_view->setLens(other));
    QCOMPARE(m_view->highlightCount(), 0);
    m_view->setHighlightedBlocks({{1, 1}});
    m_view->setTrace(m_trace);
    QCOMPARE(m_view->highlightCount(), 0);
    QVERIFY(!m_view->isHighlighted(1, 1));
}

void TestBlockView::highlightDrawn_data()
{
    QTest::addColumn<double>("zoom");
    QTest::addColumn<bool>("image");
    QTest::newRow("blocks: outlines") << 2.0 << false;
    QTest::newRow("dense: the highlight image") << 0.03 << true;
}

// Only the visible highlights are drawn, in the highlight colour, and only on those blocks.
void TestBlockView::highlightDrawn()
{
    QFETCH(double, zoom);
    QFETCH(bool, image);
    m_view->setZoom(zoom, zoom);
    m_view->ensureVisible(0, 0);
    m_view->setHighlightedBlocks({{0, 0}, {2, 1}, {3, 9}});
    QImage shot(m_view->viewport()->size(), QImage::Format_ARGB32);
    m_view->viewport()->render(&shot);
    QCOMPARE(m_view->lastPaintUsedImage(), image);
    const QColor accent = Accent::highlight();
    auto isAccent = [&](QPointF p) { return QColor(shot.pixel(p.toPoint())) == accent; };
    auto nearAccent = [&](QPointF p) { // an aliased 2 px line lands within a pixel of p
        for (int dx = -1; dx <= 1; ++dx)
            for (int dy = -1; dy <= 1; ++dy)
                if (isAccent(p + QPointF(dx, dy))) return true;
        return false;
    };
    if (image) {
        QCOMPARE(m_view->highlightsDrawn(), 1);
        for (auto b : Blocks{{0, 0}, {2, 1}, {3, 9}})
            QVERIFY2(isAccent(m_view->blockRect(b.first, b.second).center()),
                     qPrintable(QStringLiteral("%1,%2").arg(b.first).arg(b.second)));
        QVERIFY(!isAccent(m_view->blockRect(1, 0).center()));
        QVERIFY(!isAccent(m_view->blockRect(2, 2).center()));
        return;
    }
    int visible = 0;
    for (auto b : Blocks{{0, 0}, {2, 1}, {3, 9}})
        if (m_view->viewport()->rect().intersects(m_view->blockRect(b.first, b.second).toRect()))
            ++visible;
    QVERIFY(visible >= 1 && visible < 3);
    QCOMPARE(m_view->highlightsDrawn(), visible);
    // The outline lies just outside the block; the block keeps its own colour inside.
    const QRectF r = m_view->blockRect(0, 0);
    QVERIFY(nearAccent(QPointF(r.left() - 3, r.center().y())));
    QVERIFY(nearAccent(QPointF(r.center().x(), r.bottom() + 3)));
    QVERIFY(!nearAccent(r.center()));
    const QRectF plain = m_view->blockRect(1, 0);
    QVERIFY(!nearAccent(QPointF(plain.left() - 3, plain.center().y())));
}

void TestBlockView::showBlocksSelectsTheFirst()
{
    m_view->setZoom(1, 1);
    QSignalSpy selected(m_view, &BlockView::blockSelected);
    m_view->showBlocks({{3, 9}, {2, 8}, {3, 4}});
    QCOMPARE(m_view->highlightCount(), 3);
    // The first in (layer, pos) order, selected as a click would, and scrolled into view.
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.at(0).at(0).toInt(), 2);
    QCOMPARE(selected.at(0).at(1).toInt(), 8);
    QCOMPARE(m_view->selectedLayer(), 2);
    QCOMPARE(m_view->selectedPos(), 8);
    QVERIFY(m_view->viewport()->rect().contains(m_view->blockRect(2, 8).toRect()));
    // An empty list clears the highlight and keeps the selection.
    m_view->showBlocks({});
    QCOMPARE(m_view->highlightCount(), 0);
    QCOMPARE(m_view->selectedLayer(), 2);
    QCOMPARE(selected.count(), 1);
}

namespace {

// Whether a block shows a label in a grab: some pixels inside it are far from its fill colour.
int inkPixels(const QImage &shot, const QRectF &block, QRgb fill)
{
    int ink = 0;
    const QRect r = block.adjusted(1, 1, -1, -1).toRect();
    for (int y = r.top(); y <= r.bottom(); ++y)
        for (int x = r.left(); x <= r.right(); ++x) {
            const QRgb c = shot.pixel(x, y);
            if (std::abs(qRed(c) - qRed(fill)) + std::abs(qGreen(c) - qGreen(fill)) +
                    std::abs(qBlue(c) - qBlue(fill)) >
                150)
                ++ink;
        }
    return ink;
}

// Saves a grab for a person to look at, when HEADLENS_SHOTS names a folder.
void keepShot(QWidget *w, const QString &name)
{
    const QString dir = QProcessEnvironment::systemEnvironment().value("HEADLENS_SHOTS");
    if (!dir.isEmpty()) w->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png"));
}

QString withoutEllipsis(QString s)
{
    return s.remove(QChar(0x2026));
}

// The story trace, 32 layers x 60 tokens, shown in a view of the given size.
bool showStory(BlockView &view, const Trace &story, QSize size)
{
    view.resize(size);
    view.setTrace(story);
    if (!view.setLens(story.lens[size_t(Site::ResidPost)])) return false;
    view.show();
    return QTest::qWaitForWindowExposed(&view);
}

} // namespace

// A 60-token, 32-layer trace fitted into a window of a 1920 x 1080 screen: every column
// across, and every block shows at least two characters of its label.
void TestBlockView::noBlankBlockAtDefaultFit()
{
    const Trace story = TestData::makeStoryTrace(32, 60);
    BlockView view;
    QVERIFY(showStory(view, story, QSize(1400, 800)));
    view.setSelection(20, 40);
    view.setAttention(20, TestData::attentionLayer(story, 20));
    view.setAttentionThreshold(0.04);
    QVERIFY(view.isFitted());
    QCOMPARE(view.horizontalScrollBar()->maximum(), 0);
    const QImage shot = view.viewport()->grab().toImage();
    keepShot(&view, QStringLiteral("blockview-story-fit-1400x800"));
    const QRect vp = view.layout().area().toAlignedRect();
    int visible = 0;
    for (int l = 0; l < 32; ++l)
        for (int t = 0; t < 60; ++t) {
            const QString shown = view.shownText(l, t);
            const QString label = view.data().labels()[size_t(view.data().textIndex(l, t))];
            QVERIFY2(
                withoutEllipsis(shown).size() >= std::min<qsizetype>(2, label.size()),
                qPrintable(
                    QStringLiteral("%1,%2: \"%3\" of \"%4\"").arg(l).arg(t).arg(shown, label)));
            QVERIFY(label.startsWith(withoutEllipsis(shown)));
            const QRectF r = view.blockRect(l, t);
            if (!vp.contains(r.toAlignedRect())) continue;
            ++visible;
            QVERIFY2(inkPixels(shot, r, view.data().rgb(l, t)) >= 1, // "." has few
                     qPrintable(QStringLiteral("block %1,%2 is blank").arg(l).arg(t)));
        }
    // Rows stay readable: the grid scrolls rather than squeezing 32 rows into the window.
    QVERIFY(visible >= 60 * 8);
    QCOMPARE(view.textsDrawn(), view.blocksDrawn());
}

// A laptop screen (1280 x 720) leaves the view about 900 x 400 pixels: still at least four
// whole rows of labelled blocks when fitted.
void TestBlockView::fitAtLaptopSizeShowsRows()
{
    const Trace story = TestData::makeStoryTrace(32, 60);
    BlockView view;
    QVERIFY(showStory(view, story, QSize(900, 400)));
    keepShot(&view, QStringLiteral("blockview-story-fit-900x400"));
    const QRect vp = view.viewport()->rect();
    int rows = 0;
    for (int l = 0; l < 32; ++l)
        if (vp.contains(view.blockRect(l, 0).toAlignedRect()) &&
            vp.contains(view.blockRect(l, 59).toAlignedRect()))
            ++rows;
    QVERIFY2(rows >= 4, qPrintable(QString::number(rows)));
    for (int t = 0; t < 60; ++t)
        QVERIFY(!view.shownText(31, t).isEmpty());
}

// Zoomed out horizontally until a block is a letter wide: every block still shows one.
void TestBlockView::noBlankBlockAtTinyZoom()
{
    m_view->resize(600, 600);
    m_view->setZoom(0.1, 1.0);
    QVERIFY(m_view->blockRect(0, 0).width() < 10);
    const QImage shot = m_view->viewport()->grab().toImage();
    QVERIFY(!m_view->lastPaintUsedImage());
    QVERIFY(m_view->blocksDrawn() > 0);
    QCOMPARE(m_view->textsDrawn(), m_view->blocksDrawn());
    for (int l = 0; l < 4; ++l)
        for (int t = 0; t < 10; ++t) {
            QVERIFY(!m_view->shownText(l, t).isEmpty());
            QVERIFY(inkPixels(shot, m_view->blockRect(l, t), m_view->data().rgb(l, t)) >= 2);
        }
}

// A label too long for its block is its leading characters and an ellipsis; the tooltip has
// it whole, with its probability.
void TestBlockView::longLabelElided()
{
    Trace t = m_trace;
    t.vocab[5] = " Supercalifragilistic";
    m_view->setTrace(t);
    QVERIFY(m_view->setLens(t.lens[size_t(Site::ResidPost)]));
    m_view->setZoom(0.6, 1.0);
    const QString shown = m_view->shownText(2, 3); // top-1 id (2 + 3) % 50 = 5
    QVERIFY(shown.endsWith(QChar(0x2026)));
    QVERIFY(shown.size() >= 3);
    QVERIFY(QStringLiteral("Supercalifragilistic").startsWith(withoutEllipsis(shown)));
    const QString tip = m_view->toolTipAt(m_view->blockRect(2, 3).center());
    QVERIFY(tip.contains(QStringLiteral("Supercalifragilistic")));
    QVERIFY(tip.contains(QString::number(double(TestData::top1Prob(2, 3)) * 100, 'f', 1)));
    m_view->setZoom(2.0, 1.0); // wide enough: whole
    QCOMPARE(m_view->shownText(2, 3), QStringLiteral("Supercalifragilistic"));
}

void TestBlockView::arcsTargetAttendedInputPositions_data()
{
    QTest::addColumn<int>("layer");
    QTest::newRow("layer 2 reads what layer 1 left") << 2;
    QTest::newRow("layer 0 reads the embeddings") << 0;
}

// The arcs of layer l leave the selected position's attention node and end on the residual
// streams of the attended positions in the gap below row l (what layer l reads), each tagged
// with the input token at that position, never with what a block there predicts.
void TestBlockView::arcsTargetAttendedInputPositions()
{
    QFETCH(int, layer);
    m_view->setZoom(1.0, 1.0);
    m_view->setSelection(layer, 5);
    m_view->ensureVisible(layer, 5);
    m_view->setAttention(layer, TestData::attentionLayer(m_trace, layer));
    m_view->setAttentionHead(0);
    m_view->setAttentionThreshold(0.1);
    const std::vector<int> targets = m_view->attentionLineTargets();
    QCOMPARE(QList<int>(targets.begin(), targets.end()), (QList<int>{2, 3, 4}));
    paint();
    QCOMPARE(m_view->linesDrawn(), 3);
    const BlockGridLayout g = m_view->layout();
    for (int k : targets) {
        const QPointF end = g.attentionArcEnd(layer, k);
        const QRectF key = m_view->blockRect(layer, k);
        QVERIFY(end.x() > key.left() && end.x() < key.right());
        QVERIFY(end.y() > key.bottom()); // below the row of the layer ...
        if (layer > 0)
            QVERIFY(end.y() < m_view->blockRect(layer - 1, k).top()); // ... over the one it reads
        QVERIFY(end.y() < g.area().bottom());
    }
    // Tagged with the input tokens: the strongest (key 4) first.
    const auto tags = m_view->attentionTagsDrawn();
    QVERIFY(!tags.empty());
    QCOMPARE(tags.front().first, 4);
    for (const auto &tag : tags) {
        QVERIFY(std::find(targets.begin(), targets.end(), tag.first) != targets.end());
        QCOMPARE(tag.second, m_view->data().tokenLabel(tag.first));
        QVERIFY(tag.second !=
                m_view->data().labels()[size_t(m_view->data().textIndex(layer, tag.first))]);
    }
}

// The circles between rows explain themselves.
void TestBlockView::nodeToolTips()
{
    m_view->setZoom(1.0, 1.0);
    const BlockGridLayout g = m_view->layout();
    QVERIFY(g.showsNodes());
    const QString attention = m_view->toolTipAt(g.attentionNode(2, 3));
    QVERIFY(attention.contains(QStringLiteral("attention at position 3")));
    QVERIFY(attention.contains(QStringLiteral("as layer 1 left it")));
    const QString ff = m_view->toolTipAt(g.feedForwardNode(2, 3));
    QVERIFY(ff.contains(QStringLiteral("feed-forward (MLP) at position 3")));
    QVERIFY(m_view->toolTipAt(g.attentionNode(0, 1)).contains(QStringLiteral("embeddings")));
    QVERIFY(
        m_view->toolTipAt(m_view->blockRect(2, 3).center()).contains(QStringLiteral("Layer 2")));
}

// Following a token colours each block by that token's stored lens probability; where it is
// not in the block's top-k, in a colour of its own, and the tooltip says so.
void TestBlockView::followTokenColours()
{
    QSignalSpy changed(m_view, &BlockView::followTokenChanged);
    m_view->setZoom(1.0, 1.0);
    m_view->setFollowToken(7);
    m_view->setFollowToken(7);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(m_view->followToken(), 7);
    const LensSite &lens = m_trace.lens[size_t(Site::ResidPost)];
    int inTopk = 0, below = 0;
    for (int l = 0; l < 4; ++l)
        for (int t = 0; t < 10; ++t) {
            int rank = 0;
            for (int k = 0; k < 3 && !rank; ++k)
                if (lens.topkIds.at({l, t, k}) == 7) rank = k + 1;
            QCOMPARE(m_view->data().followRank(l, t), rank);
            if (rank) {
                const float prob = lens.topkProbs.at({l, t, rank - 1});
                QCOMPARE(m_view->data().followProbability(l, t), prob);
                QCOMPARE(m_view->data().rgb(l, t), m_view->colourScale().rgb(prob));
                ++inTopk;
            } else {
                QCOMPARE(m_view->data().rgb(l, t), BlockGridData::belowTopkRgb());
                ++below;
            }
        }
    QVERIFY(inTopk >= 3 && below >= 3);
    // As drawn: the fill at the top of each visible block.
    m_view->ensureVisible(0, 0);
    const QImage shot = m_view->viewport()->grab().toImage();
    int checked = 0;
    for (int l = 0; l < 4; ++l)
        for (int t = 0; t < 10; ++t) {
            const QRectF r = m_view->blockRect(l, t);
            const QPoint at(int(r.center().x()), int(r.top() + 3));
            if (!m_view->viewport()->rect().contains(r.toAlignedRect())) continue;
            QCOMPARE(QColor(shot.pixel(at)).name(), QColor(m_view->data().rgb(l, t)).name());
            ++checked;
        }
    QVERIFY(checked > 10);
    // Block (0, 0): id 7 is not among 0, 1, 2.
    const QString tip = m_view->toolTipAt(m_view->blockRect(0, 0).center());
    QVERIFY(tip.contains(QStringLiteral("below the top-3")));
    // Block (2, 5): 7 is its top-1.
    QVERIFY(m_view->toolTipAt(m_view->blockRect(2, 5).center()).contains(QStringLiteral("rank 1")));
    m_view->setFollowToken(-1);
    QCOMPARE(changed.count(), 2);
    QCOMPARE(m_view->data().rgb(0, 0), m_view->colourScale().rgb(TestData::top1Prob(0, 0)));
}

void TestBlockView::followTokenByRank()
{
    m_view->setFollowToken(7);
    m_view->setFollowMeasure(FollowMeasure::Rank);
    // (2, 5): rank 1; (1, 5): rank 2; (0, 5): rank 3; (0, 0): below.
    const QRgb r1 = m_view->data().rgb(2, 5), r2 = m_view->data().rgb(1, 5),
               r3 = m_view->data().rgb(0, 5), none = m_view->data().rgb(0, 0);
    QCOMPARE(m_view->data().followRank(0, 5), 3);
    QVERIFY(qGray(r1) < qGray(r2) && qGray(r2) < qGray(r3)); // darker for a better rank
    QCOMPARE(none, BlockGridData::belowTopkRgb());
    QVERIFY(r3 != none);
}

// Horizontal zoom changes the widths and nothing else.
void TestBlockView::horizontalZoomChangesOnlyWidths()
{
    m_view->resize(500, 600); // narrower than the grid: it scrolls
    m_view->setZoom(0.8, 0.9);
    m_view->ensureVisible(2, 8);
    QSignalSpy spy(m_view, &BlockView::zoomChanged);
    const QRectF before = m_view->blockRect(2, 8);
    m_view->zoomInHorizontally();
    QCOMPARE(spy.count(), 1);
    QVERIFY(m_view->zoomX() > 0.8);
    QCOMPARE(m_view->zoomY(), 0.9);
    m_view->ensureVisible(2, 8);
    const QRectF after = m_view->blockRect(2, 8);
    QVERIFY(after.width() > before.width());
    QCOMPARE(after.top(), before.top());
    QCOMPARE(after.height(), before.height());
    // Ctrl+Shift+wheel does the same, keeping the block under the cursor.
    const QPointF at = after.center();
    QWheelEvent out(at, m_view->viewport()->mapToGlobal(at), QPoint(), QPoint(0, -120),
                    Qt::NoButton, Qt::ControlModifier | Qt::ShiftModifier, Qt::NoScrollPhase,
                    false);
    QCoreApplication::sendEvent(m_view->viewport(), &out);
    QCOMPARE(m_view->zoomY(), 0.9);
    QVERIFY(m_view->blockRect(2, 8).width() < after.width());
    QCOMPARE(m_view->blockRect(2, 8).height(), before.height());
    QCOMPARE(m_view->blockAt(at), qMakePair(2, 8));
    m_view->zoomOutHorizontally();
    QCOMPARE(m_view->zoomY(), 0.9);
}

// Each trace keeps its own zoom; a trace not seen before opens fitted.
void TestBlockView::zoomRememberedPerTrace()
{
    const Trace wide = TestData::makeTrace(6, 40, 2);
    m_view->setTrace(m_trace, QStringLiteral("a"));
    QVERIFY(m_view->isFitted());
    m_view->setZoom(0.5, 0.7);
    QVERIFY(!m_view->isFitted());
    m_view->setTrace(wide, QStringLiteral("b"));
    QVERIFY(m_view->isFitted());
    QCOMPARE(m_view->horizontalScrollBar()->maximum(), 0); // all 40 columns across
    const double fittedX = m_view->zoomX();
    QVERIFY(fittedX != 0.5);
    m_view->zoomInHorizontally();
    const double bx = m_view->zoomX(), by = m_view->zoomY();
    m_view->setTrace(m_trace, QStringLiteral("a"));
    QCOMPARE(m_view->zoomX(), 0.5);
    QCOMPARE(m_view->zoomY(), 0.7);
    m_view->setTrace(wide, QStringLiteral("b"));
    QCOMPARE(m_view->zoomX(), bx);
    QCOMPARE(m_view->zoomY(), by);
    m_view->zoomToFit();
    QCOMPARE(m_view->zoomX(), fittedX);
    // A fitted view stays fitted when it is resized.
    m_view->resize(700, 600);
    QVERIFY(m_view->isFitted());
    QCOMPARE(m_view->horizontalScrollBar()->maximum(), 0);
    QVERIFY(m_view->zoomX() < fittedX);
    m_view->setTrace(m_trace, QStringLiteral("c"));
    QVERIFY(m_view->isFitted());
}

QTEST_MAIN(TestBlockView)
#include "tst_blockview.moc"
