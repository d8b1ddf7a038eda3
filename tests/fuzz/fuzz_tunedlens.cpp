// A tuned lens file (safetensors with HeadLens's metadata), as trace --lens-decoder tuned
// --lens FILE and serve's "lens" field read it.
#include "fuzzinput.h"

#include "headlens/model/tunedlens.h"

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = Fuzz::writeInput("lens.safetensors", data, size);
    return Fuzz::readAs([&] {
        const auto lens = loadTunedLens(path);
        volatile float sum = 0;
        for (size_t i = 0; i < lens->weight.size(); ++i)
            sum = sum + lens->weight[i].front() + lens->weight[i].back() + lens->bias[i].back();
    });
}
