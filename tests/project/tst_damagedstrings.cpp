// Projects whose variable-length strings are damaged: one byte changed in a global heap
// collection, where HDF5 keeps the text of string attributes and datasets. libhdf5 1.10 trusts
// those bytes and crashed (SIGSEGV in H5HG_read) or read past its buffers; the reader must
// refuse such a file with an InputError that names it and the damaged object, and a save must
// refuse to copy damaged strings. The damaged files are made from the committed fixture
// data/v1.hlproj by changing one field of a collection, found by parsing the file here.

#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace HeadLens;

namespace {

const char *const kFixture = HEADLENS_SOURCE_DIR "/tests/project/data/v1.hlproj";

QByteArray readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

bool writeAll(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

quint64 le(const QByteArray &b, qsizetype at, int n)
{
    quint64 v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | quint8(b[at + i]);
    return v;
}

void putLe(QByteArray &b, qsizetype at, int n, quint64 v)
{
    for (int i = 0; i < n; ++i, v >>= 8)
        b[at + i] = char(v & 0xff);
}

// An object of a global heap collection (8-byte lengths, as HeadLens writes): where its
// header starts, its index, size and data.
struct HeapObject {
    qsizetype header = 0;
    int index = 0;
    quint64 size = 0;
    QByteArray data;
};

// Every "GCOL" collection of the file: its start and its objects; the free space is index 0.
std::vector<std::pair<qsizetype, std::vector<HeapObject>>> collections(const QByteArray &file)
{
    std::vector<std::pair<qsizetype, std::vector<HeapObject>>> out;
    for (qsizetype at = file.indexOf("GCOL"); at >= 0; at = file.indexOf("GCOL", at + 4)) {
        const quint64 size = le(file, at + 8, 8);
        std::vector<HeapObject> objects;
        qsizetype p = at + 16;
        while (p + 16 <= at + qsizetype(size)) {
            HeapObject o;
            o.header = p;
            o.index = int(le(file, p, 2));
            o.size = le(file, p + 8, 8);
            if (o.index != 0) o.data = file.mid(p + 16, qsizetype(o.size));
            objects.push_back(o);
            if (o.index == 0) break;
            p += 16 + qsizetype((o.size + 7) / 8 * 8);
        }
        out.emplace_back(at, std::move(objects));
    }
    return out;
}

// The first object holding exactly `text`, and the free space of its collection.
std::optional<std::pair<HeapObject, HeapObject>> findObject(const QByteArray &file,
                                                            const QByteArray &text)
{
    for (const auto &[at, objects] : collections(file))
        for (const HeapObject &o : objects)
            if (o.index != 0 && o.data == text)
                for (const HeapObject &free : objects)
                    if (free.index == 0) return std::make_pair(o, free);
    return std::nullopt;
}

// Reads everything a user can open of a project: the listing and every trace in full.
void readEverything(const std::string &path)
{
    ProjectReader reader(path);
    for (const auto &t : reader.info().traces)
        reader.readTraceFull(t.name);
}

} // namespace

class TestDamagedStrings : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void theFixtureReads();
    void damagedCollection_data();
    void damagedCollection();
    void sharedReproducers_data();
    void sharedReproducers();
    void saveRefusesToCopyDamagedStrings();

private:
    // A copy of the fixture with `change` applied to its bytes; empty on failure.
    QString damagedCopy(const std::function<bool(QByteArray &)> &change);

    std::unique_ptr<QTemporaryDir> m_dir;
    int m_files = 0;
};

void TestDamagedStrings::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QString TestDamagedStrings::damagedCopy(const std::function<bool(QByteArray &)> &change)
{
    QByteArray bytes = readAll(kFixture);
    if (bytes.isEmpty() || !change(bytes)) return {};
    const QString path = m_dir->filePath(QStringLiteral("damaged-%1.hlproj").arg(++m_files));
    return writeAll(path, bytes) ? path : QString();
}

// The checks accept what HDF5 writes: the fixture's strings all read.
void TestDamagedStrings::theFixtureReads()
{
    ProjectReader reader(kFixture);
    QCOMPARE(reader.info().traces.size(), size_t(2));
    const Trace t = reader.readTraceFull("t1");
    QCOMPARE(t.prompt, std::string("Hé ↵世界"));
    QCOMPARE(t.tokens.at(0).text, std::string("<s>"));
    QCOMPARE(t.tokens.at(2).text, std::string(" ↵世界"));
}

void TestDamagedStrings::damagedCollection_data()
{
    QTest::addColumn<QByteArray>("text");  // the object to damage, by its content
    QTest::addColumn<QString>("field");    // which of its fields
    QTest::addColumn<quint64>("value");    // the new value
    QTest::addColumn<QString>("expected"); // a part of the message
    // One bit of the size of the first string of the first collection, whose only reference
    // left is the root's "created" (later saves rewrote the other root attributes elsewhere),
    // as in the attribute reproducer.
    QTest::newRow("object size of an attribute's string")
        << QByteArray("headlens-project") << "size" << quint64(16 + 16) << "attribute 'created'";
    // A trace's token text claims fewer bytes than its reference: libhdf5 copied the object's
    // size into a buffer of the reference's.
    QTest::newRow("object shorter than its reference")
        << QByteArray("<s>") << "size" << quint64(2) << "dataset";
    QTest::newRow("object longer than its reference")
        << QByteArray("<s>") << "size" << quint64(7) << "dataset";
    QTest::newRow("object size past the collection")
        << QByteArray("<s>") << "size" << quint64(100000) << "claims";
    QTest::newRow("reference to a missing object")
        << QByteArray("<s>") << "index" << quint64(999) << "no such object";
    // The free space record claims more than the collection holds, as in the dataset
    // reproducer.
    QTest::newRow("free space size")
        << QByteArray("child") << "free" << (quint64(0x0e) << 56 | 3240) << "free space";
}

void TestDamagedStrings::damagedCollection()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, field);
    QFETCH(quint64, value);
    QFETCH(QString, expected);
    const QString path = damagedCopy([&](QByteArray &bytes) {
        const auto found = findObject(bytes, text);
        if (!found) return false;
        const auto &[object, free] = *found;
        if (field == "size")
            putLe(bytes, object.header + 8, 8, value);
        else if (field == "index")
            putLe(bytes, object.header, 2, value);
        else
            putLe(bytes, free.header + 8, 8, value);
        return true;
    });
    QVERIFY2(!path.isEmpty(), "the fixture lacks the object to damage");
    try {
        readEverything(path.toStdString());
        QFAIL("a project with a damaged string was read");
    } catch (const InputError &e) {
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.contains(path), qPrintable(message));
        QVERIFY2(message.contains(expected), qPrintable(message));
        QVERIFY2(message.contains("damaged"), qPrintable(message));
    }
}

// The reproducers of the crash, where the shared folder has them.
void TestDamagedStrings::sharedReproducers_data()
{
    QTest::addColumn<QString>("file");
    QTest::newRow("attribute") << "vlen-attribute-one-byte.hlproj";
    QTest::newRow("dataset") << "vlen-dataset-one-byte.hlproj";
}

void TestDamagedStrings::sharedReproducers()
{
    QFETCH(QString, file);
    const QString path = QStringLiteral(HEADLENS_SHARED_DIR "/reliability/") + file;
    if (!QFile::exists(path)) QSKIP("the shared reproducers are not here");
    QVERIFY_THROWS_EXCEPTION(InputError, readEverything(path.toStdString()));
}

// A save copies what it keeps object by object: damaged strings it did not read while
// validating (an analysis result, a trace's attribute that the listing skips) are refused
// there, and the project is left as it was.
void TestDamagedStrings::saveRefusesToCopyDamagedStrings()
{
    const QByteArray unique = "an analysis note of 25 b.";
    const QString withAnalysis = m_dir->filePath(QStringLiteral("with-analysis.hlproj"));
    QVERIFY(QFile::copy(kFixture, withAnalysis));
    QFile::setPermissions(withAnalysis, QFile::ReadOwner | QFile::WriteOwner);
    AnalysisUpdate update;
    AnalysisRecord record;
    record.strings["notes"] = {unique.toStdString()};
    update.write.emplace_back(projectAnalysisGroup("damage-test"), record);
    writeAnalysis(withAnalysis.toStdString(), update);

    struct Case {
        QString file;
        QByteArray text;
        quint64 size; // same padding, another length than the reference's
        std::string remove;
    };
    const std::vector<Case> cases = {
        {withAnalysis, unique, 27, "child"},
        {kFixture, "Hé ↵世界", 15, "t1"}, // the first one is t1's prompt, the second child's
    };
    for (const Case &c : cases) {
        QByteArray bytes = readAll(c.file);
        const auto all = collections(bytes);
        std::vector<HeapObject> matches;
        for (const auto &col : all)
            for (const HeapObject &o : col.second)
                if (o.index != 0 && o.data == c.text) matches.push_back(o);
        QVERIFY(!matches.empty());
        putLe(bytes, matches.back().header + 8, 8, c.size);
        const QString path = m_dir->filePath(QStringLiteral("save-%1.hlproj").arg(++m_files));
        QVERIFY(writeAll(path, bytes));
        try {
            removeTrace(path.toStdString(), c.remove);
            QFAIL("a project with a damaged string was copied");
        } catch (const std::runtime_error &e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains(path) && message.contains("damaged"), qPrintable(message));
        }
        QCOMPARE(readAll(path), bytes);
        QCOMPARE(QDir(m_dir->path()).entryList(QDir::Files | QDir::Hidden).filter(".tmp-"),
                 QStringList());
    }
}

QTEST_MAIN(TestDamagedStrings)
#include "tst_damagedstrings.moc"
