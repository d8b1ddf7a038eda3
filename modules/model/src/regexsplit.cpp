#include "regexsplit.h"

#include "unicodetext.h"

namespace HeadLens {

namespace {

const char kGpt2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|"
                     "\\s+(?!\\S)|\\s+";
const char kLlama3[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                       "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                       "\\s+(?!\\S)|\\s+";
const char kQwen2[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
                      "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
                      "\\s+(?!\\S)|\\s+";

bool isL(char32_t c)
{
    return c != Unicode::kInvalid && Unicode::isLetter(c);
}
bool isN(char32_t c)
{
    return c != Unicode::kInvalid && Unicode::isNumber(c);
}
bool isS(char32_t c)
{
    return c != Unicode::kInvalid && Unicode::isWhiteSpace(c);
}
bool isOther(char32_t c)
{
    return !isS(c) && !isL(c) && !isN(c);
} // [^\s\p{L}\p{N}]
bool isNewline(char32_t c)
{
    return c == '\r' || c == '\n';
}

// Case-insensitive comparison with an ASCII letter, as (?i:) does it (U+017F LONG S folds to s).
bool foldEquals(char32_t c, char lower)
{
    if (c == char32_t(lower) || c == char32_t(lower - 'a' + 'A')) return true;
    return lower == 's' && c == 0x017F;
}

// 's 't 're 've 'm 'll 'd at i: the length of the match, or 0.
size_t contraction(const std::vector<char32_t> &c, size_t i, bool fold)
{
    const size_t n = c.size();
    if (c[i] != '\'' || i + 1 >= n) return 0;
    auto is = [&](size_t k, char ch) {
        return k < n && (fold ? foldEquals(c[k], ch) : c[k] == char32_t(ch));
    };
    if (is(i + 1, 's') || is(i + 1, 't')) return 2;
    if (is(i + 1, 'r') && is(i + 2, 'e')) return 3;
    if (is(i + 1, 'v') && is(i + 2, 'e')) return 3;
    if (is(i + 1, 'm')) return 2;
    if (is(i + 1, 'l') && is(i + 2, 'l')) return 3;
    if (is(i + 1, 'd')) return 2;
    return 0;
}

// \s+(?!\S) then \s+ at i (c[i] is white space): the length of the match.
size_t spaces(const std::vector<char32_t> &c, size_t i)
{
    size_t k = i;
    while (k < c.size() && isS(c[k]))
        ++k;
    if (k == c.size()) return k - i; // \s+(?!\S) to the end
    if (k - 1 > i) return k - 1 - i; // leave the last space to the word after it
    return k - i;                    // \s+
}

size_t matchGpt2(const std::vector<char32_t> &c, size_t i)
{
    const size_t n = c.size();
    if (size_t m = contraction(c, i, false)) return m;
    const size_t j = c[i] == ' ' ? i + 1 : i; // the optional leading space
    if (j < n) {
        size_t k = j;
        if (isL(c[j])) {
            while (k < n && isL(c[k]))
                ++k;
            return k - i;
        }
        if (isN(c[j])) {
            while (k < n && isN(c[k]))
                ++k;
            return k - i;
        }
        if (isOther(c[j])) {
            while (k < n && isOther(c[k]))
                ++k;
            return k - i;
        }
    }
    return spaces(c, i); // c[i] is white space: every other character matched above
}

size_t matchLlama3(const std::vector<char32_t> &c, size_t i, size_t maxDigits)
{
    const size_t n = c.size();
    if (size_t m = contraction(c, i, true)) return m;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    size_t j = i;
    if (!isNewline(c[i]) && !isL(c[i]) && !isN(c[i]) && i + 1 < n && isL(c[i + 1])) j = i + 1;
    if (isL(c[j])) {
        while (j < n && isL(c[j]))
            ++j;
        return j - i;
    }
    // \p{N}{1,maxDigits}
    if (isN(c[i])) {
        size_t k = i;
        while (k < n && k - i < maxDigits && isN(c[k]))
            ++k;
        return k - i;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    j = c[i] == ' ' ? i + 1 : i;
    if (j < n && isOther(c[j])) {
        while (j < n && isOther(c[j]))
            ++j;
        while (j < n && isNewline(c[j]))
            ++j;
        return j - i;
    }
    // \s*[\r\n]+ : the white space up to its last line break
    size_t k = i, lastNewline = n;
    while (k < n && isS(c[k])) {
        if (isNewline(c[k])) lastNewline = k;
        ++k;
    }
    if (lastNewline < n) return lastNewline + 1 - i;
    return spaces(c, i);
}

} // namespace

std::optional<SplitRegex> recogniseSplitRegex(const std::string &pattern)
{
    if (pattern == kGpt2) return SplitRegex::Gpt2;
    if (pattern == kLlama3) return SplitRegex::Llama3;
    if (pattern == kQwen2) return SplitRegex::Qwen2;
    return std::nullopt;
}

const char *splitRegexText(SplitRegex re)
{
    switch (re) {
    case SplitRegex::Gpt2:
        return kGpt2;
    case SplitRegex::Llama3:
        return kLlama3;
    case SplitRegex::Qwen2:
        return kQwen2;
    }
    return "";
}

std::vector<size_t> splitByRegex(const std::vector<char32_t> &cps, SplitRegex re)
{
    std::vector<size_t> ends;
    for (size_t i = 0; i < cps.size();) {
        size_t m = 0;
        switch (re) {
        case SplitRegex::Gpt2:
            m = matchGpt2(cps, i);
            break;
        case SplitRegex::Llama3:
            m = matchLlama3(cps, i, 3);
            break;
        case SplitRegex::Qwen2:
            m = matchLlama3(cps, i, 1);
            break;
        }
        if (m == 0) m = 1; // cannot happen: every character is in some alternative
        i += m;
        ends.push_back(i);
    }
    return ends;
}

} // namespace HeadLens
