#pragma once
// Makes the character ranges of tokens tile the text in order (module-private). Encoders give
// every token the characters it was made from; characters a normalizer dropped (extra spaces,
// characters mapped to nothing) belong to no token, so this hands them to the token before
// them (or, at the start, to the first token). Tokens without characters of the prompt
// (begin == -1: BOS, EOS) are left alone.

#include "headlens/trace/trace.h"

#include <algorithm>
#include <vector>

namespace HeadLens {

inline void tileOffsets(std::vector<TokenInfo> &tokens, int32_t textLength)
{
    int32_t covered = 0;
    TokenInfo *prev = nullptr;
    for (TokenInfo &t : tokens) {
        if (t.begin < 0) continue;
        if (t.begin > covered) {
            if (prev) {
                prev->end = t.begin;
            } else {
                t.begin = covered;
            }
        }
        covered = std::max(covered, t.end);
        prev = &t;
    }
    if (prev && covered < textLength) prev->end = textLength;
}

} // namespace HeadLens
