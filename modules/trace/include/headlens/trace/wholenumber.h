#pragma once
// A whole number written as text (a command-line value, a metadata field, a cgroup file): the
// one rule every reader of such text follows.

#include <cstdint>
#include <optional>
#include <string_view>

namespace HeadLens {

// The whole of text as a decimal integer with an optional '-' sign, or nothing: no blanks, no
// '+', no other characters before or after, and nothing outside int64's range.
std::optional<int64_t> wholeNumberIn(std::string_view text);

} // namespace HeadLens
