// Saving a file beside itself (savefile.h).

#include "savefile.h"

#include "headlens/trace/error.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

namespace HeadLens {

namespace fs = std::filesystem;

namespace {

constexpr const char *kTempInfix = ".tmp-";

} // namespace

void removeStaleTemps(const fs::path &target)
{
    const std::string prefix = "." + target.filename().string() + kTempInfix;
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

namespace {

void syncPath(const fs::path &p, int flags, bool required)
{
    const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0) {
        if (::fsync(fd) != 0) err = errno;
        ::close(fd);
    }
    if (err && required)
        throw std::runtime_error("cannot write " + p.string() + ": " + std::strerror(err));
}

} // namespace

H5::Plist projectFileAccess()
{
    H5::Plist fapl(H5Pcreate(H5P_FILE_ACCESS), "file access property list");
    H5::checkStatus(H5Pset_fclose_degree(fapl, H5F_CLOSE_SEMI), "file access property list");
    H5::checkStatus(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18),
                    "file access property list");
    return fapl;
}

SaveFile::SaveFile(const std::string &path)
{
    fs::path target(path);
    std::error_code ec;
    if (fs::is_symlink(target, ec)) {
        // A link that leads nowhere usable (a loop, a folder without access) is the user's path
        // to fix, not a failed write.
        target = fs::canonical(target, ec);
        if (ec) throw InputError(path + ": " + ec.message());
    }
    m_target = target;
    removeStaleTemps(target);
    m_temp = target.parent_path() /
             ("." + target.filename().string() + kTempInfix + std::to_string(::getpid()));
}

SaveFile::~SaveFile()
{
    std::error_code ec;
    for (const auto &s : m_scratch)
        fs::remove(s, ec);
    if (!m_committed) fs::remove(m_temp, ec);
}

std::string SaveFile::scratch(const std::string &suffix)
{
    m_scratch.push_back(temp() + "-" + suffix);
    return m_scratch.back();
}

void SaveFile::dropScratch(const std::string &path)
{
    std::error_code ec;
    fs::remove(path, ec);
}

void SaveFile::commit()
{
    std::error_code ec;
    const auto old = fs::status(m_target, ec);
    if (!ec && fs::exists(old)) // a rebuilt file keeps the original's permissions
        fs::permissions(m_temp, old.permissions(), ec);
    syncPath(m_temp, O_RDONLY, true);
    fs::rename(m_temp, m_target, ec);
    if (ec) throw std::runtime_error("cannot replace " + m_target.string() + ": " + ec.message());
    m_committed = true;
    // Make the rename itself durable; not all file systems allow syncing a folder.
    const fs::path dir = m_target.parent_path();
    syncPath(dir.empty() ? fs::path(".") : dir, O_RDONLY | O_DIRECTORY, false);
}

H5::File createProjectFile(const std::string &path)
{
    H5::Plist fapl = projectFileAccess();
    return H5::File(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl),
                    "cannot create " + path);
}

H5::File openProjectForWriting(const std::string &path)
{
    H5::Plist fapl = projectFileAccess();
    return H5::File(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl), "cannot open " + path);
}

void finishProjectFile(H5::File &file, const std::string &path)
{
    H5::checkStatus(H5Fflush(file, H5F_SCOPE_GLOBAL), "cannot write " + path);
    file.close("cannot write " + path);
}

} // namespace HeadLens
