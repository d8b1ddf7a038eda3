// The attribute request (requests.h): read from the command line or a serve request, run by
// one function, answered as one JSON shape by both faces.

#include "requests.h"

#include "headlens/analysis/dla.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace HeadLens::Cli {

using json = nlohmann::json;

AttributeResult runAttribute(Model &model, const AttributeRequest &r)
{
    AttributeResult out;
    out.tokens = r.prompt.tokens(model);
    const int T = int(out.tokens.size());
    if (r.pos >= T)
        throw InputError("position " + std::to_string(r.pos) + " is outside the " +
                         std::to_string(T) + " tokens of the prompt");
    const int32_t token = r.token.empty() ? r.tokenId : modelTokenOfText(model, r.token);
    const int32_t minus = r.minus.empty() ? r.minusId : modelTokenOfText(model, r.minus);
    std::vector<int32_t> ids;
    for (const TokenInfo &t : out.tokens)
        ids.push_back(t.id);
    out.dla = model.attribute(ids, token, minus);
    auto texts = [&](const IntArray &a) {
        std::vector<std::string> s;
        for (const TokenInfo &t : model.tokensFromIds(a.data))
            s.push_back(t.text);
        return s;
    };
    out.tokenText = texts(out.dla.tokenIds);
    if (!out.dla.minusIds.empty()) out.minusText = texts(out.dla.minusIds);
    return out;
}

json attributionJson(const AttributeResult &r, int pos)
{
    const LogitAttribution &a = r.dla;
    const int64_t L = a.heads.dim(0), H = a.heads.dim(1), T = a.heads.dim(2);
    const DlaSumCheck check = dlaSumCheck(a);
    json positions = json::array();
    for (int64_t t = pos < 0 ? 0 : pos; t < (pos < 0 ? T : pos + 1); ++t) {
        json heads = json::array(), blocks = json::array();
        for (int64_t l = 0; l < L; ++l) {
            json row = json::array();
            for (int64_t h = 0; h < H; ++h)
                row.push_back(a.heads.data[size_t((l * H + h) * T + t)]);
            heads.push_back(row);
            blocks.push_back({a.blocks.data[size_t((l * 2) * T + t)],
                              a.blocks.data[size_t((l * 2 + 1) * T + t)]});
        }
        const size_t i = size_t(t);
        positions.push_back({{"pos", t},
                             {"token", {{"id", r.tokens[i].id}, {"text", r.tokens[i].text}}},
                             {"target", {{"id", a.tokenIds.data[i]}, {"text", r.tokenText[i]}}},
                             {"minus", a.minusIds.empty() ? json(nullptr)
                                                          : json{{"id", a.minusIds.data[i]},
                                                                 {"text", r.minusText[i]}}},
                             {"logit", a.logit.data[i]},
                             {"embed", a.embed.data[i]},
                             {"rest", a.rest.data[i]},
                             {"blocks", blocks},
                             {"heads", heads},
                             {"sum_error", check.error[i]}});
    }
    return {{"n_layers", L},
            {"n_heads", H},
            {"n_tokens", T},
            {"max_abs_sum_error", check.maxAbsError},
            {"max_rel_sum_error", check.maxRelError},
            {"positions", positions}};
}

} // namespace HeadLens::Cli
