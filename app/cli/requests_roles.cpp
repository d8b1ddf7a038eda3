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

int64_t seedValue(const std::string &s, const std::string &what)
{
    size_t used = 0;
    long long v = -1;
    try {
        v = std::stoll(s, &used);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used != s.size() || s.empty() || v < 0)
        throw UsageError(what + " needs a whole number from 0, not '" + s + "'");
    return v;
}

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

HeadRolesRequest headRolesRequest(const Args &a)
{
    HeadRolesRequest r;
    r.probe.length = a.intValue("--length", 0, 2, 1 << 20);
    r.probe.sequences = a.intValue("--sequences", r.probe.sequences, 1, kMaxRepeatSequences);
    if (auto s = a.value("--seed")) r.probe.seed = seedValue(*s, "--seed");
    if (a.positional.size() > 2)
        throw UsageError("heads --roles takes MODEL and at most one PROJECT.hlproj");
    if (a.positional.size() == 2) r.output = a.positional[1];
    if (auto t = a.value("--trace")) {
        if (r.output.empty()) throw UsageError("--trace needs a PROJECT.hlproj to store into");
        r.traces.push_back(*t);
    }
    return r;
}

HeadRolesRequest headRolesRequest(const json &req)
{
    HeadRolesRequest r;
    r.probe.length = intField(req, "length", 0, 2, 1 << 20);
    r.probe.sequences = intField(req, "sequences", r.probe.sequences, 1, kMaxRepeatSequences);
    if (req.contains("seed")) {
        const json &s = req.at("seed");
        if (!s.is_number_integer() || s.get<int64_t>() < 0)
            throw UsageError("seed must be a whole number from 0");
        r.probe.seed = s.get<int64_t>();
    }
    r.output = req.value("output", "");
    if (req.contains("traces")) r.traces = req.at("traces").get<std::vector<std::string>>();
    if (req.contains("trace")) r.traces.push_back(req.at("trace").get<std::string>());
    if (!r.traces.empty() && r.output.empty())
        throw UsageError("trace needs output, the project to store into");
    return r;
}

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
