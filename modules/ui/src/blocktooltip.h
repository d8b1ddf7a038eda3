#pragma once
// Module-private: what the block grid says about the block or the node under the mouse, as
// rich text for a tooltip.

#include <QCoreApplication>
#include <QString>

namespace HeadLens {

class BlockGridData;
struct BlockNode;

class BlockToolTip {
    // The tooltips are the block view's texts (one translation context).
    Q_DECLARE_TR_FUNCTIONS(HeadLens::BlockView)
public:
    // A block: its input token, lens top-1 and entropy, the followed token, patching and the
    // selected position's attention to it, as far as the data has them.
    static QString forBlock(const BlockGridData &data, int layer, int pos);
    // An attention or feed-forward node between two rows: what that step reads and writes.
    static QString forNode(const BlockGridData &data, const BlockNode &node);
};

} // namespace HeadLens
