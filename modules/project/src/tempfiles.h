#pragma once
// The files a save writes beside a project (".<file>.tmp-<pid>", and "-trace" / "-N.hlproj"
// after it) and the ones a killed save leaves behind. Module-private.

#include <filesystem>
#include <string>

namespace HeadLens {

// ".<file>.tmp-<this pid>" beside target.
std::filesystem::path tempBeside(const std::filesystem::path &target);

// Removes what killed saves of target left beside it: temp files whose process is gone (no
// process of that pid on this machine) and that nothing has written for an hour (a save from
// another machine sharing the folder keeps writing its file). Never fails.
void removeStaleTemps(const std::filesystem::path &target);

} // namespace HeadLens
