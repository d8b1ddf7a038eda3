// Encoding and decoding with a loaded Hugging Face tokenizer: added tokens, normalizer,
// pre-tokenizer, BPE by merge rank and the post-processor's tokens; the decoder's steps back.

#include "hftokenizer.h"

#include "tokenoffsets.h"
#include "unicodetext.h"

#include "headlens/trace/error.h"

#include <algorithm>
#include <queue>

namespace HeadLens {

namespace {

char32_t firstCodePoint(const std::string &s)
{
    if (s.empty()) return Unicode::kInvalid;
    size_t n;
    return Unicode::decodeAt(s, 0, &n);
}

bool isWordCharacter(char32_t c)
{
    return c != Unicode::kInvalid && (Unicode::isLetter(c) || Unicode::isNumber(c) || c == '_');
}

std::string replaceAll(const std::string &s, const std::string &from, const std::string &to)
{
    if (from.empty()) return s;
    std::string out;
    size_t i = 0;
    for (size_t k; (k = s.find(from, i)) != std::string::npos; i = k + from.size()) {
        out.append(s, i, k - i);
        out += to;
    }
    out.append(s, i, std::string::npos);
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------- encoding

int HfTokenizer::byteValue(int32_t id) const
{
    if (!m_byteFallback || id < 0 || id >= vocabSize() || isAddedToken(id)) return -1;
    const int b = Unicode::parseBytePiece(m_pieces[size_t(id)]);
    return b >= 0 && m_byteFallbackIds[size_t(b)] == id ? b : -1;
}

std::vector<HfTokenizer::Segment> HfTokenizer::splitAdded(std::vector<Unit> units,
                                                          bool normalizedTokens) const
{
    std::vector<const AddedToken *> candidates;
    for (const AddedToken &a : m_added)
        if (a.normalized == normalizedTokens) candidates.push_back(&a);
    std::vector<Segment> out;
    if (candidates.empty() || units.empty()) {
        out.emplace_back(-1, std::move(units));
        return out;
    }
    // Longest first, so that the first match at a position is the longest one there.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const AddedToken *a, const AddedToken *b) {
                         return a->content.size() > b->content.size();
                     });
    std::string s;
    std::vector<int32_t> unitAt; // per byte of s: the unit starting there, or -1
    for (size_t u = 0; u < units.size(); ++u) {
        unitAt.resize(s.size() + units[u].s.size(), -1);
        unitAt[s.size()] = int32_t(u);
        s += units[u].s;
    }
    unitAt.push_back(int32_t(units.size()));
    std::vector<size_t> startOf(units.size() + 1);
    for (size_t b = 0; b < unitAt.size(); ++b)
        if (unitAt[b] >= 0) startOf[size_t(unitAt[b])] = b;

    auto text = [&](size_t from, size_t to) {
        return std::vector<Unit>(units.begin() + long(from), units.begin() + long(to));
    };
    auto space = [&](size_t u) { return Unicode::isWhiteSpace(firstCodePoint(units[u].s)); };
    size_t done = 0, u = 0;
    while (u < units.size()) {
        const AddedToken *match = nullptr;
        size_t end = 0;
        for (const AddedToken *a : candidates) {
            const size_t b = startOf[u];
            if (s.compare(b, a->content.size(), a->content) == 0 &&
                unitAt[b + a->content.size()] >= 0) {
                match = a;
                end = size_t(unitAt[b + a->content.size()]);
                break;
            }
        }
        if (!match) {
            ++u;
            continue;
        }
        if (match->singleWord) {
            const bool before = u > 0 && isWordCharacter(firstCodePoint(units[u - 1].s));
            const bool after = end < units.size() && isWordCharacter(firstCodePoint(units[end].s));
            if (before || after) {
                u = end;
                continue;
            }
        }
        size_t from = u;
        if (match->lstrip)
            while (from > done && space(from - 1))
                --from;
        if (match->rstrip)
            while (end < units.size() && space(end))
                ++end;
        if (done < from) out.emplace_back(-1, text(done, from));
        out.emplace_back(match->id, text(from, end));
        done = u = end;
    }
    if (done < units.size()) out.emplace_back(-1, text(done, units.size()));
    return out;
}

std::vector<HfTokenizer::Unit> HfTokenizer::normalize(std::vector<Unit> units) const
{
    for (const NormalizerStep &step : m_normalizer) {
        if (units.empty()) break;
        if (step.type == NormalizerStep::Prepend) {
            std::vector<Unit> out;
            const int32_t at = units.front().begin;
            for (const std::string &c : Unicode::characters(step.a))
                out.push_back({c, at, at});
            out.insert(out.end(), units.begin(), units.end());
            units = std::move(out);
        } else {
            // Non-overlapping occurrences of step.a, left to right, on whole characters.
            const std::vector<std::string> from = Unicode::characters(step.a),
                                           to = Unicode::characters(step.b);
            std::vector<Unit> out;
            for (size_t u = 0; u < units.size();) {
                bool hit = !from.empty() && u + from.size() <= units.size();
                for (size_t k = 0; hit && k < from.size(); ++k)
                    hit = units[u + k].s == from[k];
                if (!hit) {
                    out.push_back(units[u++]);
                    continue;
                }
                const int32_t b = units[u].begin, e = units[u + from.size() - 1].end;
                for (size_t k = 0; k < to.size(); ++k)
                    out.push_back({to[k], k == 0 ? b : e, e});
                u += from.size();
            }
            units = std::move(out);
        }
    }
    return units;
}

std::vector<std::vector<HfTokenizer::Unit>> HfTokenizer::preTokenize(std::vector<Unit> units) const
{
    std::vector<std::vector<Unit>> pieces;
    pieces.push_back(std::move(units));
    auto splitAt = [](const std::vector<Unit> &piece, const std::vector<size_t> &ends,
                      std::vector<std::vector<Unit>> &out) {
        size_t from = 0;
        for (size_t e : ends) {
            if (e > from) out.emplace_back(piece.begin() + long(from), piece.begin() + long(e));
            from = e;
        }
    };
    auto regexSplit = [&](const std::vector<Unit> &piece, SplitRegex re,
                          std::vector<std::vector<Unit>> &out) {
        std::vector<char32_t> cps;
        cps.reserve(piece.size());
        for (const Unit &u : piece)
            cps.push_back(firstCodePoint(u.s));
        splitAt(piece, splitByRegex(cps, re), out);
    };
    for (const PreTokenizerStep &step : m_preTokenizer) {
        std::vector<std::vector<Unit>> next;
        for (std::vector<Unit> &piece : pieces) {
            if (piece.empty()) continue;
            switch (step.type) {
            case PreTokenizerStep::Split:
                regexSplit(piece, step.regex, next);
                break;
            case PreTokenizerStep::ByteLevel: {
                if (step.addPrefixSpace && piece.front().s != " ")
                    piece.insert(piece.begin(),
                                 Unit{" ", piece.front().begin, piece.front().begin});
                std::vector<std::vector<Unit>> parts;
                if (step.useRegex)
                    regexSplit(piece, SplitRegex::Gpt2, parts);
                else
                    parts.push_back(std::move(piece));
                for (const std::vector<Unit> &part : parts) {
                    std::vector<Unit> bytes;
                    for (const Unit &u : part)
                        for (char c : u.s)
                            bytes.push_back(
                                {Unicode::toUtf8(m_byteToChar[static_cast<unsigned char>(c)]),
                                 u.begin, u.end});
                    next.push_back(std::move(bytes));
                }
                break;
            }
            case PreTokenizerStep::Metaspace: {
                for (Unit &u : piece)
                    if (u.s == " ") u.s = step.replacement;
                const bool prepend =
                    step.prepend == PreTokenizerStep::Always ||
                    (step.prepend == PreTokenizerStep::First && piece.front().begin == 0);
                if (prepend && piece.front().s != step.replacement)
                    piece.insert(piece.begin(),
                                 Unit{step.replacement, piece.front().begin, piece.front().begin});
                if (!step.split) {
                    next.push_back(std::move(piece));
                    break;
                }
                std::vector<size_t> ends; // each replacement starts a piece (MergedWithNext)
                for (size_t k = 1; k < piece.size(); ++k)
                    if (piece[k].s == step.replacement) ends.push_back(k);
                ends.push_back(piece.size());
                splitAt(piece, ends, next);
                break;
            }
            }
        }
        pieces = std::move(next);
    }
    return pieces;
}

void HfTokenizer::bpe(const std::vector<Unit> &word, std::vector<TokenInfo> &out) const
{
    if (word.empty()) return;
    if (m_ignoreMerges) {
        std::string whole;
        for (const Unit &u : word)
            whole += u.s;
        const auto it = m_vocab.find(whole);
        if (it != m_vocab.end()) {
            out.push_back(
                {it->second, displayText(it->second), word.front().begin, word.back().end});
            return;
        }
    }
    // The tokenizers library's Word: symbols in a linked list; a removed symbol has len 0.
    struct Symbol {
        int32_t id;
        int32_t begin, end;
        int prev, next;
        size_t len;
    };
    std::vector<Symbol> symbols;
    auto add = [&](int32_t id, int32_t b, int32_t e, size_t len) {
        const int i = int(symbols.size());
        if (i > 0) symbols.back().next = i;
        symbols.push_back({id, b, e, i - 1, -1, len});
    };
    bool pendingUnk = false;
    Symbol unk{};
    for (const Unit &u : word) {
        const auto it = m_vocab.find(u.s);
        if (it != m_vocab.end()) {
            if (pendingUnk) add(unk.id, unk.begin, unk.end, unk.len);
            pendingUnk = false;
            add(it->second, u.begin, u.end, u.s.size());
            continue;
        }
        if (m_byteFallback) {
            bool all = true;
            for (char c : u.s)
                all = all && m_byteFallbackIds[static_cast<unsigned char>(c)] >= 0;
            if (all) {
                for (char c : u.s)
                    add(m_byteFallbackIds[static_cast<unsigned char>(c)], u.begin, u.end, 1);
                continue;
            }
        }
        if (m_unkToken.empty())
            throw InputError(m_where + ": the character '" + Unicode::readableBytes(u.s) +
                             "' is not in the vocabulary, and the tokenizer has neither "
                             "byte_fallback nor an unk_token");
        const auto unkIt = m_vocab.find(m_unkToken);
        if (unkIt == m_vocab.end())
            throw InputError(m_where + ": the unk_token '" + m_unkToken +
                             "' is not in the vocabulary");
        if (pendingUnk && m_fuseUnk) {
            unk.end = std::max(unk.end, u.end);
            unk.len += u.s.size();
        } else {
            if (pendingUnk) add(unk.id, unk.begin, unk.end, unk.len);
            unk = {unkIt->second, u.begin, u.end, 0, 0, u.s.size()};
            pendingUnk = true;
        }
    }
    if (pendingUnk) add(unk.id, unk.begin, unk.end, unk.len);

    // Merges by rank, the leftmost on equal ranks; stale entries are recognised by the pair
    // at their position no longer making the same token.
    struct Merge {
        int32_t rank;
        int pos;
        int32_t id;
    };
    auto later = [](const Merge &a, const Merge &b) {
        return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    };
    std::priority_queue<Merge, std::vector<Merge>, decltype(later)> queue(later);
    auto find = [&](int32_t a, int32_t b) -> const std::pair<int32_t, int32_t> * {
        const auto it = m_merges.find(pairKey(a, b));
        return it == m_merges.end() ? nullptr : &it->second;
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
        if (const auto *m = find(symbols[i].id, symbols[i + 1].id))
            queue.push({m->first, int(i), m->second});
    while (!queue.empty()) {
        const Merge top = queue.top();
        queue.pop();
        Symbol &cur = symbols[size_t(top.pos)];
        if (cur.len == 0 || cur.next == -1) continue;
        const int nextPos = cur.next;
        const Symbol right = symbols[size_t(nextPos)];
        const auto *m = find(cur.id, right.id);
        if (!m || m->second != top.id) continue;
        cur.id = top.id;
        cur.len += right.len;
        cur.begin = std::min(cur.begin, right.begin);
        cur.end = std::max(cur.end, right.end);
        cur.next = right.next;
        symbols[size_t(nextPos)].len = 0;
        if (right.next > -1) symbols[size_t(right.next)].prev = top.pos;
        if (cur.prev >= 0)
            if (const auto *pm = find(symbols[size_t(cur.prev)].id, cur.id))
                queue.push({pm->first, cur.prev, pm->second});
        if (cur.next >= 0)
            if (const auto *nm = find(cur.id, symbols[size_t(cur.next)].id))
                queue.push({nm->first, top.pos, nm->second});
    }
    for (const Symbol &s : symbols)
        if (s.len != 0) out.push_back({s.id, displayText(s.id), s.begin, s.end});
}

std::vector<TokenInfo> HfTokenizer::encode(const std::string &text, bool addBos) const
{
    std::vector<TokenInfo> out;
    if (addBos)
        for (int32_t id : m_prefix)
            out.push_back({id, displayText(id), -1, -1});
    std::vector<Unit> units;
    int32_t c = 0;
    for (const std::string &ch : Unicode::characters(text)) {
        units.push_back({ch, c, c + 1});
        ++c;
    }
    auto addSpecial = [&](const Segment &seg) {
        out.push_back(
            {seg.first, displayText(seg.first), seg.second.front().begin, seg.second.back().end});
    };
    for (Segment &seg : splitAdded(std::move(units), false)) {
        if (seg.first >= 0) {
            addSpecial(seg);
            continue;
        }
        for (Segment &sub : splitAdded(normalize(std::move(seg.second)), true)) {
            if (sub.first >= 0) {
                addSpecial(sub);
                continue;
            }
            for (const std::vector<Unit> &word : preTokenize(std::move(sub.second)))
                bpe(word, out);
        }
    }
    tileOffsets(out, c);
    if (addBos)
        for (int32_t id : m_suffix)
            out.push_back({id, displayText(id), -1, -1});
    return out;
}

// ---------------------------------------------------------------------------------- decoding

std::string HfTokenizer::byteLevelDecode(const std::string &token) const
{
    std::string bytes;
    for (size_t i = 0; i < token.size();) {
        size_t n;
        const char32_t cp = Unicode::decodeAt(token, i, &n);
        const auto it = m_charToByte.find(cp);
        if (cp == Unicode::kInvalid || it == m_charToByte.end()) return token; // not byte-level
        bytes += char(it->second);
        i += n;
    }
    return bytes;
}

std::string HfTokenizer::decode(const std::vector<int32_t> &ids) const
{
    std::vector<std::string> tokens;
    for (int32_t id : ids) {
        checkId(id);
        if (id == m_bosId || id == m_eosId) continue;
        tokens.push_back(m_pieces[size_t(id)]);
    }
    if (!m_hasDecoder) {
        std::string out;
        for (size_t i = 0; i < tokens.size(); ++i)
            out += (i ? " " : "") + tokens[i];
        return out;
    }
    for (const DecoderStep &step : m_decoder) {
        std::vector<std::string> next;
        switch (step.type) {
        case DecoderStep::ByteLevel: {
            std::string all;
            for (const std::string &t : tokens)
                all += byteLevelDecode(t);
            next.push_back(all);
            break;
        }
        case DecoderStep::Metaspace:
            for (size_t i = 0; i < tokens.size(); ++i)
                next.push_back(
                    replaceAll(tokens[i], step.a, i == 0 && step.prependFirst ? "" : " "));
            break;
        case DecoderStep::Replace:
            for (const std::string &t : tokens)
                next.push_back(replaceAll(t, step.a, step.b));
            break;
        case DecoderStep::ByteFallback: {
            // Runs of <0xXX> pieces become their bytes. The tokenizers library prints U+FFFD
            // for a run that is not UTF-8; the bytes are kept here so that text survives.
            std::string bytes;
            bool inBytes = false;
            for (const std::string &t : tokens) {
                const int b = Unicode::parseBytePiece(t);
                if (b >= 0) {
                    bytes += char(b);
                    inBytes = true;
                    continue;
                }
                if (inBytes) next.push_back(bytes);
                bytes.clear();
                inBytes = false;
                next.push_back(t);
            }
            if (inBytes) next.push_back(bytes);
            break;
        }
        case DecoderStep::Fuse: {
            std::string all;
            for (const std::string &t : tokens)
                all += t;
            next.push_back(all);
            break;
        }
        case DecoderStep::Strip:
            for (const std::string &t : tokens) {
                const std::vector<std::string> chars = Unicode::characters(t);
                size_t from = 0, to = chars.size();
                while (from < to && int(from) < step.start && chars[from] == step.a)
                    ++from;
                while (to > from && int(chars.size() - to) < step.stop && chars[to - 1] == step.a)
                    --to;
                std::string s;
                for (size_t k = from; k < to; ++k)
                    s += chars[k];
                next.push_back(s);
            }
            break;
        }
        tokens = std::move(next);
    }
    std::string out;
    for (const std::string &t : tokens)
        out += t;
    return out;
}

std::string HfTokenizer::piece(int32_t id) const
{
    checkId(id);
    return m_pieces[size_t(id)];
}

std::string HfTokenizer::displayText(int32_t id) const
{
    checkId(id);
    if (!m_hasPiece[size_t(id)]) return "[" + std::to_string(id) + "]";
    const std::string &p = m_pieces[size_t(id)];
    if (isAddedToken(id)) return Unicode::readableBytes(p);
    if (m_byteLevel) return Unicode::readableBytes(byteLevelDecode(p));
    const int b = byteValue(id);
    if (b >= 0) return b == '\n' || b == '\t' ? Unicode::readableByte(unsigned(b)) : p;
    return Unicode::readableBytes(replaceAll(p, m_metaspace, " "));
}

} // namespace HeadLens
