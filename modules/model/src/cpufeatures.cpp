#include "headlens/model/cpufeatures.h"

#include <fstream>
#include <set>
#include <sstream>

namespace HeadLens::CpuFeatures {

namespace {

// The x86 flags of the first processor listed, or none when there is no "flags" line.
std::set<std::string> x86Flags(const std::string &cpuinfo)
{
    std::istringstream in(cpuinfo);
    std::string line;
    while (std::getline(in, line)) {
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t'))
            key.pop_back();
        if (key != "flags") continue;
        std::istringstream words(line.substr(colon + 1));
        std::set<std::string> flags;
        for (std::string w; words >> w;)
            flags.insert(w);
        return flags;
    }
    return {};
}

} // namespace

std::string dtypeNote(const std::string &dtype, const std::string &cpuinfo)
{
    if (dtype != "bf16" && dtype != "f16") return {};
    const std::set<std::string> flags = x86Flags(cpuinfo);
    if (flags.empty()) return {};
    const bool bf16 = dtype == "bf16";
    const char *avx = bf16 ? "avx512_bf16" : "avx512_fp16";
    const char *amx = bf16 ? "amx_bf16" : "amx_fp16";
    if (flags.count(avx) || flags.count(amx)) return {};
    return "this CPU has no " + dtype + " instructions (" + (bf16 ? "AVX512-BF16" : "AVX512-FP16") +
           " or " + (bf16 ? "AMX-BF16" : "AMX-FP16") + "), so --dtype " + dtype +
           " converts every product to f32 and back and runs slower than the default f32; the "
           "weights stay mapped in their stored dtype either way";
}

std::string dtypeNote(const std::string &dtype)
{
    if (dtype != "bf16" && dtype != "f16") return {};
    std::ifstream in("/proc/cpuinfo");
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    return dtypeNote(dtype, text.str());
}

} // namespace HeadLens::CpuFeatures
