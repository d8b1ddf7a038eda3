// Loading of SentencePiece tokenizer.model files: the protobuf (pieces, trainer and normalizer
// specs) read into the tokenizer, and its tables built (init). What is not supported is
// refused by name; encoding and decoding are in sentencepiecetokenizer.cpp.

#include "sentencepiecetokenizer.h"

#include "unicodetext.h"

#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cstring>

namespace HeadLens {

namespace {

// Damage found while reading the protobuf, at a byte of the file.
struct ProtoError {
    size_t at;
    std::string what;
};

// A protobuf message in wire format: a sequence of (field number, wire type, value).
class ProtoReader {
public:
    ProtoReader(const std::string &buf, size_t begin, size_t end)
        : m_buf(buf), m_pos(begin), m_end(end)
    {
    }
    bool atEnd() const { return m_pos >= m_end; }
    size_t pos() const { return m_pos; }

    void next(uint32_t *field, int *wire)
    {
        const size_t at = m_pos;
        const uint64_t key = varint();
        *field = uint32_t(key >> 3);
        *wire = int(key & 7);
        if (*field == 0) throw ProtoError{at, "field number 0"};
    }
    uint64_t varint()
    {
        const size_t at = m_pos;
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_pos >= m_end) throw ProtoError{at, "a number is cut off"};
            const auto b = static_cast<unsigned char>(m_buf[m_pos++]);
            v |= uint64_t(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw ProtoError{at, "a number is longer than 10 bytes"};
    }
    // A length-delimited value: its [begin, end) in the buffer.
    std::pair<size_t, size_t> delimited()
    {
        const size_t at = m_pos;
        const uint64_t n = varint();
        if (n > m_end - m_pos) throw ProtoError{at, "a field runs past the end of its message"};
        const size_t b = m_pos;
        m_pos += size_t(n);
        return {b, m_pos};
    }
    std::string string()
    {
        const auto r = delimited();
        return m_buf.substr(r.first, r.second - r.first);
    }
    float fixed32()
    {
        if (m_end - m_pos < 4) throw ProtoError{m_pos, "a number is cut off"};
        uint32_t u = 0;
        for (int k = 0; k < 4; ++k)
            u |= uint32_t(static_cast<unsigned char>(m_buf[m_pos + size_t(k)])) << (8 * k);
        m_pos += 4;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }
    void skip(int wire)
    {
        switch (wire) {
        case 0:
            varint();
            break;
        case 1:   // fixed64
        case 5: { // fixed32
            const size_t n = wire == 1 ? 8 : 4;
            if (m_end - m_pos < n) throw ProtoError{m_pos, "a number is cut off"};
            m_pos += n;
            break;
        }
        case 2:
            delimited();
            break;
        default:
            throw ProtoError{m_pos, "unknown wire type " + std::to_string(wire)};
        }
    }
    // Calls f(field, wire, at) for each field of the message, in order; f reads the field's
    // value (or skips it).
    template <class F> void forEachField(F &&f)
    {
        while (!atEnd()) {
            const size_t at = m_pos;
            uint32_t field;
            int wire;
            next(&field, &wire);
            f(field, wire, at);
        }
    }
    // The message embedded in a field, which must be length-delimited.
    ProtoReader message(int wire, uint32_t field, size_t at)
    {
        expect(wire, 2, field, at);
        const auto r = delimited();
        return ProtoReader(m_buf, r.first, r.second);
    }
    // Reads the value of a field of the expected wire type, or says the file is damaged.
    void expect(int wire, int expected, uint32_t field, size_t at) const
    {
        if (wire != expected)
            throw ProtoError{at, "field " + std::to_string(field) + " has the wire type " +
                                     std::to_string(wire) + " instead of " +
                                     std::to_string(expected)};
    }

private:
    const std::string &m_buf;
    size_t m_pos, m_end;
};

} // namespace

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::load(const std::string &path,
                                                                     const Options &options)
{
    return fromBytes(readInputFile(path, "SentencePiece tokenizer.model", kMaxTextInputBytes), path,
                     options);
}

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::fromBytes(const std::string &bytes,
                                                                          const std::string &path,
                                                                          const Options &options)
{
    const std::string where = "SentencePiece tokenizer.model (" + path + ")";
    if (bytes.empty()) throw InputError(where + " is empty");
    std::unique_ptr<SentencePieceTokenizer> t(new SentencePieceTokenizer);
    std::string bosPiece = "<s>", eosPiece = "</s>", charsmap;
    bool suffix = false;
    int modelType = 1;
    try {
        ProtoReader top(bytes, 0, bytes.size());
        top.forEachField([&](uint32_t field, int wire, size_t at) {
            if (field == 1) { // SentencePiece
                ProtoReader m = top.message(wire, field, at);
                Piece p;
                bool hasPiece = false;
                m.forEachField([&](uint32_t f, int w, size_t a) {
                    if (f == 1) {
                        m.expect(w, 2, f, a);
                        p.text = m.string();
                        hasPiece = true;
                    } else if (f == 2) {
                        m.expect(w, 5, f, a);
                        p.score = m.fixed32();
                    } else if (f == 3) {
                        m.expect(w, 0, f, a);
                        const uint64_t v = m.varint();
                        if (v < 1 || v > 6)
                            throw ProtoError{a, "piece " + std::to_string(t->m_pieces.size()) +
                                                    " has the unknown type " + std::to_string(v)};
                        p.type = PieceType(v);
                    } else {
                        m.skip(w);
                    }
                });
                if (!hasPiece || p.text.empty())
                    throw InputError(where + ": piece " + std::to_string(t->m_pieces.size()) +
                                     " is empty");
                t->m_pieces.push_back(std::move(p));
            } else if (field == 2) { // TrainerSpec
                ProtoReader m = top.message(wire, field, at);
                m.forEachField([&](uint32_t f, int w, size_t a) {
                    if (f == 3 || f == 24 || f == 35) {
                        m.expect(w, 0, f, a);
                        const uint64_t v = m.varint();
                        if (f == 3) modelType = int(v);
                        if (f == 24) suffix = v != 0;
                        if (f == 35) t->m_byteFallback = v != 0;
                    } else if (f == 44 || f == 46 || f == 47) {
                        m.expect(w, 2, f, a);
                        const std::string v = m.string();
                        if (f == 44) t->m_unkSurface = v;
                        if (f == 46) bosPiece = v;
                        if (f == 47) eosPiece = v;
                    } else {
                        m.skip(w);
                    }
                });
            } else if (field == 3) { // NormalizerSpec
                ProtoReader m = top.message(wire, field, at);
                m.forEachField([&](uint32_t f, int w, size_t a) {
                    if (f == 1 || f == 2) {
                        m.expect(w, 2, f, a);
                        (f == 1 ? t->m_normalizerName : charsmap) = m.string();
                    } else if (f >= 3 && f <= 5) {
                        m.expect(w, 0, f, a);
                        const bool v = m.varint() != 0;
                        if (f == 3) t->m_addDummyPrefix = v;
                        if (f == 4) t->m_removeExtraWhitespaces = v;
                        if (f == 5) t->m_escapeWhitespaces = v;
                    } else {
                        m.skip(w);
                    }
                });
            } else {
                top.skip(wire);
            }
        });
    } catch (const ProtoError &e) {
        throw InputError(where + " is truncated or damaged at byte " + std::to_string(e.at) + " (" +
                         e.what + "); it is damaged or not a SentencePiece model");
    }
    if (t->m_pieces.empty()) throw InputError(where + " holds no pieces");
    if (modelType == 3 || modelType == 4)
        throw InputError(where + ": model type " + std::string(modelType == 3 ? "WORD" : "CHAR") +
                         " is not supported (only BPE and UNIGRAM)");
    if (modelType != 1 && modelType != 2)
        throw InputError(where + ": unknown model type " + std::to_string(modelType));
    if (suffix) throw InputError(where + ": treat_whitespace_as_suffix is not supported");
    t->m_modelType = ModelType(modelType);

    // The precompiled charsmap: a uint32 size, a darts-clone double array of that many bytes,
    // then the replacement strings, each ending with '\0'.
    if (!charsmap.empty()) {
        uint32_t trieSize = 0;
        if (charsmap.size() > 4)
            for (int k = 0; k < 4; ++k)
                trieSize |= uint32_t(static_cast<unsigned char>(charsmap[size_t(k)])) << (8 * k);
        if (charsmap.size() <= 4 || trieSize >= charsmap.size() - 4 || trieSize % 4 != 0 ||
            trieSize == 0)
            throw InputError(where + ": the precompiled_charsmap of the normalizer '" +
                             t->m_normalizerName + "' is damaged; it cannot be applied");
        t->m_charsmapUnits.resize(trieSize / 4);
        for (size_t u = 0; u < t->m_charsmapUnits.size(); ++u) {
            uint32_t v = 0;
            for (int k = 0; k < 4; ++k)
                v |= uint32_t(static_cast<unsigned char>(charsmap[4 + 4 * u + size_t(k)]))
                     << (8 * k);
            t->m_charsmapUnits[u] = v;
        }
        t->m_charsmapNormalized = charsmap.substr(4 + trieSize);
    }
    t->init(where);
    // As SentencePiece: BOS and EOS are the CONTROL pieces named by the trainer spec; a piece
    // named by tokenizer_config.json counts whatever its type.
    auto special = [&](const std::string &p, bool fromConfig) -> int32_t {
        auto it = t->m_reservedIds.find(p);
        if (it != t->m_reservedIds.end() &&
            (fromConfig || t->m_pieces[size_t(it->second)].type == PieceType::Control))
            return it->second;
        it = t->m_normalIds.find(p);
        if (fromConfig && it != t->m_normalIds.end()) return it->second;
        return -1;
    };
    t->m_bosId =
        options.bosPiece.empty() ? special(bosPiece, false) : special(options.bosPiece, true);
    t->m_eosId =
        options.eosPiece.empty() ? special(eosPiece, false) : special(options.eosPiece, true);
    t->m_addBos = options.addBos;
    t->m_addEos = options.addEos;
    return t;
}

void SentencePieceTokenizer::init(const std::string &where)
{
    m_byteIds.fill(-1);
    m_byteValue.assign(m_pieces.size(), -1);
    std::array<bool, 256> seenByte{};
    m_minScore = FLT_MAX;
    m_maxScore = FLT_MIN; // as SentencePiece: the largest score, but never below FLT_MIN
    for (size_t i = 0; i < m_pieces.size(); ++i) {
        const Piece &p = m_pieces[i];
        const bool normal = p.type == PieceType::Normal || p.type == PieceType::UserDefined ||
                            p.type == PieceType::Unused;
        if (!(normal ? m_normalIds : m_reservedIds).emplace(p.text, int32_t(i)).second ||
            (normal ? m_reservedIds : m_normalIds).count(p.text))
            throw InputError(where + ": the piece '" + p.text + "' (id " + std::to_string(i) +
                             ") is defined twice");
        if (p.type == PieceType::UserDefined) m_userDefined.push_back(p.text);
        if (p.type == PieceType::Normal) {
            m_minScore = std::min(m_minScore, p.score);
            m_maxScore = std::max(m_maxScore, p.score);
        }
        if (p.type == PieceType::Unknown) {
            if (m_unkId >= 0)
                throw InputError(where + ": there are two UNKNOWN pieces (ids " +
                                 std::to_string(m_unkId) + " and " + std::to_string(i) + ")");
            m_unkId = int32_t(i);
        }
        if (p.type == PieceType::Byte) {
            const int b = Unicode::parseBytePiece(p.text);
            if (b < 0)
                throw InputError(where + ": the BYTE piece '" + p.text + "' (id " +
                                 std::to_string(i) + ") is not of the form <0x00>..<0xFF>");
            if (!m_byteFallback)
                throw InputError(where + ": the BYTE piece '" + p.text +
                                 "' is there although byte_fallback is false");
            m_byteValue[i] = int16_t(b);
            if (!seenByte[size_t(b)]) m_byteIds[size_t(b)] = int32_t(i);
            seenByte[size_t(b)] = true;
        }
    }
    if (m_minScore == FLT_MAX) m_minScore = 0;
    if (m_maxScore == FLT_MIN) m_maxScore = 0;
    if (m_unkId < 0) throw InputError(where + ": there is no UNKNOWN piece (<unk>)");
    if (m_byteFallback)
        for (int b = 0; b < 256; ++b)
            if (!seenByte[size_t(b)])
                throw InputError(where + ": byte_fallback is true but the byte piece " +
                                 Unicode::bytePiece(unsigned(b)) + " is missing");
    std::stable_sort(
        m_userDefined.begin(), m_userDefined.end(),
        [](const std::string &a, const std::string &b) { return a.size() > b.size(); });

    if (m_modelType == ModelType::Unigram) {
        m_trieValue.assign(1, -1);
        for (const auto &kv : m_normalIds) {
            uint32_t node = 0;
            for (char c : kv.first) {
                const uint64_t key = (uint64_t(node) << 8) | static_cast<unsigned char>(c);
                auto it = m_trieNext.find(key);
                if (it == m_trieNext.end()) {
                    it = m_trieNext.emplace(key, uint32_t(m_trieValue.size())).first;
                    m_trieValue.push_back(-1);
                }
                node = it->second;
            }
            m_trieValue[node] = kv.second;
        }
    }
}

} // namespace HeadLens
