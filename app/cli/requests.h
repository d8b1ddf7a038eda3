#pragma once
// The engine's requests (load, trace, decompose, propagate), typed. Each is read once, from
// the command line or from a serve request (PROTOCOL.md), and run by the same code, so the
// two faces give the same answer to the same question. How an answer is shown (a table, the
// CLI's --json, a serve result) stays with each face.

#include "args.h"

#include "headlens/model/model.h"
#include "headlens/model/patching.h"
#include "headlens/model/repeatprobe.h"
#include "headlens/project/project.h"
#include "headlens/trace/headroles.h"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace HeadLens::Cli {

// An integer field of a serve request within the command line's limits (args.h); absent:
// fallback. UsageError otherwise, as the command line refuses the same count.
int intField(const nlohmann::json &req, const char *key, int fallback, int min, int max);
// The same for a field the request must have (nlohmann's out_of_range when it is absent).
int intField(const nlohmann::json &req, const char *key, int min, int max);
// A list of token ids, each a whole number that fits an int (UsageError naming key otherwise).
std::vector<int32_t> idsField(const nlohmann::json &req, const std::string &key);

// The token of the model a text names (tokenIdOfText over its tokenizer); InputError if none.
int32_t modelTokenOfText(const Model &model, const std::string &text);

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

// attribute: direct logit attribution (TRACE.md, SCHEMA-ADDITIONS.md) of the forward pass over
// the prompt, for the model's top-1 token at each position, a chosen token, or the difference
// of two.
struct AttributeRequest {
    PromptInput prompt;
    std::string token, minus;           // a token given as text (tokenIdOfText); empty: by id
    int32_t tokenId = -1, minusId = -1; // -1: the top-1 token / nothing subtracted
    int pos = -1;                       // the one position answered; -1: every position
};
AttributeRequest attributeRequest(const Args &a); // --token --token-id --minus --minus-id --pos
AttributeRequest attributeRequest(const nlohmann::json &req);
struct AttributeResult {
    std::vector<TokenInfo> tokens;
    LogitAttribution dla;
    std::vector<std::string> tokenText, minusText; // [pos] readable texts of the ids attributed
};
// InputError for a token that is not in the vocabulary or a position outside the prompt.
AttributeResult runAttribute(Model &model, const AttributeRequest &r);
// {"n_layers", "n_heads", "max_abs_sum_error", "max_rel_sum_error", "positions": [{"pos",
// "token", "target", "minus", "logit", "embed", "rest", "blocks" [L][2], "heads" [L][H],
// "sum_error"}]} for position pos, or every position when pos is -1.
nlohmann::json attributionJson(const AttributeResult &r, int pos);
// heads --roles: what each head selects, measured on the engine's repeated random tokens
// (repeatprobe.h) and scored from the attention alone (headlens/analysis/headroles.h);
// stored, when a project is named, with its traces made by the same model.
struct HeadRolesRequest {
    RepeatProbeOptions probe;
    std::string output; // the project to store them in; empty: not stored
    std::vector<std::string>
        traces; // its traces to store them with; empty: every trace of the model
};
HeadRolesRequest headRolesRequest(const Args &a); // [PROJECT] --trace --length --sequences --seed
HeadRolesRequest headRolesRequest(const nlohmann::json &req); // output, trace(s), length, ...
// The traces of r.output that get the roles of model (InputError when a named one is not
// there or was made by another model, or none was made by this one); empty without output.
std::vector<std::string> headRolesTraces(const Model &model, const HeadRolesRequest &r);
struct HeadRolesResult {
    HeadRoles roles;
    std::vector<std::string> stored; // the traces of r.output that hold them now
};
HeadRolesResult runHeadRoles(Model &model, const HeadRolesRequest &r,
                             const std::function<bool()> &cancelled = {},
                             const std::function<void(int done, int total)> &progress = {});
// {"n_layers", "n_heads", "sequence_length", "sequences", "seed", "n_queries",
//  "n_repeat_queries", "heads": [{"layer", "head", <role>..., "mean_distance", "strongest"}],
//  "stored"}: the roles as both faces give them (NaN as null).
nlohmann::json headRolesJson(const HeadRolesResult &r);
// patch: activation patching between a clean and a corrupted prompt of the same token count
// (patching.h). The clean prompt is traced into output as `name`, and the map is stored with
// that trace (SCHEMA-ADDITIONS.md "Activation patching").
struct PatchRequest {
    // The clean prompt's trace (its output, name, force and prompt); its options' progress and
    // cancel also serve the sweep.
    TraceRequest clean;
    PromptInput corrupted;
    std::string answerText, wrongText;   // a token's text, or...
    int32_t answerId = -1, wrongId = -1; // ...its id (when >= 0)
    bool heads = false;
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
