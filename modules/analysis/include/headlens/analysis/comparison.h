#pragma once
// Comparing two traces (TRACE.md "Comparing two traces"): two prompts of one model, or two
// models whose tokenizers differ (Llama 2 against Nous-Capybara-34B). Tokens are aligned by
// their character offsets in the prompt (alignment.h), layers by relative depth
// ((l + 1) / L for resid_post[l]).
//
// KL between final distributions: a trace stores only the top-k of each distribution, so the
// KL is computed on a coarse version of both: the union S of the two top-k id sets plus one
// "other" bucket for the rest of the vocabulary. A side's probability of an id of S outside
// its own top-k is unknown; that side's remaining mass r = 1 - sum(its top-k) is shared evenly
// between those ids and "other" (each id's share capped at the side's smallest stored
// probability, since it ranked below the top-k; the excess stays in "other"). Probabilities
// below 1e-12 count as 1e-12 in the denominator. The result is KL(left || right) in nats; it
// is exact when both top-k sets hold all the mass, and only an estimate otherwise.

#include "headlens/trace/trace.h"

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace HeadLens {

// KL(p || q) in nats of two distributions given by their top-k (see above). ids and probs of
// a side have equal lengths; ids are unique within a side.
double topkKl(const std::vector<int32_t> &pIds, const std::vector<float> &pProbs,
              const std::vector<int32_t> &qIds, const std::vector<float> &qProbs);

// Relative depths of resid_post of both traces merged: the sorted union of (l + 1) / L_left and
// (l + 1) / L_right (values closer than 1e-9 merged).
std::vector<double> depthGrid(int nLayersLeft, int nLayersRight);
// The layer of a model of nLayers layers used at relative depth d: the deepest l with
// (l + 1) / nLayers <= d (+1e-9), or -1 when none is that shallow.
int layerAtDepth(double d, int nLayers);

struct TraceComparison {
    std::string left, right; // trace names
    std::string mode;        // "prompts": both traces come from one model; "models": two models
    bool sameVocabulary = false;
    std::vector<std::pair<int, int>> pairs; // [P] aligned token indices (left, right); -1: none

    // Per aligned pair, one side. Entries of a side that has no token in the pair are -1 / NaN /
    // empty. Final = the model's own next-token prediction at that token.
    struct Side {
        std::vector<std::string> tokenText; // [P] the aligned token's own text
        std::vector<int32_t> top1;          // [P] final top-1 id
        std::vector<std::string> top1Text;  // [P] its text (Trace::idText)
        std::vector<double> top1Prob;       // [P]
        std::vector<double> entropy;        // [P] final entropy, nats
        std::vector<int> decisionLayer;     // [P] decision depth as a layer (decision.h)
        std::vector<double> decisionDepth;  // [P] the same as a relative depth (l + 1) / L
    };
    std::array<Side, 2> side; // 0: left, 1: right

    std::vector<double> kl; // [P] KL(left || right) of the final distributions (see above);
                            // NaN when a side is missing or the vocabularies differ

    // Per relative depth: both sides resampled onto depthGrid() (nearest layer at or below).
    std::vector<double> depths;                     // [G]
    std::array<std::vector<int>, 2> depthLayer;     // [G] layer used, -1 when none
    std::array<std::vector<double>, 2> meanEntropy; // [G] mean resid_post lens entropy, nats,
                                                    // over the side's aligned positions
    std::array<int, 2> nAlignedPositions{{0, 0}};   // positions in at least one complete pair
};

// Compares two traces; both need their resid_post lens loaded (ProjectReader::readLens) and
// their logits. Mode: "prompts" when both come from the same model (same fingerprint, or same
// model name when a fingerprint is missing), else "models". Vocabularies count as the same
// when the models are the same, or when the vocabulary sizes are equal and every id both
// traces know has the same text in both (and there is at least one). InputError when a
// trace lacks its resid_post lens or logits (the message names the trace).
TraceComparison compareTraces(const Trace &left, const Trace &right);

} // namespace HeadLens
