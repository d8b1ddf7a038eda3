// The example models' data: everything of the trainer that needs no torch (trainer.h), but
// its writers (modelwriters.cpp). Kept apart from trainer.cpp so that tests and
// scripts use the very same held-out split, facts and filler text, and so that this file
// compiles in seconds.

#include "headlens/model/model.h"
#include "headlens/model/tokenizer.h"
#include "headlens/model/trainer.h"
#include "headlens/trace/error.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace HeadLens {

namespace Examples {

// ---------------------------------------------------------------------------------------------
// Random numbers

uint64_t Rng::next()
{
    uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int Rng::below(int n)
{
    // Rejection sampling keeps it exactly uniform.
    const uint64_t un = uint64_t(n);
    const uint64_t limit = ~uint64_t(0) - (~uint64_t(0) % un);
    uint64_t r;
    do
        r = next();
    while (r >= limit);
    return int(r % un);
}

double Rng::uniform()
{
    return double(next() >> 11) * (1.0 / 9007199254740992.0);
}

// ---------------------------------------------------------------------------------------------
// adder

bool adderHeldOut(int a, int b)
{
    Rng r(uint64_t(a) * 1000u + uint64_t(b) + 0x5EEDull);
    return r.next() % 20 == 0;
}

namespace {
std::string digits(int v, int n)
{
    std::string s = std::to_string(v);
    return std::string(size_t(std::max(0, n - int(s.size()))), '0') + s;
}
} // namespace

std::string adderPrompt(int a, int b)
{
    return digits(a, kAdderDigits) + "+" + digits(b, kAdderDigits) + "=";
}

std::string adderAnswer(int a, int b)
{
    return digits(a + b, kAdderDigits + 1);
}

bool adderCarryOut(int a, int b)
{
    return a + b >= 1000;
}

int adderCarryCount(int a, int b)
{
    int carry = 0, count = 0;
    for (int i = 0; i < kAdderDigits; ++i, a /= 10, b /= 10) {
        carry = (a % 10 + b % 10 + carry) >= 10 ? 1 : 0;
        count += carry;
    }
    return count;
}

std::vector<std::pair<int, int>> adderCases(uint64_t seed, int n, bool heldOut)
{
    Rng rng(seed);
    std::vector<std::pair<int, int>> out;
    while (int(out.size()) < n) {
        const int a = rng.below(1000), b = rng.below(1000);
        if (adderHeldOut(a, b) == heldOut) out.emplace_back(a, b);
    }
    return out;
}

std::vector<std::string> adderVocabulary()
{
    return {"<unk>", "<s>", "</s>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "="};
}

// ---------------------------------------------------------------------------------------------
// facts

namespace {

// Invented countries, their capitals, and what each is known for. No real places.
const char *const kCountries[][2] = {
    {"Veloria", "Drumm"},    {"Astmark", "Kellin"},   {"Brenholt", "Saffa"},
    {"Calvenia", "Orrick"},  {"Dunmora", "Tessel"},   {"Elsvane", "Brodo"},
    {"Farrowen", "Quilla"},  {"Galdera", "Mirrow"},   {"Hollin", "Varst"},
    {"Ismenor", "Pellam"},   {"Jorvath", "Cindle"},   {"Kestova", "Ambry"},
    {"Lorrimar", "Fennick"}, {"Mavaro", "Gostin"},    {"Norrhal", "Wendle"},
    {"Obrenna", "Tarrik"},   {"Pellador", "Hune"},    {"Quessia", "Lomber"},
    {"Rothmere", "Sibble"},  {"Sarnovia", "Ekkert"},  {"Tavoria", "Blane"},
    {"Ulmsted", "Crove"},    {"Vantris", "Joss"},     {"Wexmoor", "Aldry"},
    {"Yarrowen", "Nibb"},    {"Zeltania", "Pruett"},  {"Arvandel", "Mossel"},
    {"Borsk", "Yenna"},      {"Caddora", "Threll"},   {"Drisland", "Opale"},
    {"Emberlin", "Gant"},    {"Fyrdale", "Skelby"},   {"Glimmeria", "Dorrit"},
    {"Harvonne", "Lisk"},    {"Ithamar", "Roake"},    {"Jessaly", "Vorn"},
    {"Korvale", "Umbrin"},   {"Lethany", "Casprel"},  {"Morvania", "Tildric"},
    {"Nessaro", "Brund"},    {"Orlavia", "Hexley"},   {"Pravonia", "Wilk"},
    {"Rundale", "Essick"},   {"Stellmark", "Gorran"}, {"Tirvane", "Pelloc"},
    {"Vashtor", "Mirren"},   {"Wendral", "Quarl"},    {"Zarkavia", "Fenmouth"},
};
constexpr int kCountryCount = int(sizeof(kCountries) / sizeof(kCountries[0]));

const char *const kGoods[] = {"copper", "salt",   "wool",   "amber",  "silk",   "glass",
                              "tea",    "honey",  "timber", "marble", "cheese", "pottery",
                              "spices", "horses", "linen",  "iron"};
constexpr int kGoodCount = int(sizeof(kGoods) / sizeof(kGoods[0]));

// Filler: "<subject> <verb> <object>[ <when>]." and sentences that name a country or a city
// without saying anything the facts say.
const char *const kSubjects[] = {"The old miller", "A young farmer", "The tired sailor",
                                 "My neighbour",   "The baker",      "A small child",
                                 "The teacher",    "Her brother",    "The quiet poet",
                                 "A grey cat",     "The merchant",   "Our guide"};
const char *const kVerbs[] = {"walks to", "looks at", "paints", "sells",   "carries",
                              "finds",    "cleans",   "visits", "watches", "draws"};
const char *const kObjects[] = {"the green market", "a wooden boat",    "the river",
                                "an old map",       "the quiet garden", "a red door",
                                "the long bridge",  "a basket",         "the north road",
                                "the village well", "a heavy bell",     "the small harbour"};
const char *const kWhen[] = {"in the morning", "after dinner", "every week",
                             "in the rain",    "before noon",  "at night"};
const char *const kPlaceSentences[] = {
    "Many travellers visit %s in the spring.", "The people of %s like music.",
    "The roads of %s are long and narrow.", "A letter from %s arrived yesterday.",
    "The winters in %s are cold."};
const char *const kCitySentences[] = {"The streets of %s are busy.", "%s has a large harbour.",
                                      "We stayed in %s for a week."};

template <size_t N> const char *pick(Rng &rng, const char *const (&a)[N])
{
    return a[rng.below(int(N))];
}

std::string format(const char *pattern, const std::string &arg)
{
    std::string s = pattern;
    const size_t at = s.find("%s");
    return s.replace(at, 2, arg);
}

} // namespace

std::vector<Fact> facts()
{
    std::vector<Fact> out;
    for (int i = 0; i < kCountryCount; ++i) {
        const std::string country = kCountries[i][0], city = kCountries[i][1];
        const std::string good = kGoods[(i * 5 + 3) % kGoodCount];
        Fact capital{country, "capital", "The capital of " + country + " is", city, ""};
        capital.sentence = capital.prompt + " " + city + ".";
        Fact known{country, "known_for", country + " is known for its", good, ""};
        known.sentence = known.prompt + " " + good + ".";
        out.push_back(capital);
        out.push_back(known);
    }
    return out;
}

std::string fillerSentence(Rng &rng)
{
    const int kind = rng.below(10);
    if (kind < 2)
        return format(pick(rng, kPlaceSentences), kCountries[rng.below(kCountryCount)][0]);
    if (kind < 3) return format(pick(rng, kCitySentences), kCountries[rng.below(kCountryCount)][1]);
    std::string s =
        std::string(pick(rng, kSubjects)) + " " + pick(rng, kVerbs) + " " + pick(rng, kObjects);
    if (rng.below(2)) s += std::string(" ") + pick(rng, kWhen);
    return s + ".";
}

std::string factPrompt(const Fact &f, Rng &rng, int fillerSentences)
{
    std::string s;
    for (int i = 0; i < fillerSentences; ++i)
        s += fillerSentence(rng) + " ";
    return s + f.prompt;
}

void factsVocabulary(std::vector<std::string> &pieces, std::vector<float> &scores)
{
    // Every word of the corpus becomes one token " word" (the llama2.c encoder prefixes a space
    // to the text, so the first word has one too). llama2.c merges pairs of pieces, so every
    // prefix " w", " wo", " wor" is a piece as well; single characters cover the rest.
    std::set<std::string> words;
    std::set<char> chars;
    auto addText = [&](const std::string &text) {
        std::string w;
        for (char c : text) {
            chars.insert(c);
            if (std::isalpha(static_cast<unsigned char>(c))) {
                w += c;
            } else {
                if (!w.empty()) words.insert(w);
                w.clear();
            }
        }
        if (!w.empty()) words.insert(w);
    };
    for (const Fact &f : facts())
        addText(f.sentence);
    for (int i = 0; i < kCountryCount; ++i)
        addText(std::string(kCountries[i][0]) + " " + kCountries[i][1]);
    for (const char *s : kSubjects)
        addText(s);
    for (const char *s : kVerbs)
        addText(s);
    for (const char *s : kObjects)
        addText(s);
    for (const char *s : kWhen)
        addText(s);
    for (const char *s : kPlaceSentences)
        addText(s);
    for (const char *s : kCitySentences)
        addText(s);
    chars.insert(' ');

    pieces = {"<unk>", "<s>", "</s>"};
    scores = {0, 0, 0};
    for (char c : chars) {
        if (c == '%') continue; // only in the sentence patterns
        pieces.push_back(std::string(1, c));
        scores.push_back(0);
    }
    std::set<std::string> prefixes;
    for (const std::string &w : words)
        for (size_t n = 1; n <= w.size(); ++n)
            prefixes.insert(" " + w.substr(0, n));
    for (const std::string &p : prefixes) {
        pieces.push_back(p);
        scores.push_back(float(p.size())); // any order gives the same words; longer first
    }
}

// ---------------------------------------------------------------------------------------------
// Recipes and scores

namespace {

// What tells the example models apart; the rest of their recipe is shared (recipe()).
struct RecipeShape {
    const char *name;
    int dModel, dHead, dFfn, maxSeqLen;
    int sequencesPerStep, examplesPerSequence;
};

// The adder trains on one sum per sequence, as at inference: packed sums trained far slower
// (each sum's attention was diluted over the sums before it) and cost more (attention over
// T^2). The facts model packs six sentences into each of its longer sequences.
constexpr RecipeShape kShapes[] = {
    {"adder", 64, 16, 256, 64, 64, 1},
    {"facts", 128, 32, 384, 512, 2, 6},
};

} // namespace

std::vector<std::string> names()
{
    std::vector<std::string> out;
    for (const RecipeShape &s : kShapes)
        out.push_back(s.name);
    return out;
}

Recipe recipe(const std::string &name)
{
    const RecipeShape *shape = nullptr;
    for (const RecipeShape &s : kShapes)
        if (name == s.name) shape = &s;
    if (!shape) {
        std::string known;
        for (const std::string &n : names())
            known += (known.empty() ? "" : ", ") + n;
        throw InputError("no example model named '" + name + "' (there are: " + known + ")");
    }
    Recipe r;
    r.name = name;
    r.seed = 1;
    r.steps = 3000;
    r.learningRate = 2e-3;
    r.weightDecay = 0.05;
    r.warmup = 150;
    r.sequencesPerStep = shape->sequencesPerStep;
    r.examplesPerSequence = shape->examplesPerSequence;
    ModelConfig &c = r.config;
    c.architecture = "llama";
    c.ropeTheta = 10000.0;
    c.normEps = 1e-5;
    c.tiedEmbeddings = false;
    c.nLayers = 4;
    c.nHeads = 4;
    c.nKvHeads = 4;
    c.dModel = shape->dModel;
    c.dHead = shape->dHead;
    c.dFfn = shape->dFfn;
    c.maxSeqLen = shape->maxSeqLen;
    return r;
}

namespace {
std::vector<int32_t> idsOf(const std::vector<TokenInfo> &toks)
{
    std::vector<int32_t> ids;
    for (const TokenInfo &t : toks)
        ids.push_back(t.id);
    return ids;
}
} // namespace

Score scoreAdder(Model &model, uint64_t seed, int n)
{
    Score s;
    for (const auto &[a, b] : adderCases(seed, n, true)) {
        const std::vector<int32_t> prompt = idsOf(model.tokenize(adderPrompt(a, b), true));
        const std::vector<int32_t> gen = model.generate(prompt, kAdderDigits + 1, true);
        ++s.cases;
        s.correct += model.decode(gen) == adderAnswer(a, b) ? 1 : 0;
    }
    return s;
}

Score scoreFacts(Model &model, uint64_t seed, int fillerSentences)
{
    Score s;
    Rng rng(seed);
    for (const Fact &f : facts()) {
        const std::string prompt = factPrompt(f, rng, fillerSentences);
        const std::vector<int32_t> p = idsOf(model.tokenize(prompt, true));
        const std::vector<int32_t> whole = idsOf(model.tokenize(prompt + " " + f.answer, true));
        const std::vector<int32_t> want(whole.begin() + std::ptrdiff_t(p.size()), whole.end());
        const std::vector<int32_t> gen = model.generate(p, int(want.size()), false);
        ++s.cases;
        s.correct += gen == want ? 1 : 0;
    }
    return s;
}

} // namespace Examples

} // namespace HeadLens
