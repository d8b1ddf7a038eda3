#pragma once
// llama2.c's tokenizer.bin (as written by its tokenizer.py and read by run.c): a byte-pair
// vocabulary with scores. Encodes exactly as run.c does (BOS, a dummy " " prefix, code points
// with byte fallback, then best-score merges, leftmost on ties), and additionally tracks for
// every token which code points of the original text it came from. Module-private.

#include "headlens/model/tokenizer.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace HeadLens {

class Llama2cTokenizer : public Tokenizer {
public:
    // Reads a tokenizer.bin; InputError naming the file when it is damaged.
    static std::unique_ptr<Llama2cTokenizer> load(const std::string &path);
    // Parses the bytes of a tokenizer.bin; path is only used in messages.
    static std::unique_ptr<Llama2cTokenizer> fromBytes(const std::string &bytes,
                                                       const std::string &path);

    std::vector<TokenInfo> encode(const std::string &text, bool addBos) const override;
    std::string decode(const std::vector<int32_t> &ids) const override;
    std::string piece(int32_t id) const override;
    std::string displayText(int32_t id) const override;
    int vocabSize() const override { return int(m_pieces.size()); }
    int bosId() const override { return vocabSize() > 1 ? 1 : -1; }
    int eosId() const override { return vocabSize() > 2 ? 2 : -1; }
    std::string kind() const override { return "llama2c"; }

    int maxTokenLength() const { return m_maxTokenLength; }
    // The byte a byte-fallback token (<0xE2>) stands for, or -1 for any other token.
    int byteValue(int32_t id) const;

private:
    Llama2cTokenizer(std::vector<std::string> pieces, std::vector<float> scores,
                     int maxTokenLength);
    int32_t lookup(const std::string &piece) const; // -1 when not in the vocabulary

    std::vector<std::string> m_pieces;
    std::vector<float> m_scores;
    std::vector<int16_t> m_byteValue;               // per id: 0..255 for <0xXX> pieces, else -1
    std::array<int32_t, 256> m_byteIds{};           // per byte: its fallback token (unk if none)
    std::unordered_map<std::string, int32_t> m_ids; // piece -> lowest id holding it
    int m_maxTokenLength = 0;
};

} // namespace HeadLens
