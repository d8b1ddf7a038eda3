#pragma once
// Prompts files as batch and fit-lens read them, and how long something takes in words.

#include <cstdint>
#include <string>
#include <vector>

namespace HeadLens::Cli {

// One line of a prompts file.
struct BatchPrompt {
    std::string name;
    std::string text;         // empty with ids
    std::vector<int32_t> ids; // given as token_ids
    int line = 0;             // 1-based, for messages
};

// A prompts file: one prompt per line, or JSON objects per line ({"name": ..., "prompt": ...}
// or {"name": ..., "token_ids": [...]}). Blank lines are skipped. Prompts without a name are
// called prompt-<k>, k counting every prompt of the file from 1 (zero-padded to one width),
// so a shard names its traces as the whole batch would. InputError naming the file and line.
std::vector<BatchPrompt> readPrompts(const std::string &path);

// "4.2 s", "3 min 05 s", "1 h 02 min".
std::string duration(double seconds);

} // namespace HeadLens::Cli
