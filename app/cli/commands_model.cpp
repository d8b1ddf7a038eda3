// Commands that need a model: trace, generate, tokenize.

#include "args.h"

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"
#include "headlens/trace/tracecost.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace HeadLens::Cli {

namespace {

std::string readTextFile(const std::string &path)
{
    std::string s = readInputFile(path, "prompt file", kMaxTextInputBytes);
    if (!s.empty() && s.back() == '\n')
        s.pop_back(); // the newline every editor adds is not part of the prompt
    return s;
}

template <typename T>
T parseChoice(const Args &a, const std::string &opt, std::optional<T> (*fromName)(const std::string &),
              T fallback, const char *choices)
{
    auto v = a.value(opt);
    if (!v)
        return fallback;
    auto r = fromName(*v);
    if (!r)
        throw UsageError(opt + " must be one of " + choices + ", not '" + *v + "'");
    return *r;
}

} // namespace

LoadOptions loadOptions(const Args &a)
{
    LoadOptions lo;
    lo.tokenizerPath = a.value("--tokenizer", "");
    lo.dtype = a.value("--dtype", "f32");
    if (lo.dtype != "f32" && lo.dtype != "bf16" && lo.dtype != "f16")
        throw UsageError("--dtype must be one of f32|bf16|f16, not '" + lo.dtype + "'");
    lo.threads = a.intValue("--threads", 0, 0, 1024);
    return lo;
}

TraceOptions traceOptions(const Args &a)
{
    TraceOptions o;
    o.lens.topk = a.intValue("--topk", 10, 1, kMaxTopk);
    o.lens.norm =
        parseChoice<LensNorm>(a, "--lens-norm", lensNormFromName, LensNorm::Full, "full|unit|none");
    o.lens.decoder = parseChoice<LensDecoder>(a, "--lens-decoder", lensDecoderFromName,
                                              LensDecoder::Output, "output|input|linear|quadratic");
    o.attention =
        parseChoice<StoreType>(a, "--attention", storeTypeFromName, StoreType::F16, "none|f16|f32");
    o.residuals =
        parseChoice<StoreType>(a, "--residuals", storeTypeFromName, StoreType::F16, "none|f16|f32");
    if (a.has("--store-z")) o.z = o.residuals == StoreType::F32 ? StoreType::F32 : StoreType::F16;
    o.generate = a.intValue("--generate", 0, 0, kMaxGenerate);
    if (auto b = a.value("--attention-budget")) {
        size_t used = 0;
        double gb = -1;
        try {
            gb = std::stod(*b, &used);
        } catch (const std::exception &) {
            used = 0;
        }
        if (used != b->size() || !(gb >= 0 && gb <= 1e6))
            throw UsageError("--attention-budget takes gigabytes (e.g. 8 or 0.5), not '" + *b +
                             "'");
        o.attentionBudgetBytes = int64_t(gb * 1e9);
    }
    return o;
}

namespace {

struct Prompt {
    std::string text;
    std::vector<TokenInfo> tokens;
};

// The prompt of --prompt, --prompt-file or --token-ids (exactly one).
Prompt readPrompt(const Args &a, const Model &model)
{
    const int given = int(a.has("--prompt")) + int(a.has("--prompt-file")) + int(a.has("--token-ids"));
    if (given != 1)
        throw UsageError("give exactly one of --prompt, --prompt-file, --token-ids");
    Prompt p;
    if (auto ids = a.value("--token-ids")) {
        const std::vector<int32_t> v = parseIdList(*ids);
        model.checkIds(v);
        p.tokens = model.tokensFromIds(v);
        return p;
    }
    p.text = a.has("--prompt") ? *a.value("--prompt") : readTextFile(*a.value("--prompt-file"));
    p.tokens = model.tokenize(p.text, true);
    return p;
}

std::string onePositional(const Args &a, const char *what)
{
    if (a.positional.size() != 1)
        throw UsageError(std::string("expected one ") + what +
                         (a.positional.empty() ? "" : ", got " + std::to_string(a.positional.size())));
    return a.positional[0];
}

} // namespace

TraceFit traceFit(const Model &model, const std::string &project,
                  const std::vector<int64_t> &nTokens, const TraceOptions &o, bool oneSave)
{
    TraceShape s;
    s.config = model.config();
    s.topk = o.lens.topk;
    s.attention = o.attention;
    s.residuals = o.residuals;
    s.z = o.z;
    s.computeBytes = model.computeDtype() == "f32" ? 4 : 2;
    s.convertsWeights = model.convertsWeights();
    s.streamed = true;
    TraceFit f;
    int64_t longest = 0, disk = 0;
    for (int64_t n : nTokens) {
        s.nTokens = n;
        s.sparseAttention = attentionIsSparse(s.config, n, o.attention, o.attentionBudgetBytes);
        f.sparseAttention = f.sparseAttention || s.sparseAttention;
        const TraceCost c = estimateTraceCost(s);
        disk += c.diskBytes;
        f.memoryNeeded = std::max(f.memoryNeeded, c.memoryBytes);
        longest = std::max(longest, n);
    }
    // A trace is written beside the project, then into a copy of it; a batch (oneSave) goes
    // straight into one copy.
    std::error_code ec;
    const int64_t projectBytes = fs::exists(project, ec) ? int64_t(fs::file_size(project, ec)) : 0;
    f.diskNeeded = projectBytes > 0 ? (oneSave ? 1 : 2) * disk + projectBytes : disk;
    f.dir = fs::absolute(project, ec).parent_path().string();
    f.diskFree = freeDiskBytes(f.dir);
    f.memoryAvailable = availableMemoryBytes();
    auto free = [](int64_t b) { return b >= 0 ? formatBytes(b) : std::string("unknown"); };
    f.summary = "needs about " + formatBytes(f.memoryNeeded) + " of memory (" +
                free(f.memoryAvailable) + " available) and " + formatBytes(f.diskNeeded) + " on " +
                f.dir + " (" + free(f.diskFree) + " free)";
    const std::string what = nTokens.size() > 1 ? "the traces need" : "the trace needs";
    if (f.diskFree >= 0 && f.diskNeeded > f.diskFree)
        f.problem = what + " about " + formatBytes(f.diskNeeded) + " on " + f.dir + ", " +
                    formatBytes(f.diskFree) + " free (" +
                    (nTokens.size() > 1 ? std::to_string(nTokens.size()) + " prompts"
                                        : std::to_string(longest) + " tokens") +
                    "; store less with --attention none or --residuals none)";
    else if (f.memoryAvailable >= 0 && f.memoryNeeded > f.memoryAvailable)
        f.problem = what + " about " + formatBytes(f.memoryNeeded) + " of memory, " +
                    formatBytes(f.memoryAvailable) + " available (" + std::to_string(longest) +
                    " tokens through " + model.name() + ")";
    return f;
}

void checkTracesFit(const Model &model, const std::string &project,
                    const std::vector<int64_t> &nTokens, const TraceOptions &o, bool oneSave)
{
    const TraceFit f = traceFit(model, project, nTokens, o, oneSave);
    if (!f.problem.empty()) throw InputError(f.problem);
}

void checkTraceFits(const Model &model, const std::string &project, int64_t nTokens,
                    const TraceOptions &o)
{
    checkTracesFit(model, project, {nTokens}, o, false);
}

int cmdTrace(const std::vector<std::string> &argv)
{
    const Args a =
        parseArgs(argv,
                  {"--prompt", "--prompt-file", "--token-ids", "-o", "--output", "--name",
                   "--tokenizer", "--generate", "--topk", "--lens-norm", "--lens-decoder",
                   "--attention", "--residuals", "--dtype", "--threads", "--attention-budget"},
                  {"--store-z", "--force"});
    const std::string modelPath = onePositional(a, "MODEL");
    std::string out = a.value("-o", a.value("--output", ""));
    if (out.empty())
        throw UsageError("trace needs -o PROJECT.hlproj");
    const int given = int(a.has("--prompt")) + int(a.has("--prompt-file")) + int(a.has("--token-ids"));
    if (given != 1)
        throw UsageError("give exactly one of --prompt, --prompt-file, --token-ids");

    TraceOptions o = traceOptions(a);
    o.progress = reportProgress;
    const LoadOptions lo = loadOptions(a);
    const bool force = a.has("--force");

    // Everything about the project is checked before the expensive part (the writer checks
    // the project and the name).
    std::string name = a.value("--name", "");
    if (name.empty()) name = fs::exists(out) ? nextFreeTraceName(out) : "trace-1";
    TraceStreamWriter writer(out, name, force);

    reportProgress("loading " + modelPath, 0, 1);
    std::unique_ptr<Model> model = Model::load(modelPath, lo);
    Prompt p = readPrompt(a, *model);
    checkTraceFits(*model, out, int64_t(p.tokens.size()) + o.generate, o);
    // The large data go to the project layer by layer as they are computed.
    o.stream = &writer;
    Trace t = traceTokens(*model, std::move(p.tokens), p.text, o);
    t.name = name;
    endProgress();
    writer.commit(t);
    std::cout << "traced " << t.nTokens() << " tokens (" << t.nPromptTokens << " prompt, "
              << t.nTokens() - t.nPromptTokens << " generated) through " << t.config.nLayers
              << " layers of " << model->name() << " into " << out << " as '" << name << "'\n";
    return 0;
}

int cmdGenerate(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"--prompt", "--prompt-file", "--token-ids", "-n", "--tokenizer",
                                    "--dtype", "--threads"},
                             {"--ids"});
    const std::string modelPath = onePositional(a, "MODEL");
    const int n = a.intValue("-n", 32, 0, kMaxGenerate);
    std::unique_ptr<Model> model = Model::load(modelPath, loadOptions(a));
    const Prompt p = readPrompt(a, *model);
    std::vector<int32_t> ids;
    for (const TokenInfo &t : p.tokens)
        ids.push_back(t.id);
    const std::vector<int32_t> gen = model->generate(ids, n);
    if (a.has("--ids")) {
        for (size_t i = 0; i < gen.size(); ++i)
            std::cout << (i ? " " : "") << gen[i];
        std::cout << "\n";
        return 0;
    }
    // The continuation as the tokenizer would print it after the prompt (so a leading space
    // survives, and a character split over tokens is whole).
    std::vector<int32_t> all = ids;
    all.insert(all.end(), gen.begin(), gen.end());
    const std::string whole = model->decode(all), head = model->decode(ids);
    std::cout << (whole.compare(0, head.size(), head) == 0 ? whole.substr(head.size())
                                                           : model->decode(gen))
              << "\n";
    return 0;
}

int cmdTokenize(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"--text"}, {"--no-bos"});
    const std::string path = onePositional(a, "TOKENIZER_OR_MODEL");
    auto text = a.value("--text");
    if (!text)
        throw UsageError("tokenize needs --text TEXT");
    std::string tokPath = path;
    if (fs::is_directory(path)) {
        tokPath = findTokenizerInFolder(path);
        if (tokPath.empty())
            throw InputError("no tokenizer file (tokenizer.json, tokenizer.model, tokenizer.bin) in " +
                             path);
    } else if (!fs::exists(path)) {
        throw InputError("tokenizer " + path + " does not exist");
    }
    std::unique_ptr<Tokenizer> tok = loadTokenizer(tokPath);
    const std::vector<TokenInfo> toks = tok->encode(*text, !a.has("--no-bos"));
    for (size_t i = 0; i < toks.size(); ++i)
        std::cout << (i ? " " : "") << toks[i].id;
    std::cout << "\n";
    return 0;
}

} // namespace HeadLens::Cli
