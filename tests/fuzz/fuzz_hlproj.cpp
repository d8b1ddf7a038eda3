// A .hlproj project (HDF5), read as headlens-cli and the workbench read it: its structure and
// every object's metadata (readProjectStructure, which the programs run in a child process
// first: app/cli/projectguard.cpp, headlens-check), then, when that got through, every trace
// in full, with its head roles and patching map, and the project's extras (analyses,
// comparisons, view state). libhdf5 crashes on some damaged metadata; run.sh runs this target
// with -fork=1 -ignore_crashes=1 so that fuzzing goes on, and triage.sh says which crashes the
// programs refuse (their child crashed) and which they would have too.
#include "fuzzinput.h"

#include "headlens/project/headrolesstore.h"
#include "headlens/project/patchstore.h"
#include "headlens/project/project.h"

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = Fuzz::writeInput("project.hlproj", data, size);
    bool opens = false;
    Fuzz::readAs([&] {
        readProjectStructure(path);
        opens = true;
    });
    if (!opens) return 0;
    return Fuzz::readAs([&] {
        ProjectReader reader(path);
        for (const auto &listing : reader.info().traces) {
            const std::string &name = listing.name;
            Fuzz::readAs([&] { (void)reader.readTraceFull(name); });
            Fuzz::readAs([&] { (void)readHeadRoles(path, name); });
            Fuzz::readAs([&] { (void)readPatchMap(path, name); });
        }
        Fuzz::readAs([&] { (void)readProjectExtras(path); });
    });
}
