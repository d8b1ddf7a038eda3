#pragma once
// Numbers written as text (a command-line value, a metadata field, a cgroup file): the one
// rule every reader of such text follows. Each takes the whole text or nothing: no blanks, no
// '+', no other characters before or after.

#include <cstdint>
#include <optional>
#include <string_view>

namespace HeadLens {

// A decimal integer with an optional '-' sign, within int64's range.
std::optional<int64_t> wholeNumberIn(std::string_view text);

// A finite decimal number ("0.5", "-2", "3e-4"); not "inf", "nan" or hexadecimal.
std::optional<double> decimalNumberIn(std::string_view text);

} // namespace HeadLens
