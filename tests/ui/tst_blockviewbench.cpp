// How long a full repaint of the block view takes at 60 layers x 2,000 tokens, offscreen into
// an image, at the zooms people use: everything fitted (the worst case: every block visible),
// a middle zoom without text, and zoom 1 with text, also with a third of the blocks outlined
// (a bin of the entropy histogram). Prints the figures; asserts nothing about
// time (machines differ), only that something was drawn.
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
    std::unique_ptr<BlockView> m_view;
};

void TestBlockViewBench::initTestCase()
{
    m_trace = TestData::makeTrace(60, 2000, 2, 3, 5000, false);
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
    QTest::newRow("fit: all 120,000 blocks") << -1.0 << -1.0 << false;
    QTest::newRow("zoom 0.12: rectangles, no text") << 0.12 << 0.12 << false;
    QTest::newRow("zoom 0.5: some text") << 0.5 << 0.5 << false;
    QTest::newRow("zoom 1: text and nodes") << 1.0 << 1.0 << false;
    // A third of the blocks outlined (a wide entropy bin), the worst case of the highlight.
    QTest::newRow("fit, 40,000 outlined") << -1.0 << -1.0 << true;
    QTest::newRow("zoom 0.12, 40,000 outlined") << 0.12 << 0.12 << true;
    QTest::newRow("zoom 0.5, 40,000 outlined") << 0.5 << 0.5 << true;
}

void TestBlockViewBench::repaint()
{
    QFETCH(double, zoomX);
    QFETCH(double, zoomY);
    QFETCH(bool, outlined);
    QVector<QPair<int, int>> blocks;
    if (outlined)
        for (int l = 0; l < 60; ++l)
            for (int t = l % 3; t < 2000; t += 3)
                blocks.append(qMakePair(l, t));
    m_view->setHighlightedBlocks(blocks);
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
    qInfo("60 x 2000 blocks, zoom %.4f x %.4f, %d x %d px: %.2f ms per full repaint "
          "(%d blocks, %d texts, %d outlines, %s)",
          m_view->zoomX(), m_view->zoomY(), vp->width(), vp->height(), ms, m_view->blocksDrawn(),
          m_view->textsDrawn(), m_view->highlightsDrawn(),
          m_view->lastPaintUsedImage() ? "image" : "rectangles");
    QVERIFY(m_view->blocksDrawn() > 0);
    QCOMPARE(m_view->highlightsDrawn() > 0, outlined);
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
