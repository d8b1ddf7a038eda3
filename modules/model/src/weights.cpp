// Model files without torch: what every format shares (dtypes, the read-only mapping of a
// file, the set of tensors and its lookups, the JSON helpers of config.json and safetensors
// headers) and openWeights, which picks the format. Everything read from a file is checked
// against the file before it is trusted, because a model is user input: a bad one must end in
// an InputError that says what and where, never in a crash or a read past a mapping.

#include "weightformats.h"

#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace HeadLens {

namespace fs = std::filesystem;
using json = nlohmann::json;

// ------------------------------------------------------------------------------------------
// dtypes

const char *dtypeName(DType t)
{
    switch (t) {
    case DType::F32:
        return "F32";
    case DType::F16:
        return "F16";
    case DType::BF16:
        return "BF16";
    case DType::F64:
        return "F64";
    case DType::I64:
        return "I64";
    case DType::I32:
        return "I32";
    case DType::I16:
        return "I16";
    case DType::I8:
        return "I8";
    case DType::U8:
        return "U8";
    case DType::BOOL:
        return "BOOL";
    }
    return "?";
}

size_t dtypeSize(DType t)
{
    switch (t) {
    case DType::F64:
    case DType::I64:
        return 8;
    case DType::F32:
    case DType::I32:
        return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
        return 2;
    case DType::I8:
    case DType::U8:
    case DType::BOOL:
        return 1;
    }
    return 0;
}

// ------------------------------------------------------------------------------------------
// JSON of config.json, shard indexes and safetensors headers

std::string jsonMessage(const std::exception &e)
{
    std::string m = e.what();
    if (!m.empty() && m[0] == '[') {
        const auto close = m.find("] ");
        if (close != std::string::npos) m = m.substr(close + 2);
    }
    return m;
}

std::string readWholeFile(const std::string &path, const char *what)
{
    return readInputFile(path, what, kMaxTextInputBytes);
}

std::optional<int64_t> jsonInt(const json &v)
{
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        if (u > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
        return int64_t(u);
    }
    if (v.is_number_integer()) return v.get<int64_t>();
    return std::nullopt;
}

// ------------------------------------------------------------------------------------------
// MappedFile

MappedFile::MappedFile(const std::string &path) : m_path(path)
{
    // O_NONBLOCK: a FIFO named as a model would otherwise block here; fstat refuses it below.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw InputError("cannot open model file " + path + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw InputError("cannot open model file " + path + ": " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw InputError("cannot open model file " + path + ": " +
                         (S_ISDIR(st.st_mode) ? std::string(std::strerror(EISDIR))
                                              : "not a regular file (a pipe, socket or device)"));
    }
    m_size = size_t(st.st_size);
    if (m_size > 0) {
        void *p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw InputError("cannot map model file " + path + ": " + std::strerror(err));
        }
        m_data = static_cast<const uint8_t *>(p);
    }
    ::close(fd); // the mapping stays valid without the descriptor
}

MappedFile::~MappedFile()
{
    if (m_data) ::munmap(const_cast<uint8_t *>(m_data), m_size);
}

// ------------------------------------------------------------------------------------------
// WeightSet

namespace {

// Where the model came from, for messages: the folder of a Hugging Face model, or the file.
std::string modelPathOf(const WeightSet &ws)
{
    if (ws.files.empty()) return "(no files)";
    const std::string &first = ws.files.front()->path();
    if (ws.format == "hf-safetensors") return fs::path(first).parent_path().string();
    return first;
}

} // namespace

const TensorEntry *WeightSet::find(const std::string &name) const
{
    const auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
}

const TensorEntry &WeightSet::get(const std::string &name, const std::vector<int64_t> &shape) const
{
    const TensorEntry *t = find(name);
    if (!t)
        throw InputError("tensor " + name + " is missing (model at " + modelPathOf(*this) + ")");
    if (t->shape != shape)
        throw InputError("tensor " + name + " in " + t->file + " has shape " +
                         shapeString(t->shape) + ", but the model's config needs " +
                         shapeString(shape));
    return *t;
}

WeightSet openWeights(const std::string &path)
{
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (fs::is_directory(st)) {
        const fs::path dir(path);
        if (!fs::is_regular_file(dir / "config.json", ec))
            throw InputError(path + " is neither a model folder with config.json nor a llama2.c "
                                    "checkpoint file (the folder has no config.json)");
        return openHfFolder(dir);
    }
    return openLlama2c(path);
}

} // namespace HeadLens
