#pragma once
// A model folder's files are read only from inside it. Hugging Face folders often hold links
// (the hub cache links every file of a snapshot to its blob), and a link, or a shard name from
// an index, could otherwise make HeadLens read any file on the machine and quote it back in an
// error. Files the user names themselves (--tokenizer PATH, a checkpoint file) are not limited.

#include <filesystem>
#include <string>

namespace HeadLens {

// InputError naming both when `file` (followed through every link) lies outside `folder`.
// Inside means under the folder's own real path, or, for a snapshot of the Hugging Face hub
// cache (<repo>/snapshots/<revision>), under that repository's blobs/ folder. A file that
// does not exist passes: the caller reports it as missing.
void checkInsideModelFolder(const std::filesystem::path &folder, const std::filesystem::path &file,
                            const std::string &what);

} // namespace HeadLens
