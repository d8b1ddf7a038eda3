// How the engine's process keeps the memory it frees (glibc malloc).
//
// By default glibc gives every allocation above 32 MiB its own mapping and unmaps it when it
// is freed, so each such tensor the engine makes again (a layer's MLP activations, a block of
// attention scores) is faulted in and cleared by the kernel page by page. In bf16, where the
// products themselves are fast, that was half of a forward pass at the Yi-34B shape and 1024
// tokens (two layers: 5.7 s, 2.8 s with the memory kept). So for bf16 and f16 models,
// allocations up to 256 MiB come from the heap and freed memory stays in the process for the
// next tensor; larger ones (a few per layer) still get mappings of their own. In f32 the same
// setting made a 4-layer Yi trace at 1024 tokens no faster (107-124 s either way) and raised
// its peak anonymous memory from 1.7 to 2.9 GB, so f32 keeps glibc's defaults. A bf16 trace of
// the same shape went from 40.4 to 38.8 s and 1.27 to 1.48 GB. serve gives the kept memory
// back after each request, so an idle engine does not hold a request's peak.

#include "enginememory.h"

#include "headlens/model/cpufeatures.h"

#include <climits>
#include <cstdio>
#include <malloc.h>

namespace HeadLens::Cli {

namespace {

void keepFreedMemory()
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 256 << 20); // a mapping of its own only above 256 MiB
    mallopt(M_TRIM_THRESHOLD, INT_MAX);   // the heap's free top is kept (up to 2 GiB)
    mallopt(M_TOP_PAD, 64 << 20);         // and grown 64 MiB at a time
#endif
}

} // namespace

std::unique_ptr<Model> loadModel(const std::string &path, const LoadOptions &options)
{
    std::unique_ptr<Model> model = Model::load(path, options);
    if (model->computeDtype() != "f32") keepFreedMemory();
    // Said once a process (serve loads again and again).
    static bool noted = false;
    if (const std::string note = CpuFeatures::dtypeNote(model->computeDtype());
        !note.empty() && !noted) {
        std::fprintf(stderr, "headlens-cli: note: %s\n", note.c_str());
        noted = true;
    }
    return model;
}

void returnFreedMemory()
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

} // namespace HeadLens::Cli
