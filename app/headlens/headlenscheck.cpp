// headlens-check PROJECT: reads what the workbench reads when it opens a project (the file's
// metadata, the listing of its traces and the project's extras) and opens every object and
// attribute in it, reading no data (readProjectStructure), and says whether that works. The
// workbench runs it in a child process before it opens a project in its own: a damaged file that
// crashes libhdf5 then takes only this process with it, not every open project. Exit 0:
// readable; 3: refused, with one line on stderr; a signal: the library crashed.
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <cstdio>
#include <exception>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: headlens-check PROJECT.hlproj\n");
        return 2;
    }
    const std::string path = argv[1];
    try {
        // Not every trace's data, which would make opening a project of many traces wait for
        // all of them (300 small traces: 28.6 s; their metadata alone: 0.4 s).
        HeadLens::readProjectStructure(path);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "headlens-check: error: %s\n", e.what());
        return 3;
    }
    return 0;
}
