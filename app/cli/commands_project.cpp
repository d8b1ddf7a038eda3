// Commands that read projects only: info, export. They never need a model.

#include "args.h"
#include "commandtext.h"

#include "headlens/analysis/decision.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace HeadLens::Cli {

namespace {

using json = nlohmann::json;

// A table of named columns, written as CSV or as a JSON array of objects.
struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<json>> rows;

    void writeCsv(std::ostream &os) const
    {
        for (size_t i = 0; i < columns.size(); ++i)
            os << (i ? "," : "") << columns[i];
        os << "\n";
        for (const auto &r : rows) {
            for (size_t i = 0; i < r.size(); ++i) {
                os << (i ? "," : "");
                if (r[i].is_string())
                    os << csvQuote(r[i].get<std::string>());
                else if (r[i].is_number_float()) {
                    const double v = r[i].get<double>();
                    if (std::isfinite(v))
                        os << r[i].dump();
                    else
                        os << (std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
                } else
                    os << r[i].dump();
            }
            os << "\n";
        }
    }
    void writeJson(std::ostream &os) const
    {
        json arr = json::array();
        for (const auto &r : rows) {
            json o = json::object();
            for (size_t i = 0; i < r.size(); ++i)
                o[columns[i]] = r[i];
            arr.push_back(std::move(o));
        }
        os << arr.dump(1, ' ', false, json::error_handler_t::replace) << "\n";
    }
    static std::string csvQuote(const std::string &s)
    {
        if (s.find_first_of(",\"\n\r") == std::string::npos && !s.empty() && s.front() != ' ' &&
            s.back() != ' ')
            return s;
        std::string q = "\"";
        for (char c : s)
            q += (c == '"') ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
    }
};

// json cannot hold invalid UTF-8; token texts are meant to be valid, but be safe.
json text(const std::string &s)
{
    return json(s);
}

Table tokensTable(const Trace &t, const LensSite &post)
{
    Table tb;
    tb.columns = {"pos", "id", "text", "begin", "end", "generated", "decision_layer"};
    const std::vector<int> depth = decisionDepth(post, t.logitsTopkIds);
    for (int i = 0; i < t.nTokens(); ++i) {
        const TokenInfo &k = t.tokens[size_t(i)];
        tb.rows.push_back({i, k.id, text(k.text), k.begin, k.end, i >= t.nPromptTokens,
                           depth.empty() ? json(nullptr) : json(depth[size_t(i)])});
    }
    return tb;
}

Table lensTable(const Trace &t, const LensSite &ls)
{
    Table tb;
    tb.columns = {"layer", "pos", "rank", "id", "text", "prob", "entropy"};
    const int64_t L = ls.topkIds.dim(0), T = ls.topkIds.dim(1), K = ls.topkIds.dim(2);
    for (int64_t l = 0; l < L; ++l)
        for (int64_t p = 0; p < T; ++p)
            for (int64_t k = 0; k < K; ++k) {
                const size_t i = size_t((l * T + p) * K + k);
                const int32_t id = ls.topkIds.data[i];
                tb.rows.push_back({l, p, k + 1, id, text(t.idText(id)), ls.topkProbs.data[i],
                                   ls.entropy.data[size_t(l * T + p)]});
            }
    return tb;
}

Table logitsTable(const Trace &t)
{
    Table tb;
    tb.columns = {"pos", "rank", "id", "text", "prob", "entropy"};
    const int64_t T = t.logitsTopkIds.dim(0), K = t.logitsTopkIds.dim(1);
    for (int64_t p = 0; p < T; ++p)
        for (int64_t k = 0; k < K; ++k) {
            const size_t i = size_t(p * K + k);
            const int32_t id = t.logitsTopkIds.data[i];
            tb.rows.push_back({p, k + 1, id, text(t.idText(id)), t.logitsTopkProbs.data[i],
                               t.logitsEntropy.data[size_t(p)]});
        }
    return tb;
}

Table headsTable(const Trace &t)
{
    Table tb;
    tb.columns = {"layer",
                  "head",
                  "pos",
                  "contrib_norm",
                  "contrib_share",
                  "contrib_cosine",
                  "contrib_projection",
                  "attn_entropy",
                  "value_norm"};
    const int64_t L = t.contribNorm.dim(0), H = t.contribNorm.dim(1), T = t.contribNorm.dim(2);
    for (int64_t l = 0; l < L; ++l)
        for (int64_t p = 0; p < T; ++p) {
            double sum = 0;
            for (int64_t h = 0; h < H; ++h)
                sum += t.contribNorm.data[size_t((l * H + h) * T + p)];
            for (int64_t h = 0; h < H; ++h) {
                const size_t i = size_t((l * H + h) * T + p);
                tb.rows.push_back({l, h, p, t.contribNorm.data[i],
                                   sum > 0 ? json(t.contribNorm.data[i] / sum) : json(0.0),
                                   t.contribCosine.data[i], t.contribProjection.data[i],
                                   t.attnEntropy.data[i], t.valueNorm.data[i]});
            }
        }
    return tb;
}

Table attentionTable(const ProjectReader &r, const Trace &t)
{
    Table tb;
    tb.columns = {"layer", "head", "query", "key", "weight"};
    if (t.attentionStore == StoreType::None)
        throw InputError("trace '" + t.name +
                         "' has no attention patterns stored (traced with --attention none)");
    for (int l = 0; l < t.config.nLayers; ++l) {
        const FloatArray a = r.readAttention(t.name, l); // [H, T, T]
        const int64_t H = a.dim(0), T = a.dim(1);
        for (int64_t h = 0; h < H; ++h)
            for (int64_t q = 0; q < T; ++q)
                for (int64_t k = 0; k <= q; ++k)
                    tb.rows.push_back({l, h, q, k, a.data[size_t((h * T + q) * T + k)]});
    }
    return tb;
}

// An export never replaces the project it reads, nor any HDF5 file (another project): those
// would be lost to a CSV.
void refuseToOverwrite(const std::string &out, const std::string &project)
{
    if (out.empty() || out == "-") return;
    std::error_code ec;
    if (!fs::exists(out, ec)) return;
    if (fs::equivalent(out, project, ec))
        throw InputError("-o " + out + " is the project being read; export to another file");
    std::ifstream f(out, std::ios::binary);
    char magic[8] = {};
    if (fs::is_regular_file(out, ec) && f.read(magic, 8) &&
        std::string(magic, 8) == std::string("\x89HDF\r\n\x1a\n", 8))
        throw InputError("-o " + out + " is an HDF5 file (a project?); an export will not " +
                         "replace it");
}

} // namespace

int cmdInfo(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {}, {"--json"});
    if (a.positional.size() != 1) throw UsageError("info needs one PROJECT.hlproj");
    const std::string path = a.positional[0];
    ProjectReader r(path);
    const ProjectInfo &info = r.info();
    if (a.has("--json")) {
        json j;
        j["path"] = path;
        j["schema_version"] = info.schemaVersion;
        j["app_version"] = info.appVersion;
        j["created"] = info.created;
        j["modified"] = info.modified;
        j["traces"] = json::array();
        for (const TraceListing &t : info.traces)
            j["traces"].push_back({{"name", t.name},
                                   {"prompt", t.prompt},
                                   {"model_name", t.modelName},
                                   {"created", t.created},
                                   {"parent", t.parent},
                                   {"n_tokens", t.nTokens},
                                   {"n_layers", t.nLayers},
                                   {"n_heads", t.nHeads}});
        printJson(j);
        return 0;
    }
    std::cout << path << ": HeadLens project, schema " << info.schemaVersion << ", written by "
              << info.appVersion << ", modified " << info.modified << "\n";
    std::cout << info.traces.size() << (info.traces.size() == 1 ? " trace" : " traces") << "\n";
    for (const TraceListing &t : info.traces) {
        std::string prompt = t.prompt;
        if (prompt.size() > 60) prompt = prompt.substr(0, 57) + "...";
        for (char &c : prompt)
            if (c == '\n') c = ' ';
        std::cout << "  " << t.name << ": " << t.modelName << ", " << t.nTokens << " tokens, "
                  << t.nLayers << " layers x " << t.nHeads << " heads, " << t.created;
        if (!t.parent.empty()) std::cout << ", from " << t.parent;
        std::cout << "\n      \"" << prompt << "\"\n";
    }
    return 0;
}

int cmdExport(const std::vector<std::string> &argv)
{
    const Args a =
        parseArgs(argv, {"--trace", "--what", "--site", "--format", "-o", "--output"}, {});
    if (a.positional.size() != 1) throw UsageError("export needs one PROJECT.hlproj");
    auto traceName = a.value("--trace");
    auto what = a.value("--what");
    if (!traceName || !what)
        throw UsageError("export needs --trace NAME and --what tokens|lens|logits|heads|attention");
    const std::string format = a.value("--format", "csv");
    if (format != "csv" && format != "json")
        throw UsageError("--format must be csv or json, not '" + format + "'");
    const Site site = a.siteValue("--site").value_or(Site::ResidPost);

    const std::string outPath = a.value("-o", a.value("--output", ""));
    refuseToOverwrite(outPath, a.positional[0]);
    ProjectReader r(a.positional[0]);
    if (!r.hasTrace(*traceName))
        throw InputError("no trace '" + *traceName + "' in " + a.positional[0]);
    const Trace t = r.readTrace(*traceName);
    Table tb;
    if (*what == "tokens")
        tb = tokensTable(t, r.readLens(*traceName, Site::ResidPost));
    else if (*what == "lens") {
        const LensSite ls = r.readLens(*traceName, site);
        if (ls.empty())
            throw InputError(std::string("trace '") + *traceName + "' has no lens for site " +
                             siteName(site));
        tb = lensTable(t, ls);
    } else if (*what == "logits")
        tb = logitsTable(t);
    else if (*what == "heads")
        tb = headsTable(t);
    else if (*what == "attention")
        tb = attentionTable(r, t);
    else
        throw UsageError("--what must be one of tokens|lens|logits|heads|attention");

    std::ostringstream os;
    if (format == "csv")
        tb.writeCsv(os);
    else
        tb.writeJson(os);
    if (outPath.empty() || outPath == "-") {
        std::cout << os.str();
    } else {
        std::ofstream f(outPath, std::ios::binary | std::ios::trunc);
        if (!f || !(f << os.str()) || !f.flush()) throw InputError("cannot write " + outPath);
    }
    return 0;
}

} // namespace HeadLens::Cli
