#include "headlens/analysis/poolshape.h"

#include "headlens/trace/error.h"
#include "headlens/trace/trace.h"

#include <string>

namespace HeadLens {

bool PoolShape::take(const Trace &t, const char *pool)
{
    const int L = t.config.nLayers, H = t.config.nHeads;
    if (m_L < 0) {
        m_L = L;
        m_H = H;
        return true;
    }
    if (L != m_L || H != m_H)
        throw InputError("trace '" + t.name + "' has " + std::to_string(L) + " layers x " +
                         std::to_string(H) + " heads, the traces before it " + std::to_string(m_L) +
                         " x " + std::to_string(m_H) + "; " + pool +
                         " traces of one model shape only");
    return false;
}

} // namespace HeadLens
