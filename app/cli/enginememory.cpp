// How the engine's process keeps the memory it frees (glibc malloc).
//
// By default glibc gives every allocation above 32 MiB its own mapping and unmaps it when it
// is freed, so each such tensor the engine makes again (a layer's logits, its MLP
// activations, a block of attention scores) is faulted in and cleared by the kernel page by
// page. At the Yi-34B shape and 1024 tokens that was half of a bf16 forward pass, and a
// default trace of 4 layers took 216 s instead of 114-124 s. Up to 256 MiB, allocations now
// come from the heap, and freed memory stays in the process for the next tensor; larger ones
// (a few per layer) still get mappings of their own. Kept memory counts as the process's: that
// trace's peak anonymous memory went from 1.7 to 2.9 GB. serve gives the kept memory back
// between requests, so an idle engine does not hold a trace's peak.

#include "args.h"

#include <climits>
#include <malloc.h>

namespace HeadLens::Cli {

void keepFreedMemory()
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 256 << 20); // a mapping of its own only above 256 MiB
    mallopt(M_TRIM_THRESHOLD, INT_MAX);   // the heap's free top is kept (up to 2 GiB)
    mallopt(M_TOP_PAD, 64 << 20);         // and grown 64 MiB at a time
#endif
}

void returnFreedMemory()
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

} // namespace HeadLens::Cli
