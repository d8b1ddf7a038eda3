#pragma once
// How the engine loads a model and keeps the memory it frees (enginememory.cpp says why).

#include "headlens/model/model.h"

#include <memory>
#include <string>

namespace HeadLens::Cli {

// Model::load, and for a model that computes in bf16 or f16, freed memory stays in the process
// for the next tensor instead of going back to the kernel (from then on, for the process's
// life: serve keeps it for later models too). On a CPU without bf16 (f16) instructions, says
// on stderr, once, that the dtype is slower there than f32. Every command loads through this.
std::unique_ptr<Model> loadModel(const std::string &path, const LoadOptions &options);

// Gives kept memory back to the kernel (serve, after each request).
void returnFreedMemory();

} // namespace HeadLens::Cli
