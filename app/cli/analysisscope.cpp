#include "analysisscope.h"

#include "headlens/trace/error.h"

namespace HeadLens::Cli {

Scope scopeOf(const ProjectReader &reader, const Args &a)
{
    const auto name = a.value("--trace");
    if (name && a.has("--all")) throw UsageError("give --trace NAME or --all, not both");
    Scope s;
    if (name) {
        if (!reader.hasTrace(*name))
            throw InputError("no trace '" + *name + "' in " + reader.path());
        s.traces = {*name};
        return s;
    }
    const auto &listing = reader.info().traces;
    if (listing.empty()) throw InputError(reader.path() + " has no traces");
    if (!a.has("--all") && listing.size() != 1)
        throw UsageError(reader.path() + " has " + std::to_string(listing.size()) +
                         " traces: give --trace NAME or --all");
    s.all = a.has("--all");
    for (const TraceListing &l : listing)
        s.traces.push_back(l.name);
    return s;
}

IntArray intArray(std::vector<int64_t> shape, const std::vector<int> &v)
{
    IntArray a(std::move(shape));
    for (size_t i = 0; i < v.size(); ++i)
        a.data[i] = int32_t(v[i]);
    return a;
}

void scopeRecord(AnalysisRecord &r, const Scope &s)
{
    r.text["scope"] = s.all ? "project" : "trace";
    r.integers["n_traces"] = int64_t(s.traces.size());
    r.strings["traces"] = s.traces;
}

} // namespace HeadLens::Cli
