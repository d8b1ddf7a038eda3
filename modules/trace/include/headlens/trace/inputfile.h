#pragma once
// Files a user names (prompt files, model configs, tokenizers, projects) are read only when
// they are regular files of a sane size for their kind: a FIFO would block forever and a
// device such as /dev/zero would never end. Errors are InputErrors that say what and where.

#include <cstdint>
#include <string>

namespace HeadLens {

// Checks that path is a regular file of at most maxBytes (no limit when negative), without
// opening it (so a FIFO cannot block). `what` names the file's role in messages.
void checkInputFile(const std::string &path, const std::string &what, int64_t maxBytes = -1);
// The whole file, after the same checks; opened without blocking, so a file swapped for a FIFO
// between the check and the read is refused too.
std::string readInputFile(const std::string &path, const std::string &what, int64_t maxBytes);

constexpr int64_t kMaxTextInputBytes = int64_t(64) << 20; // configs, indexes, tokenizers, prompts

} // namespace HeadLens
