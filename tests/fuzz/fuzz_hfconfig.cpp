// A Hugging Face config.json.
#include "fuzzinput.h"
#include "weights.h"

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = Fuzz::writeInput("config.json", data, size);
    return Fuzz::readAs([&] { (void)parseHfConfig(path); });
}
