#pragma once
// Hugging Face tokenizer.json files with a BPE model, and GPT-2's vocab.json + merges.txt
// (module-private). Reproduces the tokenizers library's pipeline: added tokens matched first
// (leftmost-longest; lstrip, rstrip, single_word; normalized or not), the normalizer, the
// pre-tokenizer, BPE by merge rank, the post-processor's special tokens, and the decoder.
//
// Supported: model BPE (vocab, merges as "a b" strings or [a, b] pairs, unk_token, fuse_unk,
// byte_fallback, ignore_merges); normalizers Sequence, Prepend, Replace (string patterns);
// pre-tokenizers Sequence, ByteLevel (GPT-2's regex), Split with the regex of GPT-2, Llama 3 or
// Qwen 2 (behavior Isolated), Metaspace; post-processors TemplateProcessing, ByteLevel,
// RobertaProcessing, BertProcessing, Sequence; decoders ByteLevel, Metaspace, Replace,
// ByteFallback, Fuse, Strip, Sequence. Everything else is refused by name with InputError
// ("tokenizer.json (PATH): pre-tokenizer X is not supported"), never tokenized differently.

#include "headlens/model/tokenizer.h"

#include "regexsplit.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace HeadLens {

class HfTokenizer : public Tokenizer {
public:
    // What a model folder's tokenizer_config.json says about special tokens.
    struct Options {
        bool hasAddBos = false, addBos = true;
        bool hasAddEos = false, addEos = false;
        std::string bosToken, eosToken;
    };

    static std::unique_ptr<HfTokenizer> loadJson(const std::string &path, const Options &options);
    // Parses the text of a tokenizer.json; path is only used in messages.
    static std::unique_ptr<HfTokenizer> fromJson(const std::string &text, const std::string &path,
                                                 const Options &options);
    static std::unique_ptr<HfTokenizer> loadVocabMerges(const std::string &vocabPath,
                                                        const std::string &mergesPath,
                                                        const Options &options);

    std::vector<TokenInfo> encode(const std::string &text, bool addBos) const override;
    std::string decode(const std::vector<int32_t> &ids) const override;
    std::string piece(int32_t id) const override;
    std::string displayText(int32_t id) const override;
    int vocabSize() const override { return int(m_pieces.size()); }
    int bosId() const override { return m_bosId; }
    int eosId() const override { return m_eosId; }
    std::string kind() const override { return m_kind; }

    bool byteLevel() const { return m_byteLevel; }
    // The byte a byte-fallback piece (<0xE2>) stands for, or -1 for any other token.
    int byteValue(int32_t id) const;
    bool isAddedToken(int32_t id) const { return m_addedById.count(id) > 0; }

    // One character of the text being tokenized: its bytes as the pipeline has made them, and
    // the characters [begin, end) of the original text it stands for (empty for an inserted ▁).
    struct Unit {
        std::string s;
        int32_t begin, end;
    };

private:
    HfTokenizer() = default;
    struct AddedToken {
        int32_t id;
        std::string content;
        bool special = false, lstrip = false, rstrip = false, singleWord = false,
             normalized = false;
    };
    struct NormalizerStep {
        enum Type { Prepend, Replace } type;
        std::string a, b; // Prepend: a; Replace: a -> b
    };
    struct PreTokenizerStep {
        enum Type { Split, ByteLevel, Metaspace } type;
        SplitRegex regex = SplitRegex::Gpt2;
        bool addPrefixSpace = false, useRegex = true;
        std::string replacement;
        enum Prepend { Always, First, Never } prepend = Always;
        bool split = true;
    };
    struct DecoderStep {
        enum Type { ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip } type;
        std::string a, b; // Metaspace: a = replacement; Replace: a -> b; Strip: a = content
        bool prependFirst = true;
        int start = 0, stop = 0;
    };
    using Segment = std::pair<int32_t, std::vector<Unit>>; // (added token id or -1, units)

    // The key of the merge of the tokens a and b in m_merges.
    static uint64_t pairKey(int32_t a, int32_t b)
    {
        return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
    }

    void finish(const Options &options, const std::string &where);
    void addPiece(int32_t id, const std::string &piece);
    std::vector<Segment> splitAdded(std::vector<Unit> units, bool normalizedTokens) const;
    std::vector<Unit> normalize(std::vector<Unit> units) const;
    std::vector<std::vector<Unit>> preTokenize(std::vector<Unit> units) const;
    void bpe(const std::vector<Unit> &word, std::vector<TokenInfo> &out) const;
    std::string byteLevelDecode(const std::string &token) const;

    std::string m_kind, m_where;
    std::vector<std::string> m_pieces; // per id: the vocabulary's piece or the added token's
    std::vector<bool> m_hasPiece;
    std::unordered_map<std::string, int32_t> m_vocab;
    std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> m_merges; // (a, b) -> (rank, id)
    std::string m_unkToken;
    bool m_fuseUnk = false, m_byteFallback = false, m_ignoreMerges = false;
    std::array<int32_t, 256> m_byteFallbackIds{}; // per byte: its <0xXX> piece or -1
    std::vector<AddedToken> m_added;
    std::unordered_map<int32_t, size_t> m_addedById;
    std::vector<NormalizerStep> m_normalizer;
    std::vector<PreTokenizerStep> m_preTokenizer;
    std::vector<DecoderStep> m_decoder;
    bool m_hasDecoder = false;
    std::vector<int32_t> m_prefix, m_suffix; // the post-processor's special tokens
    int32_t m_bosId = -1, m_eosId = -1;
    bool m_byteLevel = false;
    std::string m_metaspace = "\xe2\x96\x81"; // the replacement character shown as a space
    std::array<char32_t, 256> m_byteToChar{};
    std::unordered_map<char32_t, uint8_t> m_charToByte;
};

} // namespace HeadLens
