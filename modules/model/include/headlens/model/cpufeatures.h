#pragma once
// Whether this CPU multiplies in bf16 and f16 itself. libtorch runs --dtype bf16 and f16 on any
// x86-64 CPU, but without the instructions (AVX512-BF16 or AMX-BF16; AVX512-FP16 or AMX-FP16)
// it converts every value to f32 and back, and the product is slower than in f32: on an
// AVX-512 CPU without them (Ice Lake) a bf16 trace of the Yi-34B shape took 2.2x (128 tokens)
// to 3.1x (1024) as long as the default f32 one. The engine says so when it loads a model in
// such a dtype.

#include <string>

namespace HeadLens::CpuFeatures {

// The note to print for a compute dtype ("f32", "bf16", "f16") on a CPU whose /proc/cpuinfo
// text is `cpuinfo`: empty when the dtype is f32, when the CPU has the instructions, or when
// the text does not say (another architecture, no /proc).
std::string dtypeNote(const std::string &dtype, const std::string &cpuinfo);

// The same for this machine (reads /proc/cpuinfo).
std::string dtypeNote(const std::string &dtype);

} // namespace HeadLens::CpuFeatures
