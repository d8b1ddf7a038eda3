// The workbench must not link libtorch (ARCHITECTURE.md, "Two processes"): the libraries the
// dynamic loader resolves for `headlens` include no libtorch* and no libc10*.

#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

class TestLinkage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void headlensLinksNoTorch()
    {
        QProcess ldd;
        ldd.start("ldd", {QStringLiteral(HEADLENS_APP)});
        if (!ldd.waitForStarted(10000)) QSKIP("ldd is not available");
        QVERIFY(ldd.waitForFinished(60000));
        QCOMPARE(ldd.exitCode(), 0);
        const QString out = QString::fromLocal8Bit(ldd.readAllStandardOutput());
        QVERIFY2(out.contains("libQt6Widgets"), qPrintable(out)); // ldd did see the libraries
        const QRegularExpression torch("\\blib(torch|c10)[^\\s/]*\\.so");
        const auto match = torch.match(out);
        QVERIFY2(!match.hasMatch(), qPrintable("headlens links " + match.captured(0)));
    }

    void headlensNeedsNoTorchDirectly()
    {
        QProcess readelf;
        readelf.start("readelf", {"-d", QStringLiteral(HEADLENS_APP)});
        if (!readelf.waitForStarted(10000)) QSKIP("readelf is not available");
        QVERIFY(readelf.waitForFinished(60000));
        const QString out = QString::fromLocal8Bit(readelf.readAllStandardOutput());
        QVERIFY(out.contains("NEEDED"));
        QVERIFY2(!out.contains("torch") && !out.contains("c10"), qPrintable(out));
    }
};

QTEST_GUILESS_MAIN(TestLinkage)
#include "tst_linkage.moc"
