#include "h5util.h"

#include "vlenstrings.h"

#include "headlens/trace/array.h"
#include "headlens/trace/float16.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace HeadLens::H5 {

namespace {

struct ErrorWalk {
    std::string message;
};

herr_t walkError(unsigned /*n*/, const H5E_error2_t *err, void *data)
{
    auto *walk = static_cast<ErrorWalk *>(data);
    if (!walk->message.empty()) return 0;
    try {
        if (err->desc && *err->desc) {
            walk->message = err->desc;
        } else {
            char buf[256] = {};
            if (H5Eget_msg(err->min_num, nullptr, buf, sizeof buf) > 0) walk->message = buf;
        }
    } catch (...) {
        return -1;
    }
    return 0;
}

// H5I_BADID when there is no such link; H5Error when there is one but the object cannot be
// opened (a damaged file: checksum mismatch, bad address, dangling soft link).
H5I_type_t objectType(hid_t loc, const std::string &path)
{
    if (!linkExists(loc, path)) return H5I_BADID;
    Object obj(H5Oopen(loc, path.c_str(), H5P_DEFAULT), "cannot open " + path);
    return H5Iget_type(obj);
}

struct NameCollector {
    std::vector<std::string> names;
    bool hardOnly = false;
};

herr_t collectLink(hid_t, const char *name, const H5L_info_t *info, void *data)
{
    auto *c = static_cast<NameCollector *>(data);
    try {
        if (!c->hardOnly || info->type == H5L_TYPE_HARD) c->names.emplace_back(name);
    } catch (...) {
        return -1;
    }
    return 0;
}

herr_t collectAttr(hid_t, const char *name, const H5A_info_t *, void *data)
{
    try {
        static_cast<NameCollector *>(data)->names.emplace_back(name);
    } catch (...) {
        return -1;
    }
    return 0;
}

std::vector<std::string> iterateLinks(hid_t group, bool hardOnly, bool preferCreationOrder)
{
    H5_index_t index = H5_INDEX_NAME;
    if (preferCreationOrder) {
        Plist gcpl(H5Gget_create_plist(group));
        unsigned flags = 0;
        if (gcpl.valid() && H5Pget_link_creation_order(gcpl, &flags) >= 0 &&
            (flags & H5P_CRT_ORDER_TRACKED))
            index = H5_INDEX_CRT_ORDER;
        takeErrorStack();
    }
    NameCollector c;
    c.hardOnly = hardOnly;
    hsize_t idx = 0;
    if (H5Literate(group, index, H5_ITER_INC, &idx, collectLink, &c) < 0) {
        if (index == H5_INDEX_NAME) checkStatus(-1, "cannot list the group");
        // Tracked but not indexed: fall back to name order.
        takeErrorStack();
        c.names.clear();
        idx = 0;
        checkStatus(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collectLink, &c),
                    "cannot list the group");
    }
    return c.names;
}

Plist intermediateGroups()
{
    Plist lcpl(H5Pcreate(H5P_LINK_CREATE), "link property list");
    checkStatus(H5Pset_create_intermediate_group(lcpl, 1), "link property list");
    checkStatus(H5Pset_char_encoding(lcpl, H5T_CSET_UTF8), "link property list");
    return lcpl;
}

std::vector<hsize_t> toHsize(const std::vector<int64_t> &v)
{
    return std::vector<hsize_t>(v.begin(), v.end());
}

// Keeps a chunk well below HDF5's 4 GiB limit by halving its outer dimensions.
std::vector<hsize_t> capChunk(std::vector<hsize_t> chunk, size_t elemSize)
{
    constexpr hsize_t kMaxBytes = hsize_t(1) << 30;
    for (;;) {
        hsize_t bytes = elemSize;
        for (hsize_t d : chunk)
            bytes *= d;
        if (bytes <= kMaxBytes) return chunk;
        auto it = std::find_if(chunk.begin(), chunk.end(), [](hsize_t d) { return d > 1; });
        if (it == chunk.end()) return chunk;
        *it = (*it + 1) / 2;
    }
}

std::string trimFixed(const char *p, size_t n)
{
    std::string s(p, n);
    const auto nul = s.find('\0');
    if (nul != std::string::npos) s.resize(nul);
    while (!s.empty() && s.back() == ' ')
        s.pop_back();
    return s;
}

// The n halves that a raw read left in the upper half of the bytes of out[0, n) become the
// floats out[0, n). Each block of halves is copied aside before its floats are written, and
// the floats written so far end at byte 4 (i + m) <= 2 n + 2 (i + m), where the halves not
// yet read begin: nothing is overwritten before it is read, and no second buffer is needed.
void widenInPlace(float *out, size_t n)
{
    constexpr size_t kBlock = 4096;
    uint16_t block[kBlock];
    const auto *halves = reinterpret_cast<const unsigned char *>(out) + n * sizeof(uint16_t);
    for (size_t i = 0; i < n; i += kBlock) {
        const size_t m = std::min(kBlock, n - i);
        std::memcpy(block, halves + i * sizeof(uint16_t), m * sizeof(uint16_t));
        halvesToFloats(block, out + i, m);
    }
}

size_t product(const std::vector<int64_t> &dims)
{
    size_t n = 1;
    for (int64_t d : dims)
        n *= size_t(d);
    return n;
}

} // namespace

std::string takeErrorStack()
{
    ErrorWalk walk;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walkError, &walk);
    H5Eclear2(H5E_DEFAULT);
    return walk.message;
}

hid_t checkId(hid_t id, const std::string &what)
{
    if (id < 0) {
        const std::string detail = takeErrorStack();
        throw H5Error(detail.empty() ? what : what + " (" + detail + ")");
    }
    return id;
}

void checkStatus(herr_t status, const std::string &what)
{
    if (status < 0) checkId(-1, what);
}

static std::recursive_mutex &h5Mutex()
{
    static std::recursive_mutex m;
    return m;
}

namespace {
thread_local int t_guardDepth = 0;
}

Guard::Guard() : m_lock(h5Mutex())
{
    ++t_guardDepth;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Guard::~Guard()
{
    --t_guardDepth;
}

bool Guard::heldHere()
{
    return t_guardDepth > 0;
}

File openReadOnly(const std::string &path)
{
    return File(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "cannot open " + path);
}

Type utf8StringType()
{
    Type t(H5Tcopy(H5T_C_S1), "string type");
    checkStatus(H5Tset_size(t, H5T_VARIABLE), "string type");
    checkStatus(H5Tset_cset(t, H5T_CSET_UTF8), "string type");
    return t;
}

Type float16Type()
{
    // The layout numpy/h5py call float16: sign bit 15, exponent bits 10..14 (bias 15),
    // mantissa bits 0..9 with an implied leading one.
    Type t(H5Tcopy(H5T_IEEE_F32LE), "float16 type");
    checkStatus(H5Tset_fields(t, 15, 10, 5, 0, 10), "float16 type");
    checkStatus(H5Tset_size(t, 2), "float16 type");
    checkStatus(H5Tset_precision(t, 16), "float16 type");
    checkStatus(H5Tset_ebias(t, 15), "float16 type");
    return t;
}

std::vector<std::string> splitPath(const std::string &path)
{
    std::vector<std::string> parts;
    std::string cur;
    for (char c : path) {
        if (c == '/') {
            if (!cur.empty()) parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) parts.push_back(cur);
    return parts;
}

bool linkExists(hid_t loc, const std::string &path)
{
    std::string prefix;
    for (const auto &part : splitPath(path)) {
        prefix += prefix.empty() ? part : "/" + part;
        const htri_t e = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
        if (e <= 0) {
            takeErrorStack();
            return false;
        }
    }
    return !prefix.empty();
}

bool isGroup(hid_t loc, const std::string &path)
{
    return objectType(loc, path) == H5I_GROUP;
}
bool isDataset(hid_t loc, const std::string &path)
{
    return objectType(loc, path) == H5I_DATASET;
}

Group openGroup(hid_t loc, const std::string &path)
{
    return Group(H5Gopen2(loc, path.c_str(), H5P_DEFAULT), "cannot open group " + path);
}

Group createGroup(hid_t loc, const std::string &path, bool trackOrder)
{
    Plist lcpl = intermediateGroups();
    Plist gcpl(H5Pcreate(H5P_GROUP_CREATE), "group property list");
    if (trackOrder)
        checkStatus(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
                    "group property list");
    return Group(H5Gcreate2(loc, path.c_str(), lcpl, gcpl, H5P_DEFAULT),
                 "cannot create group " + path);
}

std::vector<std::string> childGroups(hid_t group)
{
    std::vector<std::string> out;
    for (auto &name : iterateLinks(group, true, true)) {
        bool keep = true;
        try {
            keep = isGroup(group, name);
        } catch (const H5Error &) {
            // Damaged: listed, so that reading it says so and removing it is possible.
        }
        if (keep) out.push_back(std::move(name));
    }
    return out;
}

std::vector<std::string> childLinks(hid_t group, bool creationOrder)
{
    return iterateLinks(group, true, creationOrder);
}

void copyObject(hid_t src, const std::string &name, hid_t dst, const std::string &newName)
{
    // H5Ocopy of attributes in dense storage (more than 8 on an object, HDF5 1.8 format)
    // crashes HDF5 1.10.8 when they hold variable-length strings. So groups are rebuilt here and
    // attributes copied by read/write; H5Ocopy only copies dataset contents (compressed chunks
    // as they are).
    const std::string what = "cannot copy " + name;
    Plist lcpl = intermediateGroups();
    if (isGroup(src, name)) {
        Group in = openGroup(src, name);
        // Only the creation order flags are taken over: the source's creation property list
        // also carries addresses inside the source file.
        unsigned order = 0;
        {
            Plist srcGcpl(H5Gget_create_plist(in), what);
            checkStatus(H5Pget_link_creation_order(srcGcpl, &order), what);
        }
        Plist gcpl(H5Pcreate(H5P_GROUP_CREATE), what);
        checkStatus(H5Pset_link_creation_order(gcpl, order), what);
        Group out(H5Gcreate2(dst, newName.c_str(), lcpl, gcpl, H5P_DEFAULT), what);
        copyAttributes(in, out);
        for (const auto &child : childLinks(in, true))
            copyObject(in, child, out, child);
        return;
    }
    Plist ocpypl(H5Pcreate(H5P_OBJECT_COPY), what);
    checkStatus(H5Pset_copy_object(ocpypl, H5O_COPY_WITHOUT_ATTR_FLAG), what);
    checkVlenBeforeCopy(src, name); // H5Ocopy reads them unchecked
    checkStatus(H5Ocopy(src, name.c_str(), dst, newName.c_str(), ocpypl, lcpl), what);
    Object in(H5Oopen(src, name.c_str(), H5P_DEFAULT), what);
    Object out(H5Oopen(dst, newName.c_str(), H5P_DEFAULT), what);
    copyAttributes(in, out);
}

bool hasAttr(hid_t obj, const char *name)
{
    const htri_t e = H5Aexists(obj, name);
    if (e < 0) checkStatus(-1, std::string("cannot look for attribute ") + name);
    return e > 0;
}

static Attr createAttr(hid_t obj, const char *name, hid_t type, hid_t space)
{
    if (hasAttr(obj, name))
        checkStatus(H5Adelete(obj, name), std::string("cannot replace attribute ") + name);
    Plist acpl(H5Pcreate(H5P_ATTRIBUTE_CREATE), "attribute property list");
    checkStatus(H5Pset_char_encoding(acpl, H5T_CSET_UTF8), "attribute property list");
    return Attr(H5Acreate2(obj, name, type, space, acpl, H5P_DEFAULT),
                std::string("cannot create attribute ") + name);
}

void writeStringAttr(hid_t obj, const char *name, const std::string &value)
{
    Type type = utf8StringType();
    Space space(H5Screate(H5S_SCALAR), "dataspace");
    Attr attr = createAttr(obj, name, type, space);
    const char *p = value.c_str();
    checkStatus(H5Awrite(attr, type, &p), std::string("cannot write attribute ") + name);
}

void writeIntAttr(hid_t obj, const char *name, int value)
{
    Space space(H5Screate(H5S_SCALAR), "dataspace");
    Attr attr = createAttr(obj, name, H5T_STD_I32LE, space);
    checkStatus(H5Awrite(attr, H5T_NATIVE_INT, &value),
                std::string("cannot write attribute ") + name);
}

namespace {

// An attribute that must hold one value of the class `cls` (`kind` names it in the error).
struct ScalarAttr {
    std::string what;
    Attr attr;
    Type type;
};

ScalarAttr openScalarAttr(hid_t obj, const char *name, H5T_class_t cls, const char *kind)
{
    const std::string what = std::string("attribute '") + name + "'";
    Attr attr(H5Aopen(obj, name, H5P_DEFAULT), "cannot open " + what);
    Type type(H5Aget_type(attr), "cannot read the type of " + what);
    Space space(H5Aget_space(attr), "cannot read the shape of " + what);
    if (H5Tget_class(type) != cls || H5Sget_simple_extent_npoints(space) != 1)
        throw H5Error(what + " is not a single " + kind);
    return {what, std::move(attr), std::move(type)};
}

} // namespace

std::optional<std::string> readStringAttr(hid_t obj, const char *name)
{
    if (!hasAttr(obj, name)) return std::nullopt;
    const ScalarAttr a = openScalarAttr(obj, name, H5T_STRING, "string");
    const htri_t variable = H5Tis_variable_str(a.type);
    checkStatus(variable < 0 ? -1 : 0, "cannot read the type of " + a.what);
    if (variable) return readVlenStrings(a.attr, true, 1, a.what).front();
    const size_t size = H5Tget_size(a.type);
    std::vector<char> buf(size + 1, '\0');
    Type mem(H5Tcopy(a.type), "string type");
    checkStatus(H5Aread(a.attr, mem, buf.data()), "cannot read " + a.what);
    return trimFixed(buf.data(), size);
}

std::optional<int64_t> readIntAttr(hid_t obj, const char *name)
{
    if (!hasAttr(obj, name)) return std::nullopt;
    const ScalarAttr a = openScalarAttr(obj, name, H5T_INTEGER, "integer");
    checkNumberType(a.type, a.what);
    int64_t v = 0;
    checkStatus(H5Aread(a.attr, H5T_NATIVE_INT64, &v), "cannot read " + a.what);
    return v;
}

std::vector<std::string> attributeNames(hid_t obj, const std::string &what)
{
    NameCollector c;
    hsize_t idx = 0;
    checkStatus(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, collectAttr, &c), what);
    return std::move(c.names);
}

void copyAttributes(hid_t src, hid_t dst)
{
    for (const auto &name : attributeNames(src, "cannot list attributes")) {
        const std::string what = "cannot copy attribute " + name;
        Attr in(H5Aopen(src, name.c_str(), H5P_DEFAULT), what);
        Type ftype(H5Aget_type(in), what);
        Space space(H5Aget_space(in), what);
        const hssize_t n = H5Sget_simple_extent_npoints(space);
        checkStatus(n < 0 ? -1 : 0, what);
        checkNumberType(ftype, "attribute '" + name + "'");
        const VlenKind vlen = vlenKind(ftype);
        if (vlen == VlenKind::Other)
            throw H5Error(what +
                          ": it holds variable-length data of a type HeadLens does not read");
        if (vlen == VlenKind::String) { // never handed to libhdf5 to read (vlenstrings.h)
            const auto values = readVlenStrings(in, true, size_t(n), "attribute '" + name + "'");
            std::vector<const char *> ptrs;
            for (const auto &v : values)
                ptrs.push_back(v.c_str());
            Attr out = createAttr(dst, name.c_str(), ftype, space);
            checkStatus(H5Awrite(out, ftype, ptrs.data()), what);
            continue;
        }
        Type mtype(H5Tget_native_type(ftype, H5T_DIR_ASCEND), what);
        std::vector<unsigned char> buf(std::max<size_t>(1, size_t(n) * H5Tget_size(mtype)));
        checkStatus(H5Aread(in, mtype, buf.data()), what);
        Attr out = createAttr(dst, name.c_str(), ftype, space);
        checkStatus(H5Awrite(out, mtype, buf.data()), what);
    }
}

// A reader allocates what a dataset's shape says before libhdf5 reads a byte, so the shape must
// be one its storage can fill: deflate, the only filter a writer uses, inflates at most about
// 1032:1, and no dataset stores more than the file holds. A damaged shape, or a dataset that was
// never written (no storage), claimed 128 GB in a 36 KB file. 64 MiB of slack keeps small
// unwritten datasets, which libhdf5 reads as fill values, to their own checks.
static void checkStorageHolds(const DatasetInfo &info)
{
    if (info.typeClass == H5T_STRING || info.typeSize == 0) return; // vlenstrings.h checks those
    double values = 1;
    for (int64_t d : info.dims)
        values *= double(d);
    const double bytes = values * double(info.typeSize);
    constexpr double kSlack = 64.0 * (1 << 20), kMaxInflation = 1100;
    if (bytes <= kSlack) return;
    double stored = double(H5Dget_storage_size(info.ds));
    const hid_t file = H5Iget_file_id(info.ds);
    hsize_t fileSize = 0;
    if (file >= 0 && H5Fget_filesize(file, &fileSize) >= 0)
        stored = std::min(stored, double(fileSize));
    if (file >= 0) H5Fclose(file);
    takeErrorStack();
    if (bytes > kMaxInflation * stored + kSlack) {
        char mib[64]; // a damaged shape can claim more MiB than an int64 holds
        std::snprintf(mib, sizeof mib, "%.0f", bytes / double(1 << 20));
        throw H5Error("dataset " + info.path + " has shape " + shapeString(info.dims) + " (" + mib +
                      " MiB) but stores " + std::to_string(int64_t(stored)) +
                      " bytes: the file is damaged");
    }
}

std::optional<DatasetInfo> openDataset(hid_t loc, const std::string &path)
{
    if (!linkExists(loc, path)) return std::nullopt;
    if (!isDataset(loc, path)) throw H5Error(path + " is not a dataset");
    DatasetInfo info;
    info.path = path;
    info.ds = Dataset(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), "cannot open " + path);
    Space space(H5Dget_space(info.ds), "cannot read the shape of " + path);
    const int rank = H5Sget_simple_extent_ndims(space);
    checkStatus(rank < 0 ? -1 : 0, "cannot read the shape of " + path);
    std::vector<hsize_t> dims(size_t(rank), 0);
    if (rank > 0)
        checkStatus(H5Sget_simple_extent_dims(space, dims.data(), nullptr),
                    "cannot read the shape of " + path);
    for (hsize_t d : dims)
        if (d > hsize_t(INT64_MAX))
            throw H5Error("dataset " + path + " has a dimension of " + std::to_string(d) +
                          ": the file is damaged");
    info.dims.assign(dims.begin(), dims.end());
    Type type(H5Dget_type(info.ds), "cannot read the type of " + path);
    checkNumberType(type, "dataset " + path);
    info.typeClass = H5Tget_class(type);
    info.typeSize = H5Tget_size(type);
    info.half = isIeeeHalf(type);
    checkStorageHolds(info);
    return info;
}

namespace {

herr_t visitAttribute(hid_t obj, const char *name, const H5A_info_t *, void *)
{
    Attr attr(H5Aopen(obj, name, H5P_DEFAULT), std::string("cannot open attribute ") + name);
    Type type(H5Aget_type(attr), std::string("cannot read the type of attribute ") + name);
    Space space(H5Aget_space(attr), std::string("cannot read the shape of attribute ") + name);
    checkNumberType(type, std::string("attribute '") + name + "'");
    return 0;
}

struct Visit {
    std::string problem; // what failed, where; empty while all is well
};

herr_t visitObject(hid_t loc, const char *name, const H5O_info_t *, void *data)
{
    // The visit itself reads every object header and link table; the attributes' messages are
    // read here. Datasets' types and shapes are checked where they are read (openDataset).
    auto *visit = static_cast<Visit *>(data);
    try {
        hsize_t idx = 0;
        if (H5Aiterate_by_name(loc, name, H5_INDEX_NAME, H5_ITER_INC, &idx, visitAttribute, nullptr,
                               H5P_DEFAULT) < 0)
            throw H5Error(std::string("cannot list the attributes of ") + name);
        return 0;
    } catch (const std::exception &e) {
        visit->problem = std::string(name) + ": " + e.what();
        return -1;
    }
}

} // namespace

void visitMetadata(hid_t loc)
{
    Visit visit;
    const herr_t status =
        H5Ovisit2(loc, H5_INDEX_NAME, H5_ITER_INC, visitObject, &visit, H5O_INFO_BASIC);
    if (!visit.problem.empty()) throw H5Error(visit.problem);
    checkStatus(status, "cannot visit the objects of the file");
}

Dataset createDataset(hid_t loc, const std::string &path, hid_t fileType,
                      const std::vector<int64_t> &shape, const Layout &layout)
{
    const std::string what = "cannot write dataset " + path;
    const auto dims = toHsize(shape);
    Space space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), what);
    Plist dcpl(H5Pcreate(H5P_DATASET_CREATE), what);
    if (!layout.chunk.empty()) {
        const auto chunk = capChunk(layout.chunk, H5Tget_size(fileType));
        checkStatus(H5Pset_chunk(dcpl, int(chunk.size()), chunk.data()), what);
        if (layout.deflate > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
            checkStatus(H5Pset_shuffle(dcpl), what);
            checkStatus(H5Pset_deflate(dcpl, unsigned(layout.deflate)), what);
        }
        takeErrorStack();
    }
    Plist lcpl = intermediateGroups();
    return Dataset(H5Dcreate2(loc, path.c_str(), fileType, space, lcpl, dcpl, H5P_DEFAULT), what);
}

void writeDataset(hid_t loc, const std::string &path, hid_t fileType, hid_t memType,
                  const std::vector<int64_t> &shape, const void *data, const Layout &layout)
{
    const std::string what = "cannot write dataset " + path;
    Dataset ds = createDataset(loc, path, fileType, shape, layout);
    checkStatus(H5Dwrite(ds, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), what);
    ds.close(what);
}

void writeFloatSlab(hid_t ds, hid_t fileType, const std::vector<int64_t> &start,
                    const std::vector<int64_t> &count, const float *data)
{
    const std::string what = "cannot write a slab of a dataset";
    const auto hstart = toHsize(start), hcount = toHsize(count);
    Space fileSpace(H5Dget_space(ds), what);
    checkStatus(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, hstart.data(), nullptr,
                                    hcount.data(), nullptr),
                what);
    Space memSpace(H5Screate_simple(int(hcount.size()), hcount.data(), nullptr), what);
    if (!isIeeeHalf(fileType)) {
        checkStatus(H5Dwrite(ds, H5T_NATIVE_FLOAT, memSpace, fileSpace, H5P_DEFAULT, data), what);
        return;
    }
    const size_t n = product(count);
    std::vector<uint16_t> halves(n);
    floatsToHalves(data, halves.data(), n);
    checkStatus(H5Dwrite(ds, fileType, memSpace, fileSpace, H5P_DEFAULT, halves.data()), what);
}

void writeStringDataset(hid_t loc, const std::string &path, const std::vector<std::string> &values)
{
    std::vector<const char *> ptrs;
    ptrs.reserve(values.size());
    for (const auto &v : values)
        ptrs.push_back(v.c_str());
    Type type = utf8StringType();
    writeDataset(loc, path, type, type, {int64_t(values.size())}, ptrs.data());
}

void readDataset(const DatasetInfo &info, hid_t memType, void *out)
{
    checkStatus(H5Dread(info.ds, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, out),
                "cannot read dataset " + info.path);
}

void readHyperslab(const DatasetInfo &info, hid_t memType, const std::vector<int64_t> &start,
                   const std::vector<int64_t> &count, void *out)
{
    const auto hstart = toHsize(start);
    const auto hcount = toHsize(count);
    const std::string what = "cannot read dataset " + info.path;
    Space fileSpace(H5Dget_space(info.ds), what);
    checkStatus(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, hstart.data(), nullptr,
                                    hcount.data(), nullptr),
                what);
    Space memSpace(H5Screate_simple(int(hcount.size()), hcount.data(), nullptr), what);
    checkStatus(H5Dread(info.ds, memType, memSpace, fileSpace, H5P_DEFAULT, out), what);
}

bool isIeeeHalf(hid_t type)
{
    // Any query failing (not a float type) just means "not a half"; the stack is cleared.
    size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    const bool half = H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == 2 &&
                      H5Tget_precision(type) == 16 && H5Tget_offset(type) == 0 &&
                      H5Tget_order(type) == H5T_ORDER_LE &&
                      H5Tget_order(H5T_NATIVE_FLOAT) == H5T_ORDER_LE &&
                      H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 && spos == 15 &&
                      epos == 10 && esize == 5 && mpos == 0 && msize == 10 &&
                      H5Tget_ebias(type) == 15 && H5Tget_norm(type) == H5T_NORM_IMPLIED;
    takeErrorStack();
    return half;
}

void checkNumberType(hid_t type, const std::string &what)
{
    const H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) return;
    const size_t size = H5Tget_size(type), precision = H5Tget_precision(type);
    const int offset = H5Tget_offset(type);
    const size_t bits = 8 * size;
    bool ok = (size == 2 || size == 4 || size == 8 || (cls == H5T_INTEGER && size == 1)) &&
              precision > 0 && offset >= 0 && size_t(offset) + precision <= bits;
    if (ok && cls == H5T_FLOAT) {
        size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
        ok = H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 && spos < precision &&
             epos + esize <= precision && mpos + msize <= precision && esize > 0 && msize > 0;
    }
    takeErrorStack();
    if (!ok)
        throw H5Error(what + " holds " + (cls == H5T_FLOAT ? "floats" : "integers") + " of " +
                      std::to_string(size) + " bytes (" + std::to_string(precision) +
                      " bits at offset " + std::to_string(offset) +
                      "), a type no HeadLens writer makes: the file is damaged");
}

void writeFloatDataset(hid_t loc, const std::string &path, hid_t fileType,
                       const std::vector<int64_t> &shape, const float *data, const Layout &layout)
{
    if (!isIeeeHalf(fileType)) {
        writeDataset(loc, path, fileType, H5T_NATIVE_FLOAT, shape, data, layout);
        return;
    }
    const size_t n = product(shape);
    std::vector<uint16_t> halves(n);
    floatsToHalves(data, halves.data(), n);
    writeDataset(loc, path, fileType, fileType, shape, halves.data(), layout);
}

void readFloats(const DatasetInfo &info, float *out)
{
    if (!info.half) {
        readDataset(info, H5T_NATIVE_FLOAT, out);
        return;
    }
    const size_t n = product(info.dims);
    Type type(H5Dget_type(info.ds), "cannot read the type of " + info.path);
    readDataset(info, type, reinterpret_cast<unsigned char *>(out) + n * sizeof(uint16_t));
    widenInPlace(out, n);
}

void readFloatHyperslab(const DatasetInfo &info, const std::vector<int64_t> &start,
                        const std::vector<int64_t> &count, float *out)
{
    if (!info.half) {
        readHyperslab(info, H5T_NATIVE_FLOAT, start, count, out);
        return;
    }
    const size_t n = product(count);
    Type type(H5Dget_type(info.ds), "cannot read the type of " + info.path);
    readHyperslab(info, type, start, count,
                  reinterpret_cast<unsigned char *>(out) + n * sizeof(uint16_t));
    widenInPlace(out, n);
}

std::vector<std::string> readStringDataset(const DatasetInfo &info)
{
    const std::string what = "cannot read dataset " + info.path;
    if (info.typeClass != H5T_STRING) throw H5Error(info.path + " does not hold strings");
    Type ftype(H5Dget_type(info.ds), what);
    Space space(H5Dget_space(info.ds), what);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    checkStatus(n < 0 ? -1 : 0, what);
    if (H5Tis_variable_str(ftype) > 0)
        return readVlenStrings(info.ds, false, size_t(n), "dataset " + info.path);
    std::vector<std::string> out;
    out.reserve(size_t(n));
    takeErrorStack();
    const size_t size = H5Tget_size(ftype);
    std::vector<char> buf(size * size_t(n) + 1, '\0');
    Type mem(H5Tcopy(ftype), "string type");
    if (n > 0) checkStatus(H5Dread(info.ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), what);
    for (hssize_t i = 0; i < n; ++i)
        out.push_back(trimFixed(buf.data() + size_t(i) * size, size));
    return out;
}

} // namespace HeadLens::H5
