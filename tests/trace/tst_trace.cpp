// The plain data types: arrays, names of sites, options and edits, relative depth, the names
// new traces get, and which token a text names.
#include "headlens/trace/error.h"
#include "headlens/trace/numbertext.h"
#include "headlens/trace/trace.h"

#include <QtTest>

#include <set>

using namespace HeadLens;

class TestTrace : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void numbersAreTheWholeText()
    {
        QCOMPARE(wholeNumberIn("0").value(), int64_t(0));
        QCOMPARE(wholeNumberIn("-17").value(), int64_t(-17));
        QCOMPARE(wholeNumberIn("9223372036854775807").value(), std::numeric_limits<int64_t>::max());
        QCOMPARE(wholeNumberIn("-9223372036854775808").value(),
                 std::numeric_limits<int64_t>::min());
        // What std::stoll would have taken in part, or read as something else.
        for (const char *bad : {"", " 5", "5 ", "+5", "5x", "0x10", "1e3", "2.0", "-",
                                "9223372036854775808", "18446744073709551615", "--1"})
            QVERIFY2(!wholeNumberIn(bad).has_value(), bad);
        const std::string withNul("12\0"
                                  "3",
                                  4);
        QVERIFY(!wholeNumberIn(withNul).has_value());
        QCOMPARE(wholeNumberIn(std::string_view("1234").substr(1, 2)).value(), int64_t(23));

        QCOMPARE(decimalNumberIn("0.5").value(), 0.5);
        QCOMPARE(decimalNumberIn("-2").value(), -2.0);
        QCOMPARE(decimalNumberIn("3e-4").value(), 3e-4);
        for (const char *bad :
             {"", " 1", "1 ", "+1", "1.5x", "inf", "-inf", "nan", "0x1p3", "1e999", "."})
            QVERIFY2(!decimalNumberIn(bad).has_value(), bad);
    }
    void arrayIndexing()
    {
        FloatArray a({2, 3, 4});
        QCOMPARE(a.size(), size_t(24));
        a.at({1, 2, 3}) = 5.f;
        QCOMPARE(a.data[23], 5.f);
        QCOMPARE(a.offset({1, 0, 2}), int64_t(14));
        QCOMPARE(a.strides(), (std::vector<int64_t>{12, 4, 1}));
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, a.at({2, 0, 0}));
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, a.at({0, 0}));
        QCOMPARE(shapeString(a.shape), std::string("[2, 3, 4]"));
    }
    void namesRoundTrip()
    {
        for (Site s : allSites())
            QCOMPARE(siteFromName(siteName(s)).value(), s);
        QVERIFY(!siteFromName("resid").has_value());
        QCOMPARE(lensNormFromName("unit").value(), LensNorm::Unit);
        QCOMPARE(lensDecoderFromName("quadratic").value(), LensDecoder::Quadratic);
        QCOMPARE(storeTypeFromName("f16").value(), StoreType::F16);
        QVERIFY(!storeTypeFromName("f64").has_value());
        for (EditKind k : {EditKind::Unchanged, EditKind::Subtract, EditKind::Inject})
            QCOMPARE(editKindFromName(editKindName(k)).value(), k);
        QCOMPARE(std::string(editKindName(EditKind::Subtract)), std::string("subtract"));
        QVERIFY(!editKindFromName("replace").has_value());
    }
    void freeNames()
    {
        std::set<std::string> names;
        auto taken = [&](const std::string &n) { return names.count(n) > 0; };
        QCOMPARE(freeTraceName("p-inject", taken), std::string("p-inject"));
        names = {"p-inject", "p-inject-2", "p-inject-4"};
        QCOMPARE(freeTraceName("p-inject", taken), std::string("p-inject-3"));
        QCOMPARE(freeTraceName("other", taken), std::string("other"));
    }
    void tokenOfText()
    {
        // Pieces store a space as U+2581; the readable form shows it as a space.
        const std::string marker = "\xe2\x96\x81";
        const std::vector<std::string> pieces = {"<s>", marker + "a", "a", "b", marker + "b"};
        TokenVocabulary v;
        v.size = int(pieces.size());
        v.piece = [&](int32_t id) { return pieces[size_t(id)]; };
        v.readable = [&](int32_t id) {
            const std::string &p = pieces[size_t(id)];
            return p.rfind(marker, 0) == 0 ? " " + p.substr(marker.size()) : p;
        };
        v.encode = [](const std::string &text) { // one token a character, "ab" -> a b
            std::vector<int32_t> ids;
            for (char c : text)
                ids.push_back(c == 'a' ? 2 : c == 'b' ? 3 : 0);
            return ids;
        };
        QCOMPARE(tokenIdOfText("a", v), 2);          // a piece
        QCOMPARE(tokenIdOfText(marker + "b", v), 4); // a piece with its marker
        QCOMPARE(tokenIdOfText(" b", v), 4);         // a readable form
        QCOMPARE(tokenIdOfText("<s>", v), 0);        // before what it encodes to
        QCOMPARE(tokenIdOfText("x", v), 0);          // what it encodes to
        try {
            tokenIdOfText("ab", v);
            QFAIL("two tokens were taken for one");
        } catch (const InputError &e) {
            QVERIFY2(std::string(e.what()).find("\"ab\" is not one token") != std::string::npos,
                     e.what());
            QVERIFY2(std::string(e.what()).find("it is 2") != std::string::npos, e.what());
        }
    }
    void depths()
    {
        QCOMPARE(siteDepth(Site::ResidPre, 0, 4), 0.0);
        QCOMPARE(siteDepth(Site::AttnOut, 1, 4), 0.375);
        QCOMPARE(siteDepth(Site::ResidPost, 3, 4), 1.0);
    }
    void isoTime()
    {
        const std::string s = isoNowUtc();
        QCOMPARE(s.size(), size_t(20));
        QCOMPARE(s.back(), 'Z');
    }
};

QTEST_APPLESS_MAIN(TestTrace)
#include "tst_trace.moc"
