#pragma once
// Where the data of a document's trace comes from. Private to modules/document.

#include "headlens/project/project.h"

#include <memory>
#include <string>

#include <sys/stat.h>

namespace HeadLens {

// An open project file. Writers rename new files over old ones, so the reader keeps seeing
// the version it opened even after a save replaced it; `stillAtPath` tells whether the file at
// the path is still that version (then its traces can be copied by path when saving).
struct SourceFile {
    explicit SourceFile(const std::string &path) : reader(path)
    {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0) {
            dev = st.st_dev;
            ino = st.st_ino;
            mtime = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        }
    }
    bool stillAtPath() const
    {
        struct stat st {};
        if (::stat(reader.path().c_str(), &st) != 0) return false;
        return st.st_dev == dev && st.st_ino == ino &&
               st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec == mtime;
    }

    ProjectReader reader;
    dev_t dev = 0;
    ino_t ino = 0;
    long long mtime = 0;
};

// One trace of a document. Shared between the document's list and the undo commands, so a
// removed trace can come back with its data.
struct TraceEntry {
    int id = 0;                          // stable key of the document's caches
    TraceListing listing;                // name and parent are the current ones
    std::shared_ptr<SourceFile> source;  // the trace is in this file...
    std::string sourceName;              // ...under this name
    std::shared_ptr<const Trace> memory; // or complete in memory (no source)
    // Head roles measured since the project was opened (SetHeadRoles): shown instead of the
    // stored ones, and saved with the trace.
    std::shared_ptr<const HeadRoles> roles;
};

} // namespace HeadLens
