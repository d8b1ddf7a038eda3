#include "fuzzinput.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace HeadLens::Fuzz {

namespace {
char g_made[4096]; // the folder, for the exit handler (which runs after statics may be gone)

void removeWorkDir()
{
    std::error_code ec;
    if (g_made[0]) fs::remove_all(g_made, ec);
}
} // namespace

const std::string &workDir()
{
    static const std::string dir = [] {
        const char *tmp = std::getenv("TMPDIR");
        fs::path base = tmp && *tmp ? fs::path(tmp) : fs::path("/dev/shm");
        std::error_code ec;
        if (!fs::is_directory(base, ec)) base = fs::temp_directory_path();
        const fs::path d = base / ("headlens-fuzz-" + std::to_string(getpid()));
        fs::create_directories(d);
        const std::string made = d.string();
        if (made.size() < sizeof g_made) {
            made.copy(g_made, made.size());
            std::atexit(removeWorkDir);
        }
        return made;
    }();
    return dir;
}

std::string writeInput(const std::string &name, const uint8_t *data, size_t size)
{
    const std::string path = workDir() + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(data), std::streamsize(size));
    return path;
}

std::vector<std::string> splitInput(const uint8_t *data, size_t size, size_t n)
{
    const std::string all(reinterpret_cast<const char *>(data), size);
    const std::string sep(kSeparator);
    std::vector<std::string> parts;
    size_t at = 0;
    while (parts.size() + 1 < n) {
        const size_t next = all.find(sep, at);
        if (next == std::string::npos) break;
        parts.push_back(all.substr(at, next - at));
        at = next + sep.size();
    }
    parts.push_back(all.substr(at));
    parts.resize(n);
    return parts;
}

} // namespace HeadLens::Fuzz
