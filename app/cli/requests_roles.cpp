// The head-roles request of requests.h (heads --roles and serve's head_roles).

#include "requests.h"

#include "headlens/analysis/headroles.h"
#include "headlens/project/headrolesstore.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace HeadLens::Cli {

using json = nlohmann::json;

namespace {

// The probe's sequences, one list of ids per sequence.
json tokensJson(const Array<int32_t> &tokens)
{
    json out = json::array();
    if (tokens.shape.size() != 2) return out;
    for (int64_t i = 0; i < tokens.shape[0]; ++i)
        out.push_back(std::vector<int32_t>(tokens.data.begin() + i * tokens.shape[1],
                                           tokens.data.begin() + (i + 1) * tokens.shape[1]));
    return out;
}

} // namespace

std::vector<std::string> headRolesTraces(const Model &model, const HeadRolesRequest &r)
{
    if (r.output.empty()) return {};
    ProjectReader reader(r.output);
    std::vector<std::string> out;
    const bool all = r.traces.empty();
    std::vector<std::string> names = r.traces;
    if (all)
        for (const TraceListing &t : reader.info().traces)
            names.push_back(t.name);
    for (const std::string &name : names) {
        if (!reader.hasTrace(name)) throw InputError("no trace '" + name + "' in " + r.output);
        const Trace t = reader.readTrace(name);
        const bool same = t.modelFingerprint.empty() ? t.config == model.config()
                                                     : t.modelFingerprint == model.fingerprint();
        if (same)
            out.push_back(name);
        else if (!all)
            throw InputError("trace '" + name + "' in " + r.output + " was made with " +
                             t.modelName + ", not with " + model.path() +
                             " (the model fingerprints differ)");
    }
    if (out.empty()) throw InputError("no trace in " + r.output + " was made with " + model.path());
    return out;
}

HeadRolesResult runHeadRoles(Model &model, const HeadRolesRequest &r,
                             const std::function<bool()> &cancelled,
                             const std::function<void(int, int)> &progress)
{
    HeadRolesResult out;
    const std::vector<std::string> traces = headRolesTraces(model, r); // checked before the work
    const ModelConfig &c = model.config();
    const int n = repeatProbeLength(c, r.probe);
    HeadRoleAccumulator acc(c.nLayers, c.nHeads);
    std::vector<int32_t> tokens;
    int64_t perSequence = 0;
    runRepeatProbe(
        model, r.probe,
        [&](int, const std::vector<int32_t> &ids, int layer, const TensorView &v) {
            acc.add(layer, v.data, ids);
            if (layer == 0) {
                tokens.insert(tokens.end(), ids.begin(), ids.end());
                perSequence = int64_t(ids.size());
            }
        },
        cancelled, progress);
    out.roles = acc.result();
    out.roles.sequenceLength = n;
    out.roles.sequences = r.probe.sequences;
    out.roles.seed = r.probe.seed;
    out.roles.modelFingerprint = model.fingerprint();
    out.roles.tokens.shape = {int64_t(r.probe.sequences), perSequence};
    out.roles.tokens.data = std::move(tokens);
    if (!traces.empty()) {
        writeHeadRoles(r.output, traces, out.roles);
        out.stored = traces;
    }
    return out;
}

json headRolesJson(const HeadRolesResult &res)
{
    const HeadRoles &r = res.roles;
    auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
    json heads = json::array();
    for (int l = 0; l < r.nLayers; ++l)
        for (int h = 0; h < r.nHeads; ++h) {
            json e = {{"layer", l}, {"head", h}};
            for (HeadRole role : allHeadRoles())
                e[headRoleName(role)] = number(r.at(role, l, h));
            e["mean_distance"] = number(r.distanceAt(l, h));
            const auto best = strongestRole(r, l, h);
            e["strongest"] = best ? json(headRoleName(best->role)) : json(nullptr);
            heads.push_back(e);
        }
    return {{"n_layers", r.nLayers},
            {"n_heads", r.nHeads},
            {"sequence_length", r.sequenceLength},
            {"sequences", r.sequences},
            {"seed", r.seed},
            {"n_queries", r.nQueries},
            {"n_repeat_queries", r.nRepeatQueries},
            {"model_fingerprint", r.modelFingerprint},
            {"tokens", tokensJson(r.tokens)},
            {"heads", heads},
            {"stored", res.stored}};
}

} // namespace HeadLens::Cli
