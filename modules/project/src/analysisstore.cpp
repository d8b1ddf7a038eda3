// Analysis results in project files (analysisstore.h). Saving works as projectwriter.cpp's
// addTrace does for a new trace: a byte copy of the validated original, the changes applied
// to the copy, flush + fsync, rename over the original.

#include "headlens/project/analysisstore.h"

#include "analysisgroup.h"

#include "h5util.h"
#include "hlprojlayout.h"
#include "savefile.h"

#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/trace/trace.h"

#include <filesystem>
#include <set>
#include <stdexcept>

namespace HeadLens {

namespace fs = std::filesystem;

namespace {

constexpr const char *kAnalysisGroup = "analysis";

std::string joinPath(const std::vector<std::string> &parts, size_t n)
{
    std::string s;
    for (size_t i = 0; i < n && i < parts.size(); ++i)
        s += "/" + parts[i];
    return s.empty() ? "/" : s;
}

void checkName(const std::string &name, const std::string &where)
{
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        throw std::invalid_argument("analysis store: invalid name '" + name + "' in " + where);
    for (unsigned char ch : name)
        if (ch < 0x20 || ch == 0x7f)
            throw std::invalid_argument("analysis store: name with a control character in " +
                                        where);
}

// The group path in canonical form ("/a/b"), after checking that results may live there.
// traceOut receives the trace a /traces/<t>/analysis path belongs to.
std::string checkGroupPath(const std::string &group, std::string *traceOut)
{
    if (group.empty() || group[0] != '/')
        throw std::invalid_argument("analysis store: group '" + group + "' must start with '/'");
    const auto parts = H5::splitPath(group);
    for (const auto &p : parts)
        checkName(p, group);
    bool ok = false;
    if (!parts.empty() && parts[0] == kAnalysisGroup)
        ok = parts.size() >= 2;
    else if (!parts.empty() && parts[0] == HlProj::kComparisonsGroup)
        ok = parts.size() >= 2;
    else if (parts.size() >= 4 && parts[0] == HlProj::kTracesGroup && parts[2] == kAnalysisGroup) {
        ok = true;
        if (traceOut) *traceOut = parts[1];
    }
    if (!ok)
        throw std::invalid_argument("analysis store: '" + group +
                                    "' is not a place for results (/analysis/..., "
                                    "/traces/<trace>/analysis/<kind>..., /comparisons/<name>...)");
    return joinPath(parts, parts.size());
}

template <typename T> void checkArray(const Array<T> &a, const std::string &what)
{
    for (int64_t d : a.shape)
        if (d < 0)
            throw std::invalid_argument("analysis store: " + what + " has a negative dimension");
    if (a.shape.empty() || a.data.size() != size_t(Array<T>::count(a.shape)))
        throw std::invalid_argument("analysis store: " + what + " has " +
                                    std::to_string(a.data.size()) + " values for shape " +
                                    shapeString(a.shape));
}

void checkRecord(const std::string &group, const AnalysisRecord &r)
{
    std::set<std::string> attrs, sets;
    auto attr = [&](const std::string &n) {
        checkName(n, group);
        if (!attrs.insert(n).second)
            throw std::invalid_argument("analysis store: attribute '" + n + "' given twice in " +
                                        group);
    };
    auto set = [&](const std::string &n) {
        checkName(n, group);
        if (!sets.insert(n).second)
            throw std::invalid_argument("analysis store: dataset '" + n + "' given twice in " +
                                        group);
    };
    for (const auto &kv : r.text)
        attr(kv.first);
    for (const auto &kv : r.integers)
        attr(kv.first);
    for (const auto &kv : r.numbers)
        attr(kv.first);
    for (const auto &kv : r.doubles) {
        set(kv.first);
        checkArray(kv.second, group + "/" + kv.first);
    }
    for (const auto &kv : r.floats) {
        set(kv.first);
        checkArray(kv.second, group + "/" + kv.first);
    }
    for (const auto &kv : r.ints) {
        set(kv.first);
        checkArray(kv.second, group + "/" + kv.first);
    }
    for (const auto &kv : r.strings)
        set(kv.first);
}

// ------------------------------------------------------------ attributes HDF5's helpers lack

void writeScalarAttr(hid_t obj, const char *name, hid_t fileType, hid_t memType, const void *v)
{
    const std::string what = std::string("cannot write attribute ") + name;
    if (H5::hasAttr(obj, name)) H5::checkStatus(H5Adelete(obj, name), what);
    H5::Space space(H5Screate(H5S_SCALAR), what);
    H5::Attr attr(H5Acreate2(obj, name, fileType, space, H5P_DEFAULT, H5P_DEFAULT), what);
    H5::checkStatus(H5Awrite(attr, memType, v), what);
}

// ------------------------------------------------------------ writing a record

void removeLink(hid_t loc, const std::string &path)
{
    if (H5::linkExists(loc, path))
        H5::checkStatus(H5Ldelete(loc, path.c_str(), H5P_DEFAULT), "cannot remove " + path);
}

void writeRecord(hid_t file, const std::string &group, const AnalysisRecord &r)
{
    H5::Group g =
        H5::isGroup(file, group) ? H5::openGroup(file, group) : H5::createGroup(file, group, true);
    for (const auto &[name, value] : r.text)
        H5::writeStringAttr(g, name.c_str(), value);
    for (const auto &[name, value] : r.integers)
        writeScalarAttr(g, name.c_str(), H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
    for (const auto &[name, value] : r.numbers)
        writeScalarAttr(g, name.c_str(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
    for (const auto &[name, a] : r.doubles) {
        removeLink(g, name);
        H5::writeDataset(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, a.shape, a.data.data());
    }
    for (const auto &[name, a] : r.floats) {
        removeLink(g, name);
        H5::writeDataset(g, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, a.shape, a.data.data());
    }
    for (const auto &[name, a] : r.ints) {
        removeLink(g, name);
        H5::writeDataset(g, name, H5T_STD_I32LE, H5T_NATIVE_INT32, a.shape, a.data.data());
    }
    for (const auto &[name, v] : r.strings) {
        removeLink(g, name);
        H5::writeStringDataset(g, name, v);
    }
}

// ------------------------------------------------------------ reading a record

AnalysisRecord readRecord(hid_t file, const std::string &group)
{
    AnalysisRecord r;
    H5::Group g = H5::openGroup(file, group);
    for (const auto &name : H5::attributeNames(g, "cannot list the attributes of " + group)) {
        const std::string what = "cannot read attribute " + name + " of " + group;
        H5T_class_t cls = H5T_NO_CLASS;
        hssize_t n = 0;
        {
            H5::Attr attr(H5Aopen(g, name.c_str(), H5P_DEFAULT), what);
            H5::Type type(H5Aget_type(attr), what);
            H5::Space space(H5Aget_space(attr), what);
            cls = H5Tget_class(type);
            n = H5Sget_simple_extent_npoints(space);
            H5::checkNumberType(type, "attribute '" + name + "' of " + group);
        }
        if (n != 1) continue;
        if (cls == H5T_STRING) {
            r.text[name] = H5::readStringAttr(g, name.c_str()).value_or("");
        } else if (cls == H5T_INTEGER) {
            r.integers[name] = H5::readIntAttr(g, name.c_str()).value_or(0);
        } else if (cls == H5T_FLOAT) {
            H5::Attr attr(H5Aopen(g, name.c_str(), H5P_DEFAULT), what);
            double v = 0.0;
            H5::checkStatus(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), what);
            r.numbers[name] = v;
        }
    }
    for (const auto &name : H5::childLinks(g, true)) {
        if (!H5::isDataset(g, name)) continue;
        auto info = H5::openDataset(g, name);
        if (!info || info->dims.empty()) continue;
        if (info->typeClass == H5T_FLOAT && info->typeSize == 8) {
            DoubleArray a(info->dims);
            if (a.size()) H5::readDataset(*info, H5T_NATIVE_DOUBLE, a.data.data());
            r.doubles[name] = std::move(a);
        } else if (info->typeClass == H5T_FLOAT) {
            FloatArray a(info->dims);
            if (a.size()) H5::readFloats(*info, a.data.data());
            r.floats[name] = std::move(a);
        } else if (info->typeClass == H5T_INTEGER) {
            IntArray a(info->dims);
            if (a.size()) H5::readDataset(*info, H5T_NATIVE_INT32, a.data.data());
            r.ints[name] = std::move(a);
        } else if (info->typeClass == H5T_STRING) {
            r.strings[name] = H5::readStringDataset(*info);
        }
    }
    return r;
}

// Runs f on the project opened read-only, after validating it as ProjectReader does.
template <typename F> auto withProject(const std::string &path, F &&f) -> decltype(f(hid_t()))
{
    {
        ProjectReader validate(path);
    }
    H5::Guard guard;
    try {
        H5::File file = H5::openReadOnly(path);
        return f(file.get());
    } catch (const H5::H5Error &e) {
        throw InputError(path + ": " + e.what());
    }
}

} // namespace

void replaceAnalysisGroup(hid_t file, const std::string &group, const AnalysisRecord &record)
{
    const std::string path = checkGroupPath(group, nullptr);
    checkRecord(path, record);
    removeLink(file, path);
    writeRecord(file, path, record);
}

void writeAnalysis(const std::string &path, const AnalysisUpdate &update)
{
    // Everything that can be checked is checked before anything is written.
    std::vector<std::string> removes;
    std::vector<std::pair<std::string, const AnalysisRecord *>> writes;
    std::set<std::string> traces;
    for (const auto &g : update.remove) {
        std::string trace;
        removes.push_back(checkGroupPath(g, &trace));
        if (!trace.empty()) traces.insert(trace);
    }
    for (const auto &[g, record] : update.write) {
        std::string trace;
        writes.emplace_back(checkGroupPath(g, &trace), &record);
        checkRecord(writes.back().first, record);
        if (!trace.empty()) traces.insert(trace);
    }
    {
        ProjectReader reader(path);
        for (const auto &t : traces)
            if (!reader.hasTrace(t)) throw InputError(path + ": there is no trace '" + t + "'");
    }

    guardedSave(path, [&] {
        SaveFile save(path);
        fs::copy_file(save.target(), save.temp(), fs::copy_options::overwrite_existing);
        {
            H5::File out = openProjectForWriting(save.temp());
            for (const auto &g : removes)
                removeLink(out, g);
            for (const auto &[g, record] : writes)
                writeRecord(out, g, *record);
            H5::writeStringAttr(H5::openGroup(out, "/"), "modified", isoNowUtc());
            finishProjectFile(out, save.temp());
        }
        save.commit();
    });
}

bool hasAnalysis(const std::string &path, const std::string &group)
{
    const std::string g = checkGroupPath(group, nullptr);
    return withProject(path, [&](hid_t file) { return H5::isGroup(file, g); });
}

AnalysisRecord readAnalysis(const std::string &path, const std::string &group)
{
    const std::string g = checkGroupPath(group, nullptr);
    return withProject(path, [&](hid_t file) {
        if (!H5::isGroup(file, g)) throw InputError(path + ": there are no results at " + g);
        return readRecord(file, g);
    });
}

std::vector<std::string> listAnalysis(const std::string &path, const std::string &group)
{
    const std::string g = checkGroupPath(group, nullptr);
    return withProject(path, [&](hid_t file) {
        if (!H5::isGroup(file, g)) return std::vector<std::string>();
        H5::Group grp = H5::openGroup(file, g);
        return H5::childGroups(grp);
    });
}

std::string projectAnalysisGroup(const std::string &kind)
{
    return std::string("/") + kAnalysisGroup + "/" + kind;
}

std::string traceAnalysisGroup(const std::string &trace, const std::string &kind)
{
    return std::string("/") + HlProj::kTracesGroup + "/" + trace + "/" + kAnalysisGroup + "/" +
           kind;
}

std::string comparisonGroup(const std::string &name)
{
    return std::string("/") + HlProj::kComparisonsGroup + "/" + name;
}

} // namespace HeadLens
