#pragma once

#include <QScrollArea>

namespace HeadLens {

// Holds a dock's panel so that the dock may be shorter than the panel (down to minHeight): the
// panel then scrolls vertically instead of squeezing its rows over one another. Horizontally it
// never scrolls: the area is as wide as the panel needs, as the panel alone would be.
class VerticalScrollArea : public QScrollArea {
    Q_OBJECT
public:
    VerticalScrollArea(QWidget *panel, int minHeight, QWidget *parent = nullptr);
    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

private:
    int m_minHeight;
};

} // namespace HeadLens
