// serve's input: lines of JSON requests (app/cli/PROTOCOL.md), each sorted as serve sorts it
// (readServeLine) and, when it is a request, its command's fields read (serveRequest), as
// serve does before it runs one. The contract: what serve cannot take is answered as a usage
// or input error (UsageError, InputError, nlohmann's exceptions); anything else would be an
// "internal" answer, and is a finding. Nothing runs: the model is not the parser's.
#include "fuzzinput.h"
#include "serverequest.h"

#include <cstdio>
#include <cstdlib>

using namespace HeadLens;
using namespace HeadLens::Cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string input(reinterpret_cast<const char *>(data), size);
    size_t begin = 0;
    for (int lines = 0; begin <= input.size() && lines < 16; ++lines) {
        size_t end = input.find('\n', begin);
        if (end == std::string::npos) end = input.size();
        const ServeLine line = readServeLine(input.substr(begin, end - begin));
        begin = end + 1;
        if (line.kind == ServeLine::Kind::NotRequest && line.error.size() > 300) {
            std::fprintf(stderr, "fuzz: a refusal of %zu bytes\n", line.error.size());
            std::abort();
        }
        if (line.kind != ServeLine::Kind::Request) continue;
        try {
            (void)serveRequest(line.request);
        } catch (const UsageError &) {
        } catch (const InputError &) {
        } catch (const nlohmann::json::exception &) {
        } catch (const std::exception &e) {
            std::fprintf(stderr, "fuzz: serve would answer 'internal': %s\n", e.what());
            std::abort();
        }
    }
    return 0;
}
