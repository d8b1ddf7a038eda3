#include "llama2ctokenizer.h"

#include "unicodetext.h"

#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <queue>
#include <sstream>

namespace HeadLens {

namespace {

// run.c never merges a pair scoring at or below its starting best score.
constexpr float kNoMergeScore = -1e10f;

} // namespace

Llama2cTokenizer::Llama2cTokenizer(std::vector<std::string> pieces, std::vector<float> scores,
                                   int maxTokenLength)
    : m_pieces(std::move(pieces)), m_scores(std::move(scores)), m_maxTokenLength(maxTokenLength)
{
    m_byteIds.fill(0); // <unk> when the vocabulary lacks a byte token
    std::array<bool, 256> seen{};
    m_byteValue.assign(m_pieces.size(), -1);
    m_ids.reserve(m_pieces.size() * 2);
    for (size_t i = 0; i < m_pieces.size(); ++i) {
        m_ids.emplace(m_pieces[i], int32_t(i));
        const int b = Unicode::parseBytePiece(m_pieces[i]);
        m_byteValue[i] = int16_t(b);
        if (b >= 0 && !seen[size_t(b)]) {
            seen[size_t(b)] = true;
            m_byteIds[size_t(b)] = int32_t(i);
        }
    }
}

std::unique_ptr<Llama2cTokenizer> Llama2cTokenizer::load(const std::string &path)
{
    return fromBytes(readInputFile(path, "tokenizer", kMaxTextInputBytes), path);
}

std::unique_ptr<Llama2cTokenizer> Llama2cTokenizer::fromBytes(const std::string &bytes,
                                                              const std::string &path)
{
    const size_t size = bytes.size();
    const char *d = bytes.data();
    auto truncated = [&](size_t at) {
        return InputError("tokenizer " + path + " is truncated at byte " + std::to_string(at));
    };
    if (size == 0) throw InputError("tokenizer " + path + " is empty");
    if (size < 4) throw truncated(0);
    int32_t maxLen;
    std::memcpy(&maxLen, d, 4);
    if (maxLen <= 0)
        throw InputError("tokenizer " + path +
                         " does not start with a positive "
                         "max_token_length (it reads " +
                         std::to_string(maxLen) + "); it is not a llama2.c tokenizer.bin");

    // The vocabulary size is not stored: records run to the end of the file.
    std::vector<std::string> pieces;
    std::vector<float> scores;
    size_t pos = 4;
    while (pos < size) {
        const size_t start = pos;
        if (size - pos < 8) throw truncated(start);
        float score;
        int32_t len;
        std::memcpy(&score, d + pos, 4);
        std::memcpy(&len, d + pos + 4, 4);
        pos += 8;
        if (len <= 0)
            throw InputError("tokenizer " + path + ": token " + std::to_string(pieces.size()) +
                             " at byte " + std::to_string(start) + " has the length " +
                             std::to_string(len) + "; it is damaged or not a llama2.c tokenizer");
        // tokenizer.py writes the longest piece as max_token_length; a longer record means
        // the file is not what it claims (a cut-off record is caught below as truncation).
        if (len > maxLen)
            throw InputError("tokenizer " + path + ": token " + std::to_string(pieces.size()) +
                             " at byte " + std::to_string(start) + " has the length " +
                             std::to_string(len) + ", more than the file's max_token_length " +
                             std::to_string(maxLen) +
                             "; it is damaged or not a llama2.c tokenizer");
        if (std::isnan(score))
            throw InputError("tokenizer " + path + ": token " + std::to_string(pieces.size()) +
                             " at byte " + std::to_string(start) + " has no valid score");
        if (size_t(len) > size - pos) throw truncated(start);
        pieces.emplace_back(d + pos, size_t(len));
        scores.push_back(score);
        pos += size_t(len);
    }
    if (pieces.empty()) throw InputError("tokenizer " + path + " holds no tokens");
    return std::unique_ptr<Llama2cTokenizer>(
        new Llama2cTokenizer(std::move(pieces), std::move(scores), maxLen));
}

int Llama2cTokenizer::byteValue(int32_t id) const
{
    if (id < 0 || size_t(id) >= m_byteValue.size()) return -1;
    return m_byteValue[size_t(id)];
}

int32_t Llama2cTokenizer::lookup(const std::string &p) const
{
    const auto it = m_ids.find(p);
    return it == m_ids.end() ? -1 : it->second;
}

std::vector<TokenInfo> Llama2cTokenizer::encode(const std::string &text, bool addBos) const
{
    // Symbols form a linked list in text order; their index order is their text order, which
    // makes "leftmost" the smallest index.
    struct Symbol {
        int32_t id;
        int32_t begin, end; // code points of text
        int prev, next;
        uint32_t version; // bumped on every change, to spot stale merge candidates
        bool alive;
    };
    std::vector<Symbol> syms;
    auto add = [&](int32_t id, int32_t b, int32_t e) {
        const int i = int(syms.size());
        syms.push_back({id, b, e, i - 1, i + 1, 0, true});
    };

    if (!text.empty()) {
        // The dummy prefix space has no character of its own: an empty range at 0 that the
        // first merge folds into the first real token.
        int32_t space = lookup(" ");
        if (space < 0) space = m_byteIds[' '];
        add(space, 0, 0);
        int32_t cp = 0;
        for (size_t i = 0; i < text.size(); ++cp) {
            const size_t n = Unicode::sequenceLength(text, i);
            if (n > 0) {
                const int32_t id = lookup(text.substr(i, n));
                if (id >= 0) {
                    add(id, cp, cp + 1);
                } else {
                    for (size_t k = 0; k < n; ++k)
                        add(m_byteIds[static_cast<unsigned char>(text[i + k])], cp, cp + 1);
                }
                i += n;
            } else {
                // A byte that is not UTF-8 counts as one character of its own.
                add(m_byteIds[static_cast<unsigned char>(text[i])], cp, cp + 1);
                ++i;
            }
        }
        syms.back().next = -1;
    }

    struct Candidate {
        float score;
        int left, right;
        uint32_t leftVersion, rightVersion;
        int32_t merged;
    };
    auto worse = [](const Candidate &a, const Candidate &b) {
        if (a.score != b.score) return a.score < b.score;
        return a.left > b.left; // ties: the leftmost pair wins
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> queue(worse);
    std::string joined;
    auto consider = [&](int left) {
        if (left < 0) return;
        const int right = syms[size_t(left)].next;
        if (right < 0) return;
        const Symbol &a = syms[size_t(left)], &b = syms[size_t(right)];
        joined = m_pieces[size_t(a.id)];
        joined += m_pieces[size_t(b.id)];
        const int32_t id = lookup(joined);
        if (id < 0 || !(m_scores[size_t(id)] > kNoMergeScore)) return;
        queue.push({m_scores[size_t(id)], left, right, a.version, b.version, id});
    };
    for (size_t i = 0; i + 1 < syms.size(); ++i)
        consider(int(i));
    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol &a = syms[size_t(c.left)];
        Symbol &b = syms[size_t(c.right)];
        if (!a.alive || !b.alive || a.next != c.right || a.version != c.leftVersion ||
            b.version != c.rightVersion)
            continue;
        a.id = c.merged;
        a.end = b.end;
        a.next = b.next;
        ++a.version;
        b.alive = false;
        if (b.next >= 0) syms[size_t(b.next)].prev = c.left;
        consider(a.prev);
        consider(c.left);
    }

    std::vector<TokenInfo> out;
    if (addBos && bosId() >= 0) out.push_back({bosId(), displayText(bosId()), -1, -1});
    for (int i = syms.empty() ? -1 : 0; i >= 0; i = syms[size_t(i)].next)
        out.push_back({syms[size_t(i)].id, displayText(syms[size_t(i)].id), syms[size_t(i)].begin,
                       syms[size_t(i)].end});
    return out;
}

std::string Llama2cTokenizer::decode(const std::vector<int32_t> &ids) const
{
    std::string out;
    int32_t prev = -1;
    for (int32_t id : ids) {
        checkId(id);
        if (id == bosId() || id == eosId()) {
            prev = id;
            continue;
        }
        const int b = byteValue(id);
        std::string p = b >= 0 ? std::string(1, char(b)) : m_pieces[size_t(id)];
        // As run.c: the piece right after BOS loses its leading (dummy prefix) space.
        if (prev == bosId() && !p.empty() && p[0] == ' ') p.erase(0, 1);
        out += p;
        prev = id;
    }
    return out;
}

std::string Llama2cTokenizer::piece(int32_t id) const
{
    checkId(id);
    return m_pieces[size_t(id)];
}

std::string Llama2cTokenizer::displayText(int32_t id) const
{
    checkId(id);
    if (id == 0) return "<unk>";
    if (id == bosId()) return "<s>";
    if (id == eosId()) return "</s>";
    const int b = byteValue(id);
    if (b >= 0) return Unicode::readableByte(unsigned(b));
    // Control characters readable, and valid UTF-8 whatever the file holds.
    return Unicode::readableBytes(m_pieces[size_t(id)]);
}

} // namespace HeadLens
