#pragma once
// SentencePiece tokenizer.model files (Llama 2, Mistral, Yi, T5-style unigram models): an own
// reader of the ModelProto protobuf and own encoders that reproduce libsentencepiece 0.1.97
// (the library itself cannot be linked: it crashes a process that also loads libtorch, see
// PITFALLS.md). Supported: model types BPE and UNIGRAM; piece types NORMAL, UNKNOWN, CONTROL,
// USER_DEFINED, BYTE and UNUSED; byte_fallback; the normalizer's add_dummy_prefix,
// remove_extra_whitespaces and escape_whitespaces; identity normalization and any
// precompiled_charsmap (nmt_nfkc, nfkc, ... are applied from the file's own rules). Refused
// by name: model types WORD and CHAR, treat_whitespace_as_suffix. Module-private.

#include "headlens/model/tokenizer.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace HeadLens {

class SentencePieceTokenizer : public Tokenizer {
public:
    enum class PieceType {
        Normal = 1,
        Unknown = 2,
        Control = 3,
        UserDefined = 4,
        Unused = 5,
        Byte = 6
    };
    enum class ModelType { Unigram = 1, Bpe = 2 };

    // What a Hugging Face model folder says about special tokens (tokenizer_config.json).
    struct Options {
        bool addBos = true;
        bool addEos = false;
        std::string bosPiece; // empty: the model's own (trainer_spec.bos_piece, "<s>")
        std::string eosPiece;
    };

    // Reads a tokenizer.model; InputError naming the file when it is damaged or unsupported.
    static std::unique_ptr<SentencePieceTokenizer> load(const std::string &path,
                                                        const Options &options);
    static std::unique_ptr<SentencePieceTokenizer>
    fromBytes(const std::string &bytes, const std::string &path, const Options &options);

    std::vector<TokenInfo> encode(const std::string &text, bool addBos) const override;
    std::string decode(const std::vector<int32_t> &ids) const override;
    std::string piece(int32_t id) const override;
    std::string displayText(int32_t id) const override;
    int vocabSize() const override { return int(m_pieces.size()); }
    int bosId() const override { return m_bosId; }
    int eosId() const override { return m_eosId; }
    std::string kind() const override;

    ModelType modelType() const { return m_modelType; }
    PieceType pieceType(int32_t id) const;
    float score(int32_t id) const;
    int unkId() const { return m_unkId; }
    bool byteFallback() const { return m_byteFallback; }
    const std::string &normalizerName() const { return m_normalizerName; }
    // The byte a byte piece (<0xE2>) stands for, or -1 for any other token.
    int byteValue(int32_t id) const;
    // The text as the model's normalizer sees it (▁ for spaces, the dummy prefix, the charsmap
    // applied), and for every byte of it the byte of text it came from (one more entry at the
    // end: where the text ends).
    std::string normalize(const std::string &text, std::vector<size_t> *normToOrig) const;

private:
    SentencePieceTokenizer() = default;
    void init(const std::string &where);
    int32_t pieceToId(const std::string &piece) const; // SentencePiece's PieceToId (unk if none)
    // Longest user-defined piece at s[i] (0 if none).
    size_t userDefinedPrefix(const std::string &s, size_t i) const;
    // Longest rule of the precompiled charsmap at s[i]: its length (0 if none) and replacement.
    size_t charsmapPrefix(const std::string &s, size_t i, const char **replacement) const;
    // Pieces (normalized text, id) as the model cuts the normalized text.
    std::vector<std::pair<std::pair<size_t, size_t>, int32_t>>
    encodeBpe(const std::string &normalized) const;
    std::vector<std::pair<std::pair<size_t, size_t>, int32_t>>
    encodeUnigram(const std::string &normalized) const;

    struct Piece {
        std::string text;
        float score = 0;
        PieceType type = PieceType::Normal;
    };
    std::vector<Piece> m_pieces;
    // SentencePiece's two maps: NORMAL, USER_DEFINED and UNUSED pieces, and the reserved rest.
    std::unordered_map<std::string, int32_t> m_normalIds, m_reservedIds;
    std::vector<std::string> m_userDefined; // longest first
    std::vector<int16_t> m_byteValue;       // per id: 0..255 for byte pieces, else -1
    std::array<int32_t, 256> m_byteIds{};   // per byte: its piece (-1 when none)
    ModelType m_modelType = ModelType::Unigram;
    bool m_byteFallback = false;
    int32_t m_unkId = -1, m_bosId = -1, m_eosId = -1;
    bool m_addBos = true, m_addEos = false;
    std::string m_unkSurface = " \xE2\x81\x87 ";
    // Unigram: a byte trie over the NORMAL, USER_DEFINED and UNUSED pieces.
    std::unordered_map<uint64_t, uint32_t> m_trieNext; // (node << 8 | byte) -> node
    std::vector<int32_t> m_trieValue;                  // per node: piece id or -1
    float m_minScore = 0, m_maxScore = 0;
    // Normalizer.
    std::string m_normalizerName;
    bool m_addDummyPrefix = true, m_removeExtraWhitespaces = true, m_escapeWhitespaces = true;
    std::vector<uint32_t> m_charsmapUnits; // darts-clone double array; empty: identity
    std::string m_charsmapNormalized;      // '\0'-separated replacements
};

} // namespace HeadLens
