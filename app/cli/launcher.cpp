// headlens-cli: a launcher that links neither libtorch nor Qt. It sets the environment the
// engine needs before the engine's libraries are loaded, then executes the engine
// (headlens-cli-engine) in its place with the same arguments.
//
// Why: libtorch's OpenMP workers spin while OpenBLAS's own threads multiply, so on a small
// machine they fight for the cores (measured: twice the wall time of a forward pass, three
// times the CPU time of a trace). libgomp reads OMP_WAIT_POLICY once, while the dynamic
// loader initialises it, before any code of the program runs; setting the variable from
// inside the engine is too late (and glibc resets the environment pointer set by a
// .preinit_array function). Starting the engine again with the variable set cost a second
// load of libtorch (0.4 s). A launcher costs one exec of a small program.

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#ifndef HEADLENS_ENGINE_NAME
#define HEADLENS_ENGINE_NAME "headlens-cli-engine"
#endif
#ifndef HEADLENS_ENGINE_RELDIR
#define HEADLENS_ENGINE_RELDIR "../libexec/headlens" // from the launcher's folder, installed
#endif

namespace {

std::string selfDir()
{
    char buf[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string p(buf, size_t(n));
    const size_t slash = p.rfind('/');
    return slash == std::string::npos ? std::string(".") : p.substr(0, slash);
}

} // namespace

int main(int argc, char **argv)
{
    (void)argc;
    // Settings the user chose are kept.
    const auto setDefault = [](const char *name, const char *value) {
        const char *v = std::getenv(name);
        if (!v || !*v) setenv(name, value, 1);
    };
    setDefault("OMP_WAIT_POLICY", "PASSIVE");
    // OpenBLAS's idle threads call sched_yield for 2^28 cycles before they sleep; at 2^10
    // they leave the cores to libtorch's threads sooner (a trace: 1.8 s -> 0.6 s of system
    // time on 2 cores, wall time 5-10% lower).
    setDefault("OPENBLAS_THREAD_TIMEOUT", "10");
    std::string tried;
    if (const char *e = std::getenv("HEADLENS_ENGINE"); e && *e) {
        execv(e, argv);
        tried = std::string(e) + " (HEADLENS_ENGINE): " + std::strerror(errno);
    } else {
        const std::string dir = selfDir();
        // Beside the launcher in a build tree, in libexec when installed.
        for (const std::string &c : {dir + "/" HEADLENS_ENGINE_NAME,
                                     dir + "/" HEADLENS_ENGINE_RELDIR "/" HEADLENS_ENGINE_NAME}) {
            if (access(c.c_str(), X_OK) != 0) {
                tried += (tried.empty() ? "" : ", ") + c;
                continue;
            }
            execv(c.c_str(), argv);
            tried += (tried.empty() ? "" : ", ") + c + " (" + std::strerror(errno) + ")";
        }
    }
    std::fprintf(stderr, "headlens-cli: error: cannot start the engine program; tried %s\n",
                 tried.c_str());
    return 1;
}
