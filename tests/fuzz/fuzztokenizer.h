#pragma once
// Loads a tokenizer from the file or folder at path and uses it as the engine does: encode and
// decode a few texts, and read the text of every id it has (the first 1000).

#include "fuzzinput.h"

#include "headlens/model/tokenizer.h"

#include <algorithm>
#include <memory>

#include <string>
#include <vector>

namespace HeadLens::Fuzz {

inline void useTokenizer(const std::string &path)
{
    const std::unique_ptr<Tokenizer> t = loadTokenizer(path);
    for (const char *text :
         {"", "Hello world", "587+469=", " a\n\tb  c\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
          "<s>x</s>", "\xff\xfe not UTF-8"})
        for (bool bos : {false, true})
            readAs([&] {
                std::vector<int32_t> ids;
                for (const TokenInfo &i : t->encode(text, bos))
                    ids.push_back(i.id);
                (void)t->decode(ids);
            });
    const int n = std::min(t->vocabSize(), 1000);
    for (int id = 0; id < n; ++id) {
        (void)t->piece(id);
        (void)t->displayText(id);
    }
    readAs([&] { (void)t->decode({-1, n, 0}); });
}

} // namespace HeadLens::Fuzz
