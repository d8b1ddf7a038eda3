#pragma once
// Module-private: how the views write a token and a probability in their texts, the same way
// everywhere.

#include <QString>

namespace HeadLens {

// A token's text in curly quotes, so that spaces and empty pieces can be seen.
inline QString quoted(const QString &s)
{
    return QStringLiteral("\u201c%1\u201d").arg(s);
}

// A probability in percent: one decimal, three below 0.1 %.
inline QString percent(double p)
{
    return QString::number(p * 100.0, 'f', p < 0.001 ? 3 : 1) + QStringLiteral(" %");
}

} // namespace HeadLens
