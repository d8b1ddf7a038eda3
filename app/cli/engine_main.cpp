// headlens-cli-engine: the engine itself (libtorch). Users run it through the launcher
// headlens-cli (launcher.cpp), which sets up the process environment first.

#include "args.h"

int main(int argc, char **argv)
{
    HeadLens::Cli::guardProjectOpens();
    return HeadLens::Cli::runCommand(std::vector<std::string>(argv + 1, argv + argc));
}
