#pragma once
// Command-line parsing for headlens-cli: a command's options are declared up front, so an
// unknown or incomplete option is a usage error (exit status 2), never a guess.

#include "headlens/trace/trace.h"

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace HeadLens::Cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> values;
    std::set<std::string> flags;

    bool has(const std::string &opt) const { return values.count(opt) || flags.count(opt); }
    std::optional<std::string> value(const std::string &opt) const;
    std::string value(const std::string &opt, const std::string &fallback) const;
    int intValue(const std::string &opt, int fallback, int min, int max) const;
    int requiredInt(const std::string &opt, int min, int max) const; // UsageError when absent
    // A decimal number (numbertext.h's rule) within [min, max].
    double decimalValue(const std::string &opt, double fallback, double min, double max) const;
    // A site by its name (resid_pre|attn_out|resid_mid|mlp_out|resid_post); nullopt when absent.
    std::optional<Site> siteValue(const std::string &opt) const;
    Site requiredSite(const std::string &opt) const;
    // The value of opt as fromName reads it (fallback when absent); a UsageError that lists
    // `choices` when fromName does not know it.
    template <typename T>
    T choice(const std::string &opt, std::optional<T> (*fromName)(const std::string &), T fallback,
             const char *choices) const
    {
        const auto v = value(opt);
        if (!v) return fallback;
        const std::optional<T> r = fromName(*v);
        if (!r) throw UsageError(opt + " must be one of " + choices + ", not '" + *v + "'");
        return *r;
    }
};

// valueOpts take one argument ("--topk 5" or "--topk=5"); flagOpts take none.
Args parseArgs(const std::vector<std::string> &argv, const std::set<std::string> &valueOpts,
               const std::set<std::string> &flagOpts);

// The one positional argument a command takes (what names it in the usage error).
std::string onePositional(const Args &a, const char *what);

std::vector<int32_t> parseIdList(const std::string &s); // "1,2,3" or "1 2 3"

// Progress on stderr, only when stderr is a terminal (stdout carries only results).
void reportProgress(const std::string &stage, int done, int total);
void endProgress();

int runCommand(const std::vector<std::string> &argv); // the whole program; returns the exit status

// An error message as the CLI and serve print it: its first line, at most about 500 bytes (the
// middle of a longer one is left out, never its end, which says what to do).
std::string errorLine(const std::string &what);

// Limits shared by the command line and serve, so the same request is refused the same way.
constexpr int kMaxTopk = 1000;        // --topk, "topk"
constexpr int kMaxGenerate = 1 << 20; // --generate, -n, "generate", "n"
constexpr int kMaxDecodeSteps = 1000; // decompose -k, "steps"
constexpr int kMaxSubtract = 1000;    // propagate --subtract, "subtract"

} // namespace HeadLens::Cli
namespace HeadLens {
class Model;
struct LoadOptions;
struct TraceOptions;
} // namespace HeadLens
namespace HeadLens::Cli {
// The model options (--tokenizer, --dtype, --threads) and the trace options (--topk, the lens,
// what is stored, --generate) as trace, batch and serve read them.
LoadOptions loadOptions(const Args &a);
TraceOptions traceOptions(const Args &a);
// What traces of these lengths would need and what there is: disk for all of them, memory for
// the largest; oneSave when they go into one copy of the project (batch), not one save each.
// problem is the refusal (empty when they fit); summary the figures in one line.
struct TraceFit {
    int64_t diskNeeded = 0, diskFree = -1, memoryNeeded = 0, memoryAvailable = -1;
    bool sparseAttention = false;
    std::string dir, summary, problem;
};
TraceFit traceFit(const Model &model, const std::string &project,
                  const std::vector<int64_t> &nTokens, const TraceOptions &o, bool oneSave);
// InputError with traceFit's problem, if any.
void checkTracesFit(const Model &model, const std::string &project,
                    const std::vector<int64_t> &nTokens, const TraceOptions &o, bool oneSave);
// InputError with the figures ("needs 31.2 GB on /data, 12.0 GB free") when a trace of nTokens
// tokens with options o cannot fit this machine's free disk (beside project) or memory.
void checkTraceFits(const Model &model, const std::string &project, int64_t nTokens,
                    const TraceOptions &o);

// Makes every project this process opens be read in a forked child first, so that a file
// that crashes libhdf5 is an input error (projectguard.cpp). The engine's main calls it.
void guardProjectOpens();

// Commands (argv without the command word).
int cmdTrace(const std::vector<std::string> &argv);
int cmdGenerate(const std::vector<std::string> &argv);
int cmdTokenize(const std::vector<std::string> &argv);
int cmdInfo(const std::vector<std::string> &argv);
int cmdExport(const std::vector<std::string> &argv);
int cmdBench(const std::vector<std::string> &argv);
int cmdServe(const std::vector<std::string> &argv);
int cmdTrainExample(const std::vector<std::string> &argv);
int cmdBatch(const std::vector<std::string> &argv);
int cmdMerge(const std::vector<std::string> &argv);
int cmdFitLens(const std::vector<std::string> &argv);
int cmdLensKl(const std::vector<std::string> &argv);

} // namespace HeadLens::Cli
