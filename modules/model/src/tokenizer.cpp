// Choosing a tokenizer by its file. Only llama2.c's tokenizer.bin is read so far; the formats of
// Hugging Face models are recognised and refused by name, so that a person learns what to do
// (give --token-ids) instead of reading a parse error about the wrong format.

#include "headlens/model/tokenizer.h"

#include "llama2ctokenizer.h"

#include "headlens/trace/error.h"

#include <filesystem>
#include <fstream>

namespace HeadLens {

namespace fs = std::filesystem;

Tokenizer::~Tokenizer() = default;

namespace {

std::string firstBytes(const std::string &path, size_t n)
{
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

[[noreturn]] void refuseSentencePiece(const std::string &path)
{
    throw InputError("SentencePiece tokenizer.model (" + path +
                     ") is not supported yet; give token ids with --token-ids");
}

[[noreturn]] void refuseJson(const std::string &path)
{
    throw InputError("Hugging Face tokenizer.json (" + path +
                     ") is not supported yet; give token ids with --token-ids");
}

} // namespace

std::unique_ptr<Tokenizer> loadTokenizer(const std::string &path)
{
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        const std::string found = findTokenizerInFolder(path);
        if (found.empty())
            throw InputError("no tokenizer (tokenizer.json, tokenizer.model or tokenizer.bin) in " +
                             path);
        return loadTokenizer(found);
    }
    const fs::path p(path);
    if (p.extension() == ".model") refuseSentencePiece(path);
    if (p.extension() == ".json") refuseJson(path);
    const std::string head = firstBytes(path, 64);
    if (looksLikeJson(head)) refuseJson(path);
    try {
        return Llama2cTokenizer::load(path);
    } catch (const InputError &) {
        // A SentencePiece ModelProto starts with field 1 (pieces), a length-delimited message:
        // 0x0A and a non-zero length. Say so rather than report a damaged tokenizer.bin.
        if (head.size() >= 2 && head[0] == 0x0A && head[1] != 0) refuseSentencePiece(path);
        throw;
    }
}

std::string findTokenizerInFolder(const std::string &folder)
{
    std::error_code ec;
    for (const char *name : {"tokenizer.json", "tokenizer.model", "tokenizer.bin"}) {
        const fs::path p = fs::path(folder) / name;
        if (fs::is_regular_file(p, ec)) return p.string();
    }
    return {};
}

} // namespace HeadLens
