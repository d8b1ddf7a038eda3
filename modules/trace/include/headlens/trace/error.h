#pragma once
// Errors shared by all modules. InputError means "the user gave something that cannot be
// used" (a model, tokenizer, prompt or project): the CLI maps it to exit status 3 and prints
// its message, which must say what is wrong and where.

#include <stdexcept>
#include <string>

namespace HeadLens {

class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown by long work (loading, tracing) when the caller asked to stop between layers.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

} // namespace HeadLens
