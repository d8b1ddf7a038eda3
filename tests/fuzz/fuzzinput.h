#pragma once
// What every fuzz target shares: the fuzzer's bytes written as the file (or the files of a
// folder) a reader opens, in a folder of this process's own under $TMPDIR (or /dev/shm).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace HeadLens::Fuzz {

// The folder this process writes its inputs into (made on first use, emptied by the OS).
const std::string &workDir();

// Writes bytes as workDir()/name and gives its path.
std::string writeInput(const std::string &name, const uint8_t *data, size_t size);

// Splits the input into at most n parts at the separator "\n--headlens-file--\n"; the last
// part takes the rest. Fewer separators give fewer parts (missing ones are empty).
std::vector<std::string> splitInput(const uint8_t *data, size_t size, size_t n);

// The separator, for the seed writer and the targets' documentation.
constexpr const char *kSeparator = "\n--headlens-file--\n";

} // namespace HeadLens::Fuzz

#include "headlens/trace/error.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace HeadLens::Fuzz {

// Runs a reader on one input. The readers' contract: damaged input is an InputError (exit
// status 3, a message naming the file); any other exception is a finding, reported as a crash.
template <typename F> int readAs(F &&read)
{
    try {
        read();
    } catch (const InputError &e) {
        if (std::getenv("HEADLENS_FUZZ_VERBOSE")) std::fprintf(stderr, "fuzz: %s\n", e.what());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "fuzz: not an InputError: %s\n", e.what());
        std::abort();
    }
    return 0;
}

// Reads the first and last byte of every tensor a reader accepted (they must lie inside the
// file's mapping): a map of name -> entry with .data and .nbytes.
template <typename Map> void touchTensors(const Map &tensors)
{
    volatile uint8_t sum = 0;
    for (const auto &entry : tensors) {
        const auto &t = entry.second;
        if (t.nbytes == 0) continue;
        const auto *p = static_cast<const uint8_t *>(t.data);
        sum = uint8_t(sum + p[0] + p[t.nbytes - 1]);
    }
}

} // namespace HeadLens::Fuzz
