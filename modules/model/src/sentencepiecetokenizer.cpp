// Encoding and decoding with a SentencePiece model: normalization (the charsmap, whitespace),
// BPE or Unigram segmentation, byte fallback. sentencepieceload.cpp reads the model file.

#include "sentencepiecetokenizer.h"

#include "tokenoffsets.h"
#include "unicodetext.h"

#include "headlens/trace/error.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace HeadLens {

namespace {

const std::string kSpaceSymbol = "\xe2\x96\x81"; // ▁

// SentencePiece's OneCharLen: the length of a UTF-8 sequence from its first byte alone.
size_t oneCharLen(const std::string &s, size_t i)
{
    static const unsigned char kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    const size_t n = kLen[static_cast<unsigned char>(s[i]) >> 4];
    return std::min(n, s.size() - i);
}

// darts-clone's double-array unit.
inline bool unitHasLeaf(uint32_t u)
{
    return ((u >> 8) & 1) == 1;
}
inline uint32_t unitValue(uint32_t u)
{
    return u & ((1U << 31) - 1);
}
inline uint32_t unitLabel(uint32_t u)
{
    return u & ((1U << 31) | 0xFF);
}
inline uint32_t unitOffset(uint32_t u)
{
    return (u >> 10) << ((u & (1U << 9)) >> 6);
}

} // namespace

std::string SentencePieceTokenizer::kind() const
{
    return m_modelType == ModelType::Bpe ? "sentencepiece-bpe" : "sentencepiece-unigram";
}

SentencePieceTokenizer::PieceType SentencePieceTokenizer::pieceType(int32_t id) const
{
    checkId(id);
    return m_pieces[size_t(id)].type;
}

float SentencePieceTokenizer::score(int32_t id) const
{
    checkId(id);
    return m_pieces[size_t(id)].score;
}

int SentencePieceTokenizer::byteValue(int32_t id) const
{
    if (id < 0 || size_t(id) >= m_byteValue.size()) return -1;
    return m_byteValue[size_t(id)];
}

int32_t SentencePieceTokenizer::pieceToId(const std::string &p) const
{
    auto it = m_reservedIds.find(p);
    if (it != m_reservedIds.end()) return it->second;
    it = m_normalIds.find(p);
    if (it != m_normalIds.end()) return it->second;
    return m_unkId;
}

size_t SentencePieceTokenizer::userDefinedPrefix(const std::string &s, size_t i) const
{
    for (const std::string &u : m_userDefined) // longest first
        if (s.compare(i, u.size(), u) == 0) return u.size();
    return 0;
}

size_t SentencePieceTokenizer::charsmapPrefix(const std::string &s, size_t i,
                                              const char **replacement) const
{
    if (m_charsmapUnits.empty()) return 0;
    const std::vector<uint32_t> &units = m_charsmapUnits;
    size_t node = unitOffset(units[0]);
    size_t best = 0;
    uint32_t bestValue = 0;
    for (size_t k = i; k < s.size(); ++k) {
        const auto c = static_cast<unsigned char>(s[k]);
        node ^= c;
        if (node >= units.size()) break;
        const uint32_t unit = units[node];
        if (unitLabel(unit) != c) break;
        node ^= unitOffset(unit);
        if (node >= units.size()) break;
        if (unitHasLeaf(unit)) {
            best = k - i + 1;
            bestValue = unitValue(units[node]);
        }
    }
    if (best == 0 || bestValue >= m_charsmapNormalized.size()) return 0;
    *replacement = m_charsmapNormalized.c_str() + bestValue;
    return best;
}

std::string SentencePieceTokenizer::normalize(const std::string &text,
                                              std::vector<size_t> *normToOrig) const
{
    std::string out;
    std::vector<size_t> map;
    // SentencePiece's NormalizePrefix: a user-defined piece as it is, else the longest rule of
    // the charsmap, else one character (a byte that is not UTF-8 becomes U+FFFD).
    auto prefix = [&](size_t i, std::string *norm) -> size_t {
        if (size_t n = userDefinedPrefix(text, i)) {
            norm->assign(text, i, n);
            return n;
        }
        const char *rep = nullptr;
        if (size_t n = charsmapPrefix(text, i, &rep)) {
            norm->assign(rep);
            return n;
        }
        const size_t n = Unicode::sequenceLength(text, i);
        if (n == 0) {
            norm->assign("\xEF\xBF\xBD");
            return 1;
        }
        norm->assign(text, i, n);
        return n;
    };
    size_t consumed = 0;
    std::string sp;
    if (m_removeExtraWhitespaces) {
        while (consumed < text.size()) {
            const size_t n = prefix(consumed, &sp);
            if (sp != " ") break;
            consumed += n;
        }
    }
    if (consumed < text.size()) {
        auto addSpace = [&] {
            if (m_escapeWhitespaces) {
                out += kSpaceSymbol;
                map.insert(map.end(), kSpaceSymbol.size(), consumed);
            } else {
                out += ' ';
                map.push_back(consumed);
            }
        };
        if (m_addDummyPrefix) addSpace();
        bool prevSpace = m_removeExtraWhitespaces;
        while (consumed < text.size()) {
            const size_t n = prefix(consumed, &sp);
            size_t from = 0;
            while (prevSpace && from < sp.size() && sp[from] == ' ')
                ++from;
            if (from < sp.size()) {
                for (size_t k = from; k < sp.size(); ++k) {
                    if (m_escapeWhitespaces && sp[k] == ' ') {
                        out += kSpaceSymbol;
                        map.insert(map.end(), kSpaceSymbol.size(), consumed);
                    } else {
                        out += sp[k];
                        map.push_back(consumed);
                    }
                }
                prevSpace = sp.back() == ' ';
            }
            consumed += n;
            if (!m_removeExtraWhitespaces) prevSpace = false;
        }
        if (m_removeExtraWhitespaces) {
            const std::string space = m_escapeWhitespaces ? kSpaceSymbol : " ";
            while (out.size() >= space.size() &&
                   out.compare(out.size() - space.size(), space.size(), space) == 0) {
                const size_t length = out.size() - space.size();
                consumed = map[length];
                out.resize(length);
                map.resize(length);
            }
        }
    }
    map.push_back(consumed);
    if (out.empty()) map.assign(1, 0);
    if (normToOrig) *normToOrig = std::move(map);
    return out;
}

std::vector<std::pair<std::pair<size_t, size_t>, int32_t>>
SentencePieceTokenizer::encodeBpe(const std::string &normalized) const
{
    // SentencePiece's BPE: characters (user-defined pieces whole and frozen), then merges of
    // adjacent symbols into the piece of the highest score, the leftmost pair on ties.
    struct Symbol {
        size_t begin, size;
        int prev, next;
        bool freeze;
    };
    std::vector<Symbol> symbols;
    for (size_t i = 0; i < normalized.size();) {
        size_t n = userDefinedPrefix(normalized, i);
        const bool freeze = n > 0;
        if (n == 0) n = oneCharLen(normalized, i);
        const int index = int(symbols.size());
        symbols.push_back({i, n, index - 1, i + n < normalized.size() ? index + 1 : -1, freeze});
        i += n;
    }
    if (symbols.empty()) return {};

    struct Pair {
        int left, right;
        float score;
        size_t size;
    };
    auto worse = [](const Pair &a, const Pair &b) {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
    // Pieces of UNUSED type may be merged through but are cut back into their parts.
    std::unordered_map<std::string, std::pair<std::string, std::string>> revMerge;
    auto view = [&](const Symbol &s) { return normalized.substr(s.begin, s.size); };
    auto maybeAdd = [&](int left, int right) {
        if (left == -1 || right == -1 || symbols[size_t(left)].freeze ||
            symbols[size_t(right)].freeze)
            return;
        const Symbol &l = symbols[size_t(left)], &r = symbols[size_t(right)];
        const std::string piece = normalized.substr(l.begin, l.size + r.size);
        const auto it = m_normalIds.find(piece);
        if (it == m_normalIds.end()) return;
        agenda.push({left, right, m_pieces[size_t(it->second)].score, piece.size()});
        if (m_pieces[size_t(it->second)].type == PieceType::Unused)
            revMerge[piece] = {view(l), view(r)};
    };
    for (size_t i = 1; i < symbols.size(); ++i)
        maybeAdd(int(i) - 1, int(i));
    while (!agenda.empty()) {
        const Pair top = agenda.top();
        agenda.pop();
        Symbol &l = symbols[size_t(top.left)];
        Symbol &r = symbols[size_t(top.right)];
        if (l.size == 0 || r.size == 0 || l.size + r.size != top.size) continue;
        l.size += r.size;
        l.next = r.next;
        if (r.next >= 0) symbols[size_t(r.next)].prev = top.left;
        r.size = 0;
        maybeAdd(l.prev, top.left);
        maybeAdd(top.left, l.next);
    }

    std::vector<std::pair<std::pair<size_t, size_t>, int32_t>> out;
    std::function<void(size_t, size_t)> resegment = [&](size_t begin, size_t size) {
        const std::string w = normalized.substr(begin, size);
        const int32_t id = pieceToId(w);
        const auto p = revMerge.find(w);
        if (m_pieces[size_t(id)].type != PieceType::Unused || p == revMerge.end()) {
            out.push_back({{begin, begin + size}, id});
            return;
        }
        resegment(begin, p->second.first.size());
        resegment(begin + p->second.first.size(), p->second.second.size());
    };
    for (int i = 0; i != -1; i = symbols[size_t(i)].next)
        resegment(symbols[size_t(i)].begin, symbols[size_t(i)].size);
    return out;
}

std::vector<std::pair<std::pair<size_t, size_t>, int32_t>>
SentencePieceTokenizer::encodeUnigram(const std::string &normalized) const
{
    // SentencePiece's optimized Viterbi: the best path ending at every byte position, over the
    // pieces of the trie; a character no piece of its own length covers is <unk>. The number
    // types follow SentencePiece's, so that equal-looking scores compare the same way.
    struct Best {
        int32_t id = -1;
        float score = 0;
        int startsAt = -1;
    };
    const size_t size = normalized.size();
    const float unkScore = m_minScore - 10.0f;
    std::vector<Best> best(size + 1);
    for (size_t start = 0; start < size;) {
        const float till = best[start].score;
        bool hasSingle = false;
        const size_t mblen = oneCharLen(normalized, start);
        uint32_t node = 0;
        for (size_t k = start; k < size; ++k) {
            const auto it =
                m_trieNext.find((uint64_t(node) << 8) | static_cast<unsigned char>(normalized[k]));
            if (it == m_trieNext.end()) break;
            node = it->second;
            const int32_t id = m_trieValue[node];
            if (id < 0) continue;
            const PieceType type = m_pieces[size_t(id)].type;
            if (type == PieceType::Unused) continue;
            const size_t length = k + 1 - start;
            const double s = type == PieceType::UserDefined
                                 ? double(float(length) * m_maxScore) - 0.1
                                 : double(m_pieces[size_t(id)].score);
            const double candidate = s + double(till);
            Best &target = best[k + 1];
            if (target.startsAt == -1 || candidate > double(target.score)) {
                target.score = float(candidate);
                target.startsAt = int(start);
                target.id = id;
            }
            if (!hasSingle && length == mblen) hasSingle = true;
        }
        if (!hasSingle) {
            Best &target = best[start + mblen];
            const float candidate = unkScore + till;
            if (target.startsAt == -1 || candidate > target.score) {
                target.score = candidate;
                target.startsAt = int(start);
                target.id = m_unkId;
            }
        }
        start += mblen;
    }
    std::vector<std::pair<std::pair<size_t, size_t>, int32_t>> out;
    for (size_t end = size; end > 0;) {
        const Best &b = best[end];
        out.push_back({{size_t(b.startsAt), end}, b.id});
        end = size_t(b.startsAt);
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<TokenInfo> SentencePieceTokenizer::encode(const std::string &text, bool addBos) const
{
    std::vector<TokenInfo> out;
    if (addBos && m_addBos && m_bosId >= 0) out.push_back({m_bosId, displayText(m_bosId), -1, -1});
    std::vector<size_t> normToOrig;
    const std::string normalized = normalize(text, &normToOrig);
    const auto pieces =
        m_modelType == ModelType::Bpe ? encodeBpe(normalized) : encodeUnigram(normalized);
    const std::vector<int32_t> charOf = Unicode::characterIndexOfBytes(text);
    bool prevUnk = false;
    const size_t first = out.size();
    for (const auto &p : pieces) {
        const size_t nb = p.first.first, ne = p.first.second;
        const int32_t id = p.second;
        const int32_t begin = charOf[normToOrig[nb]], end = charOf[normToOrig[ne]];
        const bool unk = id == m_unkId;
        if (unk && m_byteFallback) {
            // Every byte of the unknown character, each with the character's range.
            for (size_t k = nb; k < ne; ++k) {
                const int32_t b = m_byteIds[static_cast<unsigned char>(normalized[k])];
                out.push_back({b, displayText(b), begin, end});
            }
        } else if (unk && prevUnk && out.size() > first) {
            out.back().end = end; // a run of unknown characters is one <unk>
        } else {
            out.push_back({id, displayText(id), begin, end});
        }
        prevUnk = unk;
    }
    tileOffsets(out, charOf.back());
    if (addBos && m_addEos && m_eosId >= 0) out.push_back({m_eosId, displayText(m_eosId), -1, -1});
    return out;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t> &ids) const
{
    // As SentencePiece: control pieces print nothing, <unk> its surface " ⁇ ", byte pieces
    // their bytes, other pieces with ▁ as a space; the first piece that prints loses the
    // dummy prefix. Bytes that do not form UTF-8 are kept as they are (SentencePiece would
    // print U+FFFD), so that text -> ids -> text holds for any text.
    std::string out;
    bool atStart = true;
    for (int32_t id : ids) {
        checkId(id);
        const Piece &p = m_pieces[size_t(id)];
        if (p.type == PieceType::Control) continue;
        if (p.type == PieceType::Unknown) {
            out += m_unkSurface;
            atStart = false;
            continue;
        }
        if (p.type == PieceType::Byte) {
            out += char(m_byteValue[size_t(id)]);
            atStart = false;
            continue;
        }
        size_t from = 0;
        if (atStart && m_addDummyPrefix &&
            p.text.compare(0, kSpaceSymbol.size(), kSpaceSymbol) == 0)
            from = kSpaceSymbol.size();
        for (size_t i = from; i < p.text.size();) {
            if (p.text.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
                out += ' ';
                i += kSpaceSymbol.size();
            } else {
                out += p.text[i++];
            }
        }
        atStart = false;
    }
    return out;
}

std::string SentencePieceTokenizer::piece(int32_t id) const
{
    checkId(id);
    return m_pieces[size_t(id)].text;
}

std::string SentencePieceTokenizer::displayText(int32_t id) const
{
    checkId(id);
    const Piece &p = m_pieces[size_t(id)];
    if (p.type == PieceType::Byte) return Unicode::readableByte(unsigned(m_byteValue[size_t(id)]));
    if (p.type == PieceType::Control || p.type == PieceType::Unknown) return p.text;
    std::string s;
    for (size_t i = 0; i < p.text.size();) {
        if (p.text.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
            s += ' ';
            i += kSpaceSymbol.size();
        } else {
            s += p.text[i++];
        }
    }
    return Unicode::readableBytes(s);
}

} // namespace HeadLens
