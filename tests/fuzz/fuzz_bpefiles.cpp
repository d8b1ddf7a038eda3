// A GPT-2 tokenizer as vocab.json and merges.txt, two parts of the input (fuzzinput.h).
#include "fuzzinput.h"
#include "fuzztokenizer.h"

using namespace HeadLens;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::vector<std::string> parts = Fuzz::splitInput(data, size, 2);
    const std::string vocab = Fuzz::writeInput(
        "vocab.json", reinterpret_cast<const uint8_t *>(parts[0].data()), parts[0].size());
    Fuzz::writeInput("merges.txt", reinterpret_cast<const uint8_t *>(parts[1].data()),
                     parts[1].size());
    return Fuzz::readAs([&] { Fuzz::useTokenizer(vocab); });
}
