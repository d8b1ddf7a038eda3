// Choosing a tokenizer by its file: llama2.c's tokenizer.bin, SentencePiece's tokenizer.model,
// Hugging Face's tokenizer.json, and GPT-2's vocab.json + merges.txt. What a model folder's
// tokenizer_config.json says about BOS/EOS is read here and handed to the tokenizer.

#include "headlens/model/tokenizer.h"

#include "folderfiles.h"
#include "hftokenizer.h"
#include "llama2ctokenizer.h"
#include "sentencepiecetokenizer.h"

#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace HeadLens {

namespace fs = std::filesystem;

Tokenizer::~Tokenizer() = default;

void Tokenizer::checkId(int32_t id) const
{
    if (id < 0 || id >= vocabSize())
        throw InputError("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                         std::to_string(vocabSize() - 1) + ")");
}

namespace {

std::string firstBytes(const std::string &path, size_t n)
{
    checkInputFile(path, "tokenizer", kMaxTextInputBytes); // no FIFO, no device
    std::ifstream in(path, std::ios::binary);
    std::string s(n, '\0');
    in.read(&s[0], std::streamsize(n));
    s.resize(size_t(in.gcount()));
    return s;
}

// A JSON object: '{' then a key or '}' (a tokenizer.bin whose max_token_length is 123 also
// starts with '{', followed by zero bytes).
bool looksLikeJson(const std::string &head)
{
    size_t i = 0;
    auto skipSpace = [&] {
        while (i < head.size() &&
               (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t'))
            ++i;
    };
    skipSpace();
    if (i >= head.size() || head[i] != '{') return false;
    ++i;
    skipSpace();
    return i < head.size() && (head[i] == '"' || head[i] == '}');
}

// A SentencePiece ModelProto starts with field 1 (pieces), a length-delimited message: 0x0A
// and a non-zero length.
bool looksLikeSentencePiece(const std::string &head)
{
    return head.size() >= 2 && head[0] == 0x0A && head[1] != 0;
}

// tokenizer_config.json beside the tokenizer file: add_bos_token, add_eos_token, bos_token,
// eos_token (a string or an AddedToken object with "content"). A file that is not JSON is
// ignored here: the tokenizer file itself decides.
struct FolderConfig {
    bool hasAddBos = false, addBos = true;
    bool hasAddEos = false, addEos = false;
    std::string bosToken, eosToken;
};

FolderConfig readFolderConfig(const std::string &tokenizerPath)
{
    FolderConfig c;
    const fs::path dir = fs::path(tokenizerPath).parent_path();
    const fs::path p = dir / "tokenizer_config.json";
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return c;
    checkInsideModelFolder(dir.empty() ? fs::path(".") : dir, p, "the tokenizer's settings");
    const nlohmann::json j = nlohmann::json::parse(
        readInputFile(p.string(), "tokenizer settings", kMaxTextInputBytes), nullptr, false);
    if (!j.is_object()) return c;
    auto token = [&](const char *key) -> std::string {
        const auto it = j.find(key);
        if (it == j.end()) return {};
        if (it->is_string()) return it->get<std::string>();
        if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
            return (*it)["content"].get<std::string>();
        return {};
    };
    if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) {
        c.hasAddBos = true;
        c.addBos = j["add_bos_token"].get<bool>();
    }
    if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) {
        c.hasAddEos = true;
        c.addEos = j["add_eos_token"].get<bool>();
    }
    c.bosToken = token("bos_token");
    c.eosToken = token("eos_token");
    return c;
}

std::unique_ptr<Tokenizer> loadSentencePiece(const std::string &path)
{
    const FolderConfig c = readFolderConfig(path);
    SentencePieceTokenizer::Options o;
    o.addBos = c.hasAddBos ? c.addBos : true; // what Llama's tokenizer does by default
    o.addEos = c.hasAddEos ? c.addEos : false;
    o.bosPiece = c.bosToken;
    o.eosPiece = c.eosToken;
    return SentencePieceTokenizer::load(path, o);
}

HfTokenizer::Options hfOptions(const std::string &path)
{
    const FolderConfig c = readFolderConfig(path);
    HfTokenizer::Options o;
    o.hasAddBos = c.hasAddBos;
    o.addBos = c.addBos;
    o.hasAddEos = c.hasAddEos;
    o.addEos = c.addEos;
    o.bosToken = c.bosToken;
    o.eosToken = c.eosToken;
    return o;
}

std::unique_ptr<Tokenizer> loadVocabAndMerges(const std::string &vocab, const std::string &merges)
{
    std::error_code ec;
    if (!fs::is_regular_file(vocab, ec))
        throw InputError("GPT-2 tokenizer: " + vocab + " does not exist (it belongs beside " +
                         merges + ")");
    if (!fs::is_regular_file(merges, ec))
        throw InputError("GPT-2 tokenizer: " + merges + " does not exist (it belongs beside " +
                         vocab + ")");
    return HfTokenizer::loadVocabMerges(vocab, merges, hfOptions(vocab));
}

} // namespace

std::unique_ptr<Tokenizer> loadTokenizer(const std::string &path)
{
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        const std::string found = findTokenizerInFolder(path);
        if (found.empty())
            throw InputError("no tokenizer (tokenizer.json, tokenizer.model, vocab.json with "
                             "merges.txt, or tokenizer.bin) in " +
                             path);
        checkInsideModelFolder(path, found, "the tokenizer");
        return loadTokenizer(found);
    }
    const fs::path p(path);
    const std::string name = p.filename().string();
    const fs::path dir = p.parent_path();
    // The other half of a GPT-2 tokenizer is found beside the half that was named.
    auto sibling = [&](const char *other) {
        const fs::path s = dir / other;
        checkInsideModelFolder(dir.empty() ? fs::path(".") : dir, s,
                               "the tokenizer's " + std::string(other));
        return s.string();
    };
    if (name == "merges.txt") return loadVocabAndMerges(sibling("vocab.json"), path);
    if (name == "vocab.json") return loadVocabAndMerges(path, sibling("merges.txt"));
    if (p.extension() == ".model") return loadSentencePiece(path);
    const std::string head = firstBytes(path, 64);
    if (p.extension() == ".json" || looksLikeJson(head))
        return HfTokenizer::loadJson(path, hfOptions(path));
    try {
        return Llama2cTokenizer::load(path);
    } catch (const InputError &) {
        // Not a tokenizer.bin: say what is wrong with the SentencePiece model it looks like,
        // rather than report a damaged tokenizer.bin.
        if (looksLikeSentencePiece(head)) return loadSentencePiece(path);
        throw;
    }
}

std::string findTokenizerInFolder(const std::string &folder)
{
    std::error_code ec;
    const fs::path dir(folder);
    for (const char *name : {"tokenizer.json", "tokenizer.model"}) {
        const fs::path p = dir / name;
        if (fs::is_regular_file(p, ec)) return p.string();
    }
    if (fs::is_regular_file(dir / "vocab.json", ec) && fs::is_regular_file(dir / "merges.txt", ec))
        return (dir / "vocab.json").string();
    const fs::path bin = dir / "tokenizer.bin";
    if (fs::is_regular_file(bin, ec)) return bin.string();
    return {};
}

} // namespace HeadLens
