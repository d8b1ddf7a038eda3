#pragma once
// Module-private: how a token's text is shown. Whitespace-only tokens become visible marks
// (a space as an open box, a tab as an arrow) so a block never looks empty by accident.

#include <QString>

#include <string>

namespace HeadLens {

inline QString displayToken(const QString &text)
{
    if (text.isEmpty() || !text.trimmed().isEmpty()) return text;
    QString out = text;
    out.replace(QLatin1Char(' '), QChar(0x2423));
    out.replace(QLatin1Char('\t'), QChar(0x21e5));
    out.replace(QLatin1Char('\n'), QChar(0x21b5));
    return out;
}

inline QString displayToken(const std::string &text)
{
    return displayToken(QString::fromStdString(text));
}

// A token as a short label (a block, a column header): like displayToken, and without the
// spaces around a word, which only push it off centre in a small box.
inline QString tokenLabel(const QString &text)
{
    const QString trimmed = text.trimmed();
    return trimmed.isEmpty() ? displayToken(text) : trimmed;
}

} // namespace HeadLens
