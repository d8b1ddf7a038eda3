// A llama2.c tokenizer.bin.
#include "fuzzinput.h"
#include "fuzztokenizer.h"

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = Fuzz::writeInput("tokenizer.bin", data, size);
    return Fuzz::readAs([&] { Fuzz::useTokenizer(path); });
}
