#include "args.h"

int main(int argc, char **argv)
{
    return HeadLens::Cli::runCommand(std::vector<std::string>(argv + 1, argv + argc));
}
