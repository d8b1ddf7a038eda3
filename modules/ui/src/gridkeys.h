#pragma once
// The arrow keys on a grid whose rows are layers drawn bottom-up: Left and Right move one
// column, Up to the next layer, Down to the one before, never past the grid's edges.

#include <Qt>

#include <algorithm>

namespace HeadLens {

// Moves (column, row) for key in a grid of columns x rows; false, moving nothing, for a key
// that is not an arrow.
inline bool moveByArrowKey(int key, int &column, int &row, int columns, int rows)
{
    switch (key) {
    case Qt::Key_Left:
        column = std::max(0, column - 1);
        return true;
    case Qt::Key_Right:
        column = std::min(columns - 1, column + 1);
        return true;
    case Qt::Key_Up:
        row = std::min(rows - 1, row + 1);
        return true;
    case Qt::Key_Down:
        row = std::max(0, row - 1);
        return true;
    default:
        return false;
    }
}

} // namespace HeadLens
