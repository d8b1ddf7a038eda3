// Appending to a project in place under an undo journal (appendjournal.h).

#include "appendjournal.h"

#include "savefile.h"

#include "headlens/trace/error.h"

#include <H5FDpublic.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace HeadLens {

namespace fs = std::filesystem;

namespace {

// The journal: a header (magic, the project's size before the append, checksum), then one
// record per saved range (offset, length, checksum of the three, the old bytes). A record the
// kill cut short fails its checksum; its bytes were never overwritten, so it is not needed.
constexpr std::array<char, 8> kMagic = {'H', 'L', 'J', 'R', 'N', 'L', '0', '1'};
constexpr size_t kHeaderSize = 8 + 8 + 8;
constexpr size_t kRecordHead = 8 + 8 + 8;

uint64_t fnv1a(const void *data, size_t n, uint64_t h = 0xcbf29ce484222325ULL)
{
    const auto *p = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < n; ++i)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

void putU64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        p[i] = static_cast<unsigned char>(v >> (8 * i));
}

uint64_t getU64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

// Repeats pread or pwrite (`io`) until n bytes are moved; false on an error or when the file
// ends first.
template <class Byte, class Io> bool moveAll(Io io, int fd, Byte *p, size_t n, uint64_t offset)
{
    while (n > 0) {
        const ssize_t done = io(fd, p, n, off_t(offset));
        if (done < 0 && errno == EINTR) continue;
        if (done <= 0) return false;
        p += done;
        n -= size_t(done);
        offset += uint64_t(done);
    }
    return true;
}

bool writeAll(int fd, const void *data, size_t n, uint64_t offset)
{
    return moveAll(::pwrite, fd, static_cast<const char *>(data), n, offset);
}

bool readAll(int fd, void *data, size_t n, uint64_t offset)
{
    return moveAll(::pread, fd, static_cast<char *>(data), n, offset);
}

fs::path journalPathOf(const fs::path &project)
{
    return project.parent_path() / ("." + project.filename().string() + ".journal");
}

// The file a path names: a symlink's target, as SaveFile saves it.
fs::path resolved(const std::string &path)
{
    std::error_code ec;
    fs::path p(path);
    if (fs::is_symlink(p, ec)) {
        p = fs::canonical(p, ec);
        if (ec) throw InputError(path + ": " + ec.message());
    }
    return p;
}

void syncFolderOf(const fs::path &file)
{
    const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return; // not every file system lets a folder be synced
    ::fsync(fd);
    ::close(fd);
}

class Fd {
public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    ~Fd()
    {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    int get() const { return m_fd; }
    int release()
    {
        const int fd = m_fd;
        m_fd = -1;
        return fd;
    }

private:
    int m_fd;
};

// Puts the journal's old bytes back into the project open (and locked) as fd, cuts it to its
// old length, syncs it and removes the journal. An error message, or empty on success.
std::string undo(int fd, const fs::path &journal)
{
    Fd j(::open(journal.c_str(), O_RDONLY | O_CLOEXEC));
    if (j.get() < 0) return errno == ENOENT ? std::string() : std::strerror(errno);
    unsigned char head[kHeaderSize];
    if (!readAll(j.get(), head, kHeaderSize, 0) ||
        std::memcmp(head, kMagic.data(), kMagic.size()) != 0 ||
        getU64(head + 16) != fnv1a(head, 16)) {
        // Killed before the header was whole: nothing of the project was overwritten yet.
        std::error_code ec;
        fs::remove(journal, ec);
        return {};
    }
    const uint64_t size = getU64(head + 8);
    uint64_t at = kHeaderSize;
    std::vector<unsigned char> bytes;
    for (;;) {
        unsigned char rec[kRecordHead];
        if (!readAll(j.get(), rec, kRecordHead, at)) break;
        const uint64_t offset = getU64(rec), length = getU64(rec + 8);
        if (length == 0 || length > (uint64_t(1) << 32) || offset > size || length > size - offset)
            break;
        bytes.resize(size_t(length));
        if (!readAll(j.get(), bytes.data(), bytes.size(), at + kRecordHead)) break;
        if (fnv1a(bytes.data(), bytes.size(), fnv1a(rec, 16)) != getU64(rec + 16)) break;
        if (!writeAll(fd, bytes.data(), bytes.size(), offset)) return std::strerror(errno);
        at += kRecordHead + length;
    }
    if (::ftruncate(fd, off_t(size)) != 0 || ::fsync(fd) != 0) return std::strerror(errno);
    std::error_code ec;
    fs::remove(journal, ec);
    if (ec) return ec.message();
    syncFolderOf(journal);
    return {};
}

// ---------------------------------------------------------------- the HDF5 file driver

// The POSIX file driver HDF5 calls sec2, with one difference: before a write touches bytes
// of the original file, the journal saves their old content.
struct DriverInfo {
    AppendJournal *journal;
};

struct JournaledFile {
    H5FD_t pub; // first, as HDF5 requires
    int fd;
    haddr_t eoa, eof;
    dev_t device;
    ino_t inode;
    AppendJournal *journal;
};

constexpr haddr_t kMaxAddr = (haddr_t(1) << (8 * sizeof(off_t) - 1)) - 1;

void pushError(const char *func, H5E_major_t major, H5E_minor_t minor, int err)
{
    H5Epush2(H5E_DEFAULT, __FILE__, func, __LINE__, H5E_ERR_CLS, major, minor, "%s",
             std::strerror(err));
}

JournaledFile *self(H5FD_t *f)
{
    return reinterpret_cast<JournaledFile *>(f);
}
const JournaledFile *self(const H5FD_t *f)
{
    return reinterpret_cast<const JournaledFile *>(f);
}

H5FD_t *driverOpen(const char *, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    const auto *info = static_cast<const DriverInfo *>(H5Pget_driver_info(fapl));
    if (!info || !info->journal || !(flags & H5F_ACC_RDWR) || maxaddr == 0 || maxaddr > kMaxAddr) {
        pushError("open", H5E_ARGS, H5E_BADVALUE, EINVAL);
        return nullptr;
    }
    Fd fd(::dup(info->journal->projectFd()));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
        pushError("open", H5E_FILE, H5E_CANTOPENFILE, errno);
        return nullptr;
    }
    auto *f = new JournaledFile{};
    f->fd = fd.release();
    f->eof = haddr_t(st.st_size);
    f->device = st.st_dev;
    f->inode = st.st_ino;
    f->journal = info->journal;
    return &f->pub;
}

herr_t driverClose(H5FD_t *file)
{
    JournaledFile *f = self(file);
    const int rc = ::close(f->fd);
    delete f;
    return rc == 0 ? 0 : -1;
}

int driverCmp(const H5FD_t *a, const H5FD_t *b)
{
    const JournaledFile *x = self(a), *y = self(b);
    if (x->device != y->device) return x->device < y->device ? -1 : 1;
    if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
    return 0;
}

herr_t driverQuery(const H5FD_t *, unsigned long *flags)
{
    if (flags)
        *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA |
                 H5FD_FEAT_DATA_SIEVE | H5FD_FEAT_AGGREGATE_SMALLDATA |
                 H5FD_FEAT_POSIX_COMPAT_HANDLE | H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
    return 0;
}

haddr_t driverGetEoa(const H5FD_t *file, H5FD_mem_t)
{
    return self(file)->eoa;
}

herr_t driverSetEoa(H5FD_t *file, H5FD_mem_t, haddr_t addr)
{
    self(file)->eoa = addr;
    return 0;
}

haddr_t driverGetEof(const H5FD_t *file, H5FD_mem_t)
{
    return self(file)->eof;
}

herr_t driverGetHandle(H5FD_t *file, hid_t, void **handle)
{
    if (!handle) return -1;
    *handle = &self(file)->fd;
    return 0;
}

herr_t driverRead(H5FD_t *file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, void *buffer)
{
    JournaledFile *f = self(file);
    if (addr == HADDR_UNDEF || addr > kMaxAddr || size > kMaxAddr - addr) {
        pushError("read", H5E_ARGS, H5E_OVERFLOW, EINVAL);
        return -1;
    }
    auto *p = static_cast<char *>(buffer);
    while (size > 0) {
        const ssize_t r = ::pread(f->fd, p, size, off_t(addr));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            pushError("read", H5E_IO, H5E_READERROR, errno);
            return -1;
        }
        if (r == 0) { // past the end of the file: zeros, as sec2 gives
            std::memset(p, 0, size);
            break;
        }
        p += r;
        size -= size_t(r);
        addr += haddr_t(r);
    }
    return 0;
}

herr_t driverWrite(H5FD_t *file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, const void *buffer)
{
    JournaledFile *f = self(file);
    if (addr == HADDR_UNDEF || addr > kMaxAddr || size > kMaxAddr - addr) {
        pushError("write", H5E_ARGS, H5E_OVERFLOW, EINVAL);
        return -1;
    }
    if (!f->journal->preserve(addr, size) || !writeAll(f->fd, buffer, size, addr)) {
        pushError("write", H5E_IO, H5E_WRITEERROR, errno);
        return -1;
    }
    if (addr + size > f->eof) f->eof = addr + size;
    return 0;
}

herr_t driverTruncate(H5FD_t *file, hid_t, hbool_t)
{
    JournaledFile *f = self(file);
    if (f->eoa == f->eof) return 0;
    if (f->eoa < f->eof && !f->journal->preserve(f->eoa, f->eof - f->eoa)) {
        pushError("truncate", H5E_IO, H5E_WRITEERROR, errno);
        return -1;
    }
    if (::ftruncate(f->fd, off_t(f->eoa)) != 0) {
        pushError("truncate", H5E_IO, H5E_SEEKERROR, errno);
        return -1;
    }
    f->eof = f->eoa;
    return 0;
}

// The append holds the project's lock itself, from before the journal exists until after it
// is gone; HDF5's own lock on a second descriptor would conflict with it.
herr_t driverLock(H5FD_t *, hbool_t)
{
    return 0;
}
herr_t driverUnlock(H5FD_t *)
{
    return 0;
}

hid_t driverId()
{
    static hid_t id = [] {
        static H5FD_class_t cls{};
        cls.name = "headlens_journaled";
        cls.maxaddr = kMaxAddr;
        cls.fc_degree = H5F_CLOSE_WEAK;
        cls.fapl_size = sizeof(DriverInfo);
        cls.open = driverOpen;
        cls.close = driverClose;
        cls.cmp = driverCmp;
        cls.query = driverQuery;
        cls.get_eoa = driverGetEoa;
        cls.set_eoa = driverSetEoa;
        cls.get_eof = driverGetEof;
        cls.get_handle = driverGetHandle;
        cls.read = driverRead;
        cls.write = driverWrite;
        cls.truncate = driverTruncate;
        cls.lock = driverLock;
        cls.unlock = driverUnlock;
        const H5FD_mem_t map[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;
        std::copy(std::begin(map), std::end(map), std::begin(cls.fl_map));
        return H5::checkId(H5FDregister(&cls), "the journaling file driver");
    }();
    return id;
}

} // namespace

std::unique_ptr<AppendJournal> AppendJournal::begin(const std::string &path)
{
    const fs::path target = resolved(path);
    Fd fd(::open(target.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == EACCES || errno == EPERM || errno == EROFS) return nullptr;
        throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    }
    // Not while anything else has it open: HDF5 readers hold a shared lock for as long as
    // they have the file open, and would read a file changing under them.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK || errno == ENOLCK) return nullptr;
        throw std::runtime_error("cannot lock " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));

    removeStaleTemps(target); // as any save of the project does

    std::unique_ptr<AppendJournal> a(new AppendJournal);
    a->m_path = target.string();
    a->m_journalPath = journalPathOf(target).string();
    a->m_size = uint64_t(st.st_size);
    // A journal left by a killed append is undone first (the caller validated the project
    // through ProjectReader, which does that; this covers a kill since).
    if (const std::string err = undo(fd.get(), a->m_journalPath); !err.empty())
        throw std::runtime_error("cannot undo the interrupted append to " + path + ": " + err);
    if (::fstat(fd.get(), &st) == 0) a->m_size = uint64_t(st.st_size);

    a->m_journal = ::open(a->m_journalPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (a->m_journal < 0)
        throw std::runtime_error("cannot create " + a->m_journalPath + ": " + std::strerror(errno));
    a->m_fd = fd.release();
    unsigned char head[kHeaderSize];
    std::memcpy(head, kMagic.data(), kMagic.size());
    putU64(head + 8, a->m_size);
    putU64(head + 16, fnv1a(head, 16));
    a->m_journalSize = kHeaderSize;
    if (!writeAll(a->m_journal, head, kHeaderSize, 0) || ::fsync(a->m_journal) != 0)
        throw std::runtime_error("cannot write " + a->m_journalPath + ": " + std::strerror(errno));
    syncFolderOf(a->m_journalPath);
    return a;
}

AppendJournal::~AppendJournal()
{
    if (!m_committed) rollBack();
    if (m_journal >= 0) ::close(m_journal);
    if (m_fd >= 0) ::close(m_fd); // releases the lock
}

void AppendJournal::rollBack() noexcept
{
    if (m_fd < 0) return;
    // On failure the journal stays, and the next opener tries again.
    (void)undo(m_fd, m_journalPath);
}

H5::File AppendJournal::open()
{
    H5::Plist fapl = projectFileAccess();
    DriverInfo info{this};
    H5::checkStatus(H5Pset_driver(fapl, driverId(), &info), "the journaling file driver");
    return H5::File(H5Fopen(m_path.c_str(), H5F_ACC_RDWR, fapl), "cannot open " + m_path);
}

void AppendJournal::commit()
{
    if (::fsync(m_fd) != 0)
        throw std::runtime_error("cannot write " + m_path + ": " + std::strerror(errno));
    std::error_code ec;
    fs::remove(m_journalPath, ec);
    if (ec) throw std::runtime_error("cannot remove " + m_journalPath + ": " + ec.message());
    m_committed = true;
    syncFolderOf(m_journalPath);
}

bool AppendJournal::preserve(uint64_t offset, uint64_t size)
{
    const uint64_t end = std::min(offset + size, m_size);
    bool wrote = false;
    std::vector<unsigned char> rec;
    for (uint64_t at = offset; at < end;) {
        auto it = m_saved.upper_bound(at); // the first saved range that starts after at
        if (it != m_saved.begin() && std::prev(it)->second > at) {
            at = std::prev(it)->second; // inside a saved range: skip it
            continue;
        }
        const uint64_t next = it == m_saved.end() ? end : std::min(end, it->first);
        const uint64_t n = next - at;
        rec.resize(kRecordHead + size_t(n));
        putU64(rec.data(), at);
        putU64(rec.data() + 8, n);
        errno = 0;
        if (!readAll(m_fd, rec.data() + kRecordHead, size_t(n), at)) {
            if (errno == 0) errno = EIO;
            return false;
        }
        putU64(rec.data() + 16, fnv1a(rec.data() + kRecordHead, size_t(n), fnv1a(rec.data(), 16)));
        if (!writeAll(m_journal, rec.data(), rec.size(), m_journalSize)) return false;
        m_journalSize += rec.size();
        m_saved[at] = next;
        wrote = true;
        at = next;
    }
    return !wrote || ::fdatasync(m_journal) == 0;
}

void recoverInterruptedAppend(const std::string &path)
{
    std::error_code ec;
    const fs::path target = resolved(path);
    const fs::path journal = journalPathOf(target);
    if (!fs::exists(journal, ec)) return;
    Fd fd(::open(target.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.get() < 0)
        throw InputError("an append to " + path + " was interrupted and cannot be undone (" +
                         std::strerror(errno) + "); " + journal.string() +
                         " holds what to restore");
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
        throw InputError(path + " is being written by another program (a trace is being "
                                "added to it); open it when that has finished");
    if (const std::string err = undo(fd.get(), journal); !err.empty())
        throw InputError("an append to " + path + " was interrupted and cannot be undone (" + err +
                         "); " + journal.string() + " holds what to restore");
}

} // namespace HeadLens
