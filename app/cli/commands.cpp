// The command line's face: its help, and runCommand, which runs a command and maps what it
// throws to the exit status of CLI.md.

#include "args.h"

#include "headlens/trace/error.h"
#include "headlens/trace/version.h"

#include <filesystem>
#include <iostream>
#include <new>

namespace HeadLens::Cli {

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

// The analysis commands.
int cmdDecompose(const std::vector<std::string> &argv); // commands_edit.cpp
int cmdPropagate(const std::vector<std::string> &argv);
int cmdStats(const std::vector<std::string> &argv); // commands_stats.cpp
int cmdCorrelate(const std::vector<std::string> &argv);
int cmdCompare(const std::vector<std::string> &argv);   // commands_compare.cpp
int cmdHeads(const std::vector<std::string> &argv);     // commands_heads.cpp
int cmdAttribute(const std::vector<std::string> &argv); // commands_attribute.cpp
int cmdPatch(const std::vector<std::string> &argv);

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
