#pragma once
// Module-private: how a token label is shortened to fit a block or a column header. A label is
// never dropped: it is shown whole when it fits, otherwise as its leading characters and an
// ellipsis, and in very narrow boxes as its first characters alone.

#include <QFontMetricsF>
#include <QString>

namespace HeadLens {

struct ElidedLabel {
    QString prefix;        // the leading characters shown (the whole label when it fits)
    bool ellipsis = false; // an ellipsis follows the prefix
    QString text() const { return ellipsis ? prefix + QChar(0x2026) : prefix; }
};

// The label as shown in room pixels, measured with fm, the ellipsis being ellipsisWidth wide:
// the whole label when it fits; else the most leading characters (whole graphemes) that fit
// before the ellipsis, when that is at least two; else the first two characters alone when they
// fit; else the first character and the ellipsis when they fit; else the first character.
ElidedLabel elideLabel(const QString &label, const QFontMetricsF &fm, double ellipsisWidth,
                       double room);

} // namespace HeadLens
