// headlens-cli serve: the engine the workbench drives (app/cli/PROTOCOL.md). A reader thread
// takes lines from stdin so that cancel and shutdown act while a request runs; requests run
// one at a time on the main thread.

#include "args.h"
#include "enginememory.h"
#include "requests.h"
#include "serverequest.h"

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
            ServeLine in = readServeLine(line);
            if (in.kind == ServeLine::Kind::Blank) continue;
            if (in.kind == ServeLine::Kind::NotRequest) {
                send({{"id", in.id}, {"ok", false}, {"kind", "usage"}, {"error", in.error}});
                continue;
            }
            json &req = in.request;
            std::lock_guard<std::mutex> lock(m_mutex);
            if (in.kind == ServeLine::Kind::Cancel) {
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
            if (in.kind == ServeLine::Kind::Shutdown) {
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
        ServeRequest r = serveRequest(req);
        const std::string &cmd = r.cmd;
        auto cancelled = [this] { return m_cancel.load(); };
        if (cmd == "hello") return {{"protocol", kProtocolVersion}, {"version", HEADLENS_VERSION}};
        if (cmd == "shutdown") return json::object();
        if (cmd == "load") {
            const LoadRequest &load = std::get<LoadRequest>(r.fields);
            progress(id, "load", 0, 1);
            m_model.reset();
            m_model = loadModel(load.model, load.options);
            progress(id, "load", 1, 1);
            return modelJson();
        }
        if (cmd == "unload") {
            m_model.reset();
            return json::object();
        }
        if (cmd == "tokenize") {
            const TokenizeRequest &t = std::get<TokenizeRequest>(r.fields);
            json toks = json::array();
            for (const TokenInfo &ti : model().tokenize(t.text, t.bos))
                toks.push_back(
                    {{"id", ti.id}, {"text", ti.text}, {"begin", ti.begin}, {"end", ti.end}});
            return {{"tokens", toks}};
        }
        if (cmd == "generate") {
            const GenerateRequest &g = std::get<GenerateRequest>(r.fields);
            std::vector<int32_t> ids;
            for (const TokenInfo &t : g.prompt.tokens(model()))
                ids.push_back(t.id);
            const std::vector<int32_t> gen = model().generate(ids, g.n, true, cancelled);
            return {{"ids", gen}, {"text", model().decode(gen)}};
        }
        if (cmd == "estimate") { // what a trace request with these fields would need
            const TraceRequest &t = std::get<TraceRequest>(r.fields);
            const int64_t n = int64_t(t.prompt.tokens(model()).size()) + t.options.generate;
            const TraceFit f = traceFit(model(), t.output, {n}, t.options, false);
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
            TraceRequest &t = std::get<TraceRequest>(r.fields);
            const std::string out = t.output;
            connect(t.options, id);
            model(); // no model: refused before the project is touched
            TraceRun run(std::move(t));
            const Trace trace = run.run(model());
            return {{"output", out},
                    {"name", run.name()},
                    {"n_tokens", trace.nTokens()},
                    {"n_prompt_tokens", trace.nPromptTokens}};
        }
        if (cmd == "decompose")
            return {
                {"steps", stepsJson(runDecompose(model(), std::get<DecomposeRequest>(r.fields)))}};
        if (cmd == "propagate") {
            PropagateRequest &p = std::get<PropagateRequest>(r.fields);
            connect(p.options, id);
            const Trace child = runPropagate(model(), p);
            return {{"output", p.output},
                    {"name", p.name},
                    {"n_tokens", child.nTokens()},
                    {"n_prompt_tokens", child.nPromptTokens},
                    {"edit", json::parse(child.edit, nullptr, false)}};
        }
        if (cmd == "attribute") {
            const AttributeRequest &a = std::get<AttributeRequest>(r.fields);
            return attributionJson(runAttribute(model(), a), a.pos);
        }
        if (cmd == "head_roles") {
            const HeadRolesRequest &h = std::get<HeadRolesRequest>(r.fields);
            return headRolesJson(runHeadRoles(model(), h, cancelled, [&](int done, int total) {
                progress(id, "head_roles", done, total);
            }));
        }
        if (cmd == "patch") {
            PatchRequest &p = std::get<PatchRequest>(r.fields);
            connect(p.clean.options, id);
            model();
            const PatchResult result = runPatch(model(), p);
            return patchJson(p, result);
        }
        throw std::logic_error("serve reads cmd '" + cmd + "' but does not run it");
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
        returnFreedMemory(); // an idle engine does not hold the request's peak
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
