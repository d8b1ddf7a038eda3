#include "headlens/ui/blockgriddata.h"

#include "tokentext.h"

#include <algorithm>
#include <cmath>

namespace HeadLens {

BlockGridData::BlockGridData()
    : m_probScale(ColourScale::Palette::Blues, 0.0, 1.0),
      m_entropyScale(ColourScale::Palette::Heat, 0.0, 1.0),
      m_patchScale(ColourScale::Palette::Diverging, -1.0, 1.0)
{
}

void BlockGridData::clear()
{
    m_layers = m_tokens = m_nPrompt = 0;
    m_tokenText.clear();
    m_tokenLabel.clear();
    m_vocabText.clear();
    dropLens();
    m_rawTexts.clear();
    m_labels.clear();
    m_selLayer = m_selPos = -1;
    m_highlight.clear();
    m_highlightCount = 0;
    m_patching.clear();
    m_headPatching.clear();
    m_patchHeads = 0;
    clearAttention();
    rebuildColours();
}

bool BlockGridData::setPatching(const std::vector<float> &recovered,
                                const std::vector<float> &heads, int nHeads)
{
    const bool fits = recovered.size() == size_t(m_layers) * size_t(m_tokens);
    m_patching = fits ? recovered : std::vector<float>();
    const bool headsFit =
        fits && nHeads > 0 && heads.size() == size_t(m_layers) * size_t(nHeads) * size_t(m_tokens);
    m_headPatching = headsFit ? heads : std::vector<float>();
    m_patchHeads = headsFit ? nHeads : 0;
    rebuildColours();
    return fits;
}

void BlockGridData::setTrace(const Trace &trace)
{
    clear();
    m_tokens = trace.nTokens();
    m_layers = trace.config.nLayers;
    if (m_layers <= 0) {
        // Old or hand-made traces: fall back to any lens that is there.
        for (const LensSite &s : trace.lens)
            if (!s.empty()) {
                m_layers = int(s.topkIds.dim(0));
                break;
            }
    }
    m_nPrompt = trace.nPromptTokens;
    m_tokenText.reserve(size_t(m_tokens));
    m_tokenLabel.reserve(size_t(m_tokens));
    for (const TokenInfo &tok : trace.tokens) {
        m_tokenText.push_back(QString::fromStdString(tok.text));
        m_tokenLabel.push_back(HeadLens::tokenLabel(m_tokenText.back()));
    }
    for (const auto &kv : trace.vocab)
        m_vocabText.emplace(kv.first, QString::fromStdString(kv.second));
    m_highlight.assign(size_t(m_layers) * size_t(m_tokens), 0);
    rebuildColours();
}

void BlockGridData::dropLens()
{
    m_hasLens = false;
    m_k = 0;
    m_topkIds.clear();
    m_topkProbs.clear();
    m_entropy.clear();
    m_top1Text.clear();
}

QString BlockGridData::vocabText(int32_t id) const
{
    const auto it = m_vocabText.find(id);
    return it != m_vocabText.end() ? it->second : QStringLiteral("[%1]").arg(id);
}

bool BlockGridData::setLens(const LensSite &site)
{
    const size_t n = size_t(m_layers) * size_t(m_tokens);
    if (site.empty() || site.topkIds.rank() != 3 || site.topkIds.dim(0) != m_layers ||
        site.topkIds.dim(1) != m_tokens || site.topkIds.dim(2) < 1 ||
        site.topkProbs.shape != site.topkIds.shape || site.entropy.rank() != 2 ||
        site.entropy.dim(0) != m_layers || site.entropy.dim(1) != m_tokens) {
        dropLens();
        clearHighlight();
        rebuildColours();
        return site.empty();
    }
    // The highlight belongs to the lens it was made on (an entropy bin of one site): the same
    // lens again (another colour or threshold) keeps it, another one drops it.
    if (!m_hasLens || m_entropy != site.entropy.data) clearHighlight();
    m_k = int(site.topkIds.dim(2));
    m_topkIds.assign(site.topkIds.data.begin(), site.topkIds.data.end());
    m_topkProbs.assign(site.topkProbs.data.begin(), site.topkProbs.data.end());
    m_entropy.assign(site.entropy.data.begin(), site.entropy.data.end());
    m_labels.clear();
    m_rawTexts.clear();
    m_top1Text.resize(n);
    std::unordered_map<int32_t, int> seen;
    for (size_t i = 0; i < n; ++i) {
        const int32_t id = m_topkIds[i * size_t(m_k)];
        auto it = seen.find(id);
        if (it == seen.end()) {
            m_rawTexts.push_back(vocabText(id));
            m_labels.push_back(HeadLens::tokenLabel(m_rawTexts.back()));
            it = seen.emplace(id, int(m_labels.size()) - 1).first;
        }
        m_top1Text[i] = it->second;
    }
    m_hasLens = true;
    rebuildColours();
    return true;
}

const QString &BlockGridData::top1Text(int layer, int pos) const
{
    static const QString none;
    const int i = textIndex(layer, pos);
    return i >= 0 ? m_rawTexts[size_t(i)] : none;
}

// -------------------------------------------------------------------------------- colour

void BlockGridData::setColourMode(BlockColour mode)
{
    if (mode == m_colourMode) return;
    m_colourMode = mode;
    rebuildColours();
}

const ColourScale &BlockGridData::colourScale() const
{
    if (m_colourMode == BlockColour::Patching) return m_patchScale;
    return m_follow < 0 && m_colourMode == BlockColour::Entropy ? m_entropyScale : m_probScale;
}

void BlockGridData::setFollowToken(int32_t id)
{
    id = std::max(id, -1);
    if (id == m_follow) return;
    m_follow = id;
    rebuildColours();
}

void BlockGridData::setFollowMeasure(FollowMeasure measure)
{
    if (measure == m_followMeasure) return;
    m_followMeasure = measure;
    rebuildColours();
}

int BlockGridData::followRank(int layer, int pos) const
{
    if (!m_hasLens || m_follow < 0 || !contains(layer, pos)) return 0;
    const int32_t *ids = m_topkIds.data() + index(layer, pos) * size_t(m_k);
    for (int k = 0; k < m_k; ++k)
        if (ids[k] == m_follow) return k + 1;
    return 0;
}

float BlockGridData::followProbability(int layer, int pos) const
{
    const int rank = followRank(layer, pos);
    return rank > 0 ? topkProb(layer, pos, rank - 1) : -1.0f;
}

QRgb BlockGridData::followRgb(int layer, int pos) const
{
    const int rank = followRank(layer, pos);
    if (rank == 0) return belowTopkRgb();
    if (m_followMeasure == FollowMeasure::Probability)
        return m_probScale.rgb(followProbability(layer, pos));
    // Rank 1 darkest, rank K still clearly coloured, so it never reads as "below top-k".
    return m_probScale.rgbAt(m_k > 1 ? 1.0 - 0.75 * double(rank - 1) / double(m_k - 1) : 1.0);
}

void BlockGridData::rebuildColours()
{
    double maxEntropy = 0.0;
    for (float e : m_entropy)
        if (std::isfinite(e)) maxEntropy = std::max(maxEntropy, double(e));
    // A round upper end, so the legend reads well and two traces of one model look alike.
    maxEntropy = maxEntropy > 0 ? std::ceil(maxEntropy * 2.0) / 2.0 : 1.0;
    m_entropyScale.setRange(0.0, maxEntropy);

    m_rgb.assign(size_t(m_layers) * size_t(m_tokens), ColourScale::noDataRgb());
    if (m_colourMode == BlockColour::Patching) {
        // The map colours blocks whatever the lens: a site with no lens stored still has one.
        for (size_t i = 0; i < m_patching.size(); ++i)
            m_rgb[i] = m_patchScale.rgb(m_patching[i]);
    } else if (m_hasLens) {
        for (int l = 0; l < m_layers; ++l)
            for (int t = 0; t < m_tokens; ++t) {
                QRgb &c = m_rgb[index(l, t)];
                if (m_follow >= 0)
                    c = followRgb(l, t);
                else if (m_colourMode == BlockColour::Probability)
                    c = m_probScale.rgb(top1Prob(l, t));
                else
                    c = m_entropyScale.rgb(entropy(l, t));
            }
    }
    m_image = QImage();
    if (m_layers > 0 && m_tokens > 0) {
        m_image = QImage(m_tokens, m_layers, QImage::Format_RGB32);
        for (int l = 0; l < m_layers; ++l) {
            auto *row = reinterpret_cast<QRgb *>(m_image.scanLine(m_layers - 1 - l));
            std::copy_n(rgbRow(l), m_tokens, row);
        }
    }
}

// ----------------------------------------------------------------------------- selection

bool BlockGridData::setSelection(int layer, int pos)
{
    if (!contains(layer, pos)) layer = pos = -1;
    if (layer == m_selLayer && pos == m_selPos) return false;
    m_selLayer = layer;
    m_selPos = pos;
    return true;
}

// ----------------------------------------------------------------------------- highlight

int BlockGridData::setHighlight(const QVector<QPair<int, int>> &blocks)
{
    std::fill(m_highlight.begin(), m_highlight.end(), uint8_t(0));
    m_highlightCount = 0;
    for (const auto &b : blocks) {
        if (!contains(b.first, b.second)) continue;
        uint8_t &h = m_highlight[index(b.first, b.second)];
        if (!h) ++m_highlightCount;
        h = 1;
    }
    return m_highlightCount;
}

bool BlockGridData::clearHighlight()
{
    if (m_highlightCount == 0) return false;
    std::fill(m_highlight.begin(), m_highlight.end(), uint8_t(0));
    m_highlightCount = 0;
    return true;
}

bool BlockGridData::isHighlighted(int layer, int pos) const
{
    return m_highlightCount > 0 && contains(layer, pos) && m_highlight[index(layer, pos)] != 0;
}

QVector<QPair<int, int>> BlockGridData::highlightedBlocks() const
{
    QVector<QPair<int, int>> out;
    if (m_highlightCount == 0) return out;
    out.reserve(m_highlightCount);
    for (int l = 0; l < m_layers; ++l)
        for (int t = 0; t < m_tokens; ++t)
            if (m_highlight[index(l, t)]) out.append(qMakePair(l, t));
    return out;
}

// ----------------------------------------------------------------------------- attention

bool BlockGridData::setAttention(int layer, const FloatArray &pattern)
{
    if (layer < 0 || layer >= m_layers || pattern.rank() != 3 || pattern.dim(1) != m_tokens ||
        pattern.dim(2) != m_tokens) {
        clearAttention();
        return false;
    }
    m_attnLayer = layer;
    m_attnRowPos = -1;
    m_pattern = pattern;
    if (m_attnHead >= int(m_pattern.dim(0))) m_attnHead = -1;
    return true;
}

bool BlockGridData::setAttentionRow(int layer, int pos, const FloatArray &row)
{
    if (layer < 0 || layer >= m_layers || pos < 0 || pos >= m_tokens || row.rank() != 2 ||
        row.dim(1) != m_tokens) {
        clearAttention();
        return false;
    }
    m_attnLayer = layer;
    m_attnRowPos = pos;
    m_pattern = row;
    if (m_attnHead >= int(m_pattern.dim(0))) m_attnHead = -1;
    return true;
}

void BlockGridData::clearAttention()
{
    m_attnLayer = -1;
    m_attnRowPos = -1;
    m_pattern.clear();
}

void BlockGridData::setAttentionHead(int head)
{
    m_attnHead = head < 0 ? -1 : head;
}

void BlockGridData::setAttentionThreshold(double weight)
{
    m_attnThreshold = std::clamp(weight, 0.0, 1.0);
}

bool BlockGridData::attentionShown() const
{
    return m_attnLayer >= 0 && m_attnLayer == m_selLayer && m_selPos >= 0 && !m_pattern.empty() &&
           (m_attnRowPos < 0 || m_attnRowPos == m_selPos);
}

std::vector<float> BlockGridData::attentionWeights() const
{
    std::vector<float> w;
    if (!attentionShown()) return w;
    const int64_t H = m_pattern.dim(0), T = m_tokens;
    w.assign(size_t(m_selPos + 1), 0.0f);
    const bool one = m_attnHead >= 0 && m_attnHead < H;
    const int64_t h0 = one ? m_attnHead : 0, h1 = one ? m_attnHead + 1 : H;
    for (int64_t h = h0; h < h1; ++h) {
        const float *row =
            m_pattern.data.data() + (m_attnRowPos >= 0 ? h * T : (h * T + m_selPos) * T);
        for (int k = 0; k <= m_selPos; ++k)
            w[size_t(k)] += row[k];
    }
    const float n = float(h1 - h0);
    for (float &x : w)
        x /= n;
    return w;
}

std::vector<int> BlockGridData::attentionLineTargets() const
{
    std::vector<int> out;
    const std::vector<float> w = attentionWeights();
    for (int k = 0; k < int(w.size()); ++k)
        if (k != m_selPos && w[size_t(k)] >= m_attnThreshold && w[size_t(k)] > 0) out.push_back(k);
    return out;
}

} // namespace HeadLens
