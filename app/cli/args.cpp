#include "args.h"

#include "headlens/trace/error.h"
#include "headlens/trace/numbertext.h"

#include <cstdio>
#include <unistd.h>

namespace HeadLens::Cli {

std::optional<std::string> Args::value(const std::string &opt) const
{
    auto it = values.find(opt);
    if (it == values.end()) return std::nullopt;
    return it->second;
}

std::string Args::value(const std::string &opt, const std::string &fallback) const
{
    return value(opt).value_or(fallback);
}

int Args::intValue(const std::string &opt, int fallback, int min, int max) const
{
    auto v = value(opt);
    if (!v) return fallback;
    const std::optional<int64_t> n = wholeNumberIn(*v);
    if (!n) throw UsageError(opt + " needs a whole number, not '" + *v + "'");
    if (*n < min || *n > max)
        throw UsageError(opt + " must be between " + std::to_string(min) + " and " +
                         std::to_string(max) + ", not " + *v);
    return int(*n);
}

int Args::requiredInt(const std::string &opt, int min, int max) const
{
    if (!value(opt)) throw UsageError("give " + opt);
    return intValue(opt, 0, min, max);
}

double Args::decimalValue(const std::string &opt, double fallback, double min, double max) const
{
    const auto v = value(opt);
    if (!v) return fallback;
    const std::optional<double> d = decimalNumberIn(*v);
    if (!d) throw UsageError(opt + " needs a number, not '" + *v + "'");
    if (*d < min || *d > max) {
        char range[96];
        std::snprintf(range, sizeof range, "%.2f and %.2f", min, max);
        throw UsageError(opt + " must be between " + range + ", not " + *v);
    }
    return *d;
}

static const char kSiteNames[] = "resid_pre|attn_out|resid_mid|mlp_out|resid_post";

std::optional<Site> Args::siteValue(const std::string &opt) const
{
    const auto v = value(opt);
    if (!v) return std::nullopt;
    const std::optional<Site> s = siteFromName(*v);
    if (!s) throw UsageError(opt + " must be one of " + kSiteNames + ", not '" + *v + "'");
    return s;
}

Site Args::requiredSite(const std::string &opt) const
{
    if (const std::optional<Site> s = siteValue(opt)) return *s;
    throw UsageError("give " + opt + " " + kSiteNames);
}

Args parseArgs(const std::vector<std::string> &argv, const std::set<std::string> &valueOpts,
               const std::set<std::string> &flagOpts)
{
    Args a;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string &s = argv[i];
        if (s.size() > 1 && s[0] == '-' && !(s.size() > 1 && std::isdigit((unsigned char)s[1]))) {
            std::string name = s, val;
            bool inlineVal = false;
            const size_t eq = s.find('=');
            if (s.rfind("--", 0) == 0 && eq != std::string::npos) {
                name = s.substr(0, eq);
                val = s.substr(eq + 1);
                inlineVal = true;
            }
            if (valueOpts.count(name)) {
                if (!inlineVal) {
                    if (i + 1 >= argv.size()) throw UsageError(name + " needs a value");
                    val = argv[++i];
                }
                if (a.values.count(name)) throw UsageError(name + " given twice");
                a.values[name] = val;
            } else if (flagOpts.count(name) && !inlineVal) {
                a.flags.insert(name);
            } else {
                throw UsageError("unknown option " + name);
            }
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

std::string onePositional(const Args &a, const char *what)
{
    if (a.positional.size() != 1)
        throw UsageError(
            std::string("expected one ") + what +
            (a.positional.empty() ? "" : ", got " + std::to_string(a.positional.size())));
    return a.positional[0];
}

std::vector<int32_t> parseIdList(const std::string &s)
{
    std::vector<int32_t> ids;
    std::string cur;
    auto flush = [&] {
        if (cur.empty()) return;
        const std::optional<int64_t> v = wholeNumberIn(cur);
        if (!v || *v < INT32_MIN || *v > INT32_MAX)
            throw InputError("--token-ids: '" + cur + "' is not a token id");
        ids.push_back(int32_t(*v));
        cur.clear();
    };
    for (char c : s) {
        if (c == ',' || c == ' ' || c == '\t' || c == '\n')
            flush();
        else
            cur += c;
    }
    flush();
    if (ids.empty()) throw InputError("--token-ids: no ids given");
    return ids;
}

namespace {
bool g_progressShown = false;
}

void reportProgress(const std::string &stage, int done, int total)
{
    if (!isatty(STDERR_FILENO)) return;
    std::fprintf(stderr, "\r%s: %d/%d   ", stage.c_str(), done, total);
    std::fflush(stderr);
    g_progressShown = true;
}

void endProgress()
{
    if (g_progressShown) std::fprintf(stderr, "\r\033[K");
    g_progressShown = false;
}

// An error as one line of at most a few hundred bytes: a 100 KB value quoted from a damaged
// file is not echoed whole, and libtorch's C++ backtrace after the first line is dropped.
std::string errorLine(const std::string &what)
{
    constexpr size_t kHead = 280, kTail = 200; // the middle goes: a message ends with its point
    std::string s = what.substr(0, what.find('\n'));
    if (s.size() <= kHead + kTail) return s;
    auto boundary = [&](size_t i) { // not inside a UTF-8 sequence
        while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
            --i;
        return i;
    };
    const size_t head = boundary(kHead), tail = boundary(s.size() - kTail);
    return s.substr(0, head) + " [" + std::to_string(tail - head) + " bytes left out] " +
           s.substr(tail);
}

} // namespace HeadLens::Cli
