// How long a full repaint of the block view takes at 60 layers x 2,000 tokens, offscreen into
// an image, at the zooms people use: everything fitted (the worst case: every block visible),
// a middle zoom without text, zoom 1 with text, narrow columns whose labels are elided (as a
// fitted 60-token trace shows them) or cut to one letter, also with a third of the blocks
// outlined (a bin of the entropy histogram), and with one token followed and the attention of
// the selected block shown. Prints the figures; asserts nothing about time (machines differ),
// only that what the row is about was drawn.
#include "headlens/ui/blockview.h"
#include "uitestdata.h"

#include <QElapsedTimer>
#include <QImage>
#include <QPainter>
#include <QtTest>

using namespace HeadLens;

class TestBlockViewBench : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void repaint_data();
    void repaint();
    void exportWhole();

private:
    Trace m_trace;
    FloatArray m_attention; // one layer, [H, T, T]: 2 x 2,000 x 2,000
    std::unique_ptr<BlockView> m_view;
};

void TestBlockViewBench::initTestCase()
{
    m_trace = TestData::makeTrace(60, 2000, 2, 3, 5000, false);
    // Query q attends to every key k <= q in proportion to k + 1, as makeTrace's attention.
    m_attention.reset({2, 2000, 2000});
    for (int h = 0; h < 2; ++h)
        for (int q = 0; q < 2000; ++q)
            for (int k = 0; k <= q; ++k)
                m_attention.at({h, q, k}) = float(k + 1) / (float(q + 1) * float(q + 2) / 2.0f);
    m_view = std::make_unique<BlockView>();
    m_view->resize(1600, 900);
    m_view->setTrace(m_trace);
    QVERIFY(m_view->setLens(m_trace.lens[size_t(Site::ResidPost)]));
    m_view->setSelection(40, 1500);
    m_view->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_view.get()));
}

void TestBlockViewBench::repaint_data()
{
    QTest::addColumn<double>("zoomX");
    QTest::addColumn<double>("zoomY");
    QTest::addColumn<bool>("outlined");
    QTest::addColumn<bool>("followed");
    QTest::addColumn<bool>("elided");
    QTest::newRow("fit: all 120,000 blocks") << -1.0 << -1.0 << false << false << false;
    QTest::newRow("zoom 0.12: rectangles, no text") << 0.12 << 0.12 << false << false << false;
    QTest::newRow("zoom 0.5: some text") << 0.5 << 0.5 << false << false << false;
    QTest::newRow("zoom 1: text and nodes") << 1.0 << 1.0 << false << false << false;
    // Narrow columns, readable rows: every label elided (the vocabulary's "v1234" and
    // " w1234" are wider than the blocks).
    QTest::newRow("zoom 0.25 x 0.65: elided text") << 0.25 << 0.65 << false << false << true;
    QTest::newRow("zoom 0.12 x 0.65: one letter") << 0.12 << 0.65 << false << false << true;
    QTest::newRow("zoom 0.25 x 0.65: elided, followed, attention")
        << 0.25 << 0.65 << false << true << true;
    // A third of the blocks outlined (a wide entropy bin), the worst case of the highlight.
    QTest::newRow("fit, 40,000 outlined") << -1.0 << -1.0 << true << false << false;
    QTest::newRow("zoom 0.12, 40,000 outlined") << 0.12 << 0.12 << true << false << false;
    QTest::newRow("zoom 0.5, 40,000 outlined") << 0.5 << 0.5 << true << false << false;
    QTest::newRow("zoom 0.25 x 0.65, elided, 40,000 outlined")
        << 0.25 << 0.65 << true << false << true;
}

void TestBlockViewBench::repaint()
{
    QFETCH(double, zoomX);
    QFETCH(double, zoomY);
    QFETCH(bool, outlined);
    QFETCH(bool, followed);
    QFETCH(bool, elided);
    QVector<QPair<int, int>> blocks;
    if (outlined)
        for (int l = 0; l < 60; ++l)
            for (int t = l % 3; t < 2000; t += 3)
                blocks.append(qMakePair(l, t));
    m_view->setHighlightedBlocks(blocks);
    m_view->setFollowToken(followed ? TestData::topkId(40, 1500, 1, 5000) : -1);
    // The selected position spreads its attention thinly over 1,500 keys: arcs to the
    // strongest hundred and fifty.
    m_view->setAttentionThreshold(0.0012);
    if (followed)
        m_view->setAttention(40, m_attention);
    else
        m_view->clearAttention();
    if (zoomX < 0)
        m_view->zoomToFit();
    else
        m_view->setZoom(zoomX, zoomY);
    m_view->ensureVisible(40, 1500);
    QWidget *vp = m_view->viewport();
    QImage image(vp->size(), QImage::Format_ARGB32_Premultiplied);
    // A full repaint: the viewport's whole paint event into an image.
    vp->render(&image);
    QElapsedTimer timer;
    const int n = 20;
    timer.start();
    for (int i = 0; i < n; ++i)
        vp->render(&image);
    const double ms = timer.nsecsElapsed() / 1e6 / n;
    const QString sample = m_view->shownText(40, 1500);
    qInfo("60 x 2000 blocks, zoom %.4f x %.4f, %d x %d px: %.2f ms per full repaint "
          "(%d blocks, %d texts such as \"%s\", %d outlines, %d arcs, %s)",
          m_view->zoomX(), m_view->zoomY(), vp->width(), vp->height(), ms, m_view->blocksDrawn(),
          m_view->textsDrawn(), qPrintable(sample), m_view->highlightsDrawn(), m_view->linesDrawn(),
          m_view->lastPaintUsedImage() ? "image" : "rectangles");
    QVERIFY(m_view->blocksDrawn() > 0);
    QCOMPARE(m_view->highlightsDrawn() > 0, outlined);
    QCOMPARE(m_view->linesDrawn() > 0, followed);
    if (elided) {
        QCOMPARE(m_view->textsDrawn(), m_view->blocksDrawn()); // no block is blank
        const QString label = m_view->data().labels()[size_t(m_view->data().textIndex(40, 1500))];
        QVERIFY(sample.size() < label.size() + 1 && sample != label);
    }
    QBENCHMARK
    {
        vp->render(&image);
    }
}

void TestBlockViewBench::exportWhole()
{
    m_view->clearHighlight();
    QImage image(QSize(2400, 1200), QImage::Format_ARGB32_Premultiplied);
    QElapsedTimer timer;
    timer.start();
    QPainter p(&image);
    m_view->renderTo(p, image.size());
    p.end();
    qInfo("renderTo 2400 x 1200 of the whole grid: %.2f ms", timer.nsecsElapsed() / 1e6);
    QVERIFY(m_view->blocksDrawn() == 60 * 2000);
}

QTEST_MAIN(TestBlockViewBench)
#include "tst_blockviewbench.moc"
