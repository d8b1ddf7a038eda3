#include "blocktooltip.h"

#include "headlens/ui/blockgriddata.h"
#include "headlens/ui/blockgridlayout.h"
#include "uitext.h"

#include <QStringList>

namespace HeadLens {

namespace {

// A line of a tooltip after the first: plain text, escaped for the tooltip's rich text.
QString line(const QString &s)
{
    return QStringLiteral("<br>") + s.toHtmlEscaped();
}

} // namespace

QString BlockToolTip::forBlock(const BlockGridData &data, int layer, int pos)
{
    QString s = QStringLiteral("<b>%1</b>")
                    .arg(tr("Layer %1 \u00b7 position %2").arg(layer).arg(pos).toHtmlEscaped());
    s += line(tr("input token: %1").arg(quoted(data.tokenText(pos))));
    if (pos >= data.promptTokens())
        s += QStringLiteral(" <i>%1</i>").arg(tr("(generated)").toHtmlEscaped());
    if (data.hasLens()) {
        s += line(tr("lens top-1: %1 (%2)")
                      .arg(quoted(data.top1Text(layer, pos)))
                      .arg(percent(data.top1Prob(layer, pos))));
        s += line(tr("entropy: %1 nats").arg(double(data.entropy(layer, pos)), 0, 'f', 3));
        const int follow = data.followToken();
        if (follow >= 0) {
            const QString token = quoted(data.vocabText(follow));
            const int rank = data.followRank(layer, pos);
            if (rank > 0)
                s += line(tr("followed %1: %2, rank %3")
                              .arg(token, percent(data.followProbability(layer, pos)))
                              .arg(rank));
            else
                s += line(tr("followed %1: below the top-%2 (under %3)")
                              .arg(token)
                              .arg(data.topk())
                              .arg(percent(data.lastTopkProb(layer, pos))));
        }
    }
    if (data.hasPatching())
        s += line(tr("patched from the clean prompt: %1 of the clean answer recovered")
                      .arg(double(data.patching(layer, pos)), 0, 'f', 3));
    if (data.hasPatching() && data.patchingHeads() > 0) {
        QStringList heads;
        for (int h = 0; h < data.patchingHeads(); ++h)
            heads << QStringLiteral("H%1 %2").arg(h).arg(double(data.headPatching(layer, h, pos)),
                                                         0, 'f', 3);
        s += line(
            tr("each head's output patched alone: %1").arg(heads.join(QStringLiteral(" \u00b7 "))));
    }
    const std::vector<float> w = data.attentionWeights();
    if (layer == data.attentionLayer() && pos < int(w.size()))
        s += line(tr("attention of the selected position to this one: %1")
                      .arg(double(w[size_t(pos)]), 0, 'f', 3));
    return s;
}

QString BlockToolTip::forNode(const BlockGridData &data, const BlockNode &node)
{
    const int l = node.layer, t = node.pos;
    const QString input = quoted(data.tokenText(t));
    if (node.kind == BlockNode::Kind::FeedForward)
        return QStringLiteral("<b>%1</b>")
                   .arg(tr("Layer %1 \u00b7 feed-forward (MLP) at position "
                           "%2")
                            .arg(l)
                            .arg(t)
                            .toHtmlEscaped()) +
               line(tr("Works on position %1 (input token %2) alone, after the attention step; "
                       "with it, it makes the block above.")
                        .arg(t)
                        .arg(input));
    QString s =
        QStringLiteral("<b>%1</b>")
            .arg(tr("Layer %1 \u00b7 attention at position %2").arg(l).arg(t).toHtmlEscaped());
    s += line(l > 0 ? tr("Reads the residual stream of positions 0 to %1 as layer %2 left it "
                         "(the row below) and adds what it finds to position %1 (input token %3).")
                          .arg(t)
                          .arg(l - 1)
                          .arg(input)
                    : tr("Reads the token embeddings of positions 0 to %1 and adds what it finds "
                         "to position %1 (input token %2).")
                          .arg(t)
                          .arg(input));
    if (data.attentionShown() && l == data.attentionLayer() && t == data.selectedPos())
        s += line(tr("Arcs go to the input positions it reads with weight \u2265 %1.")
                      .arg(data.attentionThreshold(), 0, 'f', 2));
    return s;
}

} // namespace HeadLens
