#pragma once
// Token alignment of two traces by the character offsets of their tokens in the prompt
// (TRACE.md "Comparing two traces"), so that two tokenizers that split the same text
// differently can still be compared token against token.

#include "headlens/trace/trace.h"

#include <utility>
#include <vector>

namespace HeadLens {

// Aligns the tokens of a and b by their [begin, end) character offsets. Returns (i, j) pairs in
// text order: every pair of tokens whose spans overlap (a token split differently on the other
// side appears in several pairs), (i, -1) / (-1, j) for a token that overlaps nothing on the
// other side. Tokens without offsets (begin < 0: BOS, generated tokens): the ones before the
// first token with offsets are paired in order (BOS with BOS); the others stay unmatched and
// come in index order, those of a before those of b at the end (generated continuations are
// not comparable by position in the prompt). A zero-width token (begin == end) is a point
// that matches the token containing it. Every index of a and of b occurs at least once.
std::vector<std::pair<int, int>> alignTokens(const std::vector<TokenInfo> &a,
                                             const std::vector<TokenInfo> &b);

} // namespace HeadLens
