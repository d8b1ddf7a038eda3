// The translations in translations/ against the GUI sources: every tr() string of the
// workbench is in every .ts file, every Italian string is translated, the translations keep
// the source's placeholders, and lrelease's output loads. lupdate runs over the same sources
// as `ninja update_translations`, into a temporary copy, so the committed files stay as
// they are.

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QTranslator>
#include <QXmlStreamReader>

#include <algorithm>

namespace {

// One <message> of a .ts file.
struct TsMessage {
    QString context;
    QString source;
    QString comment; // disambiguation, part of the key
    bool numerus = false;
    QString type;      // "", "unfinished", "vanished" or "obsolete"
    QStringList forms; // the translation, or its plural forms

    QString key() const
    {
        return context + QLatin1Char('\x1f') + source + QLatin1Char('\x1f') + comment;
    }
    QString where() const
    {
        QString s = context + QStringLiteral(": \"") + source + QLatin1Char('"');
        if (!comment.isEmpty()) s += QStringLiteral(" (") + comment + QLatin1Char(')');
        return s;
    }
    bool live() const
    {
        return type != QLatin1String("vanished") && type != QLatin1String("obsolete");
    }
};

struct TsFile {
    QString language;
    QList<TsMessage> messages;
    QString error;
};

TsFile readTs(const QString &path)
{
    TsFile ts;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        ts.error = QStringLiteral("cannot open ") + path;
        return ts;
    }
    QXmlStreamReader xml(&file);
    QString context;
    while (!xml.atEnd()) {
        xml.readNext();
        if (!xml.isStartElement()) continue;
        if (xml.name() == QLatin1String("TS")) {
            ts.language = xml.attributes().value(QLatin1String("language")).toString();
        } else if (xml.name() == QLatin1String("name")) {
            context = xml.readElementText();
        } else if (xml.name() == QLatin1String("message")) {
            TsMessage m;
            m.context = context;
            m.numerus = xml.attributes().value(QLatin1String("numerus")) == QLatin1String("yes");
            while (xml.readNextStartElement()) {
                if (xml.name() == QLatin1String("source")) {
                    m.source = xml.readElementText();
                } else if (xml.name() == QLatin1String("comment")) {
                    m.comment = xml.readElementText();
                } else if (xml.name() == QLatin1String("translation")) {
                    m.type = xml.attributes().value(QLatin1String("type")).toString();
                    if (m.numerus) {
                        while (xml.readNextStartElement())
                            m.forms << xml.readElementText();
                    } else {
                        m.forms << xml.readElementText();
                    }
                } else {
                    xml.skipCurrentElement();
                }
            }
            ts.messages << m;
        }
    }
    if (xml.hasError()) ts.error = path + QStringLiteral(": ") + xml.errorString();
    return ts;
}

// %1..%99 and %n, each once, in order of appearance: a translation may reorder them.
QStringList placeholders(const QString &text)
{
    static const QRegularExpression re(QStringLiteral("%(\\d{1,2}|n)"));
    QStringList found;
    for (auto it = re.globalMatch(text); it.hasNext();)
        found << it.next().captured(0);
    found.removeDuplicates();
    std::sort(found.begin(), found.end());
    return found;
}

QString shortList(const QStringList &items)
{
    const int shown = 40;
    QString text = items.mid(0, shown).join(QLatin1Char('\n'));
    if (items.size() > shown) text += QStringLiteral("\n... and %1 more").arg(items.size() - shown);
    return text;
}

QString tsPath(const QString &language)
{
    return QStringLiteral(HEADLENS_TS_DIR "/headlens_%1.ts").arg(language);
}

// Runs lupdate over the GUI sources into a copy of headlens_<language>.ts; returns the
// copy's path, or an empty string with the reason in *error. lupdate's warnings go to
// *warnings: each names a string that lupdate could not put in the context tr() uses at run
// time, so it would never be translated.
QString runLupdate(const QTemporaryDir &dir, const QString &language, QString *error,
                   QStringList *warnings = nullptr)
{
    const QString copy = dir.filePath(QStringLiteral("headlens_%1.ts").arg(language));
    QFile::remove(copy);
    if (!QFile::copy(tsPath(language), copy)) {
        *error = QStringLiteral("cannot copy ") + tsPath(language);
        return {};
    }
    QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner);
    QStringList args =
        QString::fromUtf8(HEADLENS_LUPDATE_OPTIONS).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    args << QStringLiteral("@" HEADLENS_TR_SOURCES_LIST) << QStringLiteral("-ts") << copy;
    QProcess lupdate;
    lupdate.start(QStringLiteral(HEADLENS_LUPDATE), args);
    if (!lupdate.waitForFinished(120000) || lupdate.exitStatus() != QProcess::NormalExit ||
        lupdate.exitCode() != 0) {
        *error = QStringLiteral("lupdate failed: ") +
                 QString::fromLocal8Bit(lupdate.readAllStandardError() +
                                        lupdate.readAllStandardOutput());
        return {};
    }
    if (warnings) {
        static const QRegularExpression warning(QStringLiteral("^\\S.*:\\d+: "));
        const QString out = QString::fromLocal8Bit(lupdate.readAllStandardError() +
                                                   lupdate.readAllStandardOutput());
        for (const QString &line : out.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            if (warning.match(line).hasMatch()) *warnings << line.trimmed();
        }
    }
    return copy;
}

} // namespace

class TestTranslations : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void filesParse_data();
    void filesParse();
    void italianComplete();
    void englishPluralForms();
    void placeholdersKept_data();
    void placeholdersKept();
    void inSyncWithSources_data();
    void inSyncWithSources();
    void lupdateFindsEveryContext();
    void compiledTranslationsLoad_data();
    void compiledTranslationsLoad();
};

void TestTranslations::initTestCase()
{
    QVERIFY2(QFileInfo::exists(QStringLiteral(HEADLENS_LUPDATE)), HEADLENS_LUPDATE);
    QVERIFY2(QFileInfo::exists(QStringLiteral(HEADLENS_TR_SOURCES_LIST)),
             "the list of GUI sources is missing: re-run cmake");
}

void TestTranslations::filesParse_data()
{
    QTest::addColumn<QString>("language");
    QTest::newRow("en") << QStringLiteral("en");
    QTest::newRow("it") << QStringLiteral("it");
}

void TestTranslations::filesParse()
{
    QFETCH(QString, language);
    const TsFile ts = readTs(tsPath(language));
    QVERIFY2(ts.error.isEmpty(), qPrintable(ts.error));
    QCOMPARE(ts.language, language);
    QVERIFY2(!ts.messages.isEmpty(), "no messages: run `ninja update_translations`");
}

// Every Italian string is translated: no "unfinished", no empty translation, every plural
// form filled (Italian has two).
void TestTranslations::italianComplete()
{
    const TsFile ts = readTs(tsPath(QStringLiteral("it")));
    QVERIFY2(ts.error.isEmpty(), qPrintable(ts.error));
    QStringList bad;
    int live = 0;
    for (const TsMessage &m : ts.messages) {
        if (!m.live()) continue;
        ++live;
        const bool empty =
            m.forms.isEmpty() || std::any_of(m.forms.begin(), m.forms.end(),
                                             [](const QString &f) { return f.isEmpty(); });
        if (m.type == QLatin1String("unfinished") || empty || (m.numerus && m.forms.size() != 2))
            bad << m.where();
    }
    qInfo("headlens_it.ts: %d strings, %lld untranslated", live, qlonglong(bad.size()));
    QVERIFY2(bad.isEmpty(),
             qPrintable(QStringLiteral("untranslated in headlens_it.ts:\n") + shortList(bad)));
}

// English is the source language: only the plural forms (%n) need a translation, and
// without one "%n trace(s)" would show as it is written.
void TestTranslations::englishPluralForms()
{
    const TsFile ts = readTs(tsPath(QStringLiteral("en")));
    QVERIFY2(ts.error.isEmpty(), qPrintable(ts.error));
    QStringList bad;
    for (const TsMessage &m : ts.messages) {
        if (!m.live() || !m.numerus) continue;
        if (m.type == QLatin1String("unfinished") || m.forms.size() != 2 ||
            m.forms.contains(QString()))
            bad << m.where();
    }
    QVERIFY2(bad.isEmpty(), qPrintable(QStringLiteral("plural forms missing in headlens_en.ts:\n") +
                                       shortList(bad)));
}

void TestTranslations::placeholdersKept_data()
{
    filesParse_data();
}

// A translation keeps the placeholders of its source, or .arg() fills the wrong ones.
void TestTranslations::placeholdersKept()
{
    QFETCH(QString, language);
    const TsFile ts = readTs(tsPath(language));
    QVERIFY2(ts.error.isEmpty(), qPrintable(ts.error));
    QStringList bad;
    for (const TsMessage &m : ts.messages) {
        if (!m.live() || m.type == QLatin1String("unfinished")) continue;
        QStringList want = placeholders(m.source);
        for (const QString &form : m.forms) {
            QStringList have = placeholders(form);
            // A plural form may spell the number out ("un file") instead of using %n.
            if (m.numerus) {
                want.removeAll(QStringLiteral("%n"));
                have.removeAll(QStringLiteral("%n"));
            }
            if (have != want) bad << m.where() + QStringLiteral(" -> \"") + form + QLatin1Char('"');
        }
    }
    QVERIFY2(bad.isEmpty(), qPrintable(QStringLiteral("placeholders differ:\n") + shortList(bad)));
}

void TestTranslations::inSyncWithSources_data()
{
    filesParse_data();
}

// lupdate over today's sources finds no string the committed .ts lacks. (Strings only in the
// .ts are harmless and dropped by the next `ninja update_translations`.)
void TestTranslations::inSyncWithSources()
{
    QFETCH(QString, language);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString error;
    const QString updated = runLupdate(dir, language, &error);
    QVERIFY2(!updated.isEmpty(), qPrintable(error));

    QSet<QString> committed;
    for (const TsMessage &m : readTs(tsPath(language)).messages) {
        if (m.live()) committed.insert(m.key());
    }
    const TsFile fresh = readTs(updated);
    QVERIFY2(fresh.error.isEmpty(), qPrintable(fresh.error));
    QStringList missing;
    QSet<QString> found;
    for (const TsMessage &m : fresh.messages) {
        if (!m.live()) continue;
        found.insert(m.key());
        if (!committed.contains(m.key())) missing << m.where();
    }
    const qsizetype stale = (committed - found).size();
    if (stale > 0)
        qInfo("headlens_%s.ts: %lld strings no longer in the sources", qPrintable(language),
              qlonglong(stale));
    QVERIFY2(missing.isEmpty(),
             qPrintable(QStringLiteral("strings in the sources but not in headlens_%1.ts "
                                       "(run `ninja update_translations`, then translate):\n")
                            .arg(language) +
                        shortList(missing)));
}

// lupdate warns when it cannot tell which class a tr() belongs to (a tr() helper of its own,
// a class without Q_OBJECT or Q_DECLARE_TR_FUNCTIONS): such a string lands in a context that
// tr() never asks at run time, and stays English whatever the .ts says.
void TestTranslations::lupdateFindsEveryContext()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString error;
    QStringList warnings;
    QVERIFY2(!runLupdate(dir, QStringLiteral("en"), &error, &warnings).isEmpty(),
             qPrintable(error));
    QVERIFY2(warnings.isEmpty(),
             qPrintable(QStringLiteral("lupdate warnings:\n") + shortList(warnings)));
}

void TestTranslations::compiledTranslationsLoad_data()
{
    filesParse_data();
}

// lrelease's output (what is embedded as :/i18n/headlens_<lang>.qm) loads.
void TestTranslations::compiledTranslationsLoad()
{
    QFETCH(QString, language);
    const QString qm = QStringLiteral(HEADLENS_QM_DIR "/headlens_%1.qm").arg(language);
    if (!QFileInfo::exists(qm))
        QSKIP("the .qm files are built with the workbench (target headlens_translations)");
    QTranslator translator;
    QVERIFY2(translator.load(qm), qPrintable(qm));
    QCOMPARE(translator.language(), language);
    if (language == QLatin1String("it")) QVERIFY(!translator.isEmpty());
}

QTEST_GUILESS_MAIN(TestTranslations)
#include "tst_translations.moc"
