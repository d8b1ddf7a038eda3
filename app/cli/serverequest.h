#pragma once
// serve's requests as read, before anything runs (PROTOCOL.md): a line of input sorted into a
// request, a cancel, a shutdown or a refusal, and a request's command with its fields read by
// requests.h's parsers. Torch-free and model-free, so that what serve reads can be fuzzed
// (tests/fuzz/fuzz_serve.cpp); serve.cpp runs what this reads.

#include "requests.h"

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

namespace HeadLens::Cli {

struct ServeLine {
    enum class Kind {
        Blank,      // nothing but white space: ignored
        NotRequest, // not a JSON object with a string "cmd": answered with error
        Cancel,     // cancel: request["target"] (default: the running request)
        Shutdown,
        Request // queued
    };
    Kind kind = Kind::Blank;
    nlohmann::json request; // the object read (every kind but Blank and NotRequest)
    nlohmann::json id;      // its "id", or null
    std::string error;      // NotRequest: what to answer (quoting at most 200 bytes of line)
};
ServeLine readServeLine(const std::string &line);

// tokenize and generate: the two requests without a command-line twin in requests.h.
struct TokenizeRequest {
    std::string text;
    bool bos = true;
};
struct GenerateRequest {
    PromptInput prompt;
    int n = 32;
};

// A request's fields, read once: estimate and trace both read a TraceRequest; hello, shutdown
// and unload read nothing.
using ServeFields = std::variant<std::monostate, LoadRequest, TokenizeRequest, GenerateRequest,
                                 TraceRequest, DecomposeRequest, PropagateRequest, AttributeRequest,
                                 HeadRolesRequest, PatchRequest>;
struct ServeRequest {
    std::string cmd;
    ServeFields fields;
};
// UsageError for an unknown cmd, and whatever the command's parser throws for its fields
// (UsageError, InputError, or nlohmann's exceptions for a missing or mistyped field).
ServeRequest serveRequest(const nlohmann::json &req);

} // namespace HeadLens::Cli
