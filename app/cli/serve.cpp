// headlens-cli serve: the engine the workbench drives (app/cli/PROTOCOL.md). A reader thread
// takes lines from stdin so that cancel and shutdown act while a request runs; requests run
// one at a time on the main thread.

#include "args.h"
#include "requests.h"

#include "headlens/model/model.h"
#include "headlens/trace/error.h"
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
                if (m_queue.empty()) break;
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
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
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
                            send({{"id", target},
                                  {"ok", false},
                                  {"kind", "cancelled"},
                                  {"error", "cancelled"}});
                            m_queue.erase(it);
                            break;
                        }
                continue;
            }
            if (cmd == "shutdown") {
                m_cancel = true;
                for (const json &q : m_queue)
                    send({{"id", q.value("id", json(nullptr))},
                          {"ok", false},
                          {"kind", "cancelled"},
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
        send({{"event", "progress"},
              {"id", id},
              {"stage", stage},
              {"done", done},
              {"total", total}});
    }

    Model &model()
    {
        if (!m_model) throw InputError("no model is loaded (send a load request first)");
        return *m_model;
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

    // Cancel and progress of the running request go over the pipe.
    void connect(TraceOptions &o, const json &id)
    {
        o.cancelled = [this] { return m_cancel.load(); };
        o.progress = [this, id](const std::string &stage, int done, int total) {
            progress(id, stage, done, total);
        };
    }

    json execute(const json &req, const json &id)
    {
        const std::string cmd = req.at("cmd").get<std::string>();
        auto cancelled = [this] { return m_cancel.load(); };
        if (cmd == "hello") return {{"protocol", kProtocolVersion}, {"version", HEADLENS_VERSION}};
        if (cmd == "shutdown") return json::object();
        if (cmd == "load") {
            const LoadRequest r = loadRequest(req);
            progress(id, "load", 0, 1);
            m_model.reset();
            m_model = Model::load(r.model, r.options);
            progress(id, "load", 1, 1);
            return modelJson();
        }
        if (cmd == "unload") {
            m_model.reset();
            return json::object();
        }
        if (cmd == "tokenize") {
            json toks = json::array();
            for (const TokenInfo &t :
                 model().tokenize(req.at("text").get<std::string>(), req.value("bos", true)))
                toks.push_back(
                    {{"id", t.id}, {"text", t.text}, {"begin", t.begin}, {"end", t.end}});
            return {{"tokens", toks}};
        }
        if (cmd == "generate") {
            const PromptInput prompt = promptInput(req);
            const int n = intField(req, "n", 32, 0, kMaxGenerate);
            std::vector<int32_t> ids;
            for (const TokenInfo &t : prompt.tokens(model()))
                ids.push_back(t.id);
            const std::vector<int32_t> gen = model().generate(ids, n, true, cancelled);
            return {{"ids", gen}, {"text", model().decode(gen)}};
        }
        if (cmd == "estimate") { // what a trace request with these fields would need
            const TraceRequest r = traceRequest(req);
            const int64_t n = int64_t(r.prompt.tokens(model()).size()) + r.options.generate;
            const TraceFit f = traceFit(model(), r.output, {n}, r.options, false);
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
            TraceRequest r = traceRequest(req);
            const std::string out = r.output;
            connect(r.options, id);
            model(); // no model: refused before the project is touched
            TraceRun run(std::move(r));
            const Trace t = run.run(model());
            return {{"output", out},
                    {"name", run.name()},
                    {"n_tokens", t.nTokens()},
                    {"n_prompt_tokens", t.nPromptTokens}};
        }
        if (cmd == "decompose") {
            const DecomposeRequest r = decomposeRequest(req);
            return {{"steps", stepsJson(runDecompose(model(), r))}};
        }
        if (cmd == "propagate") {
            PropagateRequest r = propagateRequest(req);
            connect(r.options, id);
            const Trace child = runPropagate(model(), r);
            return {{"output", r.output},
                    {"name", r.name},
                    {"n_tokens", child.nTokens()},
                    {"n_prompt_tokens", child.nPromptTokens},
                    {"edit", json::parse(child.edit, nullptr, false)}};
        }
        if (cmd == "attribute") {
            const AttributeRequest r = attributeRequest(req);
            return attributionJson(runAttribute(model(), r), r.pos);
        }
        if (cmd == "head_roles") {
            const HeadRolesRequest r = headRolesRequest(req);
            return headRolesJson(runHeadRoles(model(), r, cancelled, [&](int done, int total) {
                progress(id, "head_roles", done, total);
            }));
        }
        if (cmd == "patch") {
            PatchRequest r = patchRequest(req);
            connect(r.clean.options, id);
            model();
            const PatchResult p = runPatch(model(), r);
            return patchJson(r, p);
        }
        throw UsageError("unknown cmd '" + cmd + "'");
    }

    void handle(const json &req)
    {
        const json id = req.value("id", json(nullptr));
        auto fail = [&](const char *kind, const std::string &msg) {
            send({{"id", id}, {"ok", false}, {"kind", kind}, {"error", errorLine(msg)}});
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
    if (!a.positional.empty()) throw UsageError("serve takes no positional arguments");
    Server s;
    return s.run(a.value("--model", ""));
}

} // namespace HeadLens::Cli
