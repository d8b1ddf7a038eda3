#pragma once
// Writing one analysis group into a project file that is being built (the analysis store's own
// saves, and writeProject for results measured since a project was opened). Private to
// modules/project.

#include "headlens/project/analysisstore.h"
#include "headlens/trace/headroles.h"

#include <hdf5.h>

#include <string>

namespace HeadLens {

// Removes `group` of the open file when it exists, then writes record there (the group path is
// checked as writeAnalysis checks it).
void replaceAnalysisGroup(hid_t file, const std::string &group, const AnalysisRecord &record);

// The record a trace's head roles are stored as (SCHEMA-ADDITIONS.md "head_roles").
AnalysisRecord headRolesRecord(const HeadRoles &roles);

} // namespace HeadLens
