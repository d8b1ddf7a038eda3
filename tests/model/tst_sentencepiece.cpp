// SentencePiece tokenizer.model: models trained here with Debian's spm_train (BPE and unigram,
// byte fallback or <unk>, identity or nmt_nfkc normalization) must encode every line of a
// corpus to exactly the ids spm_encode gives, decode as spm_decode does, round-trip where the
// normalizer keeps the text, and give offsets that tile the text. Hand-made models check the
// rules on cases worked out by hand; damaged files must be refused with their path.

#include "sentencepiecetokenizer.h"

#include "headlens/model/tokenizer.h"
#include "headlens/trace/error.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <functional>
#include <map>

using namespace HeadLens;

namespace {

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    QCOMPARE(f.write(bytes), bytes.size());
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

QString idList(const std::vector<int32_t> &ids)
{
    QStringList s;
    for (int32_t id : ids)
        s << QString::number(id);
    return s.join(' ');
}

// A corpus of lines in many scripts, with single and double spaces, tabs, digits, punctuation,
// emoji, characters NFKC changes and rare characters. Deterministic.
QStringList makeCorpus(int lines)
{
    const QStringList words = {"the",
                               "quick",
                               "brown",
                               "fox",
                               "jumps",
                               "over",
                               "the",
                               "lazy",
                               "dog",
                               "and",
                               "then",
                               "it",
                               "was",
                               "a",
                               "time",
                               "of",
                               "tokens",
                               "Hello",
                               "World",
                               "THE",
                               "Once",
                               "upon",
                               "don't",
                               "it's",
                               "WE'LL",
                               "I'm",
                               "they've",
                               "you'd",
                               "2024",
                               "3.14",
                               "1,000,000",
                               "42",
                               "x=y+1;",
                               "(paren)",
                               "[bracket]",
                               "{brace}",
                               "\"quoted\"",
                               "'single'",
                               "...",
                               "!?",
                               "#tag",
                               "@user",
                               "$5",
                               "100%",
                               "a-b",
                               "snake_case",
                               "CamelCase",
                               "e.g.",
                               "<sep>",
                               QString::fromUtf8("café"),
                               QString::fromUtf8("naïve"),
                               QString::fromUtf8("résumé"),
                               QString::fromUtf8("Straße"),
                               QString::fromUtf8("façade"),
                               QString::fromUtf8("jalapeño"),
                               QString::fromUtf8("Ærø"),
                               QString::fromUtf8("λόγος"),
                               QString::fromUtf8("αβγ"),
                               QString::fromUtf8("привет"),
                               QString::fromUtf8("мир"),
                               QString::fromUtf8("日本語"),
                               QString::fromUtf8("中文"),
                               QString::fromUtf8("東京"),
                               QString::fromUtf8("テキスト"),
                               QString::fromUtf8("ひらがな"),
                               QString::fromUtf8("한국어"),
                               QString::fromUtf8("مرحبا"),
                               QString::fromUtf8("שלום"),
                               QString::fromUtf8("नमस्ते"),
                               QString::fromUtf8("🙂"),
                               QString::fromUtf8("🚀"),
                               QString::fromUtf8("👩‍💻"),
                               QString::fromUtf8("🇫🇷"),
                               QString::fromUtf8("—"),
                               QString::fromUtf8("«guillemets»"),
                               QString::fromUtf8("½"),
                               QString::fromUtf8("Ⅻ"),
                               QString::fromUtf8("٣٤"),
                               QString::fromUtf8("ﬁne"),
                               QString::fromUtf8("Ａｂｃ"),
                               QString::fromUtf8("①"),
                               QString::fromUtf8("ǅ"),
                               QString::fromUtf8("₪"),
                               QString::fromUtf8("a\u00a0b"),
                               QString::fromUtf8("zero\u200bwidth"),
                               QString::fromUtf8("\x01"),
                               QString::fromUtf8("del\x7f"),
                               QString::fromUtf8("ŉ"),
                               QString::fromUtf8("𝔘𝔫𝔦"),
                               QString::fromUtf8("ᚠᛇ"),
                               QString::fromUtf8("ꙮ")};
    const QStringList seps = {" ", " ", " ", " ", "  ", "\t", " \t", "   ", ", ", ". "};
    QRandomGenerator rng(20240611);
    QStringList out;
    for (int i = 0; i < lines; ++i) {
        QString line;
        if (rng.bounded(10) == 0) line += " ";
        const int n = int(rng.bounded(1, 16));
        for (int k = 0; k < n; ++k) {
            if (k) line += seps[int(rng.bounded(seps.size()))];
            line += words[int(rng.bounded(words.size()))];
        }
        if (rng.bounded(12) == 0) line += "  ";
        out << line;
    }
    return out;
}

// A small protobuf writer for hand-made models.
QByteArray varint(uint64_t v)
{
    QByteArray b;
    while (v >= 0x80) {
        b += char((v & 0x7F) | 0x80);
        v >>= 7;
    }
    b += char(v);
    return b;
}
QByteArray field(int number, const QByteArray &bytes)
{
    return varint(uint64_t(number) << 3 | 2) + varint(uint64_t(bytes.size())) + bytes;
}
QByteArray fieldInt(int number, uint64_t v)
{
    return varint(uint64_t(number) << 3) + varint(v);
}
QByteArray fieldFloat(int number, float f)
{
    QByteArray b = varint(uint64_t(number) << 3 | 5);
    b.append(reinterpret_cast<const char *>(&f), 4);
    return b;
}

struct HandPiece {
    QByteArray text;
    float score;
    int type; // 1 NORMAL, 2 UNKNOWN, 3 CONTROL, 4 USER_DEFINED, 5 UNUSED, 6 BYTE
};

QByteArray handModel(const std::vector<HandPiece> &pieces, int modelType, bool byteFallback,
                     bool addDummyPrefix, bool removeExtraWhitespaces = false)
{
    QByteArray m;
    for (const HandPiece &p : pieces)
        m += field(1, field(1, p.text) + fieldFloat(2, p.score) + fieldInt(3, uint64_t(p.type)));
    m += field(2, fieldInt(3, uint64_t(modelType)) + fieldInt(35, byteFallback ? 1 : 0));
    m += field(3, field(1, "identity") + fieldInt(3, addDummyPrefix ? 1 : 0) +
                      fieldInt(4, removeExtraWhitespaces ? 1 : 0));
    return m;
}

const char *kSpace = "\xe2\x96\x81"; // ▁

struct TrainedModel {
    QString name, path;
    bool identity; // normalization keeps the text (identity, no extra space removal)
    bool byteFallback;
    bool dummyPrefix;
};

} // namespace

class TestSentencePiece : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void agreesWithSpm_data();
    void agreesWithSpm();
    void roundTripAndOffsets_data();
    void roundTripAndOffsets();
    void handBpe_data();
    void handBpe();
    void handUnigram_data();
    void handUnigram();
    void unusedPieces();
    void displayAndPieces();
    void bosEosFromFolder();
    void loadByFolderAndContent();
    void longText();
    void damagedFiles_data();
    void damagedFiles();
    void refusedByName_data();
    void refusedByName();

private:
    bool m_haveSpm = false;
    QTemporaryDir m_dir;
    QStringList m_corpus;
    std::map<QString, TrainedModel> m_models;
    QString m_spmEncode, m_spmDecode;
    QStringList m_extraLines;
};

void TestSentencePiece::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_corpus = makeCorpus(600);
    // Lines only in the test set: characters the models never saw, a user-defined symbol,
    // text that looks like special tokens, bytes that are not UTF-8, and the empty line.
    m_extraLines = {QString::fromUtf8("unseen: ǂ ʬ ᛞ 𐍈 ⚗ ꧁꧂ ഌ"),
                    QString::fromUtf8("<s> and </s> and <unk> written out"),
                    QString::fromUtf8("<sep><sep> <sep>x"),
                    QString::fromUtf8("\u3000ideographic\u3000space and \u2003em space"),
                    QString::fromUtf8("a\u0301 combining, e\u0308 too"),
                    QString(),
                    QString::fromUtf8("    "),
                    QString::fromUtf8("\t\tlead tabs"),
                    QString::fromUtf8("🙂🙂🙂🚀🚀 repeated emoji"),
                    QString::fromUtf8("1234567890 0987654321")};

    const QString train = QStandardPaths::findExecutable("spm_train");
    m_spmEncode = QStandardPaths::findExecutable("spm_encode");
    m_spmDecode = QStandardPaths::findExecutable("spm_decode");
    m_haveSpm = !train.isEmpty() && !m_spmEncode.isEmpty() && !m_spmDecode.isEmpty();
    if (!m_haveSpm) {
        qWarning("spm_train/spm_encode/spm_decode not found (Debian package sentencepiece): "
                 "the oracle tests are skipped");
        return;
    }
    const QString corpusPath = m_dir.filePath("corpus.txt");
    writeFile(corpusPath, m_corpus.join('\n').toUtf8() + "\n");
    const QStringList common = {"--input=" + corpusPath, "--minloglevel=2", "--num_threads=2",
                                "--random_seed=7", "--max_sentence_length=8192"};
    const QStringList identity = {"--normalization_rule_name=identity",
                                  "--remove_extra_whitespaces=false"};
    struct Spec {
        QString name;
        QStringList args;
        bool identity, byteFallback, dummyPrefix;
    };
    const std::vector<Spec> specs = {
        // Llama 2 style: BPE, byte fallback, identity normalization, dummy prefix.
        {"bpe-bytes",
         QStringList{"--model_type=bpe", "--vocab_size=700", "--byte_fallback=true",
                     "--character_coverage=0.999", "--allow_whitespace_only_pieces=true",
                     "--split_digits=true", "--user_defined_symbols=<sep>"} +
             identity,
         true, true, true},
        // T5 style: unigram, nmt_nfkc (precompiled charsmap), <unk> for rare characters.
        {"unigram-nfkc",
         {"--model_type=unigram", "--vocab_size=500", "--character_coverage=0.995",
          "--hard_vocab_limit=false"},
         false,
         false,
         true},
        // BPE with nmt_nfkc and <unk>.
        {"bpe-nfkc-unk",
         {"--model_type=bpe", "--vocab_size=400", "--character_coverage=0.99"},
         false,
         false,
         true},
        // Unigram with byte fallback, identity, no dummy prefix (Yi style), a user symbol.
        {"unigram-bytes",
         QStringList{"--model_type=unigram", "--vocab_size=600", "--byte_fallback=true",
                     "--character_coverage=0.999", "--hard_vocab_limit=false",
                     "--add_dummy_prefix=false", "--user_defined_symbols=<sep>"} +
             identity,
         true, true, false},
    };
    for (const Spec &s : specs) {
        const QString prefix = m_dir.filePath(s.name);
        QProcess p;
        p.start(train, common + s.args + QStringList{"--model_prefix=" + prefix});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, qPrintable(s.name + ": " + p.readAllStandardError()));
        m_models[s.name] = {s.name, prefix + ".model", s.identity, s.byteFallback, s.dummyPrefix};
    }
}

void TestSentencePiece::agreesWithSpm_data()
{
    QTest::addColumn<QString>("model");
    for (const char *m : {"bpe-bytes", "unigram-nfkc", "bpe-nfkc-unk", "unigram-bytes"})
        QTest::newRow(m) << QString(m);
}

void TestSentencePiece::agreesWithSpm()
{
    if (!m_haveSpm) QSKIP("spm_train/spm_encode are not installed");
    QFETCH(QString, model);
    const TrainedModel &tm = m_models.at(model);
    auto tok = loadTokenizer(tm.path.toStdString());
    QCOMPARE(QString::fromStdString(tok->kind()), model.startsWith("bpe")
                                                      ? QStringLiteral("sentencepiece-bpe")
                                                      : QStringLiteral("sentencepiece-unigram"));

    QList<QByteArray> lines;
    for (const QString &l : m_corpus + m_extraLines)
        lines << l.toUtf8();
    // Bytes that are not UTF-8: SentencePiece reads each as U+FFFD.
    lines << QByteArray("bad \xff byte") << QByteArray("lone \x80\x80 continuation")
          << QByteArray("cut \xe2\x82");
    const QString input = m_dir.filePath(model + "-lines.txt");
    writeFile(input, lines.join('\n') + "\n");

    QProcess enc;
    enc.start(m_spmEncode, {"--model=" + tm.path, "--output_format=id", "--input=" + input});
    QVERIFY(enc.waitForFinished(60000));
    QCOMPARE(enc.exitCode(), 0);
    QList<QByteArray> expected = enc.readAllStandardOutput().split('\n');
    QCOMPARE(expected.size(), lines.size() + 1);

    // spm_decode of spm's own ids: our decode of the same ids must print the same text.
    const QString idsPath = m_dir.filePath(model + "-ids.txt");
    writeFile(idsPath, expected.join('\n'));
    QProcess dec2;
    dec2.start(m_spmDecode, {"--model=" + tm.path, "--input_format=id", "--input=" + idsPath});
    QVERIFY(dec2.waitForFinished(60000));
    QCOMPARE(dec2.exitCode(), 0);
    const QList<QByteArray> decoded = dec2.readAllStandardOutput().split('\n');

    int same = 0, sameDecode = 0, decodeCompared = 0;
    QStringList diffs;
    for (int i = 0; i < lines.size(); ++i) {
        std::vector<int32_t> want;
        for (const QByteArray &w : expected[i].split(' '))
            if (!w.isEmpty()) want.push_back(w.toInt());
        const std::vector<int32_t> got = idsOf(tok->encode(lines[i].toStdString(), false));
        if (got == want) {
            ++same;
        } else if (diffs.size() < 5) {
            diffs << QString("line %1 '%2': spm %3, ours %4")
                         .arg(i)
                         .arg(QString::fromUtf8(lines[i]))
                         .arg(idList(want))
                         .arg(idList(got));
        }
        // Decoding: equal wherever the ids' bytes are UTF-8 (spm_decode prints U+FFFD for a
        // byte run that is not; ours keeps the bytes).
        const std::string ours = tok->decode(want);
        if (QString::fromStdString(ours).toUtf8() == QByteArray::fromStdString(ours)) {
            ++decodeCompared;
            if (QByteArray::fromStdString(ours) == decoded.value(i))
                ++sameDecode;
            else if (diffs.size() < 5)
                diffs << QString("line %1 decodes to '%2', spm_decode '%3'")
                             .arg(i)
                             .arg(QString::fromStdString(ours))
                             .arg(QString::fromUtf8(decoded.value(i)));
        }
    }
    qInfo("%s: %d of %d lines encode to spm_encode's ids; %d of %d decode as spm_decode does",
          qPrintable(model), same, int(lines.size()), sameDecode, decodeCompared);
    QVERIFY2(same == lines.size(), qPrintable(diffs.join("\n")));
    QVERIFY2(sameDecode == decodeCompared, qPrintable(diffs.join("\n")));
    QVERIFY(decodeCompared > lines.size() - 5);
}

void TestSentencePiece::roundTripAndOffsets_data()
{
    agreesWithSpm_data();
}

void TestSentencePiece::roundTripAndOffsets()
{
    if (!m_haveSpm) QSKIP("spm_train is not installed");
    QFETCH(QString, model);
    const TrainedModel &tm = m_models.at(model);
    auto tok = SentencePieceTokenizer::load(tm.path.toStdString(), {});
    QStringList texts = m_corpus + m_extraLines;
    // Several lines at once: newlines inside the text.
    for (int i = 0; i + 3 < m_corpus.size(); i += 37)
        texts << m_corpus.mid(i, 3).join('\n') << m_corpus.mid(i, 2).join("\r\n");
    int roundTrips = 0;
    for (const QString &text : texts) {
        const std::string utf8 = text.toStdString();
        const auto tokens = tok->encode(utf8, true);
        QCOMPARE(tokens.front().id, tok->bosId());
        QCOMPARE(tokens.front().begin, -1);
        if (tm.byteFallback && tm.identity) {
            QVERIFY2(tok->decode(idsOf(tokens)) == utf8, qPrintable("round trip: " + text));
            ++roundTrips;
        }
        // Offsets tile the text in order; the byte pieces of one character share its range.
        const QList<uint> cps = text.toUcs4();
        auto sub = [&](int b, int e) {
            return QString::fromUcs4(reinterpret_cast<const char32_t *>(cps.constData()) + b,
                                     e - b);
        };
        int covered = 0, prevBegin = -1, prevEnd = -1;
        bool first = true;
        for (size_t i = 1; i < tokens.size(); ++i) {
            const TokenInfo &t = tokens[i];
            const QString where = QString("%1: token %2 (%3) [%4, %5)")
                                      .arg(text)
                                      .arg(i)
                                      .arg(QString::fromStdString(t.text))
                                      .arg(t.begin)
                                      .arg(t.end);
            QVERIFY2(t.begin >= 0 && t.begin <= t.end && t.end <= int(cps.size()),
                     qPrintable(where));
            const int byte = tok->byteValue(t.id);
            const bool sameChar = byte >= 0 && t.begin == prevBegin && t.end == prevEnd;
            if (!sameChar) QVERIFY2(t.begin == covered, qPrintable(where));
            covered = t.end;
            prevBegin = t.begin;
            prevEnd = t.end;
            if (!tm.identity) continue;
            if (byte >= 0) {
                QCOMPARE(t.end - t.begin, 1);
                QVERIFY2(sub(t.begin, t.end).toUtf8().contains(char(byte)), qPrintable(where));
            } else if (t.id != tok->unkId()) {
                // The piece with ▁ as a space is the text it covers (the dummy prefix aside).
                QString piece = QString::fromStdString(tok->piece(t.id))
                                    .replace(QString::fromUtf8(kSpace), " ");
                if (first && tm.dummyPrefix && piece.startsWith(' ')) piece.remove(0, 1);
                QVERIFY2(sub(t.begin, t.end) == piece,
                         qPrintable(where + " piece '" + piece + "'"));
            }
            first = false;
        }
        if (tokens.size() > 1) QCOMPARE(covered, int(cps.size()));
    }
    if (tm.byteFallback && tm.identity) QVERIFY(roundTrips > 600);
}

void TestSentencePiece::handBpe_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<int>>("ids");
    QTest::addColumn<QList<int>>("offsets"); // begin, end per token
    // Vocabulary (BPE; higher score merges first): 0 <unk>, 1 <s>, 2 </s>, 3 ▁, 4 a, 5 b,
    // 6 c, 7 ▁a (-1), 8 ab (-2), 9 ▁ab (-3), 10 bc (-0.5), 11 <x> (user defined), 12 ▁▁ (-4)
    // "ab": ▁ a b -> pairs ▁a(-1) ab(-2): ▁a first -> ▁a b -> ▁ab (-3) -> [9].
    QTest::newRow("ab") << QByteArray("ab") << QList<int>{9} << QList<int>{0, 2};
    // "abc": ▁ a b c -> bc (-0.5) best -> ▁ a bc -> ▁a (-1) -> ▁a bc; "▁abc" is no piece.
    QTest::newRow("abc") << QByteArray("abc") << QList<int>{7, 10} << QList<int>{0, 1, 1, 3};
    // "cab": ▁ c a b -> ▁c no; ca no; ab (-2) -> ▁ c ab.
    QTest::newRow("cab") << QByteArray("cab") << QList<int>{3, 6, 8}
                         << QList<int>{0, 0, 0, 1, 1, 3};
    // " a": ▁ ▁ a -> ▁a (-1) beats ▁▁ (-4): ▁ ▁a; the dummy ▁ has no character.
    QTest::newRow("space a") << QByteArray(" a") << QList<int>{3, 7} << QList<int>{0, 0, 0, 2};
    // "  ": ▁ ▁ ▁ -> ▁▁ at the leftmost pair -> ▁▁ ▁.
    QTest::newRow("two spaces") << QByteArray("  ") << QList<int>{12, 3} << QList<int>{0, 1, 1, 2};
    // User-defined <x> is whole and never merged; unknown characters run into one <unk>.
    QTest::newRow("user defined") << QByteArray("a<x>b") << QList<int>{7, 11, 5}
                                  << QList<int>{0, 1, 1, 4, 4, 5};
    QTest::newRow("unknown run") << QByteArray("zzy a") << QList<int>{3, 0, 7}
                                 << QList<int>{0, 0, 0, 3, 3, 5};
    QTest::newRow("empty") << QByteArray("") << QList<int>{} << QList<int>{};
}

void TestSentencePiece::handBpe()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<int>, ids);
    QFETCH(QList<int>, offsets);
    const std::string sp = kSpace;
    const QByteArray s = QByteArray::fromStdString(sp);
    const QByteArray model = handModel({{"<unk>", 0, 2},
                                        {"<s>", 0, 3},
                                        {"</s>", 0, 3},
                                        {s, -5, 1},
                                        {"a", -6, 1},
                                        {"b", -7, 1},
                                        {"c", -8, 1},
                                        {s + "a", -1, 1},
                                        {"ab", -2, 1},
                                        {s + "ab", -3, 1},
                                        {"bc", -0.5f, 1},
                                        {"<x>", 0, 4},
                                        {s + s, -4, 1}},
                                       2, false, true);
    const auto tok = SentencePieceTokenizer::fromBytes(model.toStdString(), "hand.model", {});
    const auto tokens = tok->encode(text.toStdString(), false);
    QList<int> gotIds, gotOffsets;
    for (const TokenInfo &t : tokens) {
        gotIds << t.id;
        gotOffsets << t.begin << t.end;
    }
    QCOMPARE(gotIds, ids);
    QCOMPARE(gotOffsets, offsets);
    if (!ids.contains(0)) QCOMPARE(QByteArray::fromStdString(tok->decode(idsOf(tokens))), text);
}

void TestSentencePiece::handUnigram_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<int>>("ids");
    // Vocabulary (unigram, no dummy prefix, byte fallback): 0 <unk>, 1 <s>, 2 </s>,
    // 3..258 <0x00>..<0xFF>, 259 a (-1), 260 b (-1), 261 c (-1), 262 ab (-1.5), 263 bc (-1.2),
    // 264 abc (-4), 265 ▁ (-1), 266 <u> (user defined).
    // "abc": a+bc -2.2 beats ab+c -2.5, a+b+c -3, abc -4.
    QTest::newRow("abc") << QByteArray("abc") << QList<int>{259, 263};
    QTest::newRow("ab") << QByteArray("ab") << QList<int>{262};
    // "abcabc": two times the best of "abc".
    QTest::newRow("abcabc") << QByteArray("abcabc") << QList<int>{259, 263, 259, 263};
    // Unknown é (C3 A9) falls back to its bytes; the space is ▁.
    QTest::newRow("bytes") << QByteArray("a \xc3\xa9") << QList<int>{259, 265, 3 + 0xC3, 3 + 0xA9};
    // The user-defined piece scores length * max(score, FLT_MIN) - 0.1 = -0.1: it wins.
    QTest::newRow("user") << QByteArray("a<u>b") << QList<int>{259, 266, 260};
}

void TestSentencePiece::handUnigram()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<int>, ids);
    std::vector<HandPiece> pieces = {{"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}};
    for (int b = 0; b < 256; ++b)
        pieces.push_back(
            {QByteArray::fromStdString(QString::asprintf("<0x%02X>", b).toStdString()), 0, 6});
    pieces.push_back({"a", -1, 1});
    pieces.push_back({"b", -1, 1});
    pieces.push_back({"c", -1, 1});
    pieces.push_back({"ab", -1.5f, 1});
    pieces.push_back({"bc", -1.2f, 1});
    pieces.push_back({"abc", -4, 1});
    pieces.push_back({QByteArray(kSpace), -1, 1});
    pieces.push_back({"<u>", 0, 4});
    const auto tok =
        SentencePieceTokenizer::fromBytes(handModel(pieces, 1, true, false).toStdString(), "u", {});
    QCOMPARE(tok->vocabSize(), 267);
    const std::vector<int32_t> got = idsOf(tok->encode(text.toStdString(), false));
    QCOMPARE(QList<int>(got.begin(), got.end()), ids);
    QCOMPARE(QByteArray::fromStdString(tok->decode(idsOf(tok->encode(text.toStdString(), true)))),
             text);
    // The two byte tokens of é both carry é's range.
    if (text.contains('\xc3')) {
        const auto tokens = tok->encode(text.toStdString(), false);
        QCOMPARE(tokens[2].begin, 2);
        QCOMPARE(tokens[2].end, 3);
        QCOMPARE(tokens[3].begin, 2);
        QCOMPARE(tokens[3].end, 3);
    }
}

void TestSentencePiece::unusedPieces()
{
    // BPE may merge through an UNUSED piece, which is then cut back into the pieces it was made
    // of: a b -> "ab" (unused) -> a b; "abc" (normal) is still reachable through "ab".
    const QByteArray model = handModel(
        {{"<unk>", 0, 2}, {"a", -5, 1}, {"b", -5, 1}, {"c", -5, 1}, {"ab", -1, 5}, {"abc", -2, 1}},
        2, false, false);
    const auto tok = SentencePieceTokenizer::fromBytes(model.toStdString(), "unused", {});
    QCOMPARE(idsOf(tok->encode("ab", false)), (std::vector<int32_t>{1, 2}));
    QCOMPARE(idsOf(tok->encode("abc", false)), (std::vector<int32_t>{5}));
    QCOMPARE(tok->bosId(), -1);
    QCOMPARE(tok->eosId(), -1);
    QCOMPARE(idsOf(tok->encode("ab", true)), (std::vector<int32_t>{1, 2}));
}

void TestSentencePiece::displayAndPieces()
{
    std::vector<HandPiece> pieces = {{"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}};
    for (int b = 0; b < 256; ++b)
        pieces.push_back(
            {QByteArray::fromStdString(QString::asprintf("<0x%02X>", b).toStdString()), 0, 6});
    pieces.push_back({QByteArray(kSpace) + "the", -1, 1}); // 259
    pieces.push_back({"\n\n", -1, 4});                     // 260, user defined
    for (const char *p : {"t", "h", "e"})                  // 261..263
        pieces.push_back({p, -10, 1});
    pieces.push_back({QByteArray(kSpace) + "t", -2, 1});  // 264
    pieces.push_back({QByteArray(kSpace) + "th", -3, 1}); // 265; "▁" itself is no piece
    const auto tok =
        SentencePieceTokenizer::fromBytes(handModel(pieces, 2, true, true).toStdString(), "d", {});
    QCOMPARE(tok->displayText(3 + '\n'), std::string("\u21b5"));
    QCOMPARE(tok->displayText(3 + '\t'), std::string("\u21e5"));
    QCOMPARE(tok->displayText(3 + 0xE2), std::string("<0xE2>"));
    QCOMPARE(tok->displayText(259), std::string(" the"));
    QCOMPARE(tok->piece(259), std::string(kSpace) + "the");
    QCOMPARE(tok->displayText(260), std::string("\u21b5\u21b5"));
    QCOMPARE(tok->displayText(1), std::string("<s>"));
    QCOMPARE(tok->displayText(0), std::string("<unk>"));
    QCOMPARE(tok->bosId(), 1);
    QCOMPARE(tok->eosId(), 2);
    QVERIFY(inputErrorOf([&] { tok->piece(266); }).contains("token id 266 is outside"));
    QVERIFY(inputErrorOf([&] { tok->decode({-1}); }).contains("token id -1 is outside"));
    // Decoding: BOS/EOS print nothing, the first piece loses the dummy prefix, bytes join.
    QCOMPARE(tok->decode({1, 259, 259, 2}), std::string("the the"));
    QCOMPARE(tok->decode({3 + 0xE2, 3 + 0x82, 3 + 0xAC}), std::string("\xe2\x82\xac"));
    QCOMPARE(tok->decode({0}), std::string(" \xE2\x81\x87 "));
    // An unknown character is its bytes, each with the character's range; the dummy prefix
    // ▁ is no piece here, so it is bytes too, without characters.
    const auto tokens = tok->encode("\xe2\x82\xac the", true);
    QCOMPARE(idsOf(tokens), (std::vector<int32_t>{1, 3 + 0xE2, 3 + 0x96, 3 + 0x81, 3 + 0xE2,
                                                  3 + 0x82, 3 + 0xAC, 259}));
    QCOMPARE(tokens[1].begin, 0); // the dummy prefix ▁ (bytes here) has no character
    QCOMPARE(tokens[1].end, 0);
    QCOMPARE(tokens[4].begin, 0);
    QCOMPARE(tokens[4].end, 1);
    QCOMPARE(tokens[6].end, 1);
    QCOMPARE(tokens[7].begin, 1);
    QCOMPARE(tokens[7].end, 5);
    QCOMPARE(tokens[4].text, std::string("<0xE2>"));
}

void TestSentencePiece::bosEosFromFolder()
{
    if (!m_haveSpm) QSKIP("spm_train is not installed");
    QTemporaryDir dir;
    QVERIFY(QFile::copy(m_models.at("bpe-bytes").path, dir.filePath("tokenizer.model")));
    const std::string folder = dir.path().toStdString();
    auto tok = loadTokenizer(folder);
    QCOMPARE(tok->bosId(), 1);
    QCOMPARE(tok->eosId(), 2);
    auto ids = idsOf(tok->encode("the fox", true));
    QCOMPARE(ids.front(), 1);
    QVERIFY(ids.back() != 2);
    QCOMPARE(idsOf(tok->encode("the fox", false)),
             std::vector<int32_t>(ids.begin() + 1, ids.end()));

    writeFile(
        dir.filePath("tokenizer_config.json"),
        R"({"add_bos_token": false, "add_eos_token": true, "bos_token": {"content": "<s>"}})");
    tok = loadTokenizer(folder);
    ids = idsOf(tok->encode("the fox", true));
    QVERIFY(ids.front() != 1);
    QCOMPARE(ids.back(), 2);
    QCOMPARE(tok->encode("the fox", true).back().begin, -1);
    QCOMPARE(idsOf(tok->encode("the fox", false)),
             std::vector<int32_t>(ids.begin(), ids.end() - 1));
}

void TestSentencePiece::loadByFolderAndContent()
{
    if (!m_haveSpm) QSKIP("spm_train is not installed");
    QTemporaryDir dir;
    const QString src = m_models.at("unigram-bytes").path;
    QVERIFY(QFile::copy(src, dir.filePath("tokenizer.model")));
    QCOMPARE(QString::fromStdString(findTokenizerInFolder(dir.path().toStdString())),
             dir.filePath("tokenizer.model"));
    QVERIFY(QFile::copy(src, dir.filePath("renamed.bin")));
    const auto a = loadTokenizer(dir.filePath("renamed.bin").toStdString());
    QCOMPARE(QString::fromStdString(a->kind()), QStringLiteral("sentencepiece-unigram"));
    const auto b = loadTokenizer(src.toStdString());
    QCOMPARE(idsOf(a->encode("the quick fox", true)), idsOf(b->encode("the quick fox", true)));
}

void TestSentencePiece::longText()
{
    if (!m_haveSpm) QSKIP("spm_train is not installed");
    for (const char *m : {"bpe-bytes", "unigram-nfkc"}) {
        const auto tok = loadTokenizer(m_models.at(m).path.toStdString());
        std::string text;
        while (text.size() < 200000)
            text += m_corpus[int(text.size() % 97)].toStdString() + "\n";
        QElapsedTimer timer;
        timer.start();
        const auto tokens = tok->encode(text, true);
        QVERIFY2(timer.elapsed() < 5000, "encoding 200 kB took more than 5 s");
        QCOMPARE(tokens.back().end, int(QString::fromStdString(text).toUcs4().size()));
        if (std::string(m) == "bpe-bytes") QCOMPARE(tok->decode(idsOf(tokens)), text);
    }
}

void TestSentencePiece::damagedFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    const QByteArray good = handModel({{"<unk>", 0, 2}, {"a", -1, 1}}, 2, false, true);
    QTest::newRow("empty") << QByteArray() << "is empty";
    QTest::newRow("cut in a piece") << good.left(9) << "is truncated or damaged at byte";
    QTest::newRow("cut at the end")
        << good.left(good.size() - 1) << "is truncated or damaged at byte";
    QTest::newRow("group wire type")
        << QByteArray("\x0b\x0c", 2) << "is truncated or damaged at byte 0";
    QTest::newRow("no unk") << handModel({{"a", -1, 1}}, 2, false, true) << "no UNKNOWN piece";
    QTest::newRow("two unk") << handModel({{"<unk>", 0, 2}, {"<u2>", 0, 2}}, 2, false, true)
                             << "two UNKNOWN pieces";
    QTest::newRow("duplicate") << handModel({{"<unk>", 0, 2}, {"a", 0, 1}, {"a", 0, 1}}, 2, false,
                                            true)
                               << "the piece 'a' (id 2) is defined twice";
    QTest::newRow("missing bytes") << handModel({{"<unk>", 0, 2}, {"<0x00>", 0, 6}}, 2, true, true)
                                   << "byte_fallback is true but the byte piece <0x01> is missing";
    QTest::newRow("bad type") << field(1, field(1, "x") + fieldInt(3, 9)) << "unknown type 9";
    QTest::newRow("no pieces") << field(2, fieldInt(3, 2)) << "holds no pieces";
    QTest::newRow("bad charsmap") << handModel({{"<unk>", 0, 2}}, 1, false, true) +
                                         field(3, field(2, "\x10\x00\x00\x00xx"))
                                  << "precompiled_charsmap";
}

void TestSentencePiece::damagedFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = dir.filePath("tokenizer.model");
    writeFile(path, bytes);
    const QString msg = inputErrorOf([&] { loadTokenizer(path.toStdString()); });
    QVERIFY2(msg.contains(path) && msg.contains(message), qPrintable(msg));
    QVERIFY2(msg.startsWith("SentencePiece tokenizer.model (" + path + ")"), qPrintable(msg));
}

void TestSentencePiece::refusedByName_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    const QByteArray pieces = field(1, field(1, "<unk>") + fieldInt(3, 2));
    QTest::newRow("WORD") << pieces + field(2, fieldInt(3, 3))
                          << "model type WORD is not supported (only BPE and UNIGRAM)";
    QTest::newRow("CHAR") << pieces + field(2, fieldInt(3, 4))
                          << "model type CHAR is not supported (only BPE and UNIGRAM)";
    QTest::newRow("suffix") << pieces + field(2, fieldInt(24, 1))
                            << "treat_whitespace_as_suffix is not supported";
}

void TestSentencePiece::refusedByName()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = dir.filePath("x.model");
    writeFile(path, bytes);
    const QString msg = inputErrorOf([&] { loadTokenizer(path.toStdString()); });
    QCOMPARE(msg, "SentencePiece tokenizer.model (" + path + "): " + message);
}

QTEST_GUILESS_MAIN(TestSentencePiece)
#include "tst_sentencepiece.moc"
