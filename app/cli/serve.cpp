// headlens-cli serve: the engine the workbench drives (app/cli/PROTOCOL.md). A reader thread
// takes lines from stdin so that cancel and shutdown act while a request runs; requests run
// one at a time on the main thread.

#include "args.h"

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/trace/tracecost.h"
#include "headlens/trace/version.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

namespace HeadLens::Cli {

namespace {

using json = nlohmann::json;
constexpr int kProtocolVersion = 1;

class Server {
public:
    int run(const std::string &initialModel)
    {
        send({{"event", "hello"},
              {"protocol", kProtocolVersion},
              {"version", HEADLENS_VERSION},
              {"threads", setEngineThreads(0)}});
        if (!initialModel.empty()) {
            json req = {{"id", 0}, {"cmd", "load"}, {"model", initialModel}};
            handle(req);
        }
        std::thread reader([this] { readLoop(); });
        for (;;) {
            json req;
            {
                std::unique_lock<std::mutex> lock(m_mutex);
                m_cv.wait(lock, [this] { return !m_queue.empty() || m_eof; });
                if (m_queue.empty())
                    break;
                req = std::move(m_queue.front());
                m_queue.pop_front();
                m_running = req.value("id", json(nullptr));
                m_cancel = false;
            }
            handle(req);
            std::lock_guard<std::mutex> lock(m_mutex);
            m_running = nullptr;
        }
        reader.join();
        return 0;
    }

private:
    void send(const json &j)
    {
        std::lock_guard<std::mutex> lock(m_outMutex);
        std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
        std::cout.flush();
    }

    void readLoop()
    {
        std::string line;
        while (std::getline(std::cin, line)) {
            if (line.find_first_not_of(" \t\r") == std::string::npos)
                continue;
            json req = json::parse(line, nullptr, false);
            if (req.is_discarded() || !req.is_object() || !req.contains("cmd") ||
                !req["cmd"].is_string()) {
                const json id = req.is_object() ? req.value("id", json(nullptr)) : json(nullptr);
                send({{"id", id},
                      {"ok", false},
                      {"kind", "usage"},
                      {"error",
                       "not a request (an object with a string \"cmd\"): " + line.substr(0, 200)}});
                continue;
            }
            const std::string cmd = req.value("cmd", "");
            std::lock_guard<std::mutex> lock(m_mutex);
            if (cmd == "cancel") {
                const json target = req.value("target", m_running);
                if (!target.is_null() && target == m_running)
                    m_cancel = true;
                else // not started yet: drop it from the queue with a cancelled answer
                    for (auto it = m_queue.begin(); it != m_queue.end(); ++it)
                        if (it->value("id", json(nullptr)) == target) {
                            send({{"id", target}, {"ok", false}, {"kind", "cancelled"},
                                  {"error", "cancelled"}});
                            m_queue.erase(it);
                            break;
                        }
                continue;
            }
            if (cmd == "shutdown") {
                m_cancel = true;
                for (const json &q : m_queue)
                    send({{"id", q.value("id", json(nullptr))}, {"ok", false}, {"kind", "cancelled"},
                          {"error", "cancelled: the engine is shutting down"}});
                m_queue.clear();
                m_queue.push_back(req);
                m_eof = true;
                m_cv.notify_all();
                return;
            }
            m_queue.push_back(std::move(req));
            m_cv.notify_all();
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_cancel = true;
        m_eof = true;
        m_cv.notify_all();
    }

    void progress(const json &id, const std::string &stage, int done, int total)
    {
        send({{"event", "progress"}, {"id", id}, {"stage", stage}, {"done", done}, {"total", total}});
    }

    Model &model()
    {
        if (!m_model)
            throw InputError("no model is loaded (send a load request first)");
        return *m_model;
    }

    std::vector<TokenInfo> promptTokens(const json &req, std::string &promptText)
    {
        if (req.contains("token_ids")) {
            std::vector<int32_t> ids = req.at("token_ids").get<std::vector<int32_t>>();
            model().checkIds(ids);
            return model().tokensFromIds(ids);
        }
        if (!req.contains("prompt"))
            throw UsageError("give prompt or token_ids");
        promptText = req.at("prompt").get<std::string>();
        return model().tokenize(promptText, true);
    }

    json modelJson() const
    {
        const ModelConfig &c = m_model->config();
        return {{"name", m_model->name()},
                {"path", m_model->path()},
                {"format", m_model->format()},
                {"fingerprint", m_model->fingerprint()},
                {"has_tokenizer", m_model->tokenizer() != nullptr},
                {"config",
                 {{"architecture", c.architecture},
                  {"n_layers", c.nLayers},
                  {"n_heads", c.nHeads},
                  {"n_kv_heads", c.nKvHeads},
                  {"d_model", c.dModel},
                  {"vocab_size", c.vocabSize},
                  {"max_seq_len", c.maxSeqLen}}}};
    }

    // An integer field within the command line's limits (args.h); absent: fallback.
    static int boundedInt(const json &req, const char *key, int fallback, int min, int max)
    {
        if (!req.contains(key)) return fallback;
        const json &v = req.at(key);
        if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max)
            throw UsageError(std::string(key) + " must be a whole number from " +
                             std::to_string(min) + " to " + std::to_string(max));
        return int(v.get<int64_t>());
    }

    // Lens, storage, generation, cancel and progress options shared by trace, decompose and
    // propagate.
    TraceOptions traceOptions(const json &req, const json &id)
    {
        TraceOptions o;
        o.lens.topk = boundedInt(req, "topk", 10, 1, kMaxTopk);
        auto choice = [&](const char *key, auto fromName, auto fallback) {
            if (!req.contains(key))
                return fallback;
            auto v = fromName(req.at(key).template get<std::string>());
            if (!v)
                throw UsageError(std::string("bad value for ") + key);
            return *v;
        };
        o.lens.norm = choice("lens_norm", lensNormFromName, LensNorm::Full);
        o.lens.decoder = choice("lens_decoder", lensDecoderFromName, LensDecoder::Output);
        o.attention = choice("attention", storeTypeFromName, StoreType::F16);
        o.residuals = choice("residuals", storeTypeFromName, StoreType::F16);
        if (req.value("store_z", false))
            o.z = o.residuals == StoreType::F32 ? StoreType::F32 : StoreType::F16;
        o.generate = boundedInt(req, "generate", 0, 0, kMaxGenerate);
        const double budget =
            req.value("attention_budget_gb", double(kDefaultAttentionBudgetBytes) / 1e9);
        if (!(budget >= 0 && budget <= 1e6)) throw UsageError("bad value for attention_budget_gb");
        o.attentionBudgetBytes = int64_t(budget * 1e9);
        o.cancelled = [this] { return m_cancel.load(); };
        o.progress = [this, id](const std::string &stage, int done, int total) {
            progress(id, stage, done, total);
        };
        return o;
    }

    static Site siteField(const json &req)
    {
        const auto site = siteFromName(req.value("site", "resid_post"));
        if (!site)
            throw UsageError("bad value for site");
        return *site;
    }

    void checkPoint(int layer, int pos, int nTokens)
    {
        if (layer < 0 || layer >= model().config().nLayers)
            throw InputError("layer " + std::to_string(layer) + " is outside the model (" +
                             std::to_string(model().config().nLayers) + " layers)");
        if (pos < 0 || pos >= nTokens)
            throw InputError("position " + std::to_string(pos) + " is outside the " +
                             std::to_string(nTokens) + " tokens");
    }

    // The id of a token given as text: an exact piece, its readable form, or a text that is
    // one token.
    int32_t injectId(const std::string &text)
    {
        const Tokenizer *tok = model().tokenizer();
        if (!tok)
            throw InputError("the model has no tokenizer to find \"" + text + "\" in; give inject_id");
        for (int id = 0; id < tok->vocabSize(); ++id)
            if (tok->piece(id) == text) return id;
        for (int id = 0; id < tok->vocabSize(); ++id)
            if (tok->displayText(id) == text) return id;
        const std::vector<TokenInfo> toks = model().tokenize(text, false);
        if (toks.size() != 1)
            throw InputError("\"" + text + "\" is not one token of this model (it is " +
                             std::to_string(toks.size()) + ")");
        return toks[0].id;
    }

    json execute(const json &req, const json &id)
    {
        const std::string cmd = req.at("cmd").get<std::string>();
        auto cancelled = [this] { return m_cancel.load(); };
        if (cmd == "hello")
            return {{"protocol", kProtocolVersion}, {"version", HEADLENS_VERSION}};
        if (cmd == "shutdown")
            return json::object();
        if (cmd == "load") {
            LoadOptions lo;
            lo.tokenizerPath = req.value("tokenizer", "");
            lo.dtype = req.value("dtype", "f32");
            lo.threads = req.value("threads", 0);
            progress(id, "load", 0, 1);
            m_model.reset();
            m_model = Model::load(req.at("model").get<std::string>(), lo);
            progress(id, "load", 1, 1);
            return modelJson();
        }
        if (cmd == "unload") {
            m_model.reset();
            return json::object();
        }
        if (cmd == "tokenize") {
            json toks = json::array();
            for (const TokenInfo &t : model().tokenize(req.at("text").get<std::string>(),
                                                       req.value("bos", true)))
                toks.push_back({{"id", t.id}, {"text", t.text}, {"begin", t.begin}, {"end", t.end}});
            return {{"tokens", toks}};
        }
        if (cmd == "generate") {
            std::string text;
            std::vector<TokenInfo> toks = promptTokens(req, text);
            std::vector<int32_t> ids;
            for (const TokenInfo &t : toks)
                ids.push_back(t.id);
            const std::vector<int32_t> gen =
                model().generate(ids, boundedInt(req, "n", 32, 0, kMaxGenerate), true, cancelled);
            return {{"ids", gen}, {"text", model().decode(gen)}};
        }
        if (cmd == "estimate") { // what a trace request with these fields would need
            const std::string out = req.at("output").get<std::string>();
            TraceOptions o = traceOptions(req, id);
            std::string text;
            const std::vector<TokenInfo> toks = promptTokens(req, text);
            const int64_t n = int64_t(toks.size()) + o.generate;
            const TraceFit f = traceFit(model(), out, {n}, o, false);
            return {{"n_tokens", n},
                    {"disk_bytes", f.diskNeeded},
                    {"disk_free", f.diskFree},
                    {"memory_bytes", f.memoryNeeded},
                    {"memory_available", f.memoryAvailable},
                    {"sparse_attention", f.sparseAttention},
                    {"summary", f.summary},
                    {"problem", f.problem}};
        }
        if (cmd == "trace") {
            const std::string out = req.at("output").get<std::string>();
            TraceOptions o = traceOptions(req, id);
            std::string text;
            std::vector<TokenInfo> toks = promptTokens(req, text);
            std::string name = req.value("name", "");
            if (name.empty())
                name = nextFreeTraceName(out);
            TraceStreamWriter writer(out, name, req.value("force", false));
            checkTraceFits(model(), out, int64_t(toks.size()) + o.generate, o);
            o.stream = &writer;
            Trace t = traceTokens(model(), std::move(toks), text, o);
            t.name = name;
            writer.commit(t);
            return {{"output", out}, {"name", name}, {"n_tokens", t.nTokens()},
                    {"n_prompt_tokens", t.nPromptTokens}};
        }
        if (cmd == "decompose") {
            const std::vector<int32_t> ids = req.at("token_ids").get<std::vector<int32_t>>();
            model().checkIds(ids);
            const Site site = siteField(req);
            const int layer = req.at("layer").get<int>();
            const int pos = req.at("pos").get<int>();
            checkPoint(layer, pos, int(ids.size()));
            const TraceOptions o = traceOptions(req, id);
            const std::vector<DecodeStep> steps = model().decompose(
                ids, site, layer, pos, o.lens, boundedInt(req, "steps", 10, 1, kMaxDecodeSteps));
            std::vector<int32_t> found;
            for (const DecodeStep &st : steps)
                found.push_back(st.id);
            const std::vector<TokenInfo> texts = model().tokensFromIds(found);
            json out = json::array();
            for (size_t i = 0; i < steps.size(); ++i)
                out.push_back({{"id", steps[i].id},
                               {"text", texts[i].text},
                               {"prob", steps[i].prob},
                               {"norm", steps[i].norm}});
            return {{"steps", out}};
        }
        if (cmd == "propagate") {
            const std::string out = req.at("output").get<std::string>();
            Trace parent;
            parent.name = req.at("parent").get<std::string>();
            parent.prompt = req.value("prompt", "");
            for (const json &tj : req.at("tokens")) {
                TokenInfo ti;
                ti.id = tj.at("id").get<int32_t>();
                ti.text = tj.value("text", "");
                ti.begin = tj.value("begin", -1);
                ti.end = tj.value("end", -1);
                parent.tokens.push_back(ti);
            }
            model().checkIds(parent.tokenIds());
            VectorEdit edit;
            edit.site = siteField(req);
            edit.layer = req.at("layer").get<int>();
            edit.pos = req.at("pos").get<int>();
            checkPoint(edit.layer, edit.pos, parent.nTokens());
            const std::string kind = req.value("kind", "unchanged");
            if (kind == "subtract") {
                edit.kind = VectorEdit::Kind::Subtract;
                edit.subtractCount = boundedInt(req, "subtract", 1, 1, kMaxSubtract);
            } else if (kind == "inject") {
                edit.kind = VectorEdit::Kind::Inject;
                edit.injectId = req.contains("inject_id") ? req.at("inject_id").get<int32_t>()
                                                          : injectId(req.value("inject_text", ""));
                if (edit.injectId < 0 || edit.injectId >= model().config().vocabSize)
                    throw InputError("token id " + std::to_string(edit.injectId) +
                                     " is not in the vocabulary");
            } else if (kind != "unchanged") {
                throw UsageError("kind must be unchanged, subtract or inject");
            }
            TraceOptions o = traceOptions(req, id);
            const int n = boundedInt(req, "generate", 16, 0, kMaxGenerate);
            std::string name = req.value("name", "");
            if (name.empty())
                name = nextFreeTraceName(out);
            Trace child = propagate(model(), parent, edit, n, o);
            child.name = name;
            addTrace(out, child, req.value("force", false));
            return {{"output", out}, {"name", name}, {"n_tokens", child.nTokens()},
                    {"n_prompt_tokens", child.nPromptTokens}, {"edit", json::parse(child.edit, nullptr, false)}};
        }
        throw UsageError("unknown cmd '" + cmd + "'");
    }

    void handle(const json &req)
    {
        const json id = req.value("id", json(nullptr));
        auto fail = [&](const char *kind, const std::string &msg) {
            send({{"id", id}, {"ok", false}, {"kind", kind}, {"error", msg.substr(0, msg.find('\n'))}});
        };
        try {
            json result = execute(req, id);
            send({{"id", id}, {"ok", true}, {"result", result}});
        } catch (const Cancelled &) {
            fail("cancelled", "cancelled");
        } catch (const InputError &e) {
            fail("input", e.what());
        } catch (const UsageError &e) {
            fail("usage", e.what());
        } catch (const json::exception &e) {
            fail("usage", std::string("bad request: ") + e.what());
        } catch (const std::bad_alloc &) {
            fail("internal", "out of memory");
        } catch (const std::exception &e) {
            fail("internal", e.what());
        }
    }

    std::unique_ptr<Model> m_model;
    std::mutex m_mutex, m_outMutex;
    std::condition_variable m_cv;
    std::deque<json> m_queue;
    json m_running;
    std::atomic<bool> m_cancel{false};
    bool m_eof = false;
};

} // namespace

int cmdServe(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"--model"}, {});
    if (!a.positional.empty())
        throw UsageError("serve takes no positional arguments");
    Server s;
    return s.run(a.value("--model", ""));
}

} // namespace HeadLens::Cli
