#pragma once
// What the block view shows, apart from how it is drawn: a layers x tokens grid of lens
// results copied out of a Trace, and what follows from them and from the reader's choices —
// each block's colour (top-1 probability, entropy, or the probability or rank of one followed
// token), the selected block, the highlighted set, and the attention of the selected position.
// No widget and no painting: the view, its painter and the tests read it alike.

#include "headlens/trace/trace.h"
#include "headlens/ui/colourscale.h"

#include <QImage>
#include <QPair>
#include <QString>
#include <QVector>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace HeadLens {

// What a block's colour says: the lens, or the activation patching map (the fraction of the
// clean answer a patch of that block restores).
enum class BlockColour { Probability, Entropy, Patching };
// What following one token colours by: its lens probability, or its rank in the stored top-k.
enum class FollowMeasure { Probability, Rank };

class BlockGridData {
public:
    BlockGridData();

    // --- data
    // Tokens, their text and the layer count; clears the lens, the selection, the highlight
    // and the attention.
    void setTrace(const Trace &trace);
    // See BlockView::setLens. Returns false for a site of the wrong shape (which shows grey).
    bool setLens(const LensSite &site);
    void clear();

    int layers() const { return m_layers; }
    int tokens() const { return m_tokens; }
    int promptTokens() const { return m_nPrompt; }
    bool hasLens() const { return m_hasLens; }
    int topk() const { return m_k; }
    bool contains(int layer, int pos) const
    {
        return layer >= 0 && pos >= 0 && layer < m_layers && pos < m_tokens;
    }

    // The input token at pos, as the trace has it and as a label (see tokenLabel).
    const QString &tokenText(int pos) const { return m_tokenText[size_t(pos)]; }
    const QString &tokenLabel(int pos) const { return m_tokenLabel[size_t(pos)]; }
    // The vocabulary text of a token id, "[id]" when the trace does not know it.
    QString vocabText(int32_t id) const;

    // The lens top-k of a block, k = 0 for the top-1 (call only with a lens).
    int32_t topkId(int layer, int pos, int k) const
    {
        return m_topkIds[index(layer, pos) * size_t(m_k) + size_t(k)];
    }
    float topkProb(int layer, int pos, int k) const
    {
        return m_topkProbs[index(layer, pos) * size_t(m_k) + size_t(k)];
    }
    int32_t top1Id(int layer, int pos) const { return topkId(layer, pos, 0); }
    float top1Prob(int layer, int pos) const { return topkProb(layer, pos, 0); }
    float entropy(int layer, int pos) const { return m_entropy[index(layer, pos)]; }
    // The distinct top-1 texts: textIndex(l, t) indexes labels() and rawTexts(); -1 without lens.
    int textIndex(int layer, int pos) const
    {
        return m_hasLens ? m_top1Text[index(layer, pos)] : -1;
    }
    const std::vector<QString> &labels() const { return m_labels; }
    const std::vector<QString> &rawTexts() const { return m_rawTexts; }
    const QString &top1Text(int layer, int pos) const;

    // --- colour
    void setColourMode(BlockColour mode);
    BlockColour colourMode() const { return m_colourMode; }
    const ColourScale &colourScale() const;
    QRgb rgb(int layer, int pos) const { return m_rgb[index(layer, pos)]; }
    const QRgb *rgbRow(int layer) const { return m_rgb.data() + index(layer, 0); }
    // T x L, one pixel per block, row 0 = the top layer.
    const QImage &image() const { return m_image; }
    // The colour of a block where the followed token is not in the stored top-k.
    static QRgb belowTopkRgb() { return qRgb(0xf3, 0xe6, 0xd8); }

    // --- activation patching: [layer, pos] recovered fractions of the shown site (PatchMap),
    // the colours of BlockColour::Patching; empty (or of another shape) clears it. heads, when
    // given, is the per-head map [layer, head, pos] of nHeads heads (shown, not coloured).
    bool setPatching(const std::vector<float> &recovered, const std::vector<float> &heads = {},
                     int nHeads = 0);
    bool hasPatching() const { return !m_patching.empty(); }
    float patching(int layer, int pos) const { return m_patching[index(layer, pos)]; }
    int patchingHeads() const { return m_patchHeads; }
    float headPatching(int layer, int head, int pos) const
    {
        return m_headPatching[(size_t(layer) * size_t(m_patchHeads) + size_t(head)) *
                                  size_t(m_tokens) +
                              size_t(pos)];
    }

    // --- follow one token: colour every block by that token instead of its own top-1.
    // -1 turns it off. The lens stores only the top-k of each block, so where the token is not
    // among them its probability is known only to be below the k-th; such blocks get
    // belowTopkRgb().
    void setFollowToken(int32_t id);
    int32_t followToken() const { return m_follow; }
    void setFollowMeasure(FollowMeasure measure);
    FollowMeasure followMeasure() const { return m_followMeasure; }
    // The followed token's rank at a block, 1..K, or 0 when it is not in the top-k (or no lens
    // or no token is followed).
    int followRank(int layer, int pos) const;
    // Its probability at a block, or -1 when it is not in the top-k.
    float followProbability(int layer, int pos) const;
    // The k-th (smallest stored) probability of a block: the bound "below top-k" means.
    float lastTopkProb(int layer, int pos) const { return topkProb(layer, pos, m_k - 1); }

    // --- selection; (-1, -1) is none. Returns whether it changed.
    bool setSelection(int layer, int pos);
    int selectedLayer() const { return m_selLayer; }
    int selectedPos() const { return m_selPos; }

    // --- highlighted blocks (see BlockView). setHighlight returns the new count; clear
    // returns whether anything was highlighted.
    int setHighlight(const QVector<QPair<int, int>> &blocks);
    bool clearHighlight();
    int highlightCount() const { return m_highlightCount; }
    bool isHighlighted(int layer, int pos) const;
    const uint8_t *highlightRow(int layer) const { return m_highlight.data() + index(layer, 0); }
    QVector<QPair<int, int>> highlightedBlocks() const;

    // --- attention of one layer, [head, query_pos, key_pos] (see BlockView).
    bool setAttention(int layer, const FloatArray &pattern);
    // Only the selected query position's row, [head, key_pos]: shown while (layer, pos) is the
    // selected block.
    bool setAttentionRow(int layer, int pos, const FloatArray &row);
    void clearAttention();
    int attentionLayer() const { return m_attnLayer; }
    void setAttentionHead(int head);
    int attentionHead() const { return m_attnHead; }
    void setAttentionThreshold(double weight);
    double attentionThreshold() const { return m_attnThreshold; }
    // Whether the attention is shown: it is of the selected block's layer.
    bool attentionShown() const;
    std::vector<float> attentionWeights() const;
    std::vector<int> attentionLineTargets() const;

private:
    size_t index(int layer, int pos) const
    {
        return size_t(layer) * size_t(m_tokens) + size_t(pos);
    }
    void dropLens();
    void rebuildColours();
    QRgb followRgb(int layer, int pos) const;

    int m_layers = 0;
    int m_tokens = 0;
    int m_nPrompt = 0;
    std::vector<QString> m_tokenText;                 // [pos] as the trace has it
    std::vector<QString> m_tokenLabel;                // [pos] as a label shows it
    std::unordered_map<int32_t, QString> m_vocabText; // id -> text
    bool m_hasLens = false;
    int m_k = 0;
    std::vector<int32_t> m_topkIds;  // [layer, pos, k]
    std::vector<float> m_topkProbs;  // [layer, pos, k]
    std::vector<float> m_entropy;    // [layer, pos]
    std::vector<int> m_top1Text;     // [layer, pos] index into m_labels
    std::vector<QString> m_rawTexts; // distinct top-1 texts as the trace has them
    std::vector<QString> m_labels;   // the same as block labels

    BlockColour m_colourMode = BlockColour::Probability;
    ColourScale m_probScale;
    ColourScale m_entropyScale;
    ColourScale m_patchScale;
    std::vector<float> m_patching;     // [layer, pos]
    std::vector<float> m_headPatching; // [layer, head, pos]
    int m_patchHeads = 0;
    int32_t m_follow = -1;
    FollowMeasure m_followMeasure = FollowMeasure::Probability;
    std::vector<QRgb> m_rgb; // [layer, pos]
    QImage m_image;

    int m_selLayer = -1;
    int m_selPos = -1;
    // One byte per block: a 60 x 2,000 grid costs 120 kB, and a paint reads only what it shows.
    std::vector<uint8_t> m_highlight;
    int m_highlightCount = 0;
    int m_attnLayer = -1;
    FloatArray m_pattern;  // [H, T, T], or [H, T] of query m_attnRowPos
    int m_attnRowPos = -1; // -1: m_pattern is the whole layer
    int m_attnHead = -1;
    double m_attnThreshold = 0.1;
};

} // namespace HeadLens
