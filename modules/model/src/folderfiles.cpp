// Reading a model folder's files only from inside it (folderfiles.h).

#include "folderfiles.h"

#include "headlens/trace/error.h"

namespace HeadLens {

namespace fs = std::filesystem;

namespace {

bool isUnder(const fs::path &p, const fs::path &dir)
{
    auto d = dir.begin(), q = p.begin();
    for (; d != dir.end(); ++d, ++q) {
        if (d->empty()) continue; // a trailing separator
        if (q == p.end() || *q != *d) return false;
    }
    return true;
}

} // namespace

void checkInsideModelFolder(const fs::path &folder, const fs::path &file, const std::string &what)
{
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(file, ec))) return;
    const fs::path real = fs::canonical(file, ec);
    if (ec) return; // a dangling link or a loop: opening it fails with its own message
    const fs::path dir = fs::canonical(folder, ec);
    if (ec) return;
    if (isUnder(real, dir)) return;
    if (dir.parent_path().filename() == "snapshots" &&
        isUnder(real, dir.parent_path().parent_path() / "blobs"))
        return;
    throw InputError(file.string() + " (" + what + ") leads to " + real.string() +
                     ", outside the model folder " + dir.string() +
                     "; HeadLens reads a model folder's files only from inside it (copy the file "
                     "into the folder, or name it with its own option)");
}

} // namespace HeadLens
