#include "args.h"

#include <cstdlib>

namespace {

// libtorch's OpenMP workers spin while OpenBLAS's own threads multiply, so on a small machine
// they fight for the cores (measured: 3x the CPU time for the same trace). libgomp reads its
// wait policy once, in its own initialiser, before main() runs. Functions in an executable's
// .preinit_array run before the initialiser of any shared library, so the policy is set here,
// in time, without starting the process again (which cost a second 0.4 s load of libtorch).
// A policy the user set is kept.
void setOpenMpWaitPolicy(int, char **, char **)
{
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
}

__attribute__((section(".preinit_array"), used)) void (*const preinitWaitPolicy)(int, char **, char **) =
    &setOpenMpWaitPolicy;

} // namespace

int main(int argc, char **argv)
{
    return HeadLens::Cli::runCommand(std::vector<std::string>(argv + 1, argv + argc));
}
