#include "args.h"

#include <cstdlib>
#include <unistd.h>

int main(int argc, char **argv)
{
    // libtorch's OpenMP workers spin while OpenBLAS's own threads multiply, so on a small
    // machine they fight for the cores (measured: 3x the CPU time for the same trace).
    // libgomp reads its wait policy when it is loaded, before main(): set it and start again.
    if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("HEADLENS_NO_REEXEC")) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        setenv("HEADLENS_NO_REEXEC", "1", 1);
        execv("/proc/self/exe", argv);
        // If that fails, carry on with the active policy.
    }
    return HeadLens::Cli::runCommand(std::vector<std::string>(argv + 1, argv + argc));
}
