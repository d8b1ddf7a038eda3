// Export of every view: PNG (loads, right size, not blank), SVG (an XML document with an svg
// element), CSV (expected header and row count), on hand-built traces.
#include "headlens/ui/blockview.h"
#include "headlens/ui/comparisonpanel.h"
#include "headlens/ui/entropypanel.h"
#include "headlens/ui/export.h"
#include "headlens/ui/headcontributionpanel.h"
#include "headlens/ui/headheatmap.h"
#include "headlens/ui/inspectorpanel.h"
#include "uitestdata.h"

#include <QFile>
#include <QImage>
#include <QLabel>
#include <QPainter>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace HeadLens;

class TestExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void views_data();
    void views();
    void plainWidget();
    void blockFigureIsCentred();
    void refusals();
    void csvQuoting();

private:
    QWidget *makeView(const QString &kind);
    QTemporaryDir m_dir;
    Trace m_trace;
    Trace m_other;
    std::vector<std::unique_ptr<QWidget>> m_keep;
};

void TestExport::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_trace = TestData::makeTrace(4, 12, 3);
    m_other = TestData::makeTrace(6, 12, 2);
}

QWidget *TestExport::makeView(const QString &kind)
{
    const LensSite &lens = m_trace.lens[size_t(Site::ResidPost)];
    QWidget *w = nullptr;
    if (kind == QLatin1String("block")) {
        auto *v = new BlockView;
        v->setTrace(m_trace);
        v->setLens(lens);
        v->setSelection(2, 5);
        v->setAttention(2, TestData::attentionLayer(m_trace, 2));
        w = v;
    } else if (kind == QLatin1String("inspector")) {
        auto *v = new InspectorPanel;
        v->setTrace(m_trace);
        v->setLens(Site::ResidPost, lens);
        v->setSelection(1, 3);
        w = v;
    } else if (kind == QLatin1String("heads")) {
        auto *v = new HeadContributionPanel;
        v->setTrace(m_trace);
        v->setSelection(1, 3);
        w = v;
    } else if (kind == QLatin1String("heatmap")) {
        auto *v = new HeadHeatmap;
        FloatArray m({4, 3});
        for (size_t i = 0; i < m.data.size(); ++i)
            m.data[i] = float(i);
        v->setMatrix(m, QStringLiteral("value"));
        w = v;
    } else if (kind == QLatin1String("entropy")) {
        auto *v = new EntropyPanel;
        v->setTrace(m_trace, lens);
        w = v;
    } else if (kind == QLatin1String("comparison")) {
        auto *v = new ComparisonPanel;
        v->setTraces(m_trace, lens, m_other, m_other.lens[size_t(Site::ResidPost)]);
        w = v;
    }
    w->resize(640, 480);
    w->show();
    m_keep.emplace_back(w);
    return w;
}

void TestExport::views_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("header");
    QTest::addColumn<int>("rows");
    QTest::newRow("block view") << "block"
                                << "layer,pos,token,top1_id,top1,probability,entropy" << 4 * 12;
    QTest::newRow("inspector") << "inspector"
                               << "layer,pos,site,rank,id,token,probability" << 3;
    QTest::newRow("head contributions") << "heads"
                                        << "layer,pos,head,norm,share,cosine,projection" << 3;
    QTest::newRow("heatmap") << "heatmap"
                             << "layer,head,value" << 12;
    QTest::newRow("entropy") << "entropy"
                             << "bin,lower,upper,hand" << 20;
    QTest::newRow("comparison")
        << "comparison"
        << "pair,left_pos,left_token,right_pos,right_token,left_top1,right_top1,left_prob,"
           "right_prob,left_entropy,right_entropy,left_depth,right_depth,left_rel_depth,"
           "right_rel_depth,differs"
        << 12;
}

void TestExport::views()
{
    QFETCH(QString, kind);
    QFETCH(QString, header);
    QFETCH(int, rows);
    QWidget *w = makeView(kind);
    auto *view = dynamic_cast<ExportableView *>(w);
    QVERIFY(view);

    // PNG at a size other than the widget's.
    const QString png = m_dir.filePath(kind + QStringLiteral(".png"));
    QString error;
    QVERIFY2(exportPng(w, png, QSize(900, 500), &error), qPrintable(error));
    QImage image;
    QVERIFY(image.load(png));
    QCOMPARE(image.size(), QSize(900, 500));
    int ink = 0;
    for (int y = 0; y < image.height(); y += 5)
        for (int x = 0; x < image.width(); x += 5)
            ink += image.pixel(x, y) != qRgb(255, 255, 255) ? 1 : 0;
    QVERIFY2(ink > 100, qPrintable(QStringLiteral("only %1 non-white samples").arg(ink)));

    // SVG.
    const QString svg = m_dir.filePath(kind + QStringLiteral(".svg"));
    QVERIFY2(exportSvg(w, svg, QSize(800, 600), &error), qPrintable(error));
    QFile f(svg);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray xml = f.readAll();
    QVERIFY(xml.startsWith("<?xml"));
    QVERIFY(xml.contains("<svg"));
    QVERIFY(xml.contains("viewBox=\"0 0 800 600\""));
    QVERIFY(xml.size() > 1000);

    // CSV.
    const QString csvPath = m_dir.filePath(kind + QStringLiteral(".csv"));
    QVERIFY2(exportCsv(view->csv(), csvPath, &error), qPrintable(error));
    QFile c(csvPath);
    QVERIFY(c.open(QIODevice::ReadOnly));
    const QStringList lines =
        QString::fromUtf8(c.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.first(), header);
    QCOMPARE(lines.size(), 1 + rows);
    const int columns = header.count(QLatin1Char(',')) + 1;
    for (const QString &line : lines)
        QVERIFY2(!line.contains(QLatin1Char('"')) ? line.count(QLatin1Char(',')) + 1 == columns
                                                  : true,
                 qPrintable(line));
}

// A grid much shorter than a tall export is centred as a figure: as much white above its
// legend as below its input tokens (it used to sit at the bottom under an empty top half).
void TestExport::blockFigureIsCentred()
{
    auto *view = dynamic_cast<ExportableView *>(makeView("block")); // the test owns the view
    const QImage image =
        renderImage([view](QPainter &p, const QSize &s) { view->renderTo(p, s); }, {800, 1600});
    int first = -1, last = -1;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); x += 2)
            if (image.pixel(x, y) != qRgb(255, 255, 255)) {
                if (first < 0) first = y;
                last = y;
                break;
            }
    QVERIFY(first >= 0);
    const int above = first, below = image.height() - 1 - last;
    QVERIFY2(above > 300 && std::abs(above - below) < 80,
             qPrintable(QStringLiteral("white above %1 px, below %2 px").arg(above).arg(below)));
}

void TestExport::plainWidget()
{
    // Not an ExportableView: drawn as it looks, scaled to fit.
    QLabel label(QStringLiteral("HeadLens"));
    label.resize(200, 50);
    const QString png = m_dir.filePath(QStringLiteral("label.png"));
    QVERIFY(exportPng(&label, png, QSize(400, 100)));
    QImage image(png);
    QCOMPARE(image.size(), QSize(400, 100));
    const QString svg = m_dir.filePath(QStringLiteral("label.svg"));
    QVERIFY(exportSvg(&label, svg, QSize(400, 100)));
    QFile f(svg);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().contains("HeadLens")); // text stays text
    // A render function of one's own.
    const QImage drawn = renderImage(
        [](QPainter &p, const QSize &s) { p.fillRect(QRect(QPoint(0, 0), s), Qt::black); },
        QSize(10, 20));
    QCOMPARE(drawn.size(), QSize(10, 20));
    QCOMPARE(drawn.pixel(5, 5), qRgb(0, 0, 0));
}

void TestExport::refusals()
{
    QLabel label(QStringLiteral("x"));
    QString error;
    QVERIFY(!exportPng(&label, m_dir.filePath(QStringLiteral("a.png")), QSize(0, 10), &error));
    QVERIFY(error.contains(QStringLiteral("size")));
    error.clear();
    QVERIFY(!exportPng(&label, QStringLiteral("/nonexistent-dir/a.png"), QSize(10, 10), &error));
    QVERIFY(!error.isEmpty());
    error.clear();
    QVERIFY(!exportCsv(QStringLiteral("a\n"), QStringLiteral("/nonexistent-dir/a.csv"), &error));
    QVERIFY(!error.isEmpty());
}

void TestExport::csvQuoting()
{
    QCOMPARE(csvField(QStringLiteral(" plain")), QStringLiteral(" plain"));
    QCOMPARE(csvField(QStringLiteral("a,b")), QStringLiteral("\"a,b\""));
    QCOMPARE(csvField(QStringLiteral("say \"hi\"")), QStringLiteral("\"say \"\"hi\"\"\""));
    QCOMPARE(csvField(QStringLiteral("two\nlines")), QStringLiteral("\"two\nlines\""));
    QCOMPARE(csvLine({QStringLiteral("1"), QStringLiteral(","), QString()}),
             QStringLiteral("1,\",\",\n"));
}

QTEST_MAIN(TestExport)
#include "tst_export.moc"
