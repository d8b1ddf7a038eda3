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
    // "llama2c", "sentencepiece-bpe", "sentencepiece-unigram", "hf-bpe", "hf-bytelevel-bpe",
    // "gpt2-bpe".
    virtual std::string kind() const = 0;

protected:
    // InputError unless id is in 0 .. vocabSize() - 1.
    void checkId(int32_t id) const;
};

// Loads a tokenizer file: llama2.c tokenizer.bin, SentencePiece tokenizer.model, Hugging Face
// tokenizer.json (BPE), or GPT-2's vocab.json (with merges.txt beside it; merges.txt works too),
// recognised by name and content; or a folder (see findTokenizerInFolder). BOS/EOS settings of
// a tokenizer_config.json beside the file apply. What cannot be read exactly as the model's own
// tokenizer reads it is refused by name with InputError.
std::unique_ptr<Tokenizer> loadTokenizer(const std::string &path);

// Looks in a Hugging Face model folder for a tokenizer file, in this order: tokenizer.json,
// tokenizer.model, vocab.json with merges.txt, tokenizer.bin; returns an empty string when there
// is none.
std::string findTokenizerInFolder(const std::string &folder);

} // namespace HeadLens
