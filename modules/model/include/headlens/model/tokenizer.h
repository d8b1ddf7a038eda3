#pragma once
// Turns text into the ids a model was trained on and back, and shows each token so a person
// can read it. Every implementation promises: offsets point at the prompt characters a token
// came from (Unicode code points, [begin, end)), and decode(encode(text)) == text.

#include "headlens/trace/trace.h"

#include <memory>
#include <string>
#include <vector>

namespace HeadLens {

class Tokenizer {
public:
    virtual ~Tokenizer();
    // Tokens of text, BOS first when addBos and the tokenizer has one.
    virtual std::vector<TokenInfo> encode(const std::string &text, bool addBos) const = 0;
    // The text of ids as the model's own decoder would print it (BOS/EOS dropped).
    virtual std::string decode(const std::vector<int32_t> &ids) const = 0;
    // The raw piece of the vocabulary, as stored in the tokenizer file.
    virtual std::string piece(int32_t id) const = 0;
    // The piece as a person should read it: bytes as <0xE2>, newline as ↵, tab as ⇥.
    virtual std::string displayText(int32_t id) const = 0;
    virtual int vocabSize() const = 0;
    virtual int bosId() const = 0; // -1 when none
    virtual int eosId() const = 0; // -1 when none
    virtual std::string kind() const = 0; // "llama2c", ...
};

// Loads a tokenizer file (llama2.c tokenizer.bin for now). SentencePiece tokenizer.model and
// Hugging Face tokenizer.json are refused by name with InputError until they are supported.
std::unique_ptr<Tokenizer> loadTokenizer(const std::string &path);

// Looks in a Hugging Face model folder for a tokenizer file this build can read; returns an
// empty string when there is none. Throws InputError for one it recognises but cannot read.
std::string findTokenizerInFolder(const std::string &folder);

} // namespace HeadLens
