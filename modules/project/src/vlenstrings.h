#pragma once
// Variable-length strings read without libhdf5 following their references. Such a string is
// stored as a reference into a global heap collection ("GCOL") elsewhere in the file, and
// libhdf5 1.10 trusts the sizes and indexes it finds there: one damaged byte makes it read or
// write far outside its buffers (SIGSEGV in H5HG_read). So the references are taken as raw
// bytes (a conversion registered here turns a variable-length string into an opaque copy of
// its stored descriptor, so libhdf5 never dereferences it), and the collections are read and
// checked here, from the file itself, before any string is taken out of them. Module-private.

#include <hdf5.h>

#include <string>
#include <vector>

namespace HeadLens::H5 {

// The strings of a variable-length string attribute (attribute = true) or dataset, n values
// (its dataspace's size), up to a first NUL byte each; a null reference reads as "". H5Error
// "<what>: ..." naming what is damaged when a reference or its collection does not hold up.
std::vector<std::string> readVlenStrings(hid_t obj, bool attribute, size_t n,
                                         const std::string &what);

// Whether a type holds variable-length data: none, a variable-length string, or another kind
// (sequences, compounds holding strings), which HeadLens never writes and refuses to read.
enum class VlenKind { None, String, Other };
VlenKind vlenKind(hid_t type);

// Checks what copying the dataset `name` of loc with H5Ocopy would read: a variable-length
// string dataset is read as readVlenStrings does; any other variable-length data (sequences,
// compounds holding strings), which HeadLens never writes, is refused with H5Error.
void checkVlenBeforeCopy(hid_t loc, const std::string &name);

} // namespace HeadLens::H5
