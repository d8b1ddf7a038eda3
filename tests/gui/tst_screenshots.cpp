// Runs tests/gui/screenshot.sh (headlens under Xvfb on a real trace, screenshots with
// ImageMagick's import) and checks that real pictures of the window came out. Skips where
// xvfb-run or import is missing. HEADLENS_SCREENSHOT_DIR keeps the pictures (the README's).

#include <QDir>
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

class TestScreenshots : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // The README's size, then a desktop and a laptop screen in English and in Italian.
    void screenshotsOfARealTrace_data()
    {
        QTest::addColumn<QString>("size");
        QTest::addColumn<QString>("language");
        QTest::addColumn<QSize>("pixels");
        QTest::newRow("1600x1000, English") << "1600x1000"
                                            << "C.UTF-8" << QSize(1600, 1000);
        for (const QSize pixels : {QSize(1920, 1080), QSize(1280, 720)}) {
            const QString size = QStringLiteral("%1x%2").arg(pixels.width()).arg(pixels.height());
            QTest::addRow("%s, English", qPrintable(size)) << size << "C.UTF-8" << pixels;
            QTest::addRow("%s, Italian", qPrintable(size)) << size << "it_IT.UTF-8" << pixels;
        }
    }

    void screenshotsOfARealTrace()
    {
        QFETCH(QString, size);
        QFETCH(QString, language);
        QFETCH(QSize, pixels);
        if (QStandardPaths::findExecutable("xvfb-run").isEmpty())
            QSKIP("xvfb-run is not installed");
        if (QStandardPaths::findExecutable("import").isEmpty())
            QSKIP("ImageMagick's import is not installed");
        QTemporaryDir tmp;
        const QString out = qEnvironmentVariableIsSet("HEADLENS_SCREENSHOT_DIR")
                                ? qEnvironmentVariable("HEADLENS_SCREENSHOT_DIR") + "/" + size +
                                      "-" + language.section(QLatin1Char('.'), 0, 0)
                                : tmp.path();
        QProcess script;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("HEADLENS_SHARED_DIR", QStringLiteral(HEADLENS_SHARED_DIR));
        env.remove("QT_QPA_PLATFORM"); // the script runs headlens on Xvfb, not offscreen
        env.insert("HEADLENS_SCREENSHOT_SIZE", size);
        env.insert("HEADLENS_SCREENSHOT_LANG", language);
        script.setProcessEnvironment(env);
        script.setProcessChannelMode(QProcess::MergedChannels);
        script.start("sh", {QStringLiteral(HEADLENS_SOURCE_DIR) + "/tests/gui/screenshot.sh", out,
                            QStringLiteral(HEADLENS_APP), QStringLiteral(HEADLENS_CLI),
                            QStringLiteral(HEADLENS_MAKE_CHECKPOINT)});
        QVERIFY(script.waitForFinished(280000));
        const QString log = QString::fromLocal8Bit(script.readAll());
        if (script.exitCode() == 77) QSKIP(qPrintable(log));
        QVERIFY2(script.exitCode() == 0, qPrintable(log));

        const QStringList names = {
            "main-window.png", "entropy-and-head.png", "attribution.png",      "head-roles.png",
            "patching.png",    "follow-token.png",     "attention-pattern.png"};
        for (const QString &name : names) {
            const QImage image(QDir(out).filePath(name));
            QVERIFY2(!image.isNull(), qPrintable(name));
            QCOMPARE(image.size(), pixels);
            // A real window: many colours, not a blank or black screen.
            QSet<QRgb> colours;
            for (int y = 0; y < image.height(); y += 5)
                for (int x = 0; x < image.width(); x += 5)
                    colours.insert(image.pixel(x, y));
            QVERIFY2(colours.size() > 200,
                     qPrintable(QStringLiteral("%1: %2 colours").arg(name).arg(colours.size())));
        }
    }
};

QTEST_MAIN(TestScreenshots)
#include "tst_screenshots.moc"
