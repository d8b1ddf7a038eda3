// Temp files beside projects (tempfiles.h).

#include "tempfiles.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <sys/types.h>
#include <unistd.h>

namespace HeadLens {

namespace fs = std::filesystem;

fs::path tempBeside(const fs::path &target)
{
    return target.parent_path() /
           ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
}

void removeStaleTemps(const fs::path &target)
{
    const std::string prefix = "." + target.filename().string() + ".tmp-";
    const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        // The pid: the digits right after the prefix.
        size_t i = prefix.size();
        long pid = 0;
        while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) &&
               pid < 1L << 30)
            pid = pid * 10 + (name[i++] - '0');
        if (i == prefix.size() || pid <= 0 || pid == long(::getpid())) continue;
        if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH)
            continue; // that process still runs (or cannot be asked about)
        std::error_code e2;
        if (!it->is_regular_file(e2)) continue;
        const auto age = fs::file_time_type::clock::now() - fs::last_write_time(it->path(), e2);
        if (e2 || age < std::chrono::hours(1)) continue;
        fs::remove(it->path(), e2);
    }
}

} // namespace HeadLens
