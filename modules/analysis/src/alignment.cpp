#include "headlens/analysis/alignment.h"

#include <algorithm>

namespace HeadLens {

namespace {

bool hasOffsets(const TokenInfo &t)
{
    return t.begin >= 0 && t.end >= t.begin;
}

// Whether two [begin, end) spans share a character; an empty span is the point `begin`.
bool overlaps(const TokenInfo &x, const TokenInfo &y)
{
    const bool xEmpty = x.begin == x.end, yEmpty = y.begin == y.end;
    if (xEmpty && yEmpty) return x.begin == y.begin;
    if (xEmpty) return y.begin <= x.begin && x.begin < y.end;
    if (yEmpty) return x.begin <= y.begin && y.begin < x.end;
    return std::max(x.begin, y.begin) < std::min(x.end, y.end);
}

// Sweep order: the token that ends first goes first; of two ending together, the one that
// starts later (an empty token at the end of the other) is kept one step longer.
int compareEnds(const TokenInfo &x, const TokenInfo &y)
{
    if (x.end != y.end) return x.end < y.end ? -1 : 1;
    if (x.begin != y.begin) return x.begin < y.begin ? -1 : 1;
    return 0;
}

} // namespace

std::vector<std::pair<int, int>> alignTokens(const std::vector<TokenInfo> &a,
                                             const std::vector<TokenInfo> &b)
{
    const int n = int(a.size()), m = int(b.size());
    std::vector<std::pair<int, int>> out;
    out.reserve(size_t(std::max(n, m)) + 4);

    // Leading tokens without offsets (BOS): paired in order.
    int la = 0, lb = 0;
    while (la < n && !hasOffsets(a[size_t(la)]))
        ++la;
    while (lb < m && !hasOffsets(b[size_t(lb)]))
        ++lb;
    for (int k = 0; k < std::max(la, lb); ++k)
        out.emplace_back(k < la ? k : -1, k < lb ? k : -1);

    // The last token with offsets: later offset-less tokens are the trailing (generated) ones.
    int lastA = n - 1, lastB = m - 1;
    while (lastA >= la && !hasOffsets(a[size_t(lastA)]))
        --lastA;
    while (lastB >= lb && !hasOffsets(b[size_t(lastB)]))
        --lastB;

    int i = la, j = lb;
    bool matchedA = false, matchedB = false; // whether a[i] / b[j] has been paired yet
    while (i <= lastA || j <= lastB) {
        if (i <= lastA && !hasOffsets(a[size_t(i)])) {
            out.emplace_back(i++, -1);
            matchedA = false;
            continue;
        }
        if (j <= lastB && !hasOffsets(b[size_t(j)])) {
            out.emplace_back(-1, j++);
            matchedB = false;
            continue;
        }
        if (i > lastA) {
            if (!matchedB) out.emplace_back(-1, j);
            ++j;
            matchedB = false;
            continue;
        }
        if (j > lastB) {
            if (!matchedA) out.emplace_back(i, -1);
            ++i;
            matchedA = false;
            continue;
        }
        const TokenInfo &x = a[size_t(i)], &y = b[size_t(j)];
        if (overlaps(x, y)) {
            out.emplace_back(i, j);
            matchedA = matchedB = true;
        }
        const int c = compareEnds(x, y);
        if (c <= 0) {
            if (!matchedA) out.emplace_back(i, -1);
            ++i;
            matchedA = false;
        }
        if (c >= 0) {
            if (!matchedB) out.emplace_back(-1, j);
            ++j;
            matchedB = false;
        }
    }

    for (int k = lastA + 1; k < n; ++k)
        if (k >= la) out.emplace_back(k, -1);
    for (int k = lastB + 1; k < m; ++k)
        if (k >= lb) out.emplace_back(-1, k);
    return out;
}

} // namespace HeadLens
