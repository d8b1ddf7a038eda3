#pragma once
// The engine's requests (load, trace, decompose, propagate), typed. Each is read once, from
// the command line or from a serve request (PROTOCOL.md), and run by the same code, so the
// two faces give the same answer to the same question. How an answer is shown (a table, the
// CLI's --json, a serve result) stays with each face.

#include "args.h"

#include "headlens/model/model.h"
#include "headlens/model/patching.h"
#include "headlens/project/project.h"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace HeadLens::Cli {

// An integer field of a serve request within the command line's limits (args.h); absent:
// fallback. UsageError otherwise, as the command line refuses the same count.
int intField(const nlohmann::json &req, const char *key, int fallback, int min, int max);

// load: the model and how to run it (the command line's MODEL --tokenizer --dtype --threads).
struct LoadRequest {
    std::string model;
    LoadOptions options;
};
LoadRequest loadRequest(const nlohmann::json &req);

// The tokens a request starts from: a prompt text, or token ids.
struct PromptInput {
    std::string text; // empty when byIds
    std::vector<int32_t> ids;
    bool byIds = false;
    // InputError when an id is outside the model's vocabulary or the text is not UTF-8.
    std::vector<TokenInfo> tokens(const Model &model) const;
};
PromptInput promptInput(const Args &a);             // --prompt | --prompt-file | --token-ids
PromptInput promptInput(const nlohmann::json &req); // "prompt" | "token_ids"

// The lens and storage options of trace, decompose and propagate (serve's fields; the command
// line's are traceOptions(Args) in args.h). Progress and cancel are the caller's.
LensOptions lensOptions(const nlohmann::json &req);
TraceOptions traceOptions(const nlohmann::json &req);

// trace (and estimate, which asks what the same trace would need).
struct TraceRequest {
    std::string output;
    std::string name; // empty: the first free trace-N of output
    bool force = false;
    PromptInput prompt;
    TraceOptions options;
};
TraceRequest traceRequest(const Args &a);
TraceRequest traceRequest(const nlohmann::json &req);

// A trace being made. Opening it names the trace and checks the project and the name, before
// the model is needed; run() traces into the project as the layers are computed and commits.
class TraceRun {
public:
    explicit TraceRun(TraceRequest request);
    const std::string &name() const { return m_request.name; }
    // The trace as committed (its large arrays empty: they went to the file).
    Trace run(Model &model);

private:
    TraceRequest m_request;
    std::unique_ptr<TraceStreamWriter> m_writer;
};

// decompose: iterative decoding of one site vector of the forward pass over ids.
struct DecomposeRequest {
    std::vector<int32_t> ids;
    Site site = Site::ResidPost;
    int layer = 0;
    int pos = 0;
    LensOptions lens;
    int steps = 10; // at most this many
};
DecomposeRequest decomposeRequest(const nlohmann::json &req);
struct DecomposedStep {
    DecodeStep step;
    std::string text; // the token's readable form
};
std::vector<DecomposedStep> runDecompose(Model &model, const DecomposeRequest &r);
// [{"id","text","prob","norm"}]: the steps as both faces give them.
nlohmann::json stepsJson(const std::vector<DecomposedStep> &steps);

// propagate: the parent's tokens up to edit.pos, the edit applied, then generate tokens
// generated greedily, all traced into a child trace added to output.
struct PropagateRequest {
    std::string output;
    std::string name; // empty: parent-KIND, numbered when taken (settleChildName)
    bool force = false;
    Trace parent;    // its name, prompt and tokens (at least up to edit.pos)
    VectorEdit edit; // an Inject with injectId -1 injects the token injectText names
    std::string injectText;
    int generate = 16;
    TraceOptions options;
};
PropagateRequest propagateRequest(const nlohmann::json &req);
// What a child generates when the request does not say: as many tokens as followed pos in the
// parent, or 16 when none did.
int defaultChildLength(const Trace &parent, int pos);
// Gives the child its default name, or checks the one given against output (taken without
// force, the parent's own, invalid: InputError), before any heavy work.
void settleChildName(PropagateRequest &r);
// Runs the request, with its inject token and name settled in r, and adds the child to
// output; returns the child.
Trace runPropagate(Model &model, PropagateRequest &r);

// patch: activation patching between a clean and a corrupted prompt of the same token count
// (patching.h). The clean prompt is traced into output as `name`, and the map is stored with
// that trace (SCHEMA-ADDITIONS.md "Activation patching").
struct PatchRequest {
    std::string output;
    std::string name; // empty: the first free trace-N of output
    bool force = false;
    PromptInput clean, corrupted;
    std::string answerText, wrongText;   // a token's text, or...
    int32_t answerId = -1, wrongId = -1; // ...its id (when >= 0)
    bool heads = false;
    TraceOptions options; // the clean trace's; its progress and cancel also serve the sweep
};
PatchRequest patchRequest(const Args &a);
PatchRequest patchRequest(const nlohmann::json &req);
struct PatchResult {
    std::string name; // the clean trace
    PatchMap map;
    std::vector<TokenInfo> clean; // the clean prompt's tokens
    double seconds = 0;           // the sweep's time (without the trace)
};
// Refuses prompts of different token counts (InputError naming both) before any heavy work.
PatchResult runPatch(Model &model, PatchRequest &r);
// What both faces answer: the map as nested lists, the tokens and the logit differences.
nlohmann::json patchJson(const PatchRequest &r, const PatchResult &p);

} // namespace HeadLens::Cli
