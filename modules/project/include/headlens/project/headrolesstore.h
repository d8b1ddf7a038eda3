#pragma once
// Head roles in a project: stored per trace (in /traces/<name>/analysis/head_roles, so they
// follow the trace), since they belong to the model that made it (SCHEMA-ADDITIONS.md).

#include "headlens/trace/headroles.h"

#include <optional>
#include <string>
#include <vector>

namespace HeadLens {

// Writes roles into each of traces of the project at path, replacing what they held, in one
// atomic save (as writeAnalysis). InputError when a trace is not there, or its model has other
// layers or heads than roles.
void writeHeadRoles(const std::string &path, const std::vector<std::string> &traces,
                    const HeadRoles &roles);
// The roles stored with a trace; nullopt when it has none. InputError when the project or the
// trace cannot be read, or the stored group is damaged (a dataset missing or of another shape).
std::optional<HeadRoles> readHeadRoles(const std::string &path, const std::string &trace);

} // namespace HeadLens
