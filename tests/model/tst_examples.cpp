// The shipped example models of resources/examples (trained by `headlens-cli train-example`):
// they load with Model::load, answer fresh held-out cases as accurately as the README says,
// and the README walkthrough's statements (the layer where the carry digit is decided, the
// heads that contribute most there, the layer where a fact is recalled) hold. The expected
// values live in resources/examples/walkthrough.json; the README's sentences are built from
// the same file, and this test checks both.

#include "headlens/analysis/decision.h"
#include "headlens/model/model.h"
#include "headlens/model/patching.h"
#include "headlens/model/tokenizer.h"
#include "headlens/model/trainer.h"
#include "headlens/trace/error.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

using namespace HeadLens;

namespace {

const std::string kExamples = std::string(HEADLENS_SOURCE_DIR) + "/resources/examples";

// Seeds the trainer never used: training draws with the recipes' seeds and scores itself with
// 0xADD5EED / 0xFAC75EED; these cases are fresh.
constexpr uint64_t kFreshAdderSeed = 20261128;
constexpr uint64_t kFreshFactsSeed = 777;

QJsonObject readJson(const std::string &path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

std::string readText(const std::string &path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll().toStdString();
}

std::vector<int32_t> idsOf(const std::vector<TokenInfo> &toks)
{
    std::vector<int32_t> ids;
    for (const TokenInfo &t : toks)
        ids.push_back(t.id);
    return ids;
}

std::string str(const QJsonObject &o, const char *key)
{
    return o.value(key).toString().toStdString();
}

std::string num(const QJsonObject &o, const char *key)
{
    return std::to_string(o.value(key).toInt(-1));
}

std::string pct(const QJsonObject &o, const char *key)
{
    return std::to_string(int(std::lround(100 * o.value(key).toDouble()))) + "%";
}

std::vector<std::string> strings(const QJsonObject &o, const char *key)
{
    std::vector<std::string> v;
    for (const QJsonValue &x : o.value(key).toArray())
        v.push_back(x.toString().toStdString());
    return v;
}

std::string headName(int layer, int head)
{
    return "L" + std::to_string(layer) + "H" + std::to_string(head);
}

// Heads ordered by contrib_norm at position pos, largest first (of one layer, or all).
std::vector<std::string> headsByContribution(const Trace &t, int pos, int count, int layer = -1)
{
    const FloatArray &c = t.contribNorm; // [layer, head, pos]
    std::vector<std::pair<float, std::string>> all;
    for (int64_t l = 0; l < c.dim(0); ++l)
        if (layer < 0 || l == layer)
            for (int64_t h = 0; h < c.dim(1); ++h)
                all.emplace_back(c.at({l, h, pos}), headName(int(l), int(h)));
    std::sort(all.begin(), all.end(),
              [](const auto &a, const auto &b) { return a.first > b.first; });
    std::vector<std::string> out;
    for (int i = 0; i < count && i < int(all.size()); ++i)
        out.push_back(all[size_t(i)].second);
    return out;
}

std::string joined(const std::vector<std::string> &v)
{
    std::string s;
    for (const std::string &x : v)
        s += (s.empty() ? "" : ", ") + x;
    return s;
}

Trace traceText(Model &m, const std::string &text)
{
    TraceOptions o;
    o.attention = StoreType::None;
    o.residuals = StoreType::None;
    return traceTokens(m, m.tokenize(text, true), text, o);
}

} // namespace

class TestExamples : public QObject {
    Q_OBJECT

    std::unique_ptr<Model> m_adder, m_facts;
    QJsonObject m_walk;

private Q_SLOTS:
    void initTestCase()
    {
        // One thread: these models' operations are too small to share, and on a busy machine a
        // second thread only waits.
        LoadOptions lo;
        lo.threads = 1;
        m_adder = Model::load(kExamples + "/adder", lo);
        m_facts = Model::load(kExamples + "/facts", lo);
        m_walk = readJson(kExamples + "/walkthrough.json");
        QVERIFY2(!m_walk.isEmpty(), "resources/examples/walkthrough.json is missing or not JSON");
    }

    void adderIsSmallLlama()
    {
        const ModelConfig &c = m_adder->config();
        QCOMPARE(c.architecture, std::string("llama"));
        QVERIFY(c.nLayers >= 2 && c.nLayers <= 4);
        QVERIFY(c.nHeads >= 2);
        // tokenizer.json: <s>, then one token per character; and back.
        const std::vector<TokenInfo> toks = m_adder->tokenize("123+489=", true);
        QCOMPARE(int(toks.size()), 1 + 8);
        QCOMPARE(toks[1].text, std::string("1"));
        QCOMPARE(toks[8].text, std::string("="));
        QCOMPARE(m_adder->decode(idsOf(toks)), std::string("123+489="));
    }

    // One token per word of the facts corpus, and text -> ids -> text gives the text back.
    void factsTokenizer()
    {
        const std::string text =
            "The capital of Veloria is Drumm. The people of Kestova like music.";
        const std::vector<TokenInfo> toks = m_facts->tokenize(text, true);
        QCOMPARE(int(toks.size()), 1 + 12 + 2); // <s>, twelve words, two full stops
        QCOMPARE(toks[6].text, std::string(" Drumm"));
        QCOMPARE(m_facts->decode(idsOf(toks)), text);
    }

    // >= 99% exact answers on fresh held-out sums, with and without carries.
    void adderHeldOutAccuracy()
    {
        const auto cases = Examples::adderCases(kFreshAdderSeed, 1000, true);
        std::map<int, std::pair<int, int>> byCarries; // carries -> (right, total)
        int right = 0;
        for (const auto &[a, b] : cases) {
            QVERIFY(Examples::adderHeldOut(a, b));
            const std::vector<int32_t> p =
                idsOf(m_adder->tokenize(Examples::adderPrompt(a, b), true));
            const std::string got =
                m_adder->decode(m_adder->generate(p, Examples::kAdderDigits + 1));
            const bool ok = got == Examples::adderAnswer(a, b);
            right += ok;
            auto &bucket = byCarries[Examples::adderCarryCount(a, b)];
            bucket.first += ok;
            bucket.second += 1;
        }
        for (const auto &[carries, rt] : byCarries)
            qInfo("sums with %d carries: %d/%d right", carries, rt.first, rt.second);
        qInfo("held-out sums answered exactly: %d/%d", right, int(cases.size()));
        QVERIFY(byCarries[0].second > 0 && byCarries[1].second > 0 && byCarries[2].second > 0);
        QVERIFY2(right >= 990,
                 qPrintable(QString("only %1 of 1000 held-out sums right").arg(right)));
    }

    // Training never saw a held-out pair; the split holds out about one pair in twenty.
    void adderSplit()
    {
        int held = 0;
        for (int a = 0; a < 1000; a += 7)
            for (int b = 0; b < 1000; b += 3)
                held += Examples::adderHeldOut(a, b);
        const double share = double(held) / (143.0 * 334.0);
        QVERIFY2(share > 0.04 && share < 0.06, qPrintable(QString::number(share)));
        for (const auto &[a, b] : Examples::adderCases(5, 200, false))
            QVERIFY(!Examples::adderHeldOut(a, b));
    }

    // Facts recalled greedily from the bare question and after fresh filler sentences. The
    // thresholds are README's: the model was trained until it knew every fact; 90% leaves
    // room for a few facts whose recall a new context disturbs.
    void factsRecall()
    {
        const QJsonObject f = m_walk.value("facts").toObject();
        const double minBare = f.value("min_recall_bare").toDouble();
        const double minFiller = f.value("min_recall_after_filler").toDouble();
        QVERIFY(minBare >= 0.9 && minFiller >= 0.9);
        const Examples::Score bare = Examples::scoreFacts(*m_facts, kFreshFactsSeed, 0);
        const Examples::Score filler = Examples::scoreFacts(*m_facts, kFreshFactsSeed, 2);
        qInfo("facts recalled: %d/%d bare, %d/%d after two fresh filler sentences", bare.correct,
              bare.cases, filler.correct, filler.cases);
        QCOMPARE(bare.cases, int(Examples::facts().size()));
        QVERIFY(bare.accuracy() >= minBare);
        QVERIFY(filler.accuracy() >= minFiller);
    }

    // train-example's machinery at small scale: the folder it writes loads, says what the
    // recipe says, and the same seed gives the same bytes.
    void trainerWritesReproducibleFolder()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        auto train = [&](const std::string &dir) {
            TrainOptions o;
            o.name = "adder";
            o.outDir = tmp.path().toStdString() + "/" + dir;
            o.seed = 7;
            o.steps = 20;
            o.threads = 1;
            return trainExample(o);
        };
        const TrainReport r = train("a");
        QCOMPARE(r.steps, 20);
        QCOMPARE(r.heldOut.cases, 2000);
        LoadOptions lo;
        lo.threads = 1;
        const std::unique_ptr<Model> m = Model::load(r.outDir, lo);
        const Examples::Recipe recipe = Examples::recipe("adder");
        QCOMPARE(m->config().nLayers, recipe.config.nLayers);
        QCOMPARE(m->config().dModel, recipe.config.dModel);
        QCOMPARE(m->config().vocabSize, 15);
        QCOMPARE(m->config().eosId, 2);
        QCOMPARE(m->decode(idsOf(m->tokenize("12+34=", true))), std::string("12+34="));
        train("b");
        const std::string a = readText(r.outDir + "/model.safetensors");
        QVERIFY(a.size() > 1000);
        QVERIFY(a == readText(tmp.path().toStdString() + "/b/model.safetensors"));
        // A folder holding another model's tokenizer is refused before anything is trained.
        QFile other(tmp.path() + "/a/tokenizer.model");
        QVERIFY(other.open(QIODevice::WriteOnly));
        other.close();
        QVERIFY_THROWS_EXCEPTION(InputError, train("a"));
    }

    // README: where the carry digit is decided and which heads contribute there.
    void walkthroughCarry()
    {
        const QJsonObject w = m_walk.value("adder").toObject();
        const int pos = w.value("position").toInt(-1);
        const int layer = w.value("carry_layer").toInt(-1);
        const Trace t = traceText(*m_adder, str(w, "prompt") + str(w, "answer"));
        QVERIFY(pos >= 0 && pos < t.nTokens());
        QCOMPARE(t.tokens[size_t(pos)].text, std::string("="));
        // The model's own prediction at '=' is the carry digit...
        QCOMPARE(t.idText(t.logitsTopkIds.at({pos, 0})), str(w, "carry_token"));
        // ...which the lens of resid_post shows from the README's layer on, and not before:
        // the layers below read the other digit.
        QCOMPARE(decisionDepth(t)[size_t(pos)], layer);
        const LensSite &post = t.lens[size_t(Site::ResidPost)];
        for (int l = 0; l < layer; ++l)
            QCOMPARE(t.idText(post.topkIds.at({l, pos, 0})), str(w, "early_token"));
        // The heads (contrib_norm) that write most there: in the deciding layer, and overall.
        QCOMPARE(headsByContribution(t, pos, 1, layer).front(), str(w, "top_head_in_carry_layer"));
        const std::vector<std::string> want = strings(w, "top_heads");
        QCOMPARE(joined(headsByContribution(t, pos, int(want.size()))), joined(want));
        // The sum with a carry.
        const Trace c =
            traceText(*m_adder, str(w, "carry_example") + str(w, "carry_example_answer"));
        QCOMPARE(c.idText(c.logitsTopkIds.at({pos, 0})), std::string("1"));
        QCOMPARE(decisionDepth(c)[size_t(pos)], w.value("carry_example_layer").toInt(-1));
    }

    // README: over held-out sums whose hundreds add up to 9 (so the carry depends on the lower
    // columns), a carry is decided at once, and "no carry" the later the more columns it takes.
    void walkthroughCarryOverSums()
    {
        const QJsonObject w = m_walk.value("adder").toObject();
        const int pos = w.value("position").toInt(-1);
        const int n = w.value("sums_per_group").toInt(-1);
        const double share = w.value("share").toDouble();
        const int carryLayer = w.value("carries_decided_in_layer").toInt(-1);
        const int tensLayer = w.value("tens_decide_by_layer").toInt(-1);
        const double onesBelow = w.value("ones_decide_share_below").toDouble();
        QVERIFY(n > 0 && share > 0.5 && onesBelow > 0);
        // Groups: 0 carries, 1 no carry and tens <= 8, 2 no carry and tens == 9.
        int seen[3] = {0, 0, 0}, hit[3] = {0, 0, 0}, layer0One = 0;
        for (const auto &[a, b] :
             Examples::adderCases(uint64_t(w.value("sums_seed").toInt()), 100000, true)) {
            if (a / 100 + b / 100 != 9) continue;
            const int tens = a / 10 % 10 + b / 10 % 10;
            const int g = Examples::adderCarryOut(a, b) ? 0 : tens <= 8 ? 1 : tens == 9 ? 2 : -1;
            if (g < 0 || seen[g] >= n) continue;
            const Trace t =
                traceText(*m_adder, Examples::adderPrompt(a, b) + Examples::adderAnswer(a, b));
            const int d = decisionDepth(t)[size_t(pos)];
            ++seen[g];
            hit[g] += g == 0 ? d == carryLayer : d <= tensLayer;
            if (g > 0)
                layer0One += t.idText(t.lens[size_t(Site::ResidPost)].topkIds.at({0, pos, 0})) ==
                             str(w, "early_token");
            if (seen[0] == n && seen[1] == n && seen[2] == n) break;
        }
        qInfo("carries decided in layer %d: %d/%d; no carry decided by layer %d: %d/%d when "
              "the tens rule it out, %d/%d when the ones must; layer 0 reads a carry in %d/%d",
              carryLayer, hit[0], seen[0], tensLayer, hit[1], seen[1], hit[2], seen[2], layer0One,
              2 * n);
        QCOMPARE(seen[0], n);
        QCOMPARE(seen[1], n);
        QCOMPARE(seen[2], n);
        QVERIFY(hit[0] > share * n);
        QVERIFY(hit[1] > share * n);
        QVERIFY(hit[2] < onesBelow * n);
        QCOMPARE(layer0One, 2 * n);
    }

    // README: the layer from which the fact's answer is the lens top-1 at the question's end,
    // and the head that writes it, reading the country's token.
    void walkthroughFact()
    {
        const QJsonObject w = m_walk.value("facts").toObject();
        const std::string prompt = str(w, "prompt");
        TraceOptions o;
        o.attention = StoreType::F32;
        o.residuals = StoreType::None;
        const Trace t = traceTokens(*m_facts, m_facts->tokenize(prompt, true), prompt, o);
        const int pos = t.nTokens() - 1;
        const int layer = w.value("recall_layer").toInt(-1);
        QCOMPARE(t.idText(t.logitsTopkIds.at({pos, 0})), str(w, "answer_token"));
        QCOMPARE(decisionDepth(t)[size_t(pos)], layer);
        for (int l = 0; l < layer; ++l)
            QCOMPARE(t.idText(t.lens[size_t(Site::ResidPost)].topkIds.at({l, pos, 0})),
                     str(w, "early_token"));
        const std::string head = str(w, "recall_head");
        QCOMPARE(headsByContribution(t, pos, 1).front(), head);
        // Where that head looks from the last position: the country's token, almost only.
        const int h = std::stoi(head.substr(head.find('H') + 1));
        const int hl = std::stoi(head.substr(1, head.find('H') - 1));
        int argmax = 0;
        for (int k = 0; k < t.nTokens(); ++k)
            if (t.attentionPattern.at({hl, h, pos, k}) >
                t.attentionPattern.at({hl, h, pos, argmax}))
                argmax = k;
        QCOMPARE(t.tokens[size_t(argmax)].text, str(w, "recall_head_attends_to"));
        QVERIFY(t.attentionPattern.at({hl, h, pos, argmax}) > 0.9f);
        // Every capital question is answered in that same layer.
        int capitals = 0, atLayer = 0;
        for (const Examples::Fact &f : Examples::facts()) {
            if (f.relation != "capital") continue;
            const Trace q = traceText(*m_facts, f.prompt);
            ++capitals;
            atLayer += decisionDepth(q)[size_t(q.nTokens() - 1)] == layer;
        }
        QCOMPARE(atLayer, capitals);
    }

    // README: activation patching of the question into another country's finds the same layer
    // and head: the clean run's output of the recall head at the last position restores the
    // answer, and below the recall layer the fact is still at the country's token.
    void walkthroughPatching()
    {
        const QJsonObject w = m_walk.value("facts").toObject();
        const std::vector<int32_t> clean = idsOf(m_facts->tokenize(str(w, "prompt"), true));
        const std::vector<int32_t> corrupted =
            idsOf(m_facts->tokenize(str(w, "patching_corrupted"), true));
        QCOMPARE(corrupted.size(), clean.size());
        auto top1 = [&](const std::vector<int32_t> &ids) {
            const FloatArray lg = m_facts->logits(ids);
            const int64_t V = lg.dim(1), last = lg.dim(0) - 1;
            return int32_t(std::max_element(lg.data.begin() + last * V, lg.data.end()) -
                           (lg.data.begin() + last * V));
        };
        PatchOptions o;
        o.answer = top1(clean);
        o.wrong = top1(corrupted);
        o.heads = true;
        const PatchMap m = m_facts->patch(clean, corrupted, o);
        QCOMPARE(m.answerText, str(w, "answer_token"));
        QCOMPARE(m.wrongText, str(w, "patching_wrong_token"));
        const int last = m.nPos - 1, layer = w.value("recall_layer").toInt(-1);
        const float least = float(w.value("patching_min_recovered").toDouble());
        // The head: the largest of every head's z at every position.
        int bl = -1, bh = -1, bt = -1;
        for (int l = 0; l < m.nLayers; ++l)
            for (int h = 0; h < m.nHeads; ++h)
                for (int t = 0; t < m.nPos; ++t)
                    if (bl < 0 || m.head(l, h, t) > m.head(bl, bh, bt)) bl = l, bh = h, bt = t;
        QCOMPARE(headName(bl, bh), str(w, "recall_head"));
        QCOMPARE(bt, last);
        QVERIFY(m.head(bl, bh, bt) > least);
        // The layer: the largest attention output of every layer and position.
        int al = -1, at = -1;
        for (int l = 0; l < m.nLayers; ++l)
            for (int t = 0; t < m.nPos; ++t)
                if (al < 0 || m.site(Site::AttnOut, l, t) > m.site(Site::AttnOut, al, at))
                    al = l, at = t;
        QCOMPARE(al, layer);
        QCOMPARE(at, last);
        // Below it, the country's resid_post carries the answer and the last position's not yet.
        int country = -1;
        for (int t = 0; t < m.nPos; ++t)
            if (m_facts->tokensFromIds({clean[size_t(t)]}).front().text ==
                str(w, "recall_head_attends_to"))
                country = t;
        QVERIFY(country >= 0);
        const float most = float(w.value("patching_max_recovered_before_recall").toDouble());
        for (int l = 0; l < layer; ++l) {
            QVERIFY(m.site(Site::ResidPost, l, country) > least);
            QVERIFY(m.site(Site::ResidPost, l, last) < most);
        }
        QVERIFY(std::abs(m.site(Site::ResidPost, layer, last) - 1.0f) < 1e-4f);
    }

    // Every walkthrough statement of README.md is there, word for word as made from
    // walkthrough.json.
    void readmeSaysWhatWalkthroughSays()
    {
        const std::string readme = readText(kExamples + "/README.md");
        QVERIFY(!readme.empty());
        const QJsonObject a = m_walk.value("adder").toObject(),
                          f = m_walk.value("facts").toObject();
        const std::string n = std::to_string(a.value("sums_per_group").toInt());
        const std::string share = pct(a, "share");
        const std::vector<std::string> sentences = {
            "On `" + str(a, "prompt") + "` the carry digit `" + str(a, "carry_token") +
                "` is the lens top-1 of `resid_post` at the `=` position only from layer " +
                num(a, "carry_layer") + " on; the layers below read `" + str(a, "early_token") +
                "`.",
            "In layer " + num(a, "carry_layer") + " the head that writes most at `=` is " +
                str(a, "top_head_in_carry_layer") + ".",
            "The largest head outputs at `=` are those of " + joined(strings(a, "top_heads")) + ".",
            "On `" + str(a, "carry_example") +
                "` the carry digit `1` is the lens top-1 from layer " +
                num(a, "carry_example_layer") + " on.",
            "Of " + n + " held-out sums whose hundreds add up to 9 and that carry, more than " +
                share + " have the carry digit decided in layer " +
                num(a, "carries_decided_in_layer") + ".",
            "Of " + n + " that do not carry and whose tens add up to 8 or less, more than " +
                share + " have the `0` decided by layer " + num(a, "tens_decide_by_layer") + ".",
            "Of " + n + " that do not carry and whose tens add up to 9, fewer than " +
                pct(a, "ones_decide_share_below") + " have the `0` decided by layer " +
                num(a, "tens_decide_by_layer") + ".",
            "In all " + std::to_string(2 * a.value("sums_per_group").toInt()) +
                " sums that do not carry, layer 0 reads `" + str(a, "early_token") + "`.",
            "On `" + str(f, "prompt") + "` the answer `" + str(f, "answer_token") +
                "` becomes the lens top-1 only in layer " + num(f, "recall_layer") + ".",
            "Before that the lens reads `" + str(f, "early_token") + "`",
            "The head that writes most there is " + str(f, "recall_head") +
                ", and it attends to `" + str(f, "recall_head_attends_to") + "`.",
            "Every one of the 48 capital questions is decided in layer " + num(f, "recall_layer") +
                ".",
            "Patching `" + str(f, "prompt") + "` into `" + str(f, "patching_corrupted") +
                "` finds the same place: of every head's output at every position, that of " +
                str(f, "recall_head") +
                " at the last position restores the most of the logit difference between `" +
                str(f, "answer_token") + "` and `" + str(f, "patching_wrong_token") +
                "`, more than " + pct(f, "patching_min_recovered") + " of it.",
            "Of every block's attention output, that of layer " + num(f, "recall_layer") +
                " at the last position restores the most.",
            "In every layer below layer " + num(f, "recall_layer") +
                ", patching `resid_post` at `" + str(f, "recall_head_attends_to") +
                "` restores more than " + pct(f, "patching_min_recovered") +
                ", and patching it at the last position restores less than " +
                pct(f, "patching_max_recovered_before_recall") + ".",
            "at least " + pct(f, "min_recall_bare") + " of the facts from the bare question and " +
                pct(f, "min_recall_after_filler") + " after two filler sentences",
        };
        for (const std::string &s : sentences)
            QVERIFY2(readme.find(s) != std::string::npos, ("README.md lacks: " + s).c_str());
    }
};

QTEST_GUILESS_MAIN(TestExamples)
#include "tst_examples.moc"
