// A .hlproj project (HDF5): opened as the workbench and headlens-cli open it, and every trace,
// with its head roles and patching map, and the project's extras (analyses, comparisons,
// view state) read.
#include "fuzzinput.h"

#include "headlens/project/headrolesstore.h"
#include "headlens/project/patchstore.h"
#include "headlens/project/project.h"

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = Fuzz::writeInput("project.hlproj", data, size);
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
