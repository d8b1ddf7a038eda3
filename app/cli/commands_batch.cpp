// headlens-cli batch and merge: many prompts traced into one project, split into shards for a
// cluster's job array (packaging/slurm/), and the shards' projects joined without recomputing.

#include "args.h"
#include "enginememory.h"
#include "prompts.h"

#include "headlens/model/model.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"
#include "headlens/trace/numbertext.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace HeadLens::Cli {

std::vector<BatchPrompt> readPrompts(const std::string &path)
{
    std::istringstream in(readInputFile(path, "prompts file", int64_t(1) << 30));
    std::vector<BatchPrompt> out;
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        BatchPrompt p;
        p.line = lineNo;
        const size_t first = line.find_first_not_of(" \t");
        if (line[first] == '{') {
            const std::string where = path + ":" + std::to_string(lineNo);
            nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_discarded() || !j.is_object()) throw InputError(where + ": not a JSON object");
            if (j.contains("name")) {
                if (!j["name"].is_string()) throw InputError(where + ": \"name\" must be a string");
                p.name = j["name"].get<std::string>();
            }
            const bool hasText = j.contains("prompt"), hasIds = j.contains("token_ids");
            if (hasText == hasIds)
                throw InputError(where + ": give exactly one of \"prompt\" and \"token_ids\"");
            if (hasText) {
                if (!j["prompt"].is_string())
                    throw InputError(where + ": \"prompt\" must be a string");
                p.text = j["prompt"].get<std::string>();
            } else {
                if (!j["token_ids"].is_array() || j["token_ids"].empty())
                    throw InputError(where + ": \"token_ids\" must be a non-empty array of ids");
                for (const auto &v : j["token_ids"]) {
                    if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
                        v.get<int64_t>() > INT32_MAX)
                        throw InputError(where + ": \"token_ids\" holds something other than a "
                                                 "token id");
                    p.ids.push_back(int32_t(v.get<int64_t>()));
                }
            }
        } else {
            p.text = line;
        }
        out.push_back(std::move(p));
    }
    if (out.empty()) throw InputError("prompts file " + path + " holds no prompt");
    const int width = int(std::to_string(out.size()).size());
    std::map<std::string, int> seen;
    for (size_t k = 0; k < out.size(); ++k) {
        BatchPrompt &p = out[k];
        if (p.name.empty()) {
            std::string n = std::to_string(k + 1);
            p.name = "prompt-" + std::string(size_t(width) - n.size(), '0') + n;
        }
        if (auto problem = traceNameProblem(p.name); !problem.empty())
            throw InputError(path + ":" + std::to_string(p.line) + ": trace name '" + p.name +
                             "' " + problem);
        if (auto [it, fresh] = seen.emplace(p.name, p.line); !fresh)
            throw InputError(path + ":" + std::to_string(p.line) + ": the name '" + p.name +
                             "' is taken by line " + std::to_string(it->second));
    }
    return out;
}

namespace {

// "i/N" with 0 <= i < N: the shard's contiguous block of prompts [i n / N, (i + 1) n / N), so
// that the parts merged in order hold the prompts in the file's order.
std::pair<int, int> parseShard(const std::string &s)
{
    const size_t slash = s.find('/');
    if (slash != std::string::npos) {
        const std::optional<int64_t> i = wholeNumberIn(std::string_view(s).substr(0, slash)),
                                     n = wholeNumberIn(std::string_view(s).substr(slash + 1));
        if (i && n && *n >= 1 && *n <= std::numeric_limits<int>::max() && *i >= 0 && *i < *n)
            return {int(*i), int(*n)};
    }
    throw UsageError("--shard takes I/N with 0 <= I < N (e.g. 0/4), not '" + s + "'");
}

} // namespace

std::string duration(double seconds)
{
    char buf[32];
    if (seconds < 60)
        std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    else if (seconds < 3600)
        std::snprintf(buf, sizeof buf, "%d min %02d s", int(seconds) / 60, int(seconds) % 60);
    else
        std::snprintf(buf, sizeof buf, "%d h %02d min", int(seconds) / 3600,
                      (int(seconds) % 3600) / 60);
    return buf;
}

int cmdBatch(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv,
                             {"--prompts", "-o", "--output", "--shard", "--tokenizer", "--generate",
                              "--topk", "--lens-norm", "--lens-decoder", "--lens", "--attention",
                              "--residuals", "--dtype", "--threads", "--attention-budget"},
                             {"--store-z"});
    if (a.positional.size() != 1) throw UsageError("batch takes one MODEL");
    const std::string modelPath = a.positional[0];
    const std::string out = a.value("-o", a.value("--output", ""));
    if (out.empty()) throw UsageError("batch needs -o PROJECT.hlproj");
    const std::string promptsPath = a.value("--prompts", "");
    if (promptsPath.empty()) throw UsageError("batch needs --prompts FILE");
    const auto [shard, shards] =
        a.has("--shard") ? parseShard(*a.value("--shard")) : std::pair<int, int>{0, 1};
    TraceOptions o = traceOptions(a);
    const LoadOptions lo = loadOptions(a);

    // Everything is read and checked before the model computes anything.
    const std::vector<BatchPrompt> all = readPrompts(promptsPath);
    const size_t n = all.size();
    const size_t first = n * size_t(shard) / size_t(shards);
    const size_t last = n * size_t(shard + 1) / size_t(shards);
    std::vector<BatchPrompt> mine(all.begin() + long(first), all.begin() + long(last));
    ProjectBatchWriter writer(out);
    for (const BatchPrompt &p : mine)
        if (writer.hasTrace(p.name))
            throw InputError("trace '" + p.name + "' (" + promptsPath + ":" +
                             std::to_string(p.line) + ") already exists in " + out);
    std::unique_ptr<Model> model = loadModel(modelPath, lo);
    std::vector<std::vector<TokenInfo>> tokens;
    std::vector<int64_t> counts;
    for (const BatchPrompt &p : mine) {
        try {
            if (p.ids.empty()) {
                tokens.push_back(model->tokenize(p.text, true));
            } else {
                model->checkIds(p.ids);
                tokens.push_back(model->tokensFromIds(p.ids));
            }
            std::vector<int32_t> ids;
            for (const TokenInfo &t : tokens.back())
                ids.push_back(t.id);
            model->checkIds(ids, o.generate);
        } catch (const InputError &e) {
            throw InputError(promptsPath + ":" + std::to_string(p.line) + ": " + e.what());
        }
        counts.push_back(int64_t(tokens.back().size()) + o.generate);
    }
    if (!mine.empty()) checkTracesFit(*model, out, counts, o, true);

    std::cerr << "batch: " << mine.size() << " of the " << n << " prompts of " << promptsPath;
    if (shards > 1)
        std::cerr << " (shard " << shard << "/" << shards << ": prompts " << first + 1 << "-"
                  << last << ")";
    std::cerr << " through " << model->name() << " into " << out << "\n";
    o.stream = &writer;
    const auto start = std::chrono::steady_clock::now();
    int64_t doneTokens = 0, allTokens = 0;
    for (int64_t c : counts)
        allTokens += c;
    for (size_t k = 0; k < mine.size(); ++k) {
        const BatchPrompt &p = mine[k];
        const auto t0 = std::chrono::steady_clock::now();
        writer.next(p.name);
        Trace t = traceTokens(*model, tokens[k], p.text, o);
        t.name = p.name;
        writer.commit(t);
        doneTokens += counts[k];
        const auto now = std::chrono::steady_clock::now();
        const double took = std::chrono::duration<double>(now - t0).count();
        const double elapsed = std::chrono::duration<double>(now - start).count();
        // The time so far per token, for the tokens left (attention grows with length, so
        // this is rough for prompts of very different lengths).
        const double eta =
            elapsed / double(std::max<int64_t>(1, doneTokens)) * double(allTokens - doneTokens);
        std::cerr << "batch: [" << k + 1 << "/" << mine.size() << "] " << p.name << ": "
                  << t.nTokens() << " tokens in " << duration(took);
        if (k + 1 < mine.size()) std::cerr << "; about " << duration(eta) << " left";
        std::cerr << std::endl;
    }
    writer.finish();
    std::cout << "traced " << mine.size() << " prompts into " << out << "\n";
    return 0;
}

int cmdMerge(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"-o", "--output"}, {"--force"});
    const std::string out = a.value("-o", a.value("--output", ""));
    if (out.empty()) throw UsageError("merge needs -o PROJECT.hlproj");
    if (a.positional.empty()) throw UsageError("merge needs the projects to join");
    std::error_code ec;
    if (fs::exists(out, ec) && !a.has("--force"))
        throw InputError(out + " exists; use --force to replace it");
    std::vector<ProjectTraceSource> sources;
    std::map<std::string, std::string> from; // trace name -> the part it came from
    for (const std::string &part : a.positional) {
        if (fs::exists(out, ec) && fs::equivalent(part, out, ec))
            throw InputError(part + " is the output itself");
        ProjectReader reader(part);
        for (const auto &l : reader.info().traces) {
            if (auto [it, fresh] = from.emplace(l.name, part); !fresh)
                throw InputError("trace '" + l.name + "' is in both " + it->second + " and " +
                                 part);
            ProjectTraceSource s;
            s.name = l.name;
            s.parent = l.parent;
            s.file = part;
            s.fileTrace = l.name;
            sources.push_back(std::move(s));
        }
    }
    writeProject(out, sources, ProjectExtras{});
    std::cout << "merged " << sources.size() << " traces of " << a.positional.size()
              << " projects into " << out << "\n";
    return 0;
}

} // namespace HeadLens::Cli
