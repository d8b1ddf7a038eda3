// A safetensors file: its 8-byte header length, the JSON header and the tensors' bytes.
#include "fuzzinput.h"
#include "weightformats.h"

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = Fuzz::writeInput("model.safetensors", data, size);
    return Fuzz::readAs([&] {
        const SafetensorsFile f = readSafetensors(path);
        Fuzz::touchTensors(f.tensors);
    });
}
