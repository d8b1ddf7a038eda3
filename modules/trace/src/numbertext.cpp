#include "headlens/trace/numbertext.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace HeadLens {

namespace {

template <typename T> std::optional<T> whole(std::string_view text)
{
    T v{};
    const char *end = text.data() + text.size();
    const auto [at, err] = std::from_chars(text.data(), end, v);
    if (text.empty() || err != std::errc() || at != end) return std::nullopt;
    return v;
}

} // namespace

std::optional<int64_t> wholeNumberIn(std::string_view text)
{
    return whole<int64_t>(text);
}

std::optional<double> decimalNumberIn(std::string_view text)
{
    const std::optional<double> v = whole<double>(text);
    if (!v || !std::isfinite(*v)) return std::nullopt;
    return v;
}

} // namespace HeadLens
