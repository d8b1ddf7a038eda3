#include "args.h"

#include "headlens/trace/error.h"
#include "headlens/trace/version.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <new>
#include <unistd.h>

namespace HeadLens::Cli {

std::optional<std::string> Args::value(const std::string &opt) const
{
    auto it = values.find(opt);
    if (it == values.end()) return std::nullopt;
    return it->second;
}

std::string Args::value(const std::string &opt, const std::string &fallback) const
{
    return value(opt).value_or(fallback);
}

int Args::intValue(const std::string &opt, int fallback, int min, int max) const
{
    auto v = value(opt);
    if (!v) return fallback;
    size_t used = 0;
    long n = 0;
    try {
        n = std::stol(*v, &used);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used != v->size() || v->empty())
        throw UsageError(opt + " needs a whole number, not '" + *v + "'");
    if (n < min || n > max)
        throw UsageError(opt + " must be between " + std::to_string(min) + " and " +
                         std::to_string(max) + ", not " + *v);
    return int(n);
}

Args parseArgs(const std::vector<std::string> &argv, const std::set<std::string> &valueOpts,
               const std::set<std::string> &flagOpts)
{
    Args a;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string &s = argv[i];
        if (s.size() > 1 && s[0] == '-' && !(s.size() > 1 && std::isdigit((unsigned char)s[1]))) {
            std::string name = s, val;
            bool inlineVal = false;
            const size_t eq = s.find('=');
            if (s.rfind("--", 0) == 0 && eq != std::string::npos) {
                name = s.substr(0, eq);
                val = s.substr(eq + 1);
                inlineVal = true;
            }
            if (valueOpts.count(name)) {
                if (!inlineVal) {
                    if (i + 1 >= argv.size()) throw UsageError(name + " needs a value");
                    val = argv[++i];
                }
                if (a.values.count(name)) throw UsageError(name + " given twice");
                a.values[name] = val;
            } else if (flagOpts.count(name) && !inlineVal) {
                a.flags.insert(name);
            } else {
                throw UsageError("unknown option " + name);
            }
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

std::string onePositional(const Args &a, const char *what)
{
    if (a.positional.size() != 1)
        throw UsageError(
            std::string("expected one ") + what +
            (a.positional.empty() ? "" : ", got " + std::to_string(a.positional.size())));
    return a.positional[0];
}

std::vector<int32_t> parseIdList(const std::string &s)
{
    std::vector<int32_t> ids;
    std::string cur;
    auto flush = [&] {
        if (cur.empty()) return;
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(cur, &used);
        } catch (const std::exception &) {
            used = 0;
        }
        if (used != cur.size() || v < INT32_MIN || v > INT32_MAX)
            throw InputError("--token-ids: '" + cur + "' is not a token id");
        ids.push_back(int32_t(v));
        cur.clear();
    };
    for (char c : s) {
        if (c == ',' || c == ' ' || c == '\t' || c == '\n')
            flush();
        else
            cur += c;
    }
    flush();
    if (ids.empty()) throw InputError("--token-ids: no ids given");
    return ids;
}

namespace {
bool g_progressShown = false;
}

void reportProgress(const std::string &stage, int done, int total)
{
    if (!isatty(STDERR_FILENO)) return;
    std::fprintf(stderr, "\r%s: %d/%d   ", stage.c_str(), done, total);
    std::fflush(stderr);
    g_progressShown = true;
}

void endProgress()
{
    if (g_progressShown) std::fprintf(stderr, "\r\033[K");
    g_progressShown = false;
}

static const char *kHelp =
    R"(headlens-cli: the engine and scripting face of HeadLens

usage:
  headlens-cli trace MODEL (--prompt TEXT | --prompt-file FILE | --token-ids 1,2,3)
               -o PROJECT.hlproj [--name NAME] [--tokenizer PATH] [--generate N]
               [--topk K] [--lens-norm full|unit|none]
               [--lens-decoder output|input|linear|quadratic|tuned] [--lens LENS]
               [--attention none|f16|f32] [--attention-budget GB]
               [--residuals none|f16|f32] [--store-z]
               [--dtype f32|bf16|f16] [--threads N] [--force]
  headlens-cli batch MODEL --prompts FILE -o PROJECT.hlproj [--shard I/N]
               [the options of trace but the prompt, --name and --force]
               (FILE: a prompt per line, or JSON lines {"name":..., "prompt"|"token_ids":...})
  headlens-cli merge -o PROJECT.hlproj PART.hlproj... [--force]
  headlens-cli fit-lens MODEL --prompts FILE -o LENS.safetensors [--held-out FILE]
               [--steps N] [--seed N] [--batch-tokens N] [--learning-rate X] [--json]
               (a tuned lens; FILE as batch's; --held-out prints the KL table of both lenses)
  headlens-cli lens-kl MODEL --prompts FILE [--lens LENS.safetensors] [--json]
  headlens-cli generate MODEL (--prompt TEXT | --token-ids ...) [-n N] [--tokenizer PATH] [--ids]
  headlens-cli tokenize TOKENIZER_OR_MODEL --text TEXT [--no-bos]
  headlens-cli info PROJECT.hlproj [--json]
  headlens-cli export PROJECT.hlproj --trace NAME --what tokens|lens|logits|heads|attention
               [--site SITE] [--format csv|json] [-o FILE]
  headlens-cli bench MODEL [--tokens N] [--threads N] [--dtype f32|bf16] [--repeat R]
  headlens-cli serve [--model MODEL]      (the engine the workbench drives; app/cli/PROTOCOL.md)
  headlens-cli decompose MODEL PROJECT.hlproj --trace NAME --site SITE --layer L --pos P [-k K]
               [--tokenizer PATH] [--json]      (iterative decoding of one site vector)
  headlens-cli propagate MODEL PROJECT.hlproj --trace NAME --site SITE --layer L --pos P
               (--unchanged | --subtract K | --inject TOKEN | --inject-id ID) [-n N]
               [--name CHILD] [--force] [--tokenizer PATH] [--json]
  headlens-cli attribute MODEL (--prompt TEXT | --prompt-file FILE | --token-ids 1,2,3)
               [--token TOKEN | --token-id ID] [--minus TOKEN | --minus-id ID] [--pos P]
               [--top N] [--tokenizer PATH] [--json]   (direct logit attribution)
  headlens-cli stats PROJECT.hlproj [--trace NAME | --all] [--bins N] [--exclude-bos] [--json]
  headlens-cli correlate PROJECT.hlproj [--trace NAME | --all] [--include-bos] [--json]
  headlens-cli compare PROJECT.hlproj --left TRACE --right TRACE [--name NAME] [--json]
  headlens-cli heads PROJECT.hlproj --similarity [--trace NAME | --all] [--threshold X]
               [--cluster-on jsd|correlation|contribution] [--include-bos] [--json]
  headlens-cli heads MODEL [PROJECT.hlproj] --roles [--trace NAME] [--length N]
               [--sequences N] [--seed S] [--tokenizer PATH] [--dtype D] [--threads N] [--json]
               (what each head selects, on repeated random tokens; stored with the traces)
  headlens-cli patch MODEL (--clean TEXT | --clean-ids IDS) (--corrupted TEXT | --corrupted-ids IDS)
               (--answer TOK | --answer-id N) (--wrong TOK | --wrong-id N) -o PROJECT.hlproj
               [--name NAME] [--heads] [--force] [--json]
               (activation patching: how much of the clean answer each site, layer, position
               and head restores in the corrupted run; stored with the clean prompt's trace)
  headlens-cli train-example adder|facts -o DIR [--seed S] [--steps N] [--threads N]
               (trains an example model of resources/examples; see its README)
  headlens-cli --version | --help

MODEL is a Hugging Face Llama-family folder (config.json + model.safetensors or a sharded
index) or a llama2.c checkpoint file (give its tokenizer.bin with --tokenizer).
Exit status: 0 success, 2 wrong usage, 3 bad input, 1 any other failure.
)";

// The analysis commands (commands_analysis.cpp).
int cmdDecompose(const std::vector<std::string> &argv);
int cmdPropagate(const std::vector<std::string> &argv);
int cmdStats(const std::vector<std::string> &argv);
int cmdCorrelate(const std::vector<std::string> &argv);
int cmdCompare(const std::vector<std::string> &argv);
int cmdHeads(const std::vector<std::string> &argv);
int cmdAttribute(const std::vector<std::string> &argv); // commands_attribute.cpp
int cmdPatch(const std::vector<std::string> &argv);

// An error as one line of at most a few hundred bytes: a 100 KB value quoted from a damaged
// file is not echoed whole, and libtorch's C++ backtrace after the first line is dropped.
std::string errorLine(const std::string &what)
{
    constexpr size_t kHead = 280, kTail = 200; // the middle goes: a message ends with its point
    std::string s = what.substr(0, what.find('\n'));
    if (s.size() <= kHead + kTail) return s;
    auto boundary = [&](size_t i) { // not inside a UTF-8 sequence
        while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
            --i;
        return i;
    };
    const size_t head = boundary(kHead), tail = boundary(s.size() - kTail);
    return s.substr(0, head) + " [" + std::to_string(tail - head) + " bytes left out] " +
           s.substr(tail);
}

int runCommand(const std::vector<std::string> &argv)
{
    std::ios::sync_with_stdio(true);
    try {
        if (argv.empty()) throw UsageError("no command given (try --help)");
        const std::string cmd = argv[0];
        const std::vector<std::string> rest(argv.begin() + 1, argv.end());
        if (cmd == "--help" || cmd == "-h" || cmd == "help") {
            std::cout << kHelp;
            return 0;
        }
        if (cmd == "--version") {
            std::cout << "headlens-cli " << HEADLENS_VERSION << "\n";
            return 0;
        }
        if (cmd == "trace") return cmdTrace(rest);
        if (cmd == "generate") return cmdGenerate(rest);
        if (cmd == "tokenize") return cmdTokenize(rest);
        if (cmd == "info") return cmdInfo(rest);
        if (cmd == "export") return cmdExport(rest);
        if (cmd == "bench") return cmdBench(rest);
        if (cmd == "serve") return cmdServe(rest);
        if (cmd == "decompose") return cmdDecompose(rest);
        if (cmd == "propagate") return cmdPropagate(rest);
        if (cmd == "stats") return cmdStats(rest);
        if (cmd == "correlate") return cmdCorrelate(rest);
        if (cmd == "compare") return cmdCompare(rest);
        if (cmd == "heads") return cmdHeads(rest);
        if (cmd == "train-example") return cmdTrainExample(rest);
        if (cmd == "attribute") return cmdAttribute(rest);
        if (cmd == "batch") return cmdBatch(rest);
        if (cmd == "merge") return cmdMerge(rest);
        if (cmd == "fit-lens") return cmdFitLens(rest);
        if (cmd == "lens-kl") return cmdLensKl(rest);
        if (cmd == "patch") return cmdPatch(rest);
        throw UsageError("unknown command '" + cmd + "' (try --help)");
    } catch (const UsageError &e) {
        endProgress();
        std::cerr << "headlens-cli: usage error: " << errorLine(e.what()) << "\n";
        return 2;
    } catch (const InputError &e) {
        endProgress();
        std::cerr << "headlens-cli: error: " << errorLine(e.what()) << "\n";
        return 3;
    } catch (const std::filesystem::filesystem_error &e) {
        // A path the user gave that cannot be looked at (a symbolic link loop, no permission):
        // bad input, named with its path. Failed writes reach here as runtime_errors instead.
        endProgress();
        std::cerr << "headlens-cli: error: " << e.path1().string() << ": " << e.code().message()
                  << "\n";
        return 3;
    } catch (const Cancelled &) {
        endProgress();
        std::cerr << "headlens-cli: error: cancelled\n";
        return 1;
    } catch (const std::bad_alloc &) {
        endProgress();
        std::cerr << "headlens-cli: error: out of memory\n";
        return 1;
    } catch (const std::exception &e) {
        endProgress();
        std::cerr << "headlens-cli: error: " << errorLine(e.what()) << "\n";
        return 1;
    }
}

} // namespace HeadLens::Cli
