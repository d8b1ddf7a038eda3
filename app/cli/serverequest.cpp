#include "serverequest.h"

#include "headlens/trace/error.h"

namespace HeadLens::Cli {

using json = nlohmann::json;

ServeLine readServeLine(const std::string &line)
{
    ServeLine out;
    if (line.find_first_not_of(" \t\r") == std::string::npos) return out;
    json req = json::parse(line, nullptr, false);
    out.id = req.is_object() ? req.value("id", json(nullptr)) : json(nullptr);
    if (req.is_discarded() || !req.is_object() || !req.contains("cmd") || !req["cmd"].is_string()) {
        out.kind = ServeLine::Kind::NotRequest;
        out.error = "not a request (an object with a string \"cmd\"): " + line.substr(0, 200);
        return out;
    }
    const std::string cmd = req["cmd"].get<std::string>();
    out.kind = cmd == "cancel"     ? ServeLine::Kind::Cancel
               : cmd == "shutdown" ? ServeLine::Kind::Shutdown
                                   : ServeLine::Kind::Request;
    out.request = std::move(req);
    return out;
}

ServeRequest serveRequest(const json &req)
{
    ServeRequest r;
    r.cmd = req.at("cmd").get<std::string>();
    const std::string &c = r.cmd;
    if (c == "hello" || c == "shutdown" || c == "unload") return r;
    if (c == "load") {
        r.fields = loadRequest(req);
    } else if (c == "tokenize") {
        r.fields = TokenizeRequest{req.at("text").get<std::string>(), req.value("bos", true)};
    } else if (c == "generate") {
        r.fields = GenerateRequest{promptInput(req), intField(req, "n", 32, 0, kMaxGenerate)};
    } else if (c == "estimate" || c == "trace") {
        r.fields = traceRequest(req);
    } else if (c == "decompose") {
        r.fields = decomposeRequest(req);
    } else if (c == "propagate") {
        r.fields = propagateRequest(req);
    } else if (c == "attribute") {
        r.fields = attributeRequest(req);
    } else if (c == "head_roles") {
        r.fields = headRolesRequest(req);
    } else if (c == "patch") {
        r.fields = patchRequest(req);
    } else {
        throw UsageError("unknown cmd '" + c + "'");
    }
    return r;
}

} // namespace HeadLens::Cli
