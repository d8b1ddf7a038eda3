#pragma once
// How every writer of this module saves a file (HLPROJ.md "Saving"): the new version is built
// in a temp file beside the target (".<file>.tmp-<pid>"), flushed, fsync'ed and renamed over
// it, so a failure or a kill leaves the original byte-identical. Module-private.

#include "h5util.h"

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace HeadLens {

// The new version of a file and the scratch files made on the way to it, all beside the file.
// Destroyed without commit(), it removes the temp file; it always removes the scratch files.
class SaveFile {
public:
    // A symlinked path saves the file the link points to and keeps the link (InputError naming
    // the path when the link cannot be followed, e.g. a loop). What killed saves
    // of the same file left beside it is removed first: temp files whose process is gone (no
    // process of that pid on this machine) and that nothing has written for an hour (a save
    // from another machine sharing the folder keeps writing its file).
    explicit SaveFile(const std::string &path);
    ~SaveFile();
    SaveFile(const SaveFile &) = delete;
    SaveFile &operator=(const SaveFile &) = delete;

    const std::filesystem::path &target() const { return m_target; }
    std::string temp() const { return m_temp.string(); }

    // "<temp>-<suffix>": a file of this save that never becomes the target.
    std::string scratch(const std::string &suffix);
    void dropScratch(const std::string &path);

    // Gives the temp file the target's permissions, fsyncs it, renames it over the target and
    // syncs the folder. std::runtime_error naming the file when that fails.
    void commit();

private:
    std::filesystem::path m_target;
    std::filesystem::path m_temp;
    std::vector<std::string> m_scratch;
    bool m_committed = false;
};

// Removes what killed saves of target left beside it (temp files whose process is gone and
// that nothing has written for an hour), as every save does first.
void removeStaleTemps(const std::filesystem::path &target);

// HDF5 files as the writers create and open them. Closing fails loudly if anything inside is
// still open (the file would not be complete on disk yet). The HDF5 1.8 object formats carry
// checksums, so damaged metadata is refused instead of misread; HDF5 >= 1.8 is needed anyway
// for the creation-ordered /traces group, and the 1.10-only formats are not used so that HDF5
// 1.8 readers (older MATLAB, h5dump) still open the files.
// The access properties behind both (and behind an append in place, appendjournal.h).
H5::Plist projectFileAccess();
H5::File createProjectFile(const std::string &path);
H5::File openProjectForWriting(const std::string &path);
// Flushes and closes a written file; H5Error naming it when that fails.
void finishProjectFile(H5::File &file, const std::string &path);

// Runs a save with HDF5 locked. HDF5 and file system failures become std::runtime_errors
// "cannot save <path>: ..."; InputErrors from validation pass through.
template <typename F> auto guardedSave(const std::string &path, F &&f) -> decltype(f())
{
    H5::Guard guard;
    try {
        return f();
    } catch (const H5::H5Error &e) {
        throw std::runtime_error("cannot save " + path + ": " + e.what());
    } catch (const std::filesystem::filesystem_error &e) {
        throw std::runtime_error("cannot save " + path + ": " + e.code().message());
    }
}

} // namespace HeadLens
