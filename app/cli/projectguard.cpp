// The engine's check of a project before it opens one (setProjectOpenCheck): libhdf5 1.10
// crashes on some damaged files (a free of a pointer read from a damaged link table, a use
// after free in the object header code) before any error can be returned. The engine reads
// what opening a project reads (as the workbench's headlens-check does) in a forked child
// first; a child killed by a signal, or ending other than by its own answer, makes the file an
// input error naming it, and the engine lives on. A child that refused the file has this process
// read the same, which refuses it in the same words. Each version of a file (path, size,
// modification time) is checked once.

#include "args.h"

#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <tuple>

namespace HeadLens::Cli {

namespace {

bool g_inChild = false;

void checkInChild(const std::string &path)
{
    if (g_inChild) return;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return; // the reader says what is wrong with it
    using Key = std::tuple<std::string, long long, long long, long long>;
    static std::set<Key> checked;
    const Key key{path, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                  (long long)st.st_mtim.tv_nsec};
    if (checked.count(key)) return;
    // What is buffered for stdout and stderr goes out once, not once more from the child. Not
    // fflush(nullptr): serve's reader thread holds stdin's lock while it waits for a line.
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) return; // no child to spare: read it here, as without the check
    if (pid == 0) {
        g_inChild = true;
        // The child's answer is its exit status. What a crash prints (glibc's, or a
        // sanitizer's report) would break the one-line refusal the parent gives.
        const int devNull = ::open("/dev/null", O_WRONLY);
        if (devNull >= 0) {
            ::dup2(devNull, STDERR_FILENO);
            ::close(devNull);
        }
        int code = 0;
        try {
            readProjectStructure(path);
        } catch (...) {
            code = 3;
        }
        ::_exit(code); // no destructors, no library shutdown: the parent goes on
    }
    // The child needs milliseconds. Should it wait on a lock another thread held at the fork,
    // it is stopped after 20 s and the file is read here, as without the check.
    int status = 0;
    for (int waited = 0;; ++waited) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) return;
        if (waited == 20000) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return;
        }
        ::usleep(1000);
    }
    // Exit 0 (read) and 3 (refused) are the child's own answers. Any other end is a crash,
    // whether by a signal or by a handler that exits (AddressSanitizer's exits 1).
    if (WIFSIGNALED(status))
        throw InputError(path + " is damaged: reading its structure crashed the HDF5 library (" +
                         ::strsignal(WTERMSIG(status)) + ")");
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3)
        throw InputError(path + " is damaged: reading its structure crashed the HDF5 library " +
                         "(exit status " + std::to_string(WEXITSTATUS(status)) + ")");
    if (WEXITSTATUS(status) == 3) {
        // Refused without a crash, maybe for metadata this process's own open would not read
        // before it crashed on it: the same check here, which refuses it in the same words.
        struct Unchecked { // this reading is not checked again
            Unchecked() { g_inChild = true; }
            ~Unchecked() { g_inChild = false; }
        } unchecked;
        readProjectStructure(path);
    }
    checked.insert(key);
}

} // namespace

void guardProjectOpens()
{
    setProjectOpenCheck(checkInChild);
}

} // namespace HeadLens::Cli
