#include "commandtext.h"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace HeadLens::Cli {

std::string fmt(double v, int decimals)
{
    if (!std::isfinite(v)) return std::isnan(v) ? "-" : (v > 0 ? "inf" : "-inf");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string pad(std::string s, size_t width)
{
    // Pads by code points, so that UTF-8 token texts line up.
    size_t points = 0;
    for (unsigned char c : s)
        points += (c & 0xC0) != 0x80;
    if (points < width) s.append(width - points, ' ');
    return s;
}

// A token's text in quotes, with the characters that would break a line escaped.
std::string quotedText(const std::string &s)
{
    std::string q = "\"";
    for (char c : s) {
        if (c == '\n')
            q += "\\n";
        else if (c == '\t')
            q += "\\t";
        else if (c == '"')
            q += "\\\"";
        else
            q += c;
    }
    return q + "\"";
}

nlohmann::json jsonNumber(double v)
{
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

// Writes one line of a table without the spaces that padding left at its end.
void printLine(std::string line)
{
    while (!line.empty() && (line.back() == ' ' || line.back() == '\n'))
        line.pop_back();
    std::cout << line << "\n";
}

void printJson(const nlohmann::json &j)
{
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

} // namespace HeadLens::Cli
