#pragma once
// The example models HeadLens trains with its own engine code (issue 6): an "adder" that sums
// three-digit numbers and a "facts" model that knows invented facts. The trainer runs the
// engine's own forward pass (Model::Impl::forward) with trainable weights, so what the lens
// shows afterwards is the very computation that was trained, and writes a Hugging Face folder
// (config.json, model.safetensors in f32, and a tokenizer: tokenizer.json for the adder's
// characters, a llama2.c tokenizer.bin for the facts' words) that Model::load reads.
//
// Also here, because tests and the trainer must agree on them: the tasks' data (which sums
// are held out, the facts, the filler text) and plain writers of the folder's files. This
// header is free of torch, like model.h.

#include "headlens/trace/trace.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace HeadLens {

class Model;

// ---------------------------------------------------------------------------------------------
// Writing a Hugging Face Llama folder without torch.

// One tensor to write: float32 values in row-major order, read where they are (not copied,
// so that writing a 4 GB lens does not hold it twice): they must outlive the write.
struct NamedTensor {
    std::string name;
    std::vector<int64_t> shape;
    const float *values = nullptr;
    size_t count = 0; // the number of values there: the product of shape
};

// A safetensors file of F32 tensors (in the order given; header padded to 8 bytes so every
// tensor is aligned). Streamed beside the target a block at a time and renamed over it.
void writeSafetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                      const std::map<std::string, std::string> &metadata = {});
// config.json of a LlamaForCausalLM with every field parseHfConfig reads.
void writeLlamaConfig(const std::string &path, const ModelConfig &cfg);
// A llama2.c tokenizer.bin: pieces with their merge scores (ids are the indices).
void writeLlama2cTokenizer(const std::string &path, const std::vector<std::string> &pieces,
                           const std::vector<float> &scores);
// A Hugging Face tokenizer.json: a BPE model whose vocabulary is the pieces (ids are the
// indices) without merges, so every piece is a token of its own and text is split into
// characters; no normalizer or pre-tokenizer; the pieces at unkId, bosId and eosId are special
// added tokens, the post-processor puts BOS in front, and the decoder (Fuse) joins the pieces
// without spaces.
void writeCharTokenizerJson(const std::string &path, const std::vector<std::string> &pieces,
                            int unkId, int bosId, int eosId);
// Writes text to path beside-and-rename.
void writeTextFile(const std::string &path, const std::string &text);

// ---------------------------------------------------------------------------------------------
// The tasks. Everything is a pure function of its seed, the same on every machine.
namespace Examples {

// splitmix64: deterministic and portable (std distributions are not).
class Rng {
public:
    explicit Rng(uint64_t seed) : m_state(seed) {}
    uint64_t next();
    int below(int n); // uniform in [0, n)
    double uniform(); // in [0, 1)

private:
    uint64_t m_state;
};

// adder: "a+b=" followed by the sum in four digits, e.g. "587+469=1056" and "123+456=0579";
// one token per character.
// The first answer digit is the carry out of the hundreds: the "carry digit".
constexpr int kAdderDigits = 3;
bool adderHeldOut(int a, int b);       // the 1 pair in 20 that training never sees
std::string adderPrompt(int a, int b); // "587+469="
std::string adderAnswer(int a, int b); // "1056"
bool adderCarryOut(int a, int b);      // a + b >= 1000
int adderCarryCount(int a, int b);     // how many digit columns produce a carry (0..3)
// n pairs drawn uniformly from the held-out pairs (heldOut) or the training pairs.
std::vector<std::pair<int, int>> adderCases(uint64_t seed, int n, bool heldOut);

// facts: invented countries, each with a capital and a good it is known for.
struct Fact {
    std::string subject;  // "Veloria"
    std::string relation; // "capital" or "known_for"
    std::string prompt;   // "The capital of Veloria is"
    std::string answer;   // "Drumm" (the next word; its token is " Drumm")
    std::string sentence; // "The capital of Veloria is Drumm."
};
std::vector<Fact> facts();
// Filler sentences (no facts in them), e.g. "The old miller walks to the green market."
std::string fillerSentence(Rng &rng);
// A prompt for a held-out check: `fillerSentences` fresh filler sentences, then the fact's
// prompt (no filler: just the prompt).
std::string factPrompt(const Fact &f, Rng &rng, int fillerSentences);

// The tokenizer pieces (ids = indices) of each example: the adder's characters (for
// tokenizer.json; <unk> <s> </s> are ids 0 1 2), and the facts' llama2.c pieces with scores.
std::vector<std::string> adderVocabulary();
void factsVocabulary(std::vector<std::string> &pieces, std::vector<float> &scores);

// What the shipped models were made with.
struct Recipe {
    std::string name;
    uint64_t seed = 0;
    int steps = 0;
    ModelConfig config; // vocabSize, bos/eos filled in by the trainer
    double learningRate = 0;
    double weightDecay = 0;
    int warmup = 0;
    int sequencesPerStep = 0;    // packed sequences per step (gradients summed over them)
    int examplesPerSequence = 0; // adder: sums packed in one sequence; facts: documents
};
std::vector<std::string> names();       // "adder", "facts"
Recipe recipe(const std::string &name); // InputError for an unknown name

// Scores through the public Model API (what a user sees): greedy decoding of each prompt.
struct Score {
    int cases = 0;
    int correct = 0;
    double accuracy() const { return cases ? double(correct) / cases : 0.0; }
};
// Greedy exact answers on n held-out sums drawn with seed.
Score scoreAdder(Model &model, uint64_t seed, int n);
// Facts whose answer word the model produces greedily after the prompt preceded by
// `fillerSentences` filler sentences drawn with seed (0: the bare prompt).
Score scoreFacts(Model &model, uint64_t seed, int fillerSentences);

} // namespace Examples

// ---------------------------------------------------------------------------------------------
// Training.

struct TrainProgress {
    int step = 0;
    int steps = 0;
    double loss = 0;      // mean over the last report interval
    double seconds = 0;   // since training began
    double accuracy = -1; // a quick held-out check, when one was made at this step
};

struct TrainOptions {
    std::string name;   // "adder" or "facts"
    std::string outDir; // the Hugging Face folder to write (created; files replaced)
    uint64_t seed = 0;  // 0: the recipe's
    int steps = 0;      // 0: the recipe's
    int threads = 0;    // 0: one per core (train-example passes 1: these models run best on one)
    std::function<void(const TrainProgress &)> progress;
    std::function<void(const std::string &)> log; // lines worth printing
};

struct TrainReport {
    std::string name, outDir;
    uint64_t seed = 0;
    int steps = 0;
    int threads = 0;
    double trainSeconds = 0;
    double finalLoss = 0;
    Examples::Score heldOut;       // through Model::load of the written folder
    Examples::Score heldOutFiller; // facts only: prompts after filler sentences
};

// Trains the named example from its seed and writes the folder; then loads it back with
// Model::load and scores it on held-out cases. InputError for an unknown name.
TrainReport trainExample(const TrainOptions &opts);

} // namespace HeadLens
