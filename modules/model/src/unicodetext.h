#pragma once
// UTF-8 and Unicode character classes for the tokenizers (module-private). Text is handled as
// bytes; a "character" is a well-formed UTF-8 sequence (RFC 3629) or, where the bytes are not
// UTF-8, one byte on its own. Offsets given to users count these characters.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace HeadLens::Unicode {

constexpr char32_t kInvalid = 0xFFFFFFFF; // the code point of a byte that is not UTF-8

// Length of the well-formed UTF-8 sequence at s[i] (no overlongs, no surrogates, nothing above
// U+10FFFF), or 0 when the byte there does not start one.
size_t sequenceLength(const char *s, size_t size, size_t i);
inline size_t sequenceLength(const std::string &s, size_t i)
{
    return sequenceLength(s.data(), s.size(), i);
}

// The code point at s[i] and its length in bytes (1 and kInvalid for a byte that is not UTF-8).
char32_t decodeAt(const std::string &s, size_t i, size_t *length);

void appendUtf8(std::string &out, char32_t cp);
std::string toUtf8(char32_t cp);

// The characters of s, one string each (a byte that is not UTF-8 on its own).
std::vector<std::string> characters(const std::string &s);

// The characters of s: their byte starts, with s.size() appended.
std::vector<size_t> characterStarts(const std::string &s);

// For every byte offset 0..s.size(): the index of the character holding that byte (s.size()
// maps to the number of characters).
std::vector<int32_t> characterIndexOfBytes(const std::string &s);

// General category L (Lu Ll Lt Lm Lo) and N (Nd Nl No) of Unicode 14, and White_Space.
bool isLetter(char32_t cp);
bool isNumber(char32_t cp);
bool isWhiteSpace(char32_t cp);

// The byte of a byte-fallback piece "<0xE2>", or -1.
int parseBytePiece(const std::string &piece);
std::string bytePiece(unsigned byte); // "<0xE2>"
// A byte token as a person reads it: newline as ↵, tab as ⇥, any other as bytePiece.
std::string readableByte(unsigned byte);

// Bytes as a person should read them: well-formed UTF-8 as it is, a newline as ↵, a tab as ⇥,
// other control characters and bytes that are not UTF-8 (a part of a character) as <0xE2>.
std::string readableBytes(const std::string &bytes);

} // namespace HeadLens::Unicode
