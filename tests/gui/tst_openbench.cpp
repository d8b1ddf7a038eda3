// Benchmark of the issue: opening a project that holds a 1 GB trace shows the first view in at
// most 300 ms. The trace is a real .hlproj trace (written by the project library) to which a
// 1 GB attention dataset is added with h5py, layer-head by layer-head, so the test never holds
// it in memory. Opening reads only the table of contents, the small metrics and one lens site;
// attention is read per layer when a block is selected.

#include "mainwindow.h"
#include "traceview.h"

#include "headlens/document/projectdocument.h"
#include "headlens/project/project.h"
#include "headlens/ui/blockview.h"

#include "tracefixture.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace HeadLens;

class TestOpenBench : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("HeadLensTest");
        QCoreApplication::setApplicationName("tst_openbench");
        QSettings().clear();
    }

    void firstViewOfAOneGigabyteTrace()
    {
        const QString python = QStringLiteral(HEADLENS_SYSTEM_PYTHON);
        QProcess probe;
        probe.start(python, {"-c", "import h5py, numpy"});
        if (!probe.waitForFinished(30000) || probe.exitCode() != 0)
            QSKIP("python3 with h5py and numpy is needed to write the large dataset");

        // 24 layers x 16 heads x 1,200 x 1,200 float16 = 1.1 GB of attention, plus residuals
        // written the same way: just over 1 GB on disk, uncompressed.
        const int L = 24, H = 16, T = 1200, D = 64;
        QTemporaryDir dir(QDir::tempPath() + "/headlens-bench-XXXXXX");
        const QString path = dir.filePath("big.hlproj");
        Trace t = Test::makeFixtureTrace("big", 0.0f, {L, H, T, 10, D}, false);
        addTrace(path.toStdString(), t, false);
        t = Trace();
        const QString script = QStringLiteral(R"(
import h5py, numpy, sys
L, H, T, D = %1, %2, %3, %4
with h5py.File(sys.argv[1], "r+") as f:
    g = f["traces/big"]
    a = g.create_dataset("attention/pattern", (L, H, T, T), dtype="f2", chunks=(1, 1, T, T))
    block = numpy.tril(numpy.full((T, T), 1.0 / T, dtype="f2"))
    for l in range(L):
        for h in range(H):
            a[l, h] = block
    for site in ("resid_pre", "resid_post"):
        r = g.create_dataset("residual/" + site, (L, T, D), dtype="f2", chunks=(1, T, D))
        for l in range(L):
            r[l] = numpy.ones((T, D), dtype="f2")
)")
                                   .arg(L)
                                   .arg(H)
                                   .arg(T)
                                   .arg(D);
        QProcess writer;
        writer.setProcessChannelMode(QProcess::MergedChannels);
        writer.start(python, {"-c", script, path});
        QVERIFY(writer.waitForFinished(240000));
        QVERIFY2(writer.exitCode() == 0, writer.readAll().constData());
        const qint64 bytes = QFileInfo(path).size();
        QVERIFY2(bytes > (qint64(1) << 30), qPrintable(QString::number(bytes)));

        {
            QElapsedTimer parts;
            parts.start();
            QString error;
            std::unique_ptr<ProjectDocument> d(ProjectDocument::open(path, &error));
            const qint64 open = parts.restart();
            d->trace("big");
            const qint64 meta = parts.restart();
            d->lens("big", Site::ResidPost);
            const qint64 lens = parts.restart();
            qInfo("document alone: open %lld ms, metadata %lld ms, one lens site %lld ms", open,
                  meta, lens);
        }
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QElapsedTimer timer;
        timer.start();
        ProjectDocument *doc = w.openProject(path);
        QVERIFY(doc);
        w.traceView()->blockView()->viewport()->repaint();
        const qint64 ms = timer.elapsed();
        qInfo("opened a %.2f GB project and painted the first view in %lld ms", bytes / 1e9, ms);
        QCOMPARE(w.traceView()->blockView()->layerCount(), L);
        QCOMPARE(w.traceView()->blockView()->tokenCount(), T);
        QVERIFY(doc->hasAttention("big"));
        // The aims (300 ms here, 1 s for a selection) are figures to read, not assertions:
        // timings on a shared machine vary.
        if (ms > 300) qWarning("the first view took %lld ms, over the 300 ms aim", ms);

        // Selecting a block reads the attention of that position only (a whole layer would be
        // 46 MB of float16 here, about 0.5 s to read and decompress).
        timer.restart();
        w.selectBlock(L / 2, T / 2);
        w.traceView()->blockView()->viewport()->repaint();
        const qint64 select = timer.elapsed();
        qInfo("selected a block and showed its attention in %lld ms", select);
        QCOMPARE(w.traceView()->blockView()->attentionLayer(), L / 2);
        const auto weights = w.traceView()->blockView()->attentionWeights();
        QCOMPARE(int(weights.size()), T / 2 + 1);
        QVERIFY(qAbs(weights[0] - 1.0f / T) < 1e-5);
        if (select > 1000) qWarning("the selection took %lld ms, over the 1 s aim", select);
    }
};

QTEST_MAIN(TestOpenBench)
#include "tst_openbench.moc"
