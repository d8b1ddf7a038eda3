// A llama2.c checkpoint (legacy header or version 1 "ak42").
#include "fuzzinput.h"
#include "weights.h"

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = Fuzz::writeInput("model.bin", data, size);
    return Fuzz::readAs([&] {
        const WeightSet w = openWeights(path);
        Fuzz::touchTensors(w.tensors);
    });
}
