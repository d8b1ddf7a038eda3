// llama2.c tokenizer.bin: the known encoding of stories260K's tok512.bin, agreement with a
// naive transcription of run.c's encoder, decode round trips, offsets, and refusals; and that
// SentencePiece and tokenizer.json files are told apart from it by name and content.

#include "llama2ctokenizer.h"

#include "headlens/model/tokenizer.h"
#include "headlens/trace/error.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <functional>
#include <map>

using namespace HeadLens;

namespace {

QString tok512Path()
{
    return QStringLiteral(HEADLENS_SHARED_DIR "/models/stories260K/tok512.bin");
}

#define REQUIRE_TOK512()                                                                           \
    do {                                                                                           \
        if (!QFile::exists(tok512Path()))                                                          \
            QSKIP(qPrintable("tok512.bin from stories260K is not available (looked for " +         \
                             tok512Path() + ")"));                                                 \
    } while (0)

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    QCOMPARE(f.write(bytes), bytes.size());
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

QString inputErrorOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const InputError &e) {
        return QString::fromStdString(e.what());
    } catch (const std::exception &e) {
        return QStringLiteral("(other: %1)").arg(QString::fromStdString(e.what()));
    }
    return QStringLiteral("(no error)");
}

std::vector<int32_t> idsOf(const std::vector<TokenInfo> &tokens)
{
    std::vector<int32_t> ids;
    for (const TokenInfo &t : tokens)
        ids.push_back(t.id);
    return ids;
}

// run.c's encoder, transcribed plainly (quadratic, by design): the oracle for the real one.
struct ReferenceVocab {
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::map<std::string, int> ids;

    explicit ReferenceVocab(const QByteArray &file)
    {
        int pos = 4;
        while (pos < file.size()) {
            float score;
            int32_t len;
            std::memcpy(&score, file.constData() + pos, 4);
            std::memcpy(&len, file.constData() + pos + 4, 4);
            pieces.emplace_back(file.constData() + pos + 8, size_t(len));
            scores.push_back(score);
            pos += 8 + len;
        }
        for (size_t i = pieces.size(); i-- > 0;)
            ids[pieces[i]] = int(i);
    }
    int lookup(const std::string &s) const
    {
        const auto it = ids.find(s);
        return it == ids.end() ? -1 : it->second;
    }
    std::vector<int32_t> encode(const std::string &text) const
    {
        std::vector<int32_t> t{1};
        if (!text.empty()) t.push_back(lookup(" "));
        std::string buf;
        for (size_t i = 0; i < text.size(); ++i) {
            const auto c = static_cast<unsigned char>(text[i]);
            if ((c & 0xC0) != 0x80) buf.clear();
            buf += char(c);
            if (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80 &&
                buf.size() < 4)
                continue;
            const int id = lookup(buf);
            if (id != -1) {
                t.push_back(id);
            } else {
                for (unsigned char b : buf)
                    t.push_back(int(b) + 3);
            }
            buf.clear();
        }
        while (true) {
            float best = -1e10f;
            int bestId = -1, bestIdx = -1;
            for (size_t i = 1; i + 1 < t.size(); ++i) {
                const int id = lookup(pieces[size_t(t[i])] + pieces[size_t(t[i + 1])]);
                if (id != -1 && scores[size_t(id)] > best) {
                    best = scores[size_t(id)];
                    bestId = id;
                    bestIdx = int(i);
                }
            }
            if (bestIdx == -1) break;
            t[size_t(bestIdx)] = bestId;
            t.erase(t.begin() + bestIdx + 1);
        }
        return t;
    }
};

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void knownEncoding();
    void vocabulary();
    void roundTrip_data();
    void roundTrip();
    void agreesWithRunC();
    void longText();
    void invalidUtf8();
    void decodeRules();
    void truncatedFile();
    void damagedFile();
    void acceptedByName();
    void findInFolder();
    void folderTokenizerStaysInside();
};

void TestTokenizer::knownEncoding()
{
    REQUIRE_TOK512();
    const auto tok = loadTokenizer(tok512Path().toStdString());
    QCOMPARE(QString::fromStdString(tok->kind()), QStringLiteral("llama2c"));
    const auto tokens = tok->encode("Once upon a time", true);
    QCOMPARE(idsOf(tokens), (std::vector<int32_t>{1, 403, 407, 261, 378}));
    const std::vector<std::pair<int, int>> offsets = {{-1, -1}, {0, 4}, {4, 9}, {9, 11}, {11, 16}};
    const QStringList texts = {"<s>", " Once", " upon", " a", " time"};
    for (size_t i = 0; i < tokens.size(); ++i) {
        QCOMPARE(tokens[i].begin, offsets[i].first);
        QCOMPARE(tokens[i].end, offsets[i].second);
        QCOMPARE(QString::fromStdString(tokens[i].text), texts[int(i)]);
    }
    QCOMPARE(idsOf(tok->encode("Once upon a time", false)),
             (std::vector<int32_t>{403, 407, 261, 378}));
    QCOMPARE(tok->encode("", true).size(), size_t(1));
    QVERIFY(tok->encode("", false).empty());
}

void TestTokenizer::vocabulary()
{
    REQUIRE_TOK512();
    const auto tok = loadTokenizer(tok512Path().toStdString());
    QCOMPARE(tok->vocabSize(), 512);
    QCOMPARE(tok->bosId(), 1);
    QCOMPARE(tok->eosId(), 2);
    QCOMPARE(QString::fromStdString(tok->piece(1)), QStringLiteral("\n<s>\n"));
    QCOMPARE(QString::fromStdString(tok->piece(403)), QStringLiteral(" Once"));
    QCOMPARE(QString::fromStdString(tok->displayText(0)), QStringLiteral("<unk>"));
    QCOMPARE(QString::fromStdString(tok->displayText(1)), QStringLiteral("<s>"));
    QCOMPARE(QString::fromStdString(tok->displayText(2)), QStringLiteral("</s>"));
    QCOMPARE(QString::fromStdString(tok->displayText(3 + 0x0A)), QString::fromUtf8("\u21b5"));
    QCOMPARE(QString::fromStdString(tok->displayText(3 + 0x09)), QString::fromUtf8("\u21e5"));
    QCOMPARE(QString::fromStdString(tok->displayText(3 + 0xE2)), QStringLiteral("<0xE2>"));
    QCOMPARE(QString::fromStdString(tok->displayText(403)), QStringLiteral(" Once"));
    QVERIFY(inputErrorOf([&] { tok->piece(512); }).contains("token id 512 is outside"));
    QVERIFY(inputErrorOf([&] { tok->displayText(-1); }).contains("token id -1 is outside"));
}

void TestTokenizer::roundTrip_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("story") << "Once upon a time, there was a little girl named Lily.";
    QTest::newRow("dialogue") << "\"Can I play?\" asked Tom. Mom said, \"Yes!\"";
    QTest::newRow("spaces") << "  two leading spaces,  two inside, and trailing ";
    QTest::newRow("newlines and tabs") << "line one\nline two\n\n\ttabbed";
    QTest::newRow("digits") << "123 + 456 = 579";
    QTest::newRow("single char") << "x";
    QTest::newRow("single space") << " ";
    QTest::newRow("accents") << QString::fromUtf8(
        "Caf\u00e9 cr\u00e8me, na\u00efve r\u00e9sum\u00e9");
    QTest::newRow("CJK") << QString::fromUtf8("\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8");
    QTest::newRow("emoji") << QString::fromUtf8("a smile \U0001F642 and a rocket \U0001F680!");
    QTest::newRow("mixed") << QString::fromUtf8("\u00e9\u65e5\U0001F642 end \u00e9");
}

void TestTokenizer::roundTrip()
{
    REQUIRE_TOK512();
    QFETCH(QString, text);
    const auto tok = loadTokenizer(tok512Path().toStdString());
    const std::string utf8 = text.toStdString();
    const auto tokens = tok->encode(utf8, true);
    QCOMPARE(QString::fromStdString(tok->decode(idsOf(tokens))), text);

    // Offsets: code point ranges that tile the text in order (byte tokens of one character
    // share its range); each token's range holds its piece (the first real token's piece
    // starts with the dummy prefix space, which has no character).
    const QList<uint> cps = text.toUcs4();
    auto sub = [&](int b, int e) {
        return QString::fromUcs4(reinterpret_cast<const char32_t *>(cps.constData()) + b, e - b)
            .toStdString();
    };
    QCOMPARE(tokens.front().id, 1);
    QCOMPARE(tokens.front().begin, -1);
    QCOMPARE(tokens.front().end, -1);
    int covered = 0, prevBegin = -1, prevEnd = -1;
    auto *l2c = dynamic_cast<const Llama2cTokenizer *>(tok.get());
    QVERIFY(l2c);
    for (size_t i = 1; i < tokens.size(); ++i) {
        const TokenInfo &t = tokens[i];
        QVERIFY2(t.begin >= 0 && t.begin <= t.end && t.end <= int(cps.size()),
                 qPrintable(QString("token %1: [%2, %3)").arg(i).arg(t.begin).arg(t.end)));
        const int byte = l2c->byteValue(t.id);
        const bool sameChar = byte >= 0 && t.begin == prevBegin && t.end == prevEnd;
        if (!sameChar) QCOMPARE(t.begin, covered);
        covered = t.end;
        prevBegin = t.begin;
        prevEnd = t.end;
        if (byte >= 0) {
            // A byte token stands for one byte of the one character it covers.
            QCOMPARE(t.end - t.begin, 1);
            QVERIFY(sub(t.begin, t.end).find(char(byte)) != std::string::npos);
        } else {
            std::string piece = tok->piece(t.id);
            if (i == 1 && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
            QCOMPARE(QString::fromStdString(sub(t.begin, t.end)), QString::fromStdString(piece));
        }
    }
    QCOMPARE(covered, int(cps.size()));
}

void TestTokenizer::agreesWithRunC()
{
    REQUIRE_TOK512();
    const ReferenceVocab ref(readFile(tok512Path()));
    const auto tok = loadTokenizer(tok512Path().toStdString());
    const QStringList parts = {"the",
                               " the",
                               " a",
                               "Lily",
                               " Tom",
                               "ed",
                               "ing",
                               " ",
                               "  ",
                               ".",
                               ",",
                               "!",
                               "\n",
                               "\t",
                               "7",
                               "x",
                               "q",
                               "Z",
                               QString::fromUtf8("\u00e9"),
                               QString::fromUtf8("\u65e5"),
                               QString::fromUtf8("\U0001F642"),
                               "once",
                               " upon",
                               " time",
                               "ball",
                               "er",
                               "he",
                               "she"};
    QRandomGenerator rng(1234);
    for (int round = 0; round < 400; ++round) {
        QString text;
        const int n = int(rng.bounded(1, 40));
        for (int i = 0; i < n; ++i)
            text += parts[int(rng.bounded(parts.size()))];
        const std::string utf8 = text.toStdString();
        const auto got = idsOf(tok->encode(utf8, true));
        const auto want = ref.encode(utf8);
        QVERIFY2(got == want, qPrintable("differs for: " + text));
    }
}

void TestTokenizer::longText()
{
    REQUIRE_TOK512();
    const auto tok = loadTokenizer(tok512Path().toStdString());
    std::string text;
    while (text.size() < 200000)
        text += "Once upon a time, there was a little girl named Lily. She liked to play. ";
    QElapsedTimer timer;
    timer.start();
    const auto tokens = tok->encode(text, true);
    QVERIFY2(timer.elapsed() < 5000, "encoding 200 kB took more than 5 s");
    QCOMPARE(tok->decode(idsOf(tokens)), text);
    QCOMPARE(tokens.back().end, int(text.size()));
}

void TestTokenizer::invalidUtf8()
{
    REQUIRE_TOK512();
    const auto tok = loadTokenizer(tok512Path().toStdString());
    // A lone continuation byte, an invalid lead byte, a cut-off sequence, an overlong, a
    // surrogate: each bad byte becomes its own byte token and survives the round trip.
    for (const std::string &text :
         {std::string("ab\x80 cd"), std::string("\xff\xfe hi"), std::string("end \xe2\x82"),
          std::string("\xc0\xaf"), std::string("x\xed\xa0\x80y"), std::string("\xe2\x82\xac ok")}) {
        const auto tokens = tok->encode(text, true);
        QCOMPARE(tok->decode(idsOf(tokens)), text);
        for (const TokenInfo &t : tokens) {
            QVERIFY(t.id == 1 || (t.begin >= 0 && t.end > t.begin) || (t.begin == 0 && t.end == 0));
            QVERIFY(QString::fromStdString(t.text).toStdString() == t.text); // valid UTF-8
        }
    }
    const auto tokens = tok->encode("\xff", false);
    QCOMPARE(idsOf(tokens).back(), 0xff + 3);
    QCOMPARE(tokens.back().begin, 0);
    QCOMPARE(tokens.back().end, 1);
}

void TestTokenizer::decodeRules()
{
    REQUIRE_TOK512();
    const auto tok = loadTokenizer(tok512Path().toStdString());
    // As run.c: the space right after BOS goes, elsewhere pieces are kept as they are; BOS and
    // EOS print nothing; byte tokens print their byte.
    QCOMPARE(tok->decode({1, 403, 407}), std::string("Once upon"));
    QCOMPARE(tok->decode({403, 407}), std::string(" Once upon"));
    QCOMPARE(tok->decode({1, 403, 2, 1, 407}), std::string("Onceupon"));
    QCOMPARE(tok->decode({3 + 0xE2, 3 + 0x82, 3 + 0xAC}), std::string("\xe2\x82\xac"));
    QCOMPARE(tok->decode({}), std::string());
    QVERIFY(inputErrorOf([&] { tok->decode({1, 9999}); }).contains("token id 9999"));
}

void TestTokenizer::truncatedFile()
{
    REQUIRE_TOK512();
    QTemporaryDir dir;
    const QByteArray good = readFile(tok512Path());
    const QString cut = dir.path() + "/tok_cut.bin";
    // Find where the last record starts: cutting inside it must name that byte.
    int pos = 4, last = 4;
    while (pos < good.size()) {
        int32_t len;
        std::memcpy(&len, good.constData() + pos + 4, 4);
        last = pos;
        pos += 8 + len;
    }
    writeFile(cut, good.left(good.size() - 2));
    QString msg = inputErrorOf([&] { loadTokenizer(cut.toStdString()); });
    QVERIFY2(msg.contains("tokenizer " + cut + " is truncated at byte " + QString::number(last)),
             qPrintable(msg));
    writeFile(cut, good.left(last + 5)); // inside the record's header
    msg = inputErrorOf([&] { loadTokenizer(cut.toStdString()); });
    QVERIFY2(msg.contains("is truncated at byte " + QString::number(last)), qPrintable(msg));
    writeFile(cut, good.left(2));
    msg = inputErrorOf([&] { loadTokenizer(cut.toStdString()); });
    QVERIFY2(msg.contains("is truncated at byte 0"), qPrintable(msg));
    // Cut exactly between records, a file is a smaller valid vocabulary.
    writeFile(cut, good.left(last));
    QCOMPARE(loadTokenizer(cut.toStdString())->vocabSize(), 511);
}

void TestTokenizer::damagedFile()
{
    QTemporaryDir dir;
    const QString p = dir.path() + "/tokenizer.bin";
    auto i32 = [](int32_t v) { return QByteArray(reinterpret_cast<const char *>(&v), 4); };
    const float zero = 0.0f;
    const QByteArray score(reinterpret_cast<const char *>(&zero), 4);

    writeFile(p, i32(7) + score + i32(1) + "a" + score + i32(0));
    QString msg = inputErrorOf([&] { loadTokenizer(p.toStdString()); });
    QVERIFY2(msg.contains(p) && msg.contains("token 1 at byte 13 has the length 0"),
             qPrintable(msg));

    writeFile(p, i32(2) + score + i32(1) + "a" + score + i32(3) + "abc");
    msg = inputErrorOf([&] { loadTokenizer(p.toStdString()); });
    QVERIFY2(msg.contains(p) && msg.contains("token 1 at byte 13 has the length 3, more than "
                                             "the file's max_token_length 2"),
             qPrintable(msg));

    writeFile(p, i32(-3) + score + i32(1) + "a");
    msg = inputErrorOf([&] { loadTokenizer(p.toStdString()); });
    QVERIFY2(msg.contains(p) && msg.contains("max_token_length"), qPrintable(msg));

    writeFile(p, i32(7));
    msg = inputErrorOf([&] { loadTokenizer(p.toStdString()); });
    QVERIFY2(msg.contains(p) && msg.contains("holds no tokens"), qPrintable(msg));

    writeFile(p, QByteArray());
    msg = inputErrorOf([&] { loadTokenizer(p.toStdString()); });
    QVERIFY2(msg.contains(p) && msg.contains("is empty"), qPrintable(msg));

    msg = inputErrorOf([&] { loadTokenizer((dir.path() + "/absent.bin").toStdString()); });
    QVERIFY2(msg.contains("cannot open tokenizer") && msg.contains("absent.bin"), qPrintable(msg));

    // A tiny hand-made vocabulary without a " " piece and without byte tokens still encodes
    // (the dummy space and unknown characters become <unk>) and does not crash.
    writeFile(p, i32(5) + score + i32(5) + "<unk>" + score + i32(3) + "<s>" + score + i32(4) +
                     "</s>" + score + i32(1) + "a" + score + i32(1) + "b" +
                     QByteArray::fromRawData("\0\0\x80\x3f", 4) + i32(2) + "ab");
    const auto tok = loadTokenizer(p.toStdString());
    QCOMPARE(tok->vocabSize(), 6);
    QCOMPARE(idsOf(tok->encode("abz", true)), (std::vector<int32_t>{1, 0, 5, 0}));

    // Pieces holding control characters or bytes that are not UTF-8 are shown readably, and as
    // valid UTF-8, the way the other tokenizers show them.
    writeFile(p, i32(5) + score + i32(5) + "<unk>" + score + i32(3) + "<s>" + score + i32(4) +
                     "</s>" + score + i32(3) + "a\rb" + score + i32(3) + "\x7f\xff\n");
    const auto odd = loadTokenizer(p.toStdString());
    QCOMPARE(QString::fromStdString(odd->displayText(3)), QStringLiteral("a<0x0D>b"));
    QCOMPARE(QString::fromStdString(odd->displayText(4)), QString::fromUtf8("<0x7F><0xFF>\u21b5"));
}

void TestTokenizer::acceptedByName()
{
    // SentencePiece tokenizer.model and tokenizer.json are read now (tst_sentencepiece,
    // tst_hftokenizer test them); here: both are recognised by name and by content, and damage
    // is reported in their own terms, not as a damaged tokenizer.bin.
    QTemporaryDir dir;
    const QByteArray spm("\x0a\x0e\x0a\x05<unk>\x15\x00\x00\x00\x00\x18\x02", 16);
    const QString model = dir.path() + "/tokenizer.model";
    writeFile(model, spm);
    auto tok = loadTokenizer(model.toStdString());
    QCOMPARE(QString::fromStdString(tok->kind()), QStringLiteral("sentencepiece-unigram"));
    QCOMPARE(tok->vocabSize(), 1);

    // The same bytes under another name are still recognised as SentencePiece.
    const QString renamed = dir.path() + "/spm.vocab";
    writeFile(renamed, spm);
    QCOMPARE(QString::fromStdString(loadTokenizer(renamed.toStdString())->kind()),
             QStringLiteral("sentencepiece-unigram"));
    writeFile(renamed, spm.left(10));
    QString msg = inputErrorOf([&] { loadTokenizer(renamed.toStdString()); });
    QVERIFY2(msg.startsWith("SentencePiece tokenizer.model (" + renamed + ") is truncated"),
             qPrintable(msg));

    const QString json = dir.path() + "/tokenizer.json";
    writeFile(json, "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}");
    msg = inputErrorOf([&] { loadTokenizer(json.toStdString()); });
    QVERIFY2(msg.startsWith("tokenizer.json (" + json + ") is damaged"), qPrintable(msg));

    const QString jsonNoExt = dir.path() + "/vocab";
    writeFile(jsonNoExt, "  {\n  \"model\": {}}");
    msg = inputErrorOf([&] { loadTokenizer(jsonNoExt.toStdString()); });
    QVERIFY2(msg.contains("tokenizer.json (" + jsonNoExt), qPrintable(msg));

    // A folder with a tokenizer.json loads that one (here: and reports its damage).
    msg = inputErrorOf([&] { loadTokenizer(dir.path().toStdString()); });
    QVERIFY2(msg.startsWith("tokenizer.json (" + json), qPrintable(msg));
}

void TestTokenizer::findInFolder()
{
    QTemporaryDir dir;
    const std::string d = dir.path().toStdString();
    QCOMPARE(findTokenizerInFolder(d), std::string());
    QVERIFY(inputErrorOf([&] { loadTokenizer(d); }).contains("no tokenizer"));
    writeFile(dir.path() + "/tokenizer.bin", QByteArray(8, '\0'));
    QVERIFY(QString::fromStdString(findTokenizerInFolder(d)).endsWith("/tokenizer.bin"));
    writeFile(dir.path() + "/tokenizer.model", "x");
    QVERIFY(QString::fromStdString(findTokenizerInFolder(d)).endsWith("/tokenizer.model"));
    writeFile(dir.path() + "/tokenizer.json", "{}");
    QVERIFY(QString::fromStdString(findTokenizerInFolder(d)).endsWith("/tokenizer.json"));
    QCOMPARE(findTokenizerInFolder(d + "/does-not-exist"), std::string());
}

// A folder's tokenizer that links out of the folder is refused, naming both; named directly,
// the same file is the user's choice and is read.
void TestTokenizer::folderTokenizerStaysInside()
{
    REQUIRE_TOK512();
    QTemporaryDir dir, other;
    const QString outside = other.path() + "/tokenizer.bin";
    QVERIFY(QFile::copy(tok512Path(), outside));
    QVERIFY(QFile::link(outside, dir.path() + "/tokenizer.bin"));
    const QString msg = inputErrorOf([&] { loadTokenizer(dir.path().toStdString()); });
    QVERIFY2(msg.contains("outside the model folder") && msg.contains(outside), qPrintable(msg));
    QVERIFY(loadTokenizer(outside.toStdString()) != nullptr);
}

QTEST_GUILESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
