// Hugging Face tokenizer.json and GPT-2 vocab.json + merges.txt: tokenizers written here for
// every supported kind (GPT-2 byte-level, Llama 3 regex, SentencePiece-style BPE with byte
// fallback, Metaspace, added tokens) against ids worked out by hand; the split regexes on
// their own; text -> ids -> text and offsets on a corpus of many scripts; a tokenizer.json made
// from a spm_train BPE model (as transformers converts Llama's) against spm_encode; refusals.
// When Python's `tokenizers` package happens to be importable, ids are compared with it too.

#include "hftokenizer.h"
#include "regexsplit.h"

#include "headlens/model/tokenizer.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <functional>
#include <map>

using namespace HeadLens;
using json = nlohmann::json;

namespace {

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    QCOMPARE(f.write(bytes), bytes.size());
}

void writeJson(const QString &path, const json &j)
{
    writeFile(path, QByteArray::fromStdString(j.dump(1)));
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

QList<int> idList(const std::vector<TokenInfo> &tokens)
{
    QList<int> ids;
    for (const TokenInfo &t : tokens)
        ids << t.id;
    return ids;
}

QList<int> offsetList(const std::vector<TokenInfo> &tokens)
{
    QList<int> o;
    for (const TokenInfo &t : tokens)
        o << t.begin << t.end;
    return o;
}

// The same corpus as tst_sentencepiece: many scripts, spaces, tabs, emoji, rare characters.
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

// Texts for round trips: the corpus, several lines at once, and bytes that are not UTF-8.
std::vector<std::string> roundTripTexts()
{
    const QStringList corpus = makeCorpus(400);
    std::vector<std::string> texts;
    for (const QString &l : corpus)
        texts.push_back(l.toStdString());
    for (int i = 0; i + 4 < corpus.size(); i += 29) {
        texts.push_back(corpus.mid(i, 4).join('\n').toStdString());
        texts.push_back(corpus.mid(i, 2).join("\r\n\r\n").toStdString() + "\n");
    }
    texts.push_back("");
    texts.push_back(" ");
    texts.push_back("\n\n\n");
    texts.push_back("\t \t");
    texts.push_back("bad \xff byte, lone \x80, cut \xe2\x82");
    return texts;
}

// GPT-2's bytes_to_unicode, written out independently of the code under test.
QString byteChar(int b)
{
    static std::vector<char32_t> table = [] {
        std::vector<char32_t> t(256);
        int n = 0;
        for (int c = 0; c < 256; ++c) {
            const bool keep = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE;
            t[size_t(c)] = keep ? char32_t(c) : char32_t(256 + n++);
        }
        return t;
    }();
    return QString::fromUcs4(&table[size_t(b)], 1);
}

QString byteLevel(const QByteArray &bytes)
{
    QString s;
    for (char c : bytes)
        s += byteChar(static_cast<unsigned char>(c));
    return s;
}

const char *kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json addedToken(int id, const std::string &content, bool special = true)
{
    return {{"id", id},        {"content", content},     {"single_word", false}, {"lstrip", false},
            {"rstrip", false}, {"normalized", !special}, {"special", special}};
}

// A byte-level vocabulary: the 256 byte characters with id = byte, then merges (ids 256+).
struct ByteLevelFixture {
    json vocab = json::object();
    json merges = json::array();
    ByteLevelFixture()
    {
        for (int b = 0; b < 256; ++b)
            vocab[byteChar(b).toStdString()] = b;
        auto merge = [&](const QByteArray &a, const QByteArray &b, int id) {
            const QString la = byteLevel(a), lb = byteLevel(b);
            merges.push_back((la + " " + lb).toStdString());
            vocab[(la + lb).toStdString()] = id;
        };
        merge("h", "e", 256);
        merge(" ", "t", 257);
        merge(" t", "he", 258);
        merge("l", "l", 259);
        merge("e", "ll", 260);
        merge("'", "s", 261);
        merge("\xf0", "\x9f", 262); // the first half of an emoji's bytes
        merge("1", "2", 263);
        merge("3", "4", 264);
        merge("12", "3", 265);
        merge(" ", "w", 266);
        merge("o", "r", 267);
        merge(" w", "or", 268);
        vocab[byteLevel(" world").toStdString()] = 269; // reachable only whole (ignore_merges)
        merge("\n", "\n", 270);
        vocab["<|endoftext|>"] = 271;
    }
};

json gpt2Json()
{
    ByteLevelFixture f;
    return {{"version", "1.0"},
            {"added_tokens", json::array({addedToken(271, "<|endoftext|>")})},
            {"normalizer", nullptr},
            {"pre_tokenizer",
             {{"type", "ByteLevel"},
              {"add_prefix_space", false},
              {"trim_offsets", true},
              {"use_regex", true}}},
            {"post_processor",
             {{"type", "ByteLevel"},
              {"add_prefix_space", true},
              {"trim_offsets", false},
              {"use_regex", true}}},
            {"decoder",
             {{"type", "ByteLevel"},
              {"add_prefix_space", true},
              {"trim_offsets", true},
              {"use_regex", true}}},
            {"model",
             {{"type", "BPE"},
              {"dropout", nullptr},
              {"unk_token", nullptr},
              {"continuing_subword_prefix", ""},
              {"end_of_word_suffix", ""},
              {"fuse_unk", false},
              {"byte_fallback", false},
              {"vocab", f.vocab},
              {"merges", f.merges}}}};
}

json llama3Json()
{
    ByteLevelFixture f;
    json merges = json::array();
    for (const json &m : f.merges) { // the newer [a, b] form
        const std::string s = m.get<std::string>();
        merges.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
    }
    return {
        {"version", "1.0"},
        {"added_tokens",
         json::array({addedToken(272, "<|begin_of_text|>"), addedToken(273, "<|end_of_text|>"),
                      addedToken(274, "<|eot_id|>")})},
        {"normalizer", nullptr},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers", json::array({{{"type", "Split"},
                                          {"pattern", {{"Regex", kLlama3Regex}}},
                                          {"behavior", "Isolated"},
                                          {"invert", false}},
                                         {{"type", "ByteLevel"},
                                          {"add_prefix_space", false},
                                          {"trim_offsets", true},
                                          {"use_regex", false}}})}}},
        {"post_processor",
         {{"type", "Sequence"},
          {"processors",
           json::array({{{"type", "ByteLevel"},
                         {"add_prefix_space", true},
                         {"trim_offsets", false},
                         {"use_regex", true}},
                        {{"type", "TemplateProcessing"},
                         {"single", json::array({{{"SpecialToken",
                                                   {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}},
                                                 {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                         {"pair", json::array()},
                         {"special_tokens",
                          {{"<|begin_of_text|>",
                            {{"id", "<|begin_of_text|>"},
                             {"ids", json::array({272})},
                             {"tokens", json::array({"<|begin_of_text|>"})}}}}}}})}}},
        {"decoder",
         {{"type", "ByteLevel"},
          {"add_prefix_space", true},
          {"trim_offsets", true},
          {"use_regex", true}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", true},
          {"vocab", f.vocab},
          {"merges", merges}}}};
}

// SentencePiece-style BPE (Llama 2's tokenizer.json): <unk> <s> </s>, 256 byte pieces, then
// pieces with ▁; normalizer Prepend ▁ + Replace " " -> ▁, decoder Replace, ByteFallback,
// Fuse, Strip.
const std::string kSp = "\xe2\x96\x81"; // ▁

json spVocab()
{
    json v = json::object();
    v["<unk>"] = 0;
    v["<s>"] = 1;
    v["</s>"] = 2;
    for (int b = 0; b < 256; ++b)
        v[QString::asprintf("<0x%02X>", b).toStdString()] = 3 + b;
    int id = 259;
    for (const std::string &p :
         {kSp, std::string("t"), std::string("h"), std::string("e"), kSp + "t", std::string("he"),
          kSp + "the", std::string("a"), std::string("c"), kSp + "c", std::string("at"),
          kSp + "cat", kSp + kSp})
        v[p] = id++;
    return v;
}

json spMerges()
{
    return json::array(
        {kSp + " t", "h e", kSp + "t he", "a t", kSp + " c", kSp + "c at", kSp + " " + kSp});
}

json spModel()
{
    return {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", "<unk>"},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", true},
            {"byte_fallback", true},
            {"vocab", spVocab()},
            {"merges", spMerges()}};
}

json spTemplate()
{
    return {
        {"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", json::array()},
        {"special_tokens",
         {{"<s>", {{"id", "<s>"}, {"ids", json::array({1})}, {"tokens", json::array({"<s>"})}}}}}};
}

json spAdded()
{
    return json::array({addedToken(0, "<unk>"), addedToken(1, "<s>"), addedToken(2, "</s>")});
}

json spPrependJson()
{
    return {{"version", "1.0"},
            {"added_tokens", spAdded()},
            {"normalizer",
             {{"type", "Sequence"},
              {"normalizers",
               json::array(
                   {{{"type", "Prepend"}, {"prepend", kSp}},
                    {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSp}}})}}},
            {"pre_tokenizer", nullptr},
            {"post_processor", spTemplate()},
            {"decoder",
             {{"type", "Sequence"},
              {"decoders",
               json::array({{{"type", "Replace"}, {"pattern", {{"String", kSp}}}, {"content", " "}},
                            {{"type", "ByteFallback"}},
                            {{"type", "Fuse"}},
                            {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
            {"model", spModel()}};
}

json spMetaspaceJson(const std::string &scheme, bool split)
{
    json j = spPrependJson();
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {
        {"type", "Metaspace"}, {"replacement", kSp}, {"prepend_scheme", scheme}, {"split", split}};
    j["decoder"] = {{"type", "Sequence"},
                    {"decoders", json::array({{{"type", "ByteFallback"}},
                                              {{"type", "Metaspace"},
                                               {"replacement", kSp},
                                               {"prepend_scheme", scheme},
                                               {"split", split}}})}};
    return j;
}

std::unique_ptr<Tokenizer> fromJson(const json &j, const QString &name = "tokenizer.json")
{
    return HfTokenizer::fromJson(j.dump(), name.toStdString(), {});
}

} // namespace

class TestHfTokenizer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void splitRegex_data();
    void splitRegex();
    void gpt2_data();
    void gpt2();
    void llama3_data();
    void llama3();
    void sentencePieceStyle_data();
    void sentencePieceStyle();
    void addedTokens_data();
    void addedTokens();
    void unknownCharacters();
    void displayText();
    void vocabAndMerges();
    void bosEosFromConfig();
    void roundTripAndOffsets_data();
    void roundTripAndOffsets();
    void convertedFromSpm();
    void damaged_data();
    void damaged();
    void refusedByName_data();
    void refusedByName();
    void longText();
    void pythonTokenizers();
};

void TestHfTokenizer::splitRegex_data()
{
    QTest::addColumn<QString>("regex");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("pieces"); // joined by |
    auto row = [](const char *name, const char *re, const char *text, const char *pieces) {
        QTest::newRow(name) << QString(re) << QString::fromUtf8(text) << QString::fromUtf8(pieces);
    };
    row("gpt2 words", "gpt2", "Hello world", "Hello| world");
    row("gpt2 contraction", "gpt2", "it's", "it|'s");
    row("gpt2 upper contraction", "gpt2", "IT'S", "IT|'|S");
    row("gpt2 two spaces", "gpt2", "  hi", " | hi");
    row("gpt2 trailing spaces", "gpt2", "x  ", "x|  ");
    row("gpt2 newlines", "gpt2", "a\n\nb", "a|\n|\n|b");
    row("gpt2 digits", "gpt2", "12345 67", "12345| 67");
    row("gpt2 punctuation", "gpt2", "Hello, world!", "Hello|,| world|!");
    row("gpt2 cjk", "gpt2", "日本語のテキスト", "日本語のテキスト");
    row("gpt2 emoji", "gpt2", "🙂🚀 ok", "🙂🚀| ok");
    row("gpt2 tab", "gpt2", "a\tb", "a|\t|b");
    row("gpt2 nbsp", "gpt2", "x\u00a0y", "x|\u00a0|y");
    row("gpt2 accents", "gpt2", "café naïve", "café| naïve");
    row("gpt2 devanagari marks", "gpt2", "नमस्ते", "नमस|्|त|े"); // marks (Mn/Mc) are not \p{L}
    row("llama3 words", "llama3", "Hello world", "Hello| world");
    row("llama3 contraction", "llama3", "IT'S don't", "IT|'S| don|'t");
    row("llama3 digits", "llama3", "12345", "123|45");
    row("llama3 newlines", "llama3", "a\n\nb", "a|\n\n|b");
    row("llama3 newlines spaces", "llama3", "\n\n  x", "\n\n| | x");
    row("llama3 space newline", "llama3", "x  \n y", "x|  \n| y");
    row("llama3 punct newline", "llama3", "...\n\nnext", "...\n\n|next");
    row("llama3 tab word", "llama3", "\tHello", "\tHello");
    row("llama3 number", "llama3", "3.14", "3|.|14");
    row("llama3 quote word", "llama3", "'quoted'", "'quoted|'");
    row("llama3 long s", "llama3", "x'ſ", "x|'ſ");
    row("llama3 roman numeral", "llama3", "ⅫⅫⅫⅫ", "ⅫⅫⅫ|Ⅻ");
    row("llama3 trailing", "llama3", "end \t ", "end| \t ");
    row("qwen2 digits", "qwen2", "12345", "1|2|3|4|5");
}

void TestHfTokenizer::splitRegex()
{
    QFETCH(QString, regex);
    QFETCH(QString, text);
    QFETCH(QString, pieces);
    const SplitRegex re = regex == "gpt2"     ? SplitRegex::Gpt2
                          : regex == "llama3" ? SplitRegex::Llama3
                                              : SplitRegex::Qwen2;
    const QList<uint> cps = text.toUcs4();
    const std::vector<char32_t> v(cps.begin(), cps.end());
    QStringList got;
    size_t from = 0;
    for (size_t e : splitByRegex(v, re)) {
        got << QString::fromUcs4(reinterpret_cast<const char32_t *>(cps.constData()) + from,
                                 qsizetype(e - from));
        from = e;
    }
    QCOMPARE(got.join('|'), pieces);
    QCOMPARE(recogniseSplitRegex(kLlama3Regex), std::optional<SplitRegex>(SplitRegex::Llama3));
    QCOMPARE(recogniseSplitRegex(splitRegexText(re)), std::optional<SplitRegex>(re));
}

void TestHfTokenizer::gpt2_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<int>>("ids");
    QTest::addColumn<QList<int>>("offsets");
    // Ids below 256 are bytes; merges by rank: h e, Ġ t, Ġt he, l l, e ll, ' s, F0 9F, 1 2,
    // 3 4, 12 3, Ġ w, o r, Ġw or, Ċ Ċ.
    // "hello": h e first (rank 0), then l l; "he ll" is no merge (e ll came too late).
    QTest::newRow("hello") << QByteArray("hello") << QList<int>{256, 259, 'o'}
                           << QList<int>{0, 2, 2, 4, 4, 5};
    QTest::newRow("the") << QByteArray("the") << QList<int>{'t', 256} << QList<int>{0, 1, 1, 3};
    QTest::newRow("space the") << QByteArray(" the") << QList<int>{258} << QList<int>{0, 4};
    QTest::newRow("it's") << QByteArray("it's") << QList<int>{'i', 't', 261}
                          << QList<int>{0, 1, 1, 2, 2, 4};
    // One \p{N}+ piece: 1 2, then 3 4 (rank 8) before 12 3 (rank 9).
    QTest::newRow("digits") << QByteArray("12345") << QList<int>{263, 264, '5'}
                            << QList<int>{0, 2, 2, 4, 4, 5};
    // Without ignore_merges " world" is what the merges make of it.
    QTest::newRow("world") << QByteArray(" world") << QList<int>{268, 'l', 'd'}
                           << QList<int>{0, 4, 4, 5, 5, 6};
    // 🙂 is F0 9F 99 82: the merged half and two bytes, all with the emoji's range.
    QTest::newRow("emoji") << QByteArray("\xf0\x9f\x99\x82!") << QList<int>{262, 0x99, 0x82, '!'}
                           << QList<int>{0, 1, 0, 1, 0, 1, 1, 2};
    // GPT-2 keeps each newline apart here: no ĊĊ.
    QTest::newRow("newlines") << QByteArray("a\n\nb") << QList<int>{'a', '\n', '\n', 'b'}
                              << QList<int>{0, 1, 1, 2, 2, 3, 3, 4};
    QTest::newRow("two spaces") << QByteArray("  hi") << QList<int>{' ', ' ', 'h', 'i'}
                                << QList<int>{0, 1, 1, 2, 2, 3, 3, 4};
    QTest::newRow("special") << QByteArray("x<|endoftext|>y") << QList<int>{'x', 271, 'y'}
                             << QList<int>{0, 1, 1, 14, 14, 15};
    QTest::newRow("accent") << QByteArray("\xc3\xa9") << QList<int>{0xC3, 0xA9}
                            << QList<int>{0, 1, 0, 1};
    QTest::newRow("not utf8") << QByteArray("\xff") << QList<int>{0xFF} << QList<int>{0, 1};
}

void TestHfTokenizer::gpt2()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<int>, ids);
    QFETCH(QList<int>, offsets);
    const auto tok = fromJson(gpt2Json());
    QCOMPARE(QString::fromStdString(tok->kind()), QStringLiteral("hf-bytelevel-bpe"));
    const auto tokens = tok->encode(text.toStdString(), true); // GPT-2 adds nothing
    QCOMPARE(idList(tokens), ids);
    QCOMPARE(offsetList(tokens), offsets);
    QCOMPARE(QByteArray::fromStdString(tok->decode(idsOf(tokens))),
             text.replace("<|endoftext|>", ""));
}

void TestHfTokenizer::llama3_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<int>>("ids");
    // BOS 272 first (TemplateProcessing).
    // "12345" is split 123|45 by \p{N}{1,3}: 1 2, 12 3 -> 123; then 4 5.
    QTest::newRow("digits") << QByteArray("12345") << QList<int>{272, 265, '4', '5'};
    // ignore_merges: " world" is in the vocabulary whole.
    QTest::newRow("world") << QByteArray(" world") << QList<int>{272, 269};
    QTest::newRow("newlines") << QByteArray("a\n\nb") << QList<int>{272, 'a', 270, 'b'};
    QTest::newRow("IT'S") << QByteArray("IT'S") << QList<int>{272, 'I', 'T', '\'', 'S'};
    QTest::newRow("special") << QByteArray("hi<|eot_id|>") << QList<int>{272, 'h', 'i', 274};
    QTest::newRow("empty") << QByteArray("") << QList<int>{272};
}

void TestHfTokenizer::llama3()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<int>, ids);
    const auto tok = fromJson(llama3Json());
    const auto tokens = tok->encode(text.toStdString(), true);
    QCOMPARE(idList(tokens), ids);
    QCOMPARE(tokens.front().begin, -1);
    QCOMPARE(tokens.front().text, std::string("<|begin_of_text|>"));
    QCOMPARE(tok->bosId(), 272);
    QCOMPARE(tok->eosId(), 273);
    QCOMPARE(idList(tok->encode(text.toStdString(), false)), ids.mid(1));
    QCOMPARE(QByteArray::fromStdString(tok->decode(idsOf(tokens))), text);
}

void TestHfTokenizer::sentencePieceStyle_data()
{
    QTest::addColumn<QString>("style");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<int>>("ids");
    QTest::addColumn<QList<int>>("offsets"); // of the tokens after <s>
    // 259 ▁, 260 t, 261 h, 262 e, 263 ▁t, 264 he, 265 ▁the, 266 a, 267 c, 268 ▁c, 269 at,
    // 270 ▁cat, 271 ▁▁; merges by rank: ▁ t, h e, ▁t he, a t, ▁ c, ▁c at, ▁ ▁.
    QTest::newRow("prepend the") << "prepend" << QByteArray("the") << QList<int>{1, 265}
                                 << QList<int>{0, 3};
    QTest::newRow("prepend the cat")
        << "prepend" << QByteArray("the cat") << QList<int>{1, 265, 270} << QList<int>{0, 3, 3, 7};
    // "▁▁cat": a t (rank 3) first, then ▁ c at position 1, then ▁c at; ▁ ▁ is stale by then.
    QTest::newRow("prepend space cat")
        << "prepend" << QByteArray(" cat") << QList<int>{1, 259, 270} << QList<int>{0, 0, 0, 4};
    // é is not a piece: its bytes (byte_fallback), both with é's range.
    QTest::newRow("prepend bytes")
        << "prepend" << QByteArray("\xc3\xa9") << QList<int>{1, 259, 3 + 0xC3, 3 + 0xA9}
        << QList<int>{0, 0, 0, 1, 0, 1};
    // The text after a special token is normalized on its own: it gets its own ▁.
    QTest::newRow("prepend special")
        << "prepend" << QByteArray("<s>the") << QList<int>{1, 1, 265} << QList<int>{0, 3, 3, 6};
    // Metaspace "first": a text that starts with a space gets no second ▁.
    QTest::newRow("first space cat")
        << "first" << QByteArray(" cat") << QList<int>{1, 270} << QList<int>{0, 4};
    QTest::newRow("first the") << "first" << QByteArray("the") << QList<int>{1, 265}
                               << QList<int>{0, 3};
    // Metaspace "always" with split: ▁the | ▁ | ▁cat are BPE'd apart.
    QTest::newRow("always split") << "always-split" << QByteArray("the  cat")
                                  << QList<int>{1, 265, 259, 270} << QList<int>{0, 3, 3, 4, 4, 8};
    QTest::newRow("always after special") << "always-split" << QByteArray("</s>cat")
                                          << QList<int>{1, 2, 270} << QList<int>{0, 4, 4, 7};
    QTest::newRow("first after special")
        << "first" << QByteArray("</s>cat") << QList<int>{1, 2, 267, 269}
        << QList<int>{0, 4, 4, 5, 5, 7};
}

void TestHfTokenizer::sentencePieceStyle()
{
    QFETCH(QString, style);
    QFETCH(QByteArray, text);
    QFETCH(QList<int>, ids);
    QFETCH(QList<int>, offsets);
    const json j = style == "prepend" ? spPrependJson()
                   : style == "first" ? spMetaspaceJson("first", false)
                                      : spMetaspaceJson("always", true);
    const auto tok = fromJson(j);
    QCOMPARE(QString::fromStdString(tok->kind()), QStringLiteral("hf-bpe"));
    const auto tokens = tok->encode(text.toStdString(), true);
    QCOMPARE(idList(tokens), ids);
    QCOMPARE(offsetList(tokens).mid(2), offsets);
    QCOMPARE(tok->bosId(), 1);
    QCOMPARE(tok->eosId(), 2);
    if (!text.contains("<") && !(style == "first" && text.startsWith(' ')))
        QCOMPARE(QByteArray::fromStdString(tok->decode(idsOf(tokens))), text);
}

void TestHfTokenizer::addedTokens_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<int>>("ids");
    QTest::addColumn<QList<int>>("offsets");
    // 280 <mask> lstrip, 281 <w> single_word, 282 <r> rstrip, 283 <mask><w> (longest wins).
    QTest::newRow("lstrip") << QByteArray("a <mask>b") << QList<int>{'a', 280, 'b'}
                            << QList<int>{0, 1, 1, 8, 8, 9};
    QTest::newRow("single word inside") << QByteArray("x<w>") << QList<int>{'x', '<', 'w', '>'}
                                        << QList<int>{0, 1, 1, 2, 2, 3, 3, 4};
    QTest::newRow("single word alone")
        << QByteArray(" <w> ") << QList<int>{' ', 281, ' '} << QList<int>{0, 1, 1, 4, 4, 5};
    QTest::newRow("rstrip") << QByteArray("<r>  z") << QList<int>{282, 'z'}
                            << QList<int>{0, 5, 5, 6};
    QTest::newRow("longest") << QByteArray("<mask><w>") << QList<int>{283} << QList<int>{0, 9};
}

void TestHfTokenizer::addedTokens()
{
    QFETCH(QByteArray, text);
    QFETCH(QList<int>, ids);
    QFETCH(QList<int>, offsets);
    json j = gpt2Json();
    json mask = addedToken(280, "<mask>");
    mask["lstrip"] = true;
    json w = addedToken(281, "<w>", false);
    w["single_word"] = true;
    json r = addedToken(282, "<r>");
    r["rstrip"] = true;
    j["added_tokens"].push_back(mask);
    j["added_tokens"].push_back(w);
    j["added_tokens"].push_back(r);
    j["added_tokens"].push_back(addedToken(283, "<mask><w>"));
    const auto tok = fromJson(j);
    QCOMPARE(tok->vocabSize(), 284);
    const auto tokens = tok->encode(text.toStdString(), false);
    QCOMPARE(idList(tokens), ids);
    QCOMPARE(offsetList(tokens), offsets);

    // A normalized added token is matched in the normalized text (after Prepend's ▁), one
    // that is not in the raw text.
    for (bool normalized : {true, false}) {
        json sp = spPrependJson();
        json x = addedToken(290, "xyz", false);
        x["normalized"] = normalized;
        sp["added_tokens"].push_back(x);
        const auto t = fromJson(sp);
        const QList<int> want = normalized ? QList<int>{259, 290} : QList<int>{290};
        QCOMPARE(idList(t->encode("xyz", false)), want);
    }
}

void TestHfTokenizer::unknownCharacters()
{
    // Without byte_fallback: unknown characters are <unk>, a run of them one <unk> with
    // fuse_unk. "▁xyz▁the": ▁, x y z unknown, ▁ t h e -> ▁the.
    json j = spPrependJson();
    j["model"]["byte_fallback"] = false;
    auto tok = fromJson(j);
    auto tokens = tok->encode("xyz the", false);
    QCOMPARE(idList(tokens), (QList<int>{259, 0, 265}));
    QCOMPARE(offsetList(tokens), (QList<int>{0, 0, 0, 3, 3, 7}));
    QCOMPARE(tokens[1].text, std::string("<unk>"));
    j["model"]["fuse_unk"] = false;
    tok = fromJson(j);
    QCOMPARE(idList(tok->encode("xyz the", false)), (QList<int>{259, 0, 0, 0, 265}));
    // Neither byte_fallback nor unk_token: the tokenizers library would drop the character
    // silently; it is refused instead.
    j["model"]["unk_token"] = nullptr;
    tok = fromJson(j, "nounk.json");
    QCOMPARE(idList(tok->encode("the", false)), (QList<int>{265}));
    const QString msg = inputErrorOf([&] { tok->encode("the x", false); });
    QVERIFY2(
        msg.startsWith("tokenizer.json (nounk.json): the character 'x' is not in the vocabulary"),
        qPrintable(msg));
}

void TestHfTokenizer::displayText()
{
    const auto gpt2 = fromJson(gpt2Json());
    QCOMPARE(gpt2->displayText(258), std::string(" the"));
    QCOMPARE(gpt2->piece(258), byteLevel(" the").toStdString());
    QCOMPARE(gpt2->displayText('\n'), std::string("\u21b5"));
    QCOMPARE(gpt2->displayText('\t'), std::string("\u21e5"));
    QCOMPARE(gpt2->displayText(270), std::string("\u21b5\u21b5"));
    QCOMPARE(gpt2->displayText(0xE2), std::string("<0xE2>"));
    QCOMPARE(gpt2->displayText(262), std::string("<0xF0><0x9F>"));
    QCOMPARE(gpt2->displayText(' '), std::string(" "));
    QCOMPARE(gpt2->displayText(271), std::string("<|endoftext|>"));
    QCOMPARE(gpt2->vocabSize(), 272);
    QVERIFY(inputErrorOf([&] { gpt2->piece(272); }).contains("token id 272 is outside"));
    QVERIFY(inputErrorOf([&] { gpt2->decode({-3}); }).contains("token id -3 is outside"));

    const auto sp = fromJson(spPrependJson());
    QCOMPARE(sp->displayText(265), std::string(" the"));
    QCOMPARE(sp->piece(265), kSp + "the");
    QCOMPARE(sp->displayText(3 + '\n'), std::string("\u21b5"));
    QCOMPARE(sp->displayText(3 + 0xE2), std::string("<0xE2>"));
    QCOMPARE(sp->displayText(1), std::string("<s>"));
    // Decoding: <s> and </s> print nothing; bytes join into their character.
    QCOMPARE(sp->decode({1, 265, 270, 2}), std::string("the cat"));
    QCOMPARE(sp->decode({259, 3 + 0xE2, 3 + 0x82, 3 + 0xAC}), std::string("\xe2\x82\xac"));
}

void TestHfTokenizer::vocabAndMerges()
{
    // vocab.json + merges.txt are GPT-2's byte-level BPE: the same ids as the tokenizer.json.
    QTemporaryDir dir;
    ByteLevelFixture f;
    writeJson(dir.filePath("vocab.json"), f.vocab);
    QByteArray merges = "#version: 0.2\n";
    for (const json &m : f.merges)
        merges += QByteArray::fromStdString(m.get<std::string>()) + "\n";
    writeFile(dir.filePath("merges.txt"), merges);
    const std::string folder = dir.path().toStdString();
    QCOMPARE(QString::fromStdString(findTokenizerInFolder(folder)), dir.filePath("vocab.json"));
    const auto pair = loadTokenizer(folder);
    QCOMPARE(QString::fromStdString(pair->kind()), QStringLiteral("gpt2-bpe"));
    const auto viaMerges = loadTokenizer(dir.filePath("merges.txt").toStdString());
    const auto json = fromJson(gpt2Json());
    for (const std::string &text : roundTripTexts()) {
        QCOMPARE(idsOf(pair->encode(text, true)), idsOf(json->encode(text, true)));
        QCOMPARE(idsOf(viaMerges->encode(text, false)), idsOf(json->encode(text, false)));
    }
    QCOMPARE(idsOf(pair->encode("a<|endoftext|>", true)), (std::vector<int32_t>{'a', 271}));
    QCOMPARE(pair->eosId(), 271);

    // The search order: tokenizer.json, tokenizer.model, vocab.json + merges.txt, tokenizer.bin.
    writeFile(dir.filePath("tokenizer.bin"), QByteArray(8, '\0'));
    QCOMPARE(QString::fromStdString(findTokenizerInFolder(folder)), dir.filePath("vocab.json"));
    writeFile(dir.filePath("tokenizer.model"), "x");
    QCOMPARE(QString::fromStdString(findTokenizerInFolder(folder)),
             dir.filePath("tokenizer.model"));
    writeJson(dir.filePath("tokenizer.json"), gpt2Json());
    QCOMPARE(QString::fromStdString(findTokenizerInFolder(folder)), dir.filePath("tokenizer.json"));
    QCOMPARE(QString::fromStdString(loadTokenizer(folder)->kind()),
             QStringLiteral("hf-bytelevel-bpe"));

    // A vocab.json alone, or a merges.txt alone, says what is missing.
    QTemporaryDir lone;
    writeJson(lone.filePath("vocab.json"), f.vocab);
    QString msg = inputErrorOf([&] { loadTokenizer(lone.filePath("vocab.json").toStdString()); });
    QVERIFY2(msg.contains(lone.filePath("merges.txt")) && msg.contains("does not exist"),
             qPrintable(msg));
    QCOMPARE(findTokenizerInFolder(lone.path().toStdString()), std::string());
}

void TestHfTokenizer::bosEosFromConfig()
{
    QTemporaryDir dir;
    writeJson(dir.filePath("tokenizer.json"), spPrependJson());
    const std::string folder = dir.path().toStdString();
    QCOMPARE(idsOf(loadTokenizer(folder)->encode("the", true)), (std::vector<int32_t>{1, 265}));
    // transformers' Llama tokenizers rebuild the template from add_bos_token / add_eos_token.
    writeFile(dir.filePath("tokenizer_config.json"),
              R"({"add_bos_token": false, "add_eos_token": true, "eos_token": "</s>"})");
    auto tok = loadTokenizer(folder);
    const auto tokens = tok->encode("the", true);
    QCOMPARE(idsOf(tokens), (std::vector<int32_t>{265, 2}));
    QCOMPARE(tokens.back().begin, -1);
    QCOMPARE(idsOf(tok->encode("the", false)), (std::vector<int32_t>{265}));

    // GPT-2 adds nothing; its BOS and EOS are both <|endoftext|>.
    writeJson(dir.filePath("tokenizer.json"), gpt2Json());
    writeFile(dir.filePath("tokenizer_config.json"),
              R"({"bos_token": "<|endoftext|>", "eos_token": {"content": "<|endoftext|>"}})");
    tok = loadTokenizer(folder);
    QCOMPARE(tok->bosId(), 271);
    QCOMPARE(tok->eosId(), 271);
    QCOMPARE(idsOf(tok->encode("the", true)), (std::vector<int32_t>{'t', 256}));
}

void TestHfTokenizer::roundTripAndOffsets_data()
{
    QTest::addColumn<QString>("style");
    for (const char *s : {"gpt2", "llama3", "prepend", "first", "always-split"})
        QTest::newRow(s) << QString(s);
}

void TestHfTokenizer::roundTripAndOffsets()
{
    QFETCH(QString, style);
    const json j = style == "gpt2"      ? gpt2Json()
                   : style == "llama3"  ? llama3Json()
                   : style == "prepend" ? spPrependJson()
                   : style == "first"   ? spMetaspaceJson("first", false)
                                        : spMetaspaceJson("always", true);
    const auto tok = fromJson(j);
    const auto *hf = dynamic_cast<const HfTokenizer *>(tok.get());
    QVERIFY(hf);
    int checked = 0;
    for (const std::string &text : roundTripTexts()) {
        const auto tokens = tok->encode(text, true);
        const std::string back = tok->decode(idsOf(tokens));
        // Metaspace "first" and "always" put no ▁ before a text that starts with a space, and
        // their decoder drops every ▁ of the first token: leading spaces are lost, as in the
        // tokenizers library. Everything else comes back.
        if ((style == "first" || style == "always-split") && !text.empty() && text[0] == ' ') {
            QVERIFY2(text.size() > back.size() &&
                         text.compare(text.size() - back.size(), back.size(), back) == 0 &&
                         text.find_first_not_of(' ') >= text.size() - back.size(),
                     qPrintable(QString::fromStdString(text)));
        } else
            QVERIFY2(back == text, qPrintable(QString("'%1' came back as '%2'")
                                                  .arg(QString::fromStdString(text))
                                                  .arg(QString::fromStdString(back))));
        // Offsets: in order, tiling the text; a character split over tokens (bytes) is shared
        // by them. A token's decoded bytes are the bytes of its characters where it is whole.
        const QByteArray bytes = QByteArray::fromStdString(text);
        std::vector<int> charStart; // byte offset of each character, as the tokenizer counts
        for (int i = 0; i < bytes.size();) {
            charStart.push_back(i);
            int n = 1;
            for (int len = 4; len >= 1; --len)
                if (i + len <= bytes.size() &&
                    QString::fromUtf8(bytes.mid(i, len)).toUtf8() == bytes.mid(i, len) &&
                    QString::fromUtf8(bytes.mid(i, len)).toUcs4().size() == 1) {
                    n = len;
                    break;
                }
            i += n;
        }
        const int nChars = int(charStart.size());
        charStart.push_back(bytes.size());
        int covered = 0;
        for (size_t i = 0; i < tokens.size(); ++i) {
            const TokenInfo &t = tokens[i];
            if (t.begin < 0) continue;
            const QString where = QString("'%1' token %2 (%3) [%4, %5)")
                                      .arg(QString::fromStdString(text))
                                      .arg(i)
                                      .arg(QString::fromStdString(t.text))
                                      .arg(t.begin)
                                      .arg(t.end);
            QVERIFY2(t.begin <= t.end && t.end <= nChars, qPrintable(where));
            QVERIFY2(t.begin == covered || t.begin == covered - 1, qPrintable(where));
            covered = std::max(covered, t.end);
            const QByteArray chars = bytes.mid(
                charStart[size_t(t.begin)], charStart[size_t(t.end)] - charStart[size_t(t.begin)]);
            QByteArray mine = QByteArray::fromStdString(tok->decode({t.id}));
            if (!hf->byteLevel()) {
                const std::string p = tok->piece(t.id);
                mine = QByteArray::fromStdString(p).replace(QByteArray::fromStdString(kSp), " ");
                if (hf->byteValue(t.id) >= 0) mine = QByteArray(1, char(hf->byteValue(t.id)));
            }
            if (hf->isAddedToken(t.id)) {
                QCOMPARE(chars, QByteArray::fromStdString(tok->piece(t.id)));
            } else if (mine == chars || chars.contains(mine)) {
                ++checked;
            } else {
                // Only an inserted ▁ (a space with no character) may stand for nothing.
                QVERIFY2(mine == " " + chars &&
                             (t.begin == t.end || chars.isEmpty() || mine.startsWith(' ')),
                         qPrintable(where + " decodes to '" + QString::fromUtf8(mine) + "'"));
            }
        }
        if (!text.empty()) QCOMPARE(covered, nChars);
    }
    QVERIFY(checked > 5000);
}

void TestHfTokenizer::convertedFromSpm()
{
    // A Llama-2-like BPE model trained by spm_train, turned into a tokenizer.json the way
    // transformers converts Llama's tokenizer.model (merges from every split of every piece
    // into two pieces, ordered by the piece's score), must encode as spm_encode does.
    const QString train = QStandardPaths::findExecutable("spm_train");
    const QString encode = QStandardPaths::findExecutable("spm_encode");
    if (train.isEmpty() || encode.isEmpty()) QSKIP("spm_train/spm_encode are not installed");
    QTemporaryDir dir;
    const QStringList corpus = makeCorpus(600);
    writeFile(dir.filePath("corpus.txt"), corpus.join('\n').toUtf8() + "\n");
    QProcess p;
    p.start(train,
            {"--input=" + dir.filePath("corpus.txt"), "--model_prefix=" + dir.filePath("m"),
             "--model_type=bpe", "--vocab_size=700", "--byte_fallback=true",
             "--character_coverage=0.999", "--normalization_rule_name=identity",
             "--remove_extra_whitespaces=false", "--allow_whitespace_only_pieces=true",
             "--split_digits=true", "--minloglevel=2", "--num_threads=2", "--random_seed=7"});
    QVERIFY(p.waitForFinished(120000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());

    // m.vocab: piece TAB score, in id order.
    QFile vf(dir.filePath("m.vocab"));
    QVERIFY(vf.open(QIODevice::ReadOnly));
    std::vector<std::pair<std::string, float>> pieces;
    for (const QByteArray &line : vf.readAll().split('\n')) {
        if (line.isEmpty()) continue;
        const int tab = line.lastIndexOf('\t');
        pieces.push_back({line.left(tab).toStdString(), line.mid(tab + 1).toFloat()});
    }
    json vocab = json::object();
    std::map<std::string, int> id;
    for (size_t i = 0; i < pieces.size(); ++i) {
        vocab[pieces[i].first] = int(i);
        id[pieces[i].first] = int(i);
    }
    struct M {
        std::string l, r;
        float score;
    };
    std::vector<M> merges;
    for (const auto &pc : pieces) {
        std::vector<M> local;
        const QString s = QString::fromStdString(pc.first);
        const QList<uint> cps = s.toUcs4();
        for (int k = 1; k < cps.size(); ++k) {
            const std::string l =
                QString::fromUcs4(reinterpret_cast<const char32_t *>(cps.constData()), k)
                    .toStdString();
            const std::string r =
                QString::fromUcs4(reinterpret_cast<const char32_t *>(cps.constData()) + k,
                                  cps.size() - k)
                    .toStdString();
            if (id.count(l) && id.count(r)) local.push_back({l, r, pc.second});
        }
        std::sort(local.begin(), local.end(), [&](const M &a, const M &b) {
            return std::make_pair(id[a.l], id[a.r]) < std::make_pair(id[b.l], id[b.r]);
        });
        merges.insert(merges.end(), local.begin(), local.end());
    }
    std::stable_sort(merges.begin(), merges.end(),
                     [](const M &a, const M &b) { return a.score > b.score; });
    json mj = json::array();
    for (const M &m : merges)
        mj.push_back({m.l, m.r});
    json j = spPrependJson();
    j["model"]["vocab"] = vocab;
    j["model"]["merges"] = mj;
    const auto tok = fromJson(j, dir.filePath("converted.json"));

    QStringList lines = corpus;
    lines << QString::fromUtf8("unseen: ǂ ʬ ᛞ 𐍈 ⚗ ꧁꧂ ഌ") << QString::fromUtf8("\t\tlead tabs")
          << QString::fromUtf8("🙂🙂🙂🚀🚀 repeated emoji") << QString::fromUtf8("   ");
    writeFile(dir.filePath("lines.txt"), lines.join('\n').toUtf8() + "\n");
    QProcess enc;
    enc.start(encode, {"--model=" + dir.filePath("m.model"), "--output_format=id",
                       "--input=" + dir.filePath("lines.txt")});
    QVERIFY(enc.waitForFinished(60000));
    const QList<QByteArray> expected = enc.readAllStandardOutput().split('\n');
    int same = 0;
    QStringList diffs;
    for (int i = 0; i < lines.size(); ++i) {
        std::vector<int32_t> want;
        for (const QByteArray &w : expected.value(i).split(' '))
            if (!w.isEmpty()) want.push_back(w.toInt());
        const auto got = idsOf(tok->encode(lines[i].toStdString(), false));
        if (got == want)
            ++same;
        else if (diffs.size() < 5)
            diffs << "'" + lines[i] + "'";
    }
    qInfo("tokenizer.json converted from spm: %d of %d lines encode to spm_encode's ids", same,
          int(lines.size()));
    QVERIFY2(same == lines.size(), qPrintable(diffs.join('\n')));
}

void TestHfTokenizer::damaged_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("message");
    const QByteArray good = QByteArray::fromStdString(gpt2Json().dump());
    QTest::newRow("truncated") << good.left(good.size() / 2) << "is not valid JSON";
    QTest::newRow("array") << QByteArray("[1, 2]") << "does not hold a JSON object";
    QTest::newRow("no model") << QByteArray(R"({"version": "1.0"})") << "has no \"model\"";
    json j = gpt2Json();
    j["model"]["vocab"] = json::array();
    QTest::newRow("vocab array") << QByteArray::fromStdString(j.dump()) << "vocab is not an object";
    j = gpt2Json();
    j["model"]["merges"].push_back("zz qq");
    QTest::newRow("bad merge") << QByteArray::fromStdString(j.dump())
                               << "names a token that is not in the vocabulary";
    j = gpt2Json();
    j["model"]["merges"].push_back("a b c");
    QTest::newRow("merge of three")
        << QByteArray::fromStdString(j.dump()) << "is not two tokens separated by one space";
    j = gpt2Json();
    j["model"]["vocab"]["x"] = "seven";
    QTest::newRow("id not a number")
        << QByteArray::fromStdString(j.dump()) << "has the id \"seven\", not a whole number";
    // A float id is refused, not converted (6.8e109 as an integer would be undefined).
    j = gpt2Json();
    j["model"]["vocab"]["x"] = 6.8e109;
    QTest::newRow("huge float id") << QByteArray::fromStdString(j.dump()) << "not a whole number";
    j = gpt2Json();
    j["model"]["vocab"]["x"] = 2.5;
    QTest::newRow("fractional id") << QByteArray::fromStdString(j.dump())
                                   << "the token 'x' has the id 2.5, not a whole number";
    j = gpt2Json();
    j["model"]["vocab"]["x"] = -4;
    QTest::newRow("negative id") << QByteArray::fromStdString(j.dump()) << "has the id -4";
    j = llama3Json();
    j["post_processor"]["processors"][1]["special_tokens"] = json::object();
    QTest::newRow("template") << QByteArray::fromStdString(j.dump())
                              << "which special_tokens lacks";
}

void TestHfTokenizer::damaged()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, message);
    QTemporaryDir dir;
    const QString path = dir.filePath("tokenizer.json");
    writeFile(path, content);
    const QString msg = inputErrorOf([&] { loadTokenizer(path.toStdString()); });
    QVERIFY2(msg.startsWith("tokenizer.json (" + path + ")") && msg.contains(message),
             qPrintable(msg));
    // The folder finds the same file and fails the same way.
    QCOMPARE(inputErrorOf([&] { loadTokenizer(dir.path().toStdString()); }), msg);
}

void TestHfTokenizer::refusedByName_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("what");
    auto row = [](const char *name, const json &j, const char *what) {
        QTest::newRow(name) << QByteArray::fromStdString(j.dump()) << QString(what);
    };
    json j = gpt2Json();
    j["model"]["type"] = "WordPiece";
    row("wordpiece", j, "model type WordPiece");
    j["model"] = {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", json::array()}};
    row("unigram", j, "model type Unigram");
    j = gpt2Json();
    j["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
    row("bert pre-tokenizer", j, "pre-tokenizer BertPreTokenizer");
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers", json::array({{{"type", "Digits"}, {"individual_digits", true}}})}};
    row("digits in a sequence", j, "pre-tokenizer Digits");
    j["pre_tokenizer"] = {
        {"type", "Split"}, {"pattern", {{"Regex", "\\d+"}}}, {"behavior", "Isolated"}};
    row("unknown regex", j,
        "pre-tokenizer Split with the regex \"\\\\d+\" (only those of GPT-2, Llama 3 and Qwen 2 "
        "are)");
    j["pre_tokenizer"] = {
        {"type", "Split"}, {"pattern", {{"Regex", kLlama3Regex}}}, {"behavior", "Removed"}};
    row("split removed", j, "pre-tokenizer Split with the behavior Removed");
    j = gpt2Json();
    j["normalizer"] = {{"type", "NFKC"}};
    row("nfkc", j, "normalizer NFKC");
    j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", " +"}}}, {"content", " "}};
    row("replace regex", j, "normalizer Replace with the regex {\"Regex\":\" +\"}");
    j = gpt2Json();
    j["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}};
    row("wordpiece decoder", j, "decoder WordPiece");
    j = gpt2Json();
    j["post_processor"] = {{"type", "Whatever"}};
    row("post-processor", j, "post-processor Whatever");
    j = gpt2Json();
    j["model"]["continuing_subword_prefix"] = "##";
    row("subword prefix", j, "BPE with a continuing_subword_prefix");
    j = gpt2Json();
    j["model"]["dropout"] = 0.1;
    row("dropout", j, "BPE dropout");
}

void TestHfTokenizer::refusedByName()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, what);
    QTemporaryDir dir;
    const QString path = dir.filePath("tokenizer.json");
    writeFile(path, content);
    const QString msg = inputErrorOf([&] { loadTokenizer(path.toStdString()); });
    QCOMPARE(msg, "tokenizer.json (" + path + "): " + what + " is not supported");
}

void TestHfTokenizer::longText()
{
    for (const json &j : {gpt2Json(), llama3Json(), spPrependJson()}) {
        const auto tok = fromJson(j);
        const QStringList corpus = makeCorpus(50);
        std::string text;
        while (text.size() < 200000)
            text += corpus[int(text.size() % 50)].toStdString() + "\n";
        QElapsedTimer timer;
        timer.start();
        const auto tokens = tok->encode(text, false);
        QVERIFY2(timer.elapsed() < 5000, "encoding 200 kB took more than 5 s");
        QCOMPARE(tok->decode(idsOf(tokens)), text);
    }
}

void TestHfTokenizer::pythonTokenizers()
{
    // Optional: the reference implementation, when some Python has it. Nothing depends on it.
    QString python;
    for (const QString &candidate :
         {QStringLiteral("/usr/bin/python3"), QStandardPaths::findExecutable("python3")}) {
        if (candidate.isEmpty() || !QFile::exists(candidate)) continue;
        QProcess probe;
        probe.start(candidate, {"-c", "import tokenizers"});
        if (probe.waitForFinished(30000) && probe.exitStatus() == QProcess::NormalExit &&
            probe.exitCode() == 0) {
            python = candidate;
            break;
        }
    }
    if (python.isEmpty()) QSKIP("Python's tokenizers package is not importable; not compared");
    QTemporaryDir dir;
    const QStringList corpus = makeCorpus(300);
    json lines = json::array();
    for (const QString &l : corpus)
        lines.push_back(l.toStdString());
    writeJson(dir.filePath("lines.json"), lines);
    const std::vector<std::pair<QString, json>> kinds = {
        {"gpt2", gpt2Json()},
        {"llama3", llama3Json()},
        {"prepend", spPrependJson()},
        {"first", spMetaspaceJson("first", false)},
        {"always-split", spMetaspaceJson("always", true)}};
    for (const auto &k : kinds) {
        const QString path = dir.filePath(k.first + ".json");
        writeJson(path, k.second);
        QProcess py;
        py.start(python, {"-c",
                          "import json, sys\n"
                          "from tokenizers import Tokenizer\n"
                          "t = Tokenizer.from_file(sys.argv[1])\n"
                          "lines = json.load(open(sys.argv[2], encoding='utf-8'))\n"
                          "print(json.dumps([t.encode(l).ids for l in lines]))\n",
                          path, dir.filePath("lines.json")});
        QVERIFY(py.waitForFinished(120000));
        if (py.exitCode() != 0) {
            qWarning("tokenizers could not read %s: %s", qPrintable(k.first),
                     py.readAllStandardError().constData());
            continue;
        }
        const json want = json::parse(py.readAllStandardOutput().toStdString());
        const auto tok = fromJson(k.second);
        int same = 0;
        for (int i = 0; i < corpus.size(); ++i)
            if (idsOf(tok->encode(corpus[i].toStdString(), true)) ==
                want[size_t(i)].get<std::vector<int32_t>>())
                ++same;
        qInfo("%s: %d of %d lines encode as Python's tokenizers does", qPrintable(k.first), same,
              int(corpus.size()));
        QCOMPARE(same, int(corpus.size()));
    }
}

QTEST_GUILESS_MAIN(TestHfTokenizer)
#include "tst_hftokenizer.moc"
