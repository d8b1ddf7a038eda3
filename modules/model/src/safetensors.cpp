// One safetensors file, mapped: its header is checked against the file (dtypes, shapes, offsets
// that tile the data without gaps or overlaps) before any tensor is handed out.

#include "weightformats.h"

#include "headlens/trace/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

namespace HeadLens {

using json = nlohmann::json;

namespace {

std::optional<DType> dtypeFromName(const std::string &s)
{
    static const DType all[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64,
                                DType::I32, DType::I16, DType::I8,   DType::U8,  DType::BOOL};
    for (DType t : all)
        if (s == dtypeName(t)) return t;
    return std::nullopt;
}

bool mulOverflows(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

// The safetensors format caps its header at 100 MB; anything bigger is not a real header.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

} // namespace

SafetensorsFile readSafetensors(const std::string &path)
{
    SafetensorsFile f;
    f.map = std::make_shared<MappedFile>(path);
    const MappedFile &m = *f.map;
    if (m.size() < 8)
        throw InputError(path + " is too short to be a safetensors file (" +
                         std::to_string(m.size()) + " bytes; truncated?)");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | m.data()[i];
    if (n > kMaxHeaderBytes || n > m.size() - 8)
        throw InputError(path + ": the header length (its first 8 bytes) runs past the end " +
                         "of the file (" + std::to_string(m.size()) +
                         " bytes; truncated or not a safetensors file)");
    f.headerBytes = 8 + n;
    const uint64_t dataSize = m.size() - 8 - n;
    const uint8_t *dataBase = m.data() + 8 + n;

    json h;
    try {
        h = json::parse(m.data() + 8, m.data() + 8 + n);
    } catch (const json::exception &e) {
        throw InputError(path + ": the safetensors header is not valid JSON: " + jsonMessage(e));
    }
    if (!h.is_object()) throw InputError(path + ": the safetensors header is not a JSON object");

    struct Span {
        uint64_t begin, end;
        std::string name;
    };
    std::vector<Span> spans;
    for (const auto &[name, v] : h.items()) {
        if (name == "__metadata__") {
            bool ok = v.is_object();
            if (ok)
                for (const auto &kv : v.items())
                    ok = ok && kv.value().is_string();
            if (!ok) throw InputError(path + ": __metadata__ must map names to strings");
            for (const auto &kv : v.items())
                f.metadata[kv.key()] = kv.value().get<std::string>();
            continue;
        }
        const std::string what = path + ": tensor '" + name + "'";
        if (!v.is_object()) throw InputError(what + " is not described by an object");
        const auto dt = v.find("dtype");
        if (dt == v.end() || !dt->is_string()) throw InputError(what + " has no dtype");
        const std::optional<DType> dtype = dtypeFromName(dt->get<std::string>());
        if (!dtype) throw InputError(what + " has the unknown dtype " + dt->get<std::string>());

        const auto sh = v.find("shape");
        if (sh == v.end() || !sh->is_array()) throw InputError(what + " has no shape");
        TensorEntry t;
        t.dtype = *dtype;
        t.file = path;
        uint64_t need = dtypeSize(*dtype);
        bool overflow = false;
        for (const json &d : *sh) {
            const std::optional<int64_t> dim = jsonInt(d);
            if (!dim || *dim < 0)
                throw InputError(what +
                                 " has a shape that is not a list of non-negative "
                                 "integers: " +
                                 sh->dump());
            t.shape.push_back(*dim);
            overflow = overflow || mulOverflows(need, uint64_t(*dim), &need);
        }
        if (overflow) throw InputError(what + " has a shape too large to exist: " + sh->dump());

        const auto off = v.find("data_offsets");
        if (off == v.end() || !off->is_array() || off->size() != 2)
            throw InputError(what + " has no data_offsets [begin, end]");
        const std::optional<int64_t> b = jsonInt((*off)[0]), e = jsonInt((*off)[1]);
        if (!b || !e || *b < 0 || *e < 0 || *b > *e)
            throw InputError(what + " has invalid data_offsets " + off->dump());
        const uint64_t begin = uint64_t(*b), end = uint64_t(*e);
        if (end > dataSize)
            throw InputError(what + " has data_offsets " + off->dump() +
                             " beyond the end of the data (" + std::to_string(dataSize) +
                             " bytes; truncated?)");
        if (end - begin != need)
            throw InputError(what + " declares " + std::to_string(end - begin) +
                             " bytes, but its shape " + shapeString(t.shape) + " of " +
                             dtypeName(*dtype) + " needs " + std::to_string(need));
        t.nbytes = size_t(need);
        t.data = dataBase + begin;
        spans.push_back({begin, end, name});
        f.tensors.emplace(name, std::move(t));
    }

    std::sort(spans.begin(), spans.end(), [](const Span &a, const Span &b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    for (size_t i = 1; i < spans.size(); ++i) {
        const Span &a = spans[i - 1], &b = spans[i];
        if (b.begin < a.end && b.begin != b.end && a.begin != a.end)
            throw InputError(path + ": tensors '" + a.name + "' and '" + b.name +
                             "' overlap (bytes " + std::to_string(a.begin) + ".." +
                             std::to_string(a.end) + " and " + std::to_string(b.begin) + ".." +
                             std::to_string(b.end) + ")");
    }
    // The format has no holes: the tensors tile the data from its first byte to its last. A
    // gap means a damaged or hand-edited header whose offsets cannot be trusted.
    uint64_t at = 0;
    for (const Span &sp : spans) {
        if (sp.begin != sp.end && sp.begin != at)
            throw InputError(path + ": the data has a gap of " + std::to_string(sp.begin - at) +
                             " bytes before tensor '" + sp.name + "' (at byte " +
                             std::to_string(at) + " of the data)");
        at = std::max(at, sp.end);
    }
    if (at != dataSize)
        throw InputError(path + ": " + std::to_string(dataSize - at) +
                         " bytes after the last tensor belong to none");
    return f;
}

} // namespace HeadLens
