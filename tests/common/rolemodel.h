#pragma once
// A GPT-2 checkpoint whose heads are built by hand to serve one role each, for the head-role
// tests: learned one-hot position and token embeddings give every head features it can match
// exactly. Layer 0: head 0 attends to the previous token (and writes that token's identity
// into a subspace of its own), head 1 to the first token, head 2 to itself. Layer 1: head 0 is
// an induction head (its query, the current token, matches keys whose previous token it is),
// head 1 a duplicate-token head (same token, the earliest copy preferred by a penalty that
// grows with the key's position), head 2 has no weights (uniform attention). MLPs are zero.
// Plain C++ (no engine code), like the rest of tests/common.

#include "testgpt2.h"

namespace HeadLens::Test {

// 2 layers, d_model 96, 3 heads of 32, 24 tokens (BOS = EOS = 23), context 32.
Gpt2Weights roleGpt2();

} // namespace HeadLens::Test
