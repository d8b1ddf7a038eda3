#pragma once
// How commands print their results: numbers, token texts and table lines for a person, JSON for
// a program (invalid UTF-8 in a token's text is replaced, never an exception).

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace HeadLens::Cli {

// v with a fixed number of decimals; "-" for NaN, "inf" and "-inf".
std::string fmt(double v, int decimals = 4);

// s padded with blanks to width code points, so that UTF-8 token texts line up in a table.
std::string pad(std::string s, size_t width);

// A token's text in double quotes, with newline, tab and quote escaped.
std::string quotedText(const std::string &s);

// v as JSON: null where it is not finite (JSON has no NaN or infinity).
nlohmann::json jsonNumber(double v);

// One line of a table, without the blanks that padding left at its end.
void printLine(std::string line);

// j indented by two, on stdout.
void printJson(const nlohmann::json &j);

} // namespace HeadLens::Cli
