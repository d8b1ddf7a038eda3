#pragma once
// Appending to a project in place, under an undo journal (SCHEMA-ADDITIONS.md "Appending in
// place"). Module-private.
//
// A new trace goes to the end of the project file; HDF5 changes only a few blocks of what is
// already there (the superblock, the root's and /traces' headers and link index). Before any
// byte of the original file is overwritten, its old content is appended to the journal
// ".<file>.journal" beside the project and synced. A finished append syncs the project and
// removes the journal; a failed one puts the old bytes back and cuts the file to its old
// length; a killed one leaves the journal, and the next opener of the project undoes the
// append before HDF5 reads it (recoverInterruptedAppend). Either way the project ends up
// byte-identical to what it was, or with the new trace complete, and an append costs time in
// proportion to the new trace, not to the project.

#include "h5util.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace HeadLens {

class AppendJournal {
public:
    // Starts an append to the existing project at path (a symlink appends to its target):
    // locks it, so no HeadLens or HDF5 reader opens it meanwhile, and creates the journal.
    // nullptr when the project cannot be changed in place now (another program has it open,
    // or it is read-only): the caller then saves a new version beside it, as before.
    static std::unique_ptr<AppendJournal> begin(const std::string &path);
    // Without commit(): puts the old bytes back (a failed append leaves the project as it was).
    ~AppendJournal();
    AppendJournal(const AppendJournal &) = delete;
    AppendJournal &operator=(const AppendJournal &) = delete;

    // The project opened read-write through the journaling driver. Close it before commit().
    H5::File open();
    // Syncs the project and removes the journal: the append is done.
    void commit();

    // For the driver: saves the old content of [offset, offset + size) that lies inside the
    // original file and is not saved yet; false (errno set) when the journal cannot be written.
    bool preserve(uint64_t offset, uint64_t size);
    uint64_t originalSize() const { return m_size; }
    int projectFd() const { return m_fd; }

private:
    AppendJournal() = default;
    void rollBack() noexcept;

    std::string m_path, m_journalPath;
    int m_fd = -1, m_journal = -1;
    uint64_t m_size = 0, m_journalSize = 0;
    std::map<uint64_t, uint64_t> m_saved; // start -> end of the ranges already in the journal
    bool m_committed = false;
};

// Undoes an append that a killed process left unfinished, if the project at path has a
// journal beside it. Every opener calls it before HDF5 reads the file. InputError naming the
// project when an append is in progress in another process, or when the undo cannot be done
// (the journal then stays for a later try).
void recoverInterruptedAppend(const std::string &path);

} // namespace HeadLens
