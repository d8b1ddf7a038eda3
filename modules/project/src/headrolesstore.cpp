#include "headlens/project/headrolesstore.h"

#include "analysisgroup.h"
#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "hlprojlayout.h"

namespace HeadLens {

namespace {

const char *const kPositions =
    "previous_token, first_token, self, mean_distance: queries 1..T-1 of every sequence; "
    "duplicate_token, induction: queries whose token occurred before at j < i-1 (the second "
    "copy, i = n+1..2n)";
const char *const kSource = "repeated random tokens [BOS, r_1..r_n, r_1..r_n]";

template <typename T>
Array<T> need(const std::map<std::string, Array<T>> &m, const std::string &name,
              const std::vector<int64_t> &shape, const std::string &where)
{
    auto it = m.find(name);
    if (it == m.end()) throw InputError(where + ": dataset '" + name + "' is missing");
    if (it->second.shape != shape)
        throw InputError(where + ": dataset '" + name + "' has shape " +
                         shapeString(it->second.shape) + ", not " + shapeString(shape));
    return it->second;
}

int64_t needInt(const AnalysisRecord &r, const std::string &name, const std::string &where)
{
    auto it = r.integers.find(name);
    if (it == r.integers.end()) throw InputError(where + ": attribute '" + name + "' is missing");
    return it->second;
}

} // namespace

AnalysisRecord headRolesRecord(const HeadRoles &roles)
{
    const auto &n = HlProj::headRolesNames();
    AnalysisRecord rec;
    rec.integers[n.nLayers] = roles.nLayers;
    rec.integers[n.nHeads] = roles.nHeads;
    rec.integers[n.nQueries] = roles.nQueries;
    rec.integers[n.nRepeatQueries] = roles.nRepeatQueries;
    rec.integers[n.sequenceLength] = roles.sequenceLength;
    rec.integers[n.sequences] = roles.sequences;
    rec.integers[n.seed] = roles.seed;
    rec.text[n.source] = kSource;
    rec.text[n.positions] = kPositions;
    rec.text[n.modelFingerprint] = roles.modelFingerprint;
    for (HeadRole r : allHeadRoles())
        rec.doubles[HlProj::headRoleDataset(r)] = roles.score[size_t(r)];
    rec.doubles[n.meanDistance] = roles.meanDistance;
    if (!roles.tokens.empty()) rec.ints[n.tokens] = roles.tokens;
    return rec;
}

void writeHeadRoles(const std::string &path, const std::vector<std::string> &traces,
                    const HeadRoles &roles)
{
    {
        ProjectReader reader(path);
        for (const std::string &t : traces) {
            if (!reader.hasTrace(t)) throw InputError(path + ": there is no trace '" + t + "'");
            const TraceListing *l = nullptr;
            for (const auto &x : reader.info().traces)
                if (x.name == t) l = &x;
            if (l && (l->nLayers != roles.nLayers || l->nHeads != roles.nHeads))
                throw InputError(
                    "trace '" + t + "' in " + path + " has " + std::to_string(l->nLayers) +
                    " layers x " + std::to_string(l->nHeads) +
                    " heads; the roles are of a model with " + std::to_string(roles.nLayers) +
                    " x " + std::to_string(roles.nHeads));
        }
    }
    const AnalysisRecord rec = headRolesRecord(roles);
    AnalysisUpdate u;
    for (const std::string &t : traces) {
        const std::string group = traceAnalysisGroup(t, HlProj::kHeadRolesGroup);
        u.remove.push_back(group);
        u.write.push_back({group, rec});
    }
    writeAnalysis(path, u);
}

std::optional<HeadRoles> readHeadRoles(const std::string &path, const std::string &trace)
{
    const std::string group = traceAnalysisGroup(trace, HlProj::kHeadRolesGroup);
    if (!hasAnalysis(path, group)) return std::nullopt;
    const AnalysisRecord rec = readAnalysis(path, group);
    const auto &n = HlProj::headRolesNames();
    const std::string where = path + ": trace '" + trace + "', head roles";
    HeadRoles r;
    r.nLayers = int(needInt(rec, n.nLayers, where));
    r.nHeads = int(needInt(rec, n.nHeads, where));
    if (r.nLayers <= 0 || r.nHeads <= 0) throw InputError(where + ": no layers or no heads");
    const std::vector<int64_t> shape{r.nLayers, r.nHeads};
    for (HeadRole role : allHeadRoles())
        r.score[size_t(role)] = need(rec.doubles, HlProj::headRoleDataset(role), shape, where);
    r.meanDistance = need(rec.doubles, n.meanDistance, shape, where);
    r.nQueries = needInt(rec, n.nQueries, where);
    r.nRepeatQueries = needInt(rec, n.nRepeatQueries, where);
    r.sequenceLength = int(needInt(rec, n.sequenceLength, where));
    r.sequences = int(needInt(rec, n.sequences, where));
    r.seed = needInt(rec, n.seed, where);
    if (auto it = rec.text.find(n.modelFingerprint); it != rec.text.end())
        r.modelFingerprint = it->second;
    if (auto it = rec.ints.find(n.tokens); it != rec.ints.end()) r.tokens = it->second;
    return r;
}

} // namespace HeadLens
