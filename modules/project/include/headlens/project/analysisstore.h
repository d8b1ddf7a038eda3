#pragma once
// Analysis results in a project file: groups of attributes and datasets added beside the v1
// schema (HLPROJ.md: add, never rename), under names listed in modules/project/
// SCHEMA-ADDITIONS.md. The store is generic on purpose: it knows groups, attributes and
// arrays, not what an analysis means, so this module stays free of the analysis module
// (trace <- project; trace <- analysis) and a new analysis needs no new storage code.
//
// Results may only be written where they cannot collide with the v1 schema:
//   /analysis/...                      results over a whole project
//   /traces/<trace>/analysis/...       results of one trace (they follow the trace when it is
//                                      renamed and go when it is removed or replaced)
//   /comparisons/<name>[/...]          comparisons of two traces (HLPROJ.md)
// Writing follows the rules of addTrace: the file is validated first, the new version is
// written beside it (a byte copy, then the changes), flushed, fsync'ed and renamed over it;
// on any failure the temp file is removed and the original left byte-identical.
//
// Errors: InputError when the project cannot be used (as ProjectReader says) or a named trace
// or group is not there; std::invalid_argument for a group path outside the places above, a
// bad name or an array whose data does not fit its shape (a bug in the caller);
// std::runtime_error when writing fails.

#include "headlens/trace/array.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace HeadLens {

using DoubleArray = Array<double>;

// One group of results: its attributes and its datasets (direct children). Names must not be
// empty or contain '/'. A name used in two maps of one record is an error.
struct AnalysisRecord {
    std::map<std::string, std::string> text;                 // scalar UTF-8 string attributes
    std::map<std::string, int64_t> integers;                 // scalar int64 attributes
    std::map<std::string, double> numbers;                   // scalar float64 attributes
    std::map<std::string, DoubleArray> doubles;              // float64 datasets
    std::map<std::string, FloatArray> floats;                // float32 datasets
    std::map<std::string, IntArray> ints;                    // int32 datasets
    std::map<std::string, std::vector<std::string>> strings; // 1-D UTF-8 string datasets
};

// One atomic change of a project's results.
struct AnalysisUpdate {
    // Groups removed first, with everything in them, when they exist (re-running an analysis
    // replaces its old results instead of mixing with them).
    std::vector<std::string> remove;
    // Groups written, in order: created when absent (with the groups above them); attributes
    // and datasets of the same name replaced. Child groups not named here are kept.
    std::vector<std::pair<std::string, AnalysisRecord>> write;
};

// Applies update to the project at path (which must exist). See above for where it may write.
void writeAnalysis(const std::string &path, const AnalysisUpdate &update);

// Whether the group exists in the project.
bool hasAnalysis(const std::string &path, const std::string &group);
// The attributes and direct datasets of a group (child groups are read on their own).
// Attributes of other types and datasets of other types are left out. InputError if absent.
AnalysisRecord readAnalysis(const std::string &path, const std::string &group);
// Names of a group's child groups (creation order when tracked, else name order); empty when
// the group does not exist.
std::vector<std::string> listAnalysis(const std::string &path, const std::string &group);

// Where results live (see SCHEMA-ADDITIONS.md).
std::string projectAnalysisGroup(const std::string &kind); // /analysis/<kind>
std::string traceAnalysisGroup(const std::string &trace,
                               const std::string &kind); // /traces/<t>/analysis/<kind>
std::string comparisonGroup(const std::string &name);    // /comparisons/<name>

} // namespace HeadLens
