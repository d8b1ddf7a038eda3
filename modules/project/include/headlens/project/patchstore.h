#pragma once
// The activation patching map (patchmap.h) in a project file, kept with the trace of the clean
// prompt (SCHEMA-ADDITIONS.md "Activation patching"), so that it follows the trace when it is
// renamed and goes when it is removed or replaced.

#include "headlens/trace/patchmap.h"

#include <optional>
#include <string>

namespace HeadLens {

// Where the map of trace lives: /traces/<trace>/analysis/patching.
std::string patchMapGroup(const std::string &trace);

// Writes (replaces) the map of trace in the project at path, atomically (as writeAnalysis).
// InputError when the project or the trace cannot be used, or the map does not fit the
// trace's layers and tokens.
void writePatchMap(const std::string &path, const std::string &trace, const PatchMap &map);

// The map stored with trace, or none when it has none. InputError when the project or the
// trace cannot be read, or the stored map is damaged (named with what is wrong).
std::optional<PatchMap> readPatchMap(const std::string &path, const std::string &trace);

} // namespace HeadLens
