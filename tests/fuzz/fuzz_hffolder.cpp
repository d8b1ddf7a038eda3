// A Hugging Face model folder with a sharded checkpoint: config.json, the shard index
// model.safetensors.index.json and two shards, as four parts of the input (fuzzinput.h).
#include "fuzzinput.h"
#include "weights.h"

#include <filesystem>

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::vector<std::string> parts = Fuzz::splitInput(data, size, 4);
    const char *names[] = {"config.json", "model.safetensors.index.json",
                           "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    const std::string dir = Fuzz::workDir() + "/model";
    std::filesystem::create_directories(dir);
    for (size_t i = 0; i < 4; ++i)
        Fuzz::writeInput(std::string("model/") + names[i],
                         reinterpret_cast<const uint8_t *>(parts[i].data()), parts[i].size());
    return Fuzz::readAs([&] {
        const WeightSet w = openWeights(dir);
        Fuzz::touchTensors(w.tensors);
    });
}
