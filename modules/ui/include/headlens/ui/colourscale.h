#pragma once
// The colour scales every view shares, so "how sure" reads the same in the block view, the
// heatmap and the comparison grids: light = little, dark = much. A scale is a 256-entry lookup
// table over a value range; rgb() is cheap enough to call per block per repaint.

#include <QColor>
#include <QRectF>
#include <QString>

#include <array>

class QPainter;

namespace HeadLens {

class ColourScale {
public:
    enum class Palette {
        Blues,     // yellow-green-blue: top-1 probability, certainty
        Heat,      // yellow-orange-red: entropy, magnitudes
        Diverging, // blue-white-red: signed values around 0 (logit attribution, patching)
    };

    explicit ColourScale(Palette palette = Palette::Blues, double lower = 0.0, double upper = 1.0);

    void setRange(double lower, double upper);
    double lower() const { return m_lower; }
    double upper() const { return m_upper; }
    Palette palette() const { return m_palette; }

    // Colour of a value, clamped to the range; NaN gives the "no data" grey.
    QRgb rgb(double value) const;
    QColor colour(double value) const { return QColor::fromRgb(rgb(value)); }
    // Colour at a fraction 0..1 of the scale.
    QRgb rgbAt(double fraction) const;

    // Black or white, whichever reads better on background.
    static QColor textColourOn(QRgb background);
    static QRgb noDataRgb() { return qRgb(0xe4, 0xe4, 0xe4); }

    // A horizontal legend: title above, the colour bar, the range below. rect is the whole
    // legend; the caller chooses where it goes.
    void drawLegend(QPainter &painter, const QRectF &rect, const QString &title,
                    int decimals = 2) const;
    // The size drawLegend looks right in with the painter's current font.
    static QSizeF legendSize(const QPainter &painter, const QString &title);

private:
    Palette m_palette;
    double m_lower;
    double m_upper;
    std::array<QRgb, 256> m_table{};
};

// Accent colours of the views (one place, so screenshots stay consistent).
namespace Accent {
QColor selection();  // the selected block / cell outline
QColor attention();  // attention tint and lines
QColor highlight();  // blocks marked together (an entropy bin), apart from the selection
QColor difference(); // differences between two traces (warm)
QColor grid();       // faint lines, node outlines
QColor mutedText();  // secondary text
} // namespace Accent

} // namespace HeadLens
