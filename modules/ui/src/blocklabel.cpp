#include "blocklabel.h"

#include <QTextBoundaryFinder>

#include <vector>

namespace HeadLens {

ElidedLabel elideLabel(const QString &label, const QFontMetricsF &fm, double ellipsisWidth,
                       double room)
{
    if (label.isEmpty() || fm.horizontalAdvance(label) <= room) return {label, false};
    // The ends of the first graphemes, so an accent or a surrogate pair is never cut.
    std::vector<int> ends;
    QTextBoundaryFinder finder(QTextBoundaryFinder::Grapheme, label);
    for (int at = finder.toNextBoundary(); at > 0; at = finder.toNextBoundary())
        ends.push_back(at);
    if (ends.size() < 2) return {label, false}; // one character: shown whole, even cut off
    auto width = [&](size_t n) { return fm.horizontalAdvance(label.left(ends[n - 1])); };
    size_t fit = 0; // graphemes that fit before the ellipsis
    while (fit + 1 < ends.size() && width(fit + 1) + ellipsisWidth <= room)
        ++fit;
    if (fit >= 2) return {label.left(ends[fit - 1]), true};
    if (ends.size() >= 2 && width(2) <= room) return {label.left(ends[1]), false};
    return {label.left(ends[0]), width(1) + ellipsisWidth <= room};
}

} // namespace HeadLens
