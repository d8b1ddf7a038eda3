#include "headlens/trace/wholenumber.h"

#include <charconv>
#include <system_error>

namespace HeadLens {

std::optional<int64_t> wholeNumberIn(std::string_view text)
{
    int64_t v = 0;
    const char *end = text.data() + text.size();
    const auto [at, err] = std::from_chars(text.data(), end, v);
    if (text.empty() || err != std::errc() || at != end) return std::nullopt;
    return v;
}

} // namespace HeadLens
