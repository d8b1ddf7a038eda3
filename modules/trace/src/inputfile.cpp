// Reading the files a user names (inputfile.h).

#include "headlens/trace/inputfile.h"

#include "headlens/trace/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace HeadLens {

namespace {

void checkStat(const struct stat &st, const std::string &path, const std::string &what,
               int64_t maxBytes)
{
    if (S_ISDIR(st.st_mode)) throw InputError(what + " " + path + " is a folder, not a file");
    if (!S_ISREG(st.st_mode))
        throw InputError(what + " " + path + " is not a regular file (a pipe, socket or device)");
    if (maxBytes >= 0 && int64_t(st.st_size) > maxBytes)
        throw InputError(what + " " + path + " has " + std::to_string(st.st_size) +
                         " bytes, more than the " + std::to_string(maxBytes) + " a " + what +
                         " can have");
}

} // namespace

void checkInputFile(const std::string &path, const std::string &what, int64_t maxBytes)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw InputError("cannot open " + what + " " + path + ": " + std::strerror(errno));
    checkStat(st, path, what, maxBytes);
}

std::string readInputFile(const std::string &path, const std::string &what, int64_t maxBytes)
{
    checkInputFile(path, what, maxBytes);
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw InputError("cannot open " + what + " " + path + ": " + std::strerror(errno));
    struct stat st {};
    std::string out;
    try {
        if (::fstat(fd, &st) != 0)
            throw InputError("cannot open " + what + " " + path + ": " + std::strerror(errno));
        checkStat(st, path, what, maxBytes);
        out.resize(size_t(st.st_size));
        size_t got = 0;
        while (got < out.size()) {
            const ssize_t n = ::read(fd, &out[got], out.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0)
                throw InputError("cannot read " + what + " " + path + ": " + std::strerror(errno));
            if (n == 0) break; // the file shrank while it was read
            got += size_t(n);
        }
        out.resize(got);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    return out;
}

} // namespace HeadLens
