// serve's reading of its input (serverequest.h), without a model: how a line is sorted, and
// that a request's fields are read, or refused as the protocol's usage and input errors, before
// anything runs; and the command line's option readers (args.h), which both share. What serve
// answers end to end is python_servefuzz's and tst_requests'.

#include "args.h"
#include "serverequest.h"

#include "headlens/trace/error.h"

#include <QtTest>

using namespace HeadLens;
using namespace HeadLens::Cli;
using json = nlohmann::json;

class TestServeRequest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void linesAreSorted()
    {
        QCOMPARE(readServeLine(" \t\r").kind, ServeLine::Kind::Blank);
        for (const char *bad : {"{", "null", "[1]", "{\"id\":4}", "{\"id\":4,\"cmd\":5}",
                                "{\"cmd\":null}", "{\"cmd\":[\"trace\"]}"}) {
            const ServeLine l = readServeLine(bad);
            QVERIFY2(l.kind == ServeLine::Kind::NotRequest, bad);
            QVERIFY(l.error.find("not a request") != std::string::npos);
        }
        QCOMPARE(readServeLine("{\"id\":4,\"cmd\":5}").id, json(4));
        // A long line is quoted in part only.
        const ServeLine longLine = readServeLine("{\"x\":\"" + std::string(100000, 'a') + "\"}");
        QCOMPARE(longLine.kind, ServeLine::Kind::NotRequest);
        QVERIFY(longLine.error.size() < 300);
        QCOMPARE(readServeLine("{\"cmd\":\"cancel\",\"target\":3}").kind, ServeLine::Kind::Cancel);
        QCOMPARE(readServeLine("{\"cmd\":\"shutdown\"}").kind, ServeLine::Kind::Shutdown);
        const ServeLine t = readServeLine(R"({"id":"a","cmd":"trace","output":"p.hlproj"})");
        QCOMPARE(t.kind, ServeLine::Kind::Request);
        QCOMPARE(t.id, json("a"));
        QCOMPARE(t.request.at("output"), json("p.hlproj"));
    }

    void fieldsAreReadBeforeAnythingRuns()
    {
        const ServeRequest t = serveRequest(
            {{"cmd", "trace"}, {"output", "p.hlproj"}, {"token_ids", {1, 2, 3}}, {"topk", 4}});
        const auto &tr = std::get<TraceRequest>(t.fields);
        QCOMPARE(tr.output, std::string("p.hlproj"));
        QVERIFY(tr.prompt.byIds);
        QCOMPARE(tr.prompt.ids.size(), size_t(3));
        QCOMPARE(tr.options.lens.topk, 4);
        // estimate reads the same fields as trace.
        QVERIFY(std::holds_alternative<TraceRequest>(
            serveRequest({{"cmd", "estimate"}, {"output", "p"}, {"prompt", "x"}}).fields));
        const ServeRequest g = serveRequest({{"cmd", "generate"}, {"prompt", "Once"}, {"n", 5}});
        QCOMPARE(std::get<GenerateRequest>(g.fields).n, 5);
        QCOMPARE(std::get<GenerateRequest>(g.fields).prompt.text, std::string("Once"));
        const ServeRequest k = serveRequest({{"cmd", "tokenize"}, {"text", "a b"}, {"bos", false}});
        QVERIFY(!std::get<TokenizeRequest>(k.fields).bos);
        QVERIFY(std::holds_alternative<std::monostate>(serveRequest({{"cmd", "unload"}}).fields));
    }

    void commandLineOptionsAreRead()
    {
        const Args a = parseArgs({"--site", "attn_out", "--threshold=0.25", "--layer", "3", "x"},
                                 {"--site", "--threshold", "--layer", "--pos", "--bad"}, {});
        QCOMPARE(a.requiredSite("--site"), Site::AttnOut);
        QVERIFY(!a.siteValue("--pos"));
        QCOMPARE(a.decimalValue("--threshold", 0.9, -1, 1), 0.25);
        QCOMPARE(a.decimalValue("--pos", 0.9, -1, 1), 0.9);
        QCOMPARE(a.requiredInt("--layer", 0, 10), 3);
        auto usage = [](const std::vector<std::string> &argv, const char *expected,
                        const std::function<void(const Args &)> &read) {
            const Args b =
                parseArgs(argv, {"--site", "--threshold", "--layer", "--pos", "--bad"}, {});
            try {
                read(b);
            } catch (const UsageError &e) {
                QVERIFY2(std::string(e.what()).find(expected) != std::string::npos, e.what());
                return;
            }
            QFAIL(expected);
        };
        usage({"--site", "resid"}, "--site must be one of resid_pre|",
              [](const Args &b) { b.siteValue("--site"); });
        usage({}, "give --site resid_pre|", [](const Args &b) { b.requiredSite("--site"); });
        usage({}, "give --layer", [](const Args &b) { b.requiredInt("--layer", 0, 10); });
        usage({"--layer", "11"}, "between 0 and 10",
              [](const Args &b) { b.requiredInt("--layer", 0, 10); });
        usage({"--threshold", "1.5"}, "must be between -1.00 and 1.00, not 1.5",
              [](const Args &b) { b.decimalValue("--threshold", 0, -1, 1); });
        usage({"--threshold", " 0.5"}, "needs a number, not ' 0.5'",
              [](const Args &b) { b.decimalValue("--threshold", 0, -1, 1); });
        usage({"--threshold", "nan"}, "needs a number",
              [](const Args &b) { b.decimalValue("--threshold", 0, -1, 1); });
    }

    void badFieldsAreUsageOrInputErrors()
    {
        QVERIFY_THROWS_EXCEPTION(UsageError, serveRequest({{"cmd", "frobnicate"}}));
        QVERIFY_THROWS_EXCEPTION(UsageError,
                                 serveRequest({{"cmd", "generate"}, {"prompt", "a"}, {"n", -3}}));
        QVERIFY_THROWS_EXCEPTION(
            UsageError, serveRequest({{"cmd", "generate"}, {"prompt", "a"}, {"n", 1e300}}));
        // An unsigned number past int64 is not read as a negative one (it was taken as -1).
        const json huge = json::parse("18446744073709551615");
        QVERIFY_THROWS_EXCEPTION(
            UsageError,
            serveRequest(
                {{"cmd", "decompose"}, {"token_ids", {1, 2}}, {"layer", huge}, {"pos", 0}}));
        QVERIFY_THROWS_EXCEPTION(UsageError,
                                 serveRequest({{"cmd", "generate"}, {"token_ids", {1, huge}}}));
        QVERIFY_THROWS_EXCEPTION(json::exception, serveRequest({{"cmd", "load"}}));
        QVERIFY_THROWS_EXCEPTION(json::exception, serveRequest({{"cmd", "tokenize"}, {"text", 5}}));
        // A tuned lens that is not there is an input error naming it, read with the request.
        QVERIFY_THROWS_EXCEPTION(InputError,
                                 serveRequest({{"cmd", "trace"},
                                               {"output", "p"},
                                               {"prompt", "x"},
                                               {"lens_decoder", "tuned"},
                                               {"lens", "/nonexistent/lens.safetensors"}}));
    }
};

QTEST_GUILESS_MAIN(TestServeRequest)
#include "tst_serverequest.moc"
