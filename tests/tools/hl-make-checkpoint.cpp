// hl-make-checkpoint: writes a random Llama-family model, for examples, tests and benchmarks.
//
//   hl-make-checkpoint OUT [--layers N] [--d-model D] [--heads H] [--kv-heads K] [--ffn F]
//                      [--vocab V] [--seq S] [--seed S] [--dtype F32|F16|BF16] [--tied]
//                      [--shards N] [--tokenizer-bin PATH] [--rope-theta X]
//                      [--llama2c 0|1]
//
// OUT is a Hugging Face folder (config.json + safetensors), or with --llama2c a llama2.c
// checkpoint file of that version. The weights depend only on the options and the seed.

#include "testmodel.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

using namespace HeadLens;

namespace {

const char *kUsage =
    "usage: hl-make-checkpoint OUT [--layers N] [--d-model D] [--heads H] [--kv-heads K]\n"
    "                          [--ffn F] [--vocab V] [--seq S] [--seed S]\n"
    "                          [--dtype F32|F16|BF16] [--tied] [--shards N]\n"
    "                          [--tokenizer-bin PATH] [--rope-theta X] [--llama2c 0|1]\n"
    "Writes a random Llama model: a Hugging Face folder OUT, or a llama2.c file with --llama2c.\n";

[[noreturn]] void usageError(const std::string &msg)
{
    std::fprintf(stderr, "hl-make-checkpoint: %s\n%s", msg.c_str(), kUsage);
    std::exit(2);
}

long parseInt(const std::string &opt, const std::string &s, long lo, long hi)
{
    char *end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < lo || v > hi)
        usageError(opt + " wants an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                   "], not '" + s + "'");
    return v;
}

} // namespace

int main(int argc, char **argv)
{
    std::string out;
    int layers = 2, dModel = 64, heads = 4, kvHeads = -1, ffn = -1, vocab = 512, seq = 256;
    int shards = 1, llama2c = -1;
    unsigned long long seed = 1;
    double theta = 10000.0;
    bool tied = false;
    std::string dtype = "F32", tokenizerBin;

    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usageError(a + " needs a value");
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--layers") {
            layers = int(parseInt(a, value(), 1, 1000));
        } else if (a == "--d-model") {
            dModel = int(parseInt(a, value(), 2, 1 << 16));
        } else if (a == "--heads") {
            heads = int(parseInt(a, value(), 1, 1024));
        } else if (a == "--kv-heads") {
            kvHeads = int(parseInt(a, value(), 1, 1024));
        } else if (a == "--ffn") {
            ffn = int(parseInt(a, value(), 1, 1 << 18));
        } else if (a == "--vocab") {
            vocab = int(parseInt(a, value(), 3, 1 << 20));
        } else if (a == "--seq") {
            seq = int(parseInt(a, value(), 1, 1 << 20));
        } else if (a == "--seed") {
            seed = static_cast<unsigned long long>(parseInt(a, value(), 0, 0x7fffffffL));
        } else if (a == "--dtype") {
            dtype = value();
            if (dtype != "F32" && dtype != "F16" && dtype != "BF16")
                usageError("--dtype wants F32, F16 or BF16, not '" + dtype + "'");
        } else if (a == "--tied") {
            tied = true;
        } else if (a == "--shards") {
            shards = int(parseInt(a, value(), 1, 99));
        } else if (a == "--tokenizer-bin") {
            tokenizerBin = value();
        } else if (a == "--rope-theta") {
            const std::string v = value();
            char *end = nullptr;
            theta = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !(theta > 1.0))
                usageError("--rope-theta wants a number > 1, not '" + v + "'");
        } else if (a == "--llama2c") {
            llama2c = int(parseInt(a, value(), 0, 1));
        } else if (!a.empty() && a[0] == '-') {
            usageError("unknown option " + a);
        } else if (out.empty()) {
            out = a;
        } else {
            usageError("more than one output path");
        }
    }
    if (out.empty()) usageError("no output path");
    if (kvHeads < 0) kvHeads = heads;
    if (dModel % heads != 0 || (dModel / heads) % 2 != 0)
        usageError("--d-model must be a multiple of 2 * --heads");
    if (heads % kvHeads != 0) usageError("--heads must be a multiple of --kv-heads");
    if (ffn < 0) ffn = ((8 * dModel / 3) + 7) / 8 * 8;

    try {
        ModelConfig cfg = Test::llamaConfig(layers, dModel, heads, kvHeads, ffn, vocab, seq);
        cfg.tiedEmbeddings = tied;
        cfg.ropeTheta = theta;
        const Test::LlamaWeights w = Test::randomLlama(cfg, seed);
        if (llama2c >= 0) {
            if (dtype != "F32" || shards != 1 || !tokenizerBin.empty())
                usageError("--llama2c writes float32 in one file, without a tokenizer");
            Test::writeLlama2c(out, w, llama2c);
        } else {
            Test::HfWriteOptions opts;
            opts.dtype = dtype;
            opts.shards = shards;
            opts.tokenizerBin = tokenizerBin;
            Test::writeHfFolder(out, w, opts);
        }
        std::printf("%s: llama, %d layers, d_model %d, %d heads (%d kv), ffn %d, vocab %d, "
                    "seq %d, %s%s, seed %llu\n",
                    out.c_str(), layers, dModel, heads, kvHeads, ffn, vocab, seq,
                    llama2c >= 0 ? (llama2c ? "llama2.c v1" : "llama2.c v0") : dtype.c_str(),
                    tied ? ", tied" : "", seed);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "hl-make-checkpoint: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
