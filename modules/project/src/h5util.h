#pragma once
// Small RAII holders and helpers over the HDF5 C API, private to modules/project (the only
// code in HeadLens that includes hdf5.h). Every helper throws H5Error on failure with a
// readable message that ends with HDF5's own description of what went wrong; the public
// entry points turn that into InputError (reading a user's file) or std::runtime_error
// (writing), adding the file name.

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace HeadLens::H5 {

class H5Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The innermost message of HDF5's current error stack (e.g. "truncated file: eof = ..."),
// or an empty string; clears the stack.
std::string takeErrorStack();

// Throw H5Error("<what>: <HDF5's message>") when the identifier / status is negative.
hid_t checkId(hid_t id, const std::string &what);
void checkStatus(herr_t status, const std::string &what);

// Owns one identifier and closes it with Close. Move-only.
template <herr_t (*Close)(hid_t)> class Handle {
public:
    Handle() = default;
    explicit Handle(hid_t id) : m_id(id) {}
    Handle(hid_t id, const std::string &what) : m_id(checkId(id, what)) {}
    ~Handle() { reset(); }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    Handle(Handle &&o) noexcept : m_id(o.m_id) { o.m_id = H5I_INVALID_HID; }
    Handle &operator=(Handle &&o) noexcept
    {
        if (this != &o) {
            reset();
            m_id = o.m_id;
            o.m_id = H5I_INVALID_HID;
        }
        return *this;
    }
    void reset()
    {
        if (m_id >= 0) Close(m_id);
        m_id = H5I_INVALID_HID;
    }
    // Closes now and reports a failure (a write that HDF5 could only finish at close).
    void close(const std::string &what)
    {
        const hid_t id = m_id;
        m_id = H5I_INVALID_HID;
        if (id >= 0) checkStatus(Close(id), what);
    }
    hid_t get() const { return m_id; }
    operator hid_t() const { return m_id; }
    bool valid() const { return m_id >= 0; }

private:
    hid_t m_id = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Space = Handle<H5Sclose>;
using Type = Handle<H5Tclose>;
using Attr = Handle<H5Aclose>;
using Plist = Handle<H5Pclose>;
using Object = Handle<H5Oclose>;

// Serializes all HDF5 use of this module (the library may be built without thread safety)
// and switches HDF5's automatic error printing off for the calling thread.
class Guard {
public:
    Guard();
    ~Guard();
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;
    // Whether this thread holds the lock (a forked child could never take it again).
    static bool heldHere();

private:
    std::lock_guard<std::recursive_mutex> m_lock;
};

// Opens an existing file read-only; H5Error "cannot open <path>: ..." when that fails.
File openReadOnly(const std::string &path);

// Types.
Type utf8StringType(); // variable-length UTF-8 C string
Type float16Type();    // IEEE half precision, little endian (HDF5 1.10 has no predefined one)

// The names of a path's groups: "/a//b/" gives {"a", "b"}.
std::vector<std::string> splitPath(const std::string &path);
// Links and objects.
bool linkExists(hid_t loc, const std::string &path); // checks every component of a/b/c
// False when there is no such link; H5Error when the object there cannot be opened.
bool isGroup(hid_t loc, const std::string &path);
bool isDataset(hid_t loc, const std::string &path);
Group openGroup(hid_t loc, const std::string &path);
// Creates a group; with trackOrder, children can be listed in creation order.
Group createGroup(hid_t loc, const std::string &path, bool trackOrder = false);
// Names of the direct children of a group that are groups (or that cannot be opened), in
// creation order when the group tracks it, else in name order.
std::vector<std::string> childGroups(hid_t group);
// Names of all direct hard links of a group, in creation order when asked and tracked,
// else in name order.
std::vector<std::string> childLinks(hid_t group, bool creationOrder = false);
// Copies the object src/name (a group with everything in it, or a dataset) to dst/newName,
// which may be in another file. Only hard links are followed; soft links are not copied.
void copyObject(hid_t src, const std::string &name, hid_t dst, const std::string &newName);

// Attributes.
bool hasAttr(hid_t obj, const char *name);
void writeStringAttr(hid_t obj, const char *name, const std::string &value);
void writeIntAttr(hid_t obj, const char *name, int value);
// nullopt when absent; H5Error when present but not a scalar string / integer.
std::optional<std::string> readStringAttr(hid_t obj, const char *name);
std::optional<int64_t> readIntAttr(hid_t obj, const char *name);
// Copies every attribute of src onto dst (replacing same-named ones).
// The names of obj's attributes, by name (`what`: the error's words when they cannot be listed).
std::vector<std::string> attributeNames(hid_t obj, const std::string &what);
void copyAttributes(hid_t src, hid_t dst);

// Datasets.
struct DatasetInfo {
    std::string path; // as opened, for messages
    Dataset ds;
    std::vector<int64_t> dims;
    H5T_class_t typeClass = H5T_NO_CLASS;
    size_t typeSize = 0;
    bool half = false; // IEEE binary16 in this machine's byte order (see readFloats)
};
std::optional<DatasetInfo> openDataset(hid_t loc, const std::string &path);
// Opens every object below loc (recursively), every dataset as openDataset does, and the type and
// shape of every attribute, reading no data. Throws H5Error naming the first object that fails.
void visitMetadata(hid_t loc);

// How a new dataset is laid out: contiguous, or chunked, and then shuffled and deflated at
// `deflate` (0: stored as they are).
struct Layout {
    std::vector<hsize_t> chunk; // empty: contiguous
    int deflate = 4;
};
// Creates and writes a dataset from memory of memType; intermediate groups are created.
void writeDataset(hid_t loc, const std::string &path, hid_t fileType, hid_t memType,
                  const std::vector<int64_t> &shape, const void *data, const Layout &layout = {});
void writeStringDataset(hid_t loc, const std::string &path, const std::vector<std::string> &values);
// Creates a dataset without writing it (intermediate groups are created), to be filled
// slab by slab with writeFloatSlab.
Dataset createDataset(hid_t loc, const std::string &path, hid_t fileType,
                      const std::vector<int64_t> &shape, const Layout &layout);
// Writes float32 data into the hyperslab [start, start + count) of a dataset of fileType
// (halves converted here, as writeFloatDataset does).
void writeFloatSlab(hid_t ds, hid_t fileType, const std::vector<int64_t> &start,
                    const std::vector<int64_t> &count, const float *data);

// Reads a whole dataset (or, with start/count, a hyperslab of it) converted to memType.
void readDataset(const DatasetInfo &info, hid_t memType, void *out);
void readHyperslab(const DatasetInfo &info, hid_t memType, const std::vector<int64_t> &start,
                   const std::vector<int64_t> &count, void *out);
std::vector<std::string> readStringDataset(const DatasetInfo &info);

// Float datasets as float32 in memory. HDF5 1.10 converts IEEE half (float16Type(), numpy's
// float16) with its generic bit-by-bit converter, tens of M values/s; so halves travel raw,
// with the file's own type as memory type, and are converted by floatToHalf / halfToFloat
// (headlens/trace/float16.h). Any other float type is converted by HDF5.
bool isIeeeHalf(hid_t type); // binary16 fields and bias, in this machine's byte order
// Throws H5Error (what, then why) unless an integer or float type is one a writer makes: 1, 2,
// 4 or 8 bytes (floats 2, 4 or 8), its bits and fields inside them. A damaged type can claim
// 4 GB per value, which libhdf5 would allocate per value to convert it. Other classes pass.
void checkNumberType(hid_t type, const std::string &what);
void writeFloatDataset(hid_t loc, const std::string &path, hid_t fileType,
                       const std::vector<int64_t> &shape, const float *data,
                       const Layout &layout = {});
// out holds as many floats as the dataset (the hyperslab) has values; halves are read into the
// upper half of its bytes and widened in place, so no second buffer is needed.
void readFloats(const DatasetInfo &info, float *out);
void readFloatHyperslab(const DatasetInfo &info, const std::vector<int64_t> &start,
                        const std::vector<int64_t> &count, float *out);

} // namespace HeadLens::H5
