#pragma once
// What a project-only analysis (stats, correlate, heads) covers, and the shapes it stores.

#include "args.h"

#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"

#include <string>
#include <vector>

namespace HeadLens::Cli {

// The traces an analysis covers: --trace NAME, --all, or the only trace there is.
struct Scope {
    std::vector<std::string> traces;
    bool all = false;
    std::string describe() const
    {
        return all ? std::to_string(traces.size()) + " traces of the project"
                   : "trace '" + traces.front() + "'";
    }
    // Where the analysis of this scope is stored (per trace, or for the project).
    std::string group(const std::string &kind) const
    {
        return all ? projectAnalysisGroup(kind) : traceAnalysisGroup(traces.front(), kind);
    }
};

// UsageError for --trace with --all, or for neither in a project of several traces; InputError
// for a trace the project lacks, or a project without traces.
Scope scopeOf(const ProjectReader &reader, const Args &a);

// Records the scope ("scope", "n_traces", "traces") in an analysis record.
void scopeRecord(AnalysisRecord &r, const Scope &s);

template <typename T> Array<T> array1(const std::vector<T> &v)
{
    Array<T> a({int64_t(v.size())});
    a.data = v;
    return a;
}

IntArray intArray(std::vector<int64_t> shape, const std::vector<int> &v);

} // namespace HeadLens::Cli
