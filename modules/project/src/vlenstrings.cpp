// Variable-length strings read past libhdf5's global heap code (vlenstrings.h). The layouts
// are those of the HDF5 file format specification: a stored string is a descriptor
// (length: 4 bytes, collection address: "size of offsets" bytes, object index: 4 bytes, all
// little endian); a collection is "GCOL", version 1, 3 reserved bytes and its size ("size of
// lengths" bytes, header included), followed by objects (index: 2 bytes, reference count: 2,
// reserved: 4, size: "size of lengths", then the data padded to 8 bytes); index 0 is the free
// space, which runs to the end of the collection, and a tail too small for an object header is
// free space too.

#include "vlenstrings.h"

#include "h5util.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace HeadLens::H5 {

namespace {

constexpr const char *kDescriptorTag = "HeadLens: stored variable-length string reference";

// The conversion from a variable-length string as stored to an opaque type of the same size
// tagged kDescriptorTag: the stored bytes stay as they are. Refuses every other pair of types,
// so libhdf5 keeps its own conversions for them.
herr_t keepDescriptor(hid_t src, hid_t dst, H5T_cdata_t *cdata, size_t, size_t, size_t, void *,
                      void *, hid_t)
{
    switch (cdata->command) {
    case H5T_CONV_INIT: {
        if (H5Tget_class(dst) != H5T_OPAQUE || H5Tget_class(src) != H5T_STRING ||
            H5Tis_variable_str(src) <= 0)
            return -1;
        char *tag = H5Tget_tag(dst);
        const bool ours = tag && std::strcmp(tag, kDescriptorTag) == 0;
        H5free_memory(tag);
        if (!ours || H5Tget_size(src) != H5Tget_size(dst)) return -1;
        cdata->need_bkg = H5T_BKG_NO;
        return 0;
    }
    case H5T_CONV_CONV: // one size on both sides: converting in place leaves the bytes
    case H5T_CONV_FREE:
        return 0;
    }
    return -1;
}

// The opaque type a descriptor of descriptorSize bytes is read as.
Type descriptorType(size_t descriptorSize)
{
    static const bool registered = [] {
        Type vlen = utf8StringType();
        Type opaque(H5Tcreate(H5T_OPAQUE, 1), "opaque type");
        checkStatus(H5Tset_tag(opaque, kDescriptorTag), "opaque type");
        checkStatus(H5Tregister(H5T_PERS_SOFT, "HeadLens stored string reference", vlen, opaque,
                                keepDescriptor),
                    "cannot register the stored string reference conversion");
        return true;
    }();
    (void)registered;
    Type t(H5Tcreate(H5T_OPAQUE, descriptorSize), "opaque type");
    checkStatus(H5Tset_tag(t, kDescriptorTag), "opaque type");
    return t;
}

uint64_t decode(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

// The file an object lives in, as its global heap reads it: the sec2 driver's descriptor,
// where HDF5's addresses start, its end, and the sizes of addresses and lengths in it.
struct HeapFile {
    int fd = -1;
    uint64_t base = 0, eof = 0;
    size_t sizeofAddr = 8, sizeofSize = 8;

    explicit HeapFile(hid_t obj)
    {
        const std::string what = "cannot read the file's layout";
        File file(H5Iget_file_id(obj), what);
        unsigned intent = 0;
        checkStatus(H5Fget_intent(file, &intent), what);
        // What this process wrote may still be in libhdf5's caches.
        if (intent & H5F_ACC_RDWR) checkStatus(H5Fflush(file, H5F_SCOPE_LOCAL), what);
        Plist fcpl(H5Fget_create_plist(file), what);
        checkStatus(H5Pget_sizes(fcpl, &sizeofAddr, &sizeofSize), what);
        hsize_t userblock = 0;
        checkStatus(H5Pget_userblock(fcpl, &userblock), what);
        base = userblock;
        Plist fapl(H5Fget_access_plist(file), what);
        if (H5Pget_driver(fapl) != H5FD_SEC2)
            throw H5Error(what + ": it is not opened with the sec2 driver");
        void *handle = nullptr;
        checkStatus(H5Fget_vfd_handle(file, H5P_DEFAULT, &handle), what);
        fd = *static_cast<int *>(handle);
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw H5Error(what + ": " + std::strerror(errno));
        eof = uint64_t(st.st_size);
        if (sizeofAddr < 2 || sizeofAddr > 8 || sizeofSize < 2 || sizeofSize > 8)
            throw H5Error(what + ": unsupported sizes of addresses and lengths");
    }

    void read(uint64_t pos, size_t n, unsigned char *out) const
    {
        size_t done = 0;
        while (done < n) {
            const ssize_t r = ::pread(fd, out + done, n - done, off_t(pos + done));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) throw H5Error(std::string("cannot read the file: ") + std::strerror(errno));
            done += size_t(r);
        }
    }
};

// One global heap collection, checked: where each object's data starts and how long it is.
struct Collection {
    std::vector<unsigned char> bytes;
    std::map<unsigned, std::pair<size_t, size_t>> objects; // index -> (offset, size)
};

Collection readCollection(const HeapFile &f, uint64_t addr)
{
    const std::string at = "the global heap collection at address " + std::to_string(addr);
    const size_t header = 8 + f.sizeofSize, objectHeader = 8 + f.sizeofSize;
    if (addr >= f.eof || f.base > f.eof - addr || f.eof - f.base - addr < header)
        throw H5Error(at + " lies outside the file (" + std::to_string(f.eof) + " bytes)");
    const uint64_t pos = f.base + addr;
    Collection c;
    c.bytes.resize(header);
    f.read(pos, header, c.bytes.data());
    if (std::memcmp(c.bytes.data(), "GCOL", 4) != 0 || c.bytes[4] != 1)
        throw H5Error(at + " is not one (no GCOL version 1 signature there)");
    const uint64_t size = decode(c.bytes.data() + 8, f.sizeofSize);
    if (size < header || size > f.eof - pos)
        throw H5Error(at + " claims " + std::to_string(size) + " bytes; the file has " +
                      std::to_string(f.eof - pos) + " from there");
    c.bytes.resize(size_t(size));
    f.read(pos + header, size_t(size) - header, c.bytes.data() + header);
    size_t p = header;
    while (size - p >= objectHeader) {
        const unsigned index = unsigned(decode(c.bytes.data() + p, 2));
        const uint64_t n = decode(c.bytes.data() + p + 8, f.sizeofSize);
        const uint64_t room = size - p;
        if (index == 0) { // the free space runs to the end
            if (n != room)
                throw H5Error(at + " is damaged: its free space claims " + std::to_string(n) +
                              " bytes where " + std::to_string(room) + " are left");
            break;
        }
        const uint64_t padded = n > room ? room + 1 : (n + 7) / 8 * 8;
        if (padded > room - objectHeader)
            throw H5Error(at + " is damaged: object " + std::to_string(index) + " claims " +
                          std::to_string(n) + " bytes where " +
                          std::to_string(room - objectHeader) + " are left");
        if (!c.objects.emplace(index, std::make_pair(p + objectHeader, size_t(n))).second)
            throw H5Error(at + " is damaged: it holds object " + std::to_string(index) + " twice");
        p += objectHeader + size_t(padded);
    }
    return c;
}

// Whether values of a type refer into the global heap: variable-length data and references
// (regions live there too), anywhere in it. Types that cannot be read count as doing so.
bool usesHeap(hid_t t)
{
    switch (H5Tget_class(t)) {
    case H5T_STRING:
        return H5Tis_variable_str(t) != 0;
    case H5T_INTEGER:
    case H5T_FLOAT:
    case H5T_TIME:
    case H5T_BITFIELD:
    case H5T_OPAQUE:
        return false;
    case H5T_COMPOUND: {
        const int n = H5Tget_nmembers(t);
        if (n < 0) return true;
        for (int i = 0; i < n; ++i) {
            const Type member(H5Tget_member_type(t, unsigned(i)));
            if (!member.valid() || usesHeap(member)) return true;
        }
        return false;
    }
    case H5T_ARRAY:
    case H5T_ENUM: {
        const Type super(H5Tget_super(t));
        return !super.valid() || usesHeap(super);
    }
    default: // H5T_VLEN, H5T_REFERENCE, errors
        return true;
    }
}

// Where an attribute or dataset is, for messages.
std::string objectPath(hid_t obj)
{
    const ssize_t n = H5Iget_name(obj, nullptr, 0);
    if (n <= 0) return "?";
    std::string s(size_t(n) + 1, '\0');
    H5Iget_name(obj, s.data(), s.size());
    s.resize(size_t(n));
    return s;
}

} // namespace

std::vector<std::string> readVlenStrings(hid_t obj, bool attribute, size_t n,
                                         const std::string &what)
{
    try {
        const HeapFile f(obj);
        const size_t descriptor = 4 + f.sizeofAddr + 4;
        std::vector<unsigned char> raw(n * descriptor);
        if (n > 0) {
            Type type = descriptorType(descriptor);
            checkStatus(attribute ? H5Aread(obj, type, raw.data())
                                  : H5Dread(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()),
                        "cannot read the stored string references");
        }
        std::map<uint64_t, Collection> collections;
        std::vector<std::string> out;
        out.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            const unsigned char *d = raw.data() + i * descriptor;
            const uint64_t length = decode(d, 4);
            const uint64_t addr = decode(d + 4, f.sizeofAddr);
            const unsigned index = unsigned(decode(d + 4 + f.sizeofAddr, 4));
            if (addr == 0) { // a null reference, as libhdf5 reads it
                out.emplace_back();
                continue;
            }
            auto it = collections.find(addr);
            if (it == collections.end())
                it = collections.emplace(addr, readCollection(f, addr)).first;
            const Collection &c = it->second;
            const auto o = c.objects.find(index);
            const std::string value = n > 1 ? "string " + std::to_string(i) : "the string";
            if (o == c.objects.end())
                throw H5Error(value + " refers to object " + std::to_string(index) +
                              " of the global heap collection at address " + std::to_string(addr) +
                              ", which has no such object");
            if (o->second.second != length)
                throw H5Error(value + " is " + std::to_string(length) +
                              " bytes long, but its global heap object holds " +
                              std::to_string(o->second.second));
            const char *text = reinterpret_cast<const char *>(c.bytes.data() + o->second.first);
            out.emplace_back(text, ::strnlen(text, size_t(length)));
        }
        return out;
    } catch (const H5Error &e) {
        throw H5Error(what + " at " + objectPath(obj) + " is damaged: " + e.what());
    }
}

VlenKind vlenKind(hid_t type)
{
    if (H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0) return VlenKind::String;
    return usesHeap(type) ? VlenKind::Other : VlenKind::None;
}

void checkVlenBeforeCopy(hid_t loc, const std::string &name)
{
    const std::string what = "cannot copy " + name;
    if (!isDataset(loc, name)) return;
    Dataset ds(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), what);
    Type type(H5Dget_type(ds), what);
    const VlenKind kind = vlenKind(type);
    if (kind == VlenKind::None) return;
    if (kind == VlenKind::Other)
        throw H5Error(what + ": it holds variable-length data of a type HeadLens does not read");
    Space space(H5Dget_space(ds), what);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    checkStatus(n < 0 ? -1 : 0, what);
    readVlenStrings(ds, false, size_t(n), "dataset " + name);
}

} // namespace HeadLens::H5
