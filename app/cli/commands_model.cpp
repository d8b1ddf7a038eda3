// Commands that need a model: trace, generate, tokenize.

#include "args.h"
#include "enginememory.h"
#include "requests.h"

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/trace/tracecost.h"

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace HeadLens::Cli {

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
                   "--tokenizer", "--generate", "--topk", "--lens-norm", "--lens-decoder", "--lens",
                   "--attention", "--residuals", "--dtype", "--threads", "--attention-budget"},
                  {"--store-z", "--force"});
    const std::string modelPath = onePositional(a, "MODEL");
    TraceRequest r = traceRequest(a);
    r.options.progress = reportProgress;
    const LoadOptions lo = loadOptions(a);
    const std::string out = r.output;

    // Everything about the project is checked before the expensive part.
    TraceRun run(std::move(r));

    reportProgress("loading " + modelPath, 0, 1);
    std::unique_ptr<Model> model = loadModel(modelPath, lo);
    const Trace t = run.run(*model);
    endProgress();
    std::cout << "traced " << t.nTokens() << " tokens (" << t.nPromptTokens << " prompt, "
              << t.nTokens() - t.nPromptTokens << " generated) through " << t.config.nLayers
              << " layers of " << model->name() << " into " << out << " as '" << run.name()
              << "'\n";
    return 0;
}

int cmdGenerate(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(
        argv,
        {"--prompt", "--prompt-file", "--token-ids", "-n", "--tokenizer", "--dtype", "--threads"},
        {"--ids"});
    const std::string modelPath = onePositional(a, "MODEL");
    const int n = a.intValue("-n", 32, 0, kMaxGenerate);
    const PromptInput prompt = promptInput(a);
    std::unique_ptr<Model> model = loadModel(modelPath, loadOptions(a));
    std::vector<int32_t> ids;
    for (const TokenInfo &t : prompt.tokens(*model))
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
    if (!text) throw UsageError("tokenize needs --text TEXT");
    std::string tokPath = path;
    if (fs::is_directory(path)) {
        tokPath = findTokenizerInFolder(path);
        if (tokPath.empty())
            throw InputError(
                "no tokenizer file (tokenizer.json, tokenizer.model, tokenizer.bin) in " + path);
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
