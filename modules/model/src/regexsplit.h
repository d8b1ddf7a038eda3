#pragma once
// The pre-tokenization regexes of byte-level BPE tokenizers, written out by hand (module-
// private): GPT-2's, and the Llama 3 / Qwen 2 one. They are recognised by their exact text in
// tokenizer.json; any other regex is refused by the caller. The character classes \p{L} and
// \p{N} are Unicode 14's general categories, \s is White_Space (see unicodetext.h).

#include <optional>
#include <string>
#include <vector>

namespace HeadLens {

enum class SplitRegex {
    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    Gpt2,
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    //  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Llama3,
    // The same with \p{N} for \p{N}{1,3} (Qwen 2).
    Qwen2,
};

std::optional<SplitRegex> recogniseSplitRegex(const std::string &pattern);
const char *splitRegexText(SplitRegex re);

// Where the regex cuts the characters cps (code points; a byte that is not UTF-8 counts as a
// character of no class): the end of every piece, in order; the last is cps.size(). Every
// character belongs to a match of these regexes, so the pieces are exactly the matches.
std::vector<size_t> splitByRegex(const std::vector<char32_t> &cps, SplitRegex re);

} // namespace HeadLens
