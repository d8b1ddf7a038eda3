// The activation patching map in a project file (patchstore.h), written and read through the
// analysis store under the names of hlprojlayout.h.

#include "headlens/project/patchstore.h"

#include "hlprojlayout.h"

#include "headlens/project/analysisstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"

#include <cstring>

namespace HeadLens {

namespace {

// The dataset's name inside the patching group.
std::string child(const char *path)
{
    return std::string(path + std::strlen(HlProj::kPatchingGroup) + 1);
}

std::string siteList()
{
    std::string s;
    for (Site site : allSites())
        s += (s.empty() ? "" : " ") + std::string(siteName(site));
    return s;
}

} // namespace

std::string patchMapGroup(const std::string &trace)
{
    return "/" + std::string(HlProj::kTracesGroup) + "/" + trace + "/" + HlProj::kPatchingGroup;
}

void writePatchMap(const std::string &path, const std::string &trace, const PatchMap &m)
{
    {
        ProjectReader reader(path);
        if (!reader.hasTrace(trace))
            throw InputError("project " + path + " has no trace '" + trace + "'");
        const Trace t = reader.readTrace(trace);
        if (t.nTokens() != m.nPos || t.config.nLayers != m.nLayers)
            throw InputError("the patching map (" + std::to_string(m.nLayers) + " layers, " +
                             std::to_string(m.nPos) + " tokens) does not fit trace '" + trace +
                             "' of " + path);
    }
    AnalysisRecord r;
    r.integers["answer"] = m.answer;
    r.integers["wrong"] = m.wrong;
    r.text["answer_text"] = m.answerText;
    r.text["wrong_text"] = m.wrongText;
    r.text["corrupted_prompt"] = m.corruptedPrompt;
    r.text["sites"] = siteList();
    r.numbers["ld_clean"] = m.ldClean;
    r.numbers["ld_corrupted"] = m.ldCorrupted;
    r.floats[child(HlProj::kPatchingRecovered)] = m.sites;
    if (!m.heads.data.empty()) r.floats[child(HlProj::kPatchingHeads)] = m.heads;
    IntArray ids({int64_t(m.corruptedIds.size())});
    ids.data = m.corruptedIds;
    r.ints[child(HlProj::kPatchingCorruptedIds)] = ids;
    r.strings[child(HlProj::kPatchingCorruptedText)] = m.corruptedText;
    const std::string g = patchMapGroup(trace);
    writeAnalysis(path, {{g}, {{g, r}}});
}

std::optional<PatchMap> readPatchMap(const std::string &path, const std::string &trace)
{
    const std::string g = patchMapGroup(trace);
    if (!hasAnalysis(path, g)) return std::nullopt;
    const AnalysisRecord r = readAnalysis(path, g);
    auto fail = [&](const std::string &what) -> InputError {
        return InputError("the patching map of trace '" + trace + "' in " + path + " " + what);
    };
    PatchMap m;
    auto integer = [&](const char *k) {
        auto it = r.integers.find(k);
        if (it == r.integers.end()) throw fail(std::string("lacks its attribute ") + k);
        return int32_t(it->second);
    };
    auto text = [&](const char *k) {
        auto it = r.text.find(k);
        return it == r.text.end() ? std::string() : it->second;
    };
    auto number = [&](const char *k) {
        auto it = r.numbers.find(k);
        if (it == r.numbers.end()) throw fail(std::string("lacks its attribute ") + k);
        return it->second;
    };
    m.answer = integer("answer");
    m.wrong = integer("wrong");
    m.answerText = text("answer_text");
    m.wrongText = text("wrong_text");
    m.corruptedPrompt = text("corrupted_prompt");
    m.ldClean = number("ld_clean");
    m.ldCorrupted = number("ld_corrupted");
    const auto rec = r.floats.find(child(HlProj::kPatchingRecovered));
    if (rec == r.floats.end() || rec->second.shape.size() != 3 ||
        rec->second.shape[0] != kSiteCount)
        throw fail("lacks " + std::string(HlProj::kPatchingRecovered) + " [5, L, T]");
    m.sites = rec->second;
    m.nLayers = int(m.sites.shape[1]);
    m.nPos = int(m.sites.shape[2]);
    const auto heads = r.floats.find(child(HlProj::kPatchingHeads));
    if (heads != r.floats.end()) {
        const auto &s = heads->second.shape;
        if (s.size() != 3 || s[0] != m.nLayers || s[2] != m.nPos)
            throw fail("has " + std::string(HlProj::kPatchingHeads) + " of shape " +
                       shapeString(s) + ", not [L, H, T]");
        m.heads = heads->second;
        m.nHeads = int(s[1]);
    }
    const auto ids = r.ints.find(child(HlProj::kPatchingCorruptedIds));
    if (ids != r.ints.end()) m.corruptedIds = ids->second.data;
    const auto txt = r.strings.find(child(HlProj::kPatchingCorruptedText));
    if (txt != r.strings.end()) m.corruptedText = txt->second;
    if ((!m.corruptedIds.empty() && int(m.corruptedIds.size()) != m.nPos) ||
        (!m.corruptedText.empty() && int(m.corruptedText.size()) != m.nPos))
        throw fail("has corrupted tokens of another count than its " + std::to_string(m.nPos) +
                   " positions");
    return m;
}

} // namespace HeadLens
