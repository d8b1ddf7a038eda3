// headlens-check PROJECT: reads what the workbench reads when it opens a project (the file's
// metadata, every trace's small datasets, head roles, patching maps and the project's extras)
// and says whether that works. The workbench runs it in a child process before it opens a
// project in its own: a damaged file that crashes libhdf5 then takes only this process with
// it, not every open project. Exit 0: readable; 3: refused, with one line on stderr; a signal:
// the library crashed.
#include "headlens/project/headrolesstore.h"
#include "headlens/project/patchstore.h"
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
        const HeadLens::ProjectReader reader(path);
        for (const auto &listing : reader.info().traces) {
            (void)reader.readTrace(listing.name);
            (void)HeadLens::readHeadRoles(path, listing.name);
            (void)HeadLens::readPatchMap(path, listing.name);
        }
        (void)HeadLens::readProjectExtras(path);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "headlens-check: error: %s\n", e.what());
        return 3;
    }
    return 0;
}
