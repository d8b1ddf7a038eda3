#pragma once
// The model shape (layers x heads) of the traces pooled into one statistic: the first trace
// sets it, a later trace of another shape is refused.

#include <algorithm>

namespace HeadLens {

struct Trace;

class PoolShape {
public:
    // True for the first trace (the caller sizes its sums by it). InputError naming t when t's
    // shape differs from the first trace's; `pool` names what pools them ("statistics pool").
    bool take(const Trace &t, const char *pool);
    bool empty() const { return m_L < 0; }
    int layers() const { return std::max(m_L, 0); }
    int heads() const { return std::max(m_H, 0); }

private:
    int m_L = -1, m_H = -1;
};

} // namespace HeadLens
