#pragma once
// IEEE 754 binary16 ("half", numpy's float16) <-> float32, exactly and fast, without HDF5 or
// F16C. Projects store attention, residual vectors and z as halves; HDF5 1.10 converts such a
// user-defined float type with its generic bit-by-bit converter (tens of M values/s), so the
// project module reads and writes the raw 16-bit patterns and converts them here.
//
// floatToHalf rounds to nearest, ties to even; magnitudes from 65520 up become infinity,
// magnitudes below 2^-14 become subnormal halves (or zero), the sign of zero is kept, and a
// NaN stays a (quiet) NaN with its sign. halfToFloat is exact for every pattern (each half is
// a float); NaN patterns come back as quiet NaNs with their sign and payload.
//
// Both are branch-free selects on integer lanes, so the bulk loops vectorise. They rely on the
// default floating-point environment (round to nearest) for the subnormal cases, and are
// correct with flush-to-zero / denormals-are-zero as well: no float32 subnormal is created,
// and float32 subnormal inputs are below half the smallest half subnormal anyway.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace HeadLens {

namespace Float16Detail {

inline uint32_t bitsOf(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline float floatOf(uint32_t u)
{
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// cond ? a : b with a mask instead of a branch (GCC at -O2 does not if-convert the ternary).
inline uint32_t select(bool cond, uint32_t a, uint32_t b)
{
    const uint32_t mask = 0u - uint32_t(cond);
    return (a & mask) | (b & ~mask);
}

} // namespace Float16Detail

inline uint16_t floatToHalf(float f)
{
    using namespace Float16Detail;
    const uint32_t x = bitsOf(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t a = x & 0x7fffffffu; // |f|

    // Normal halves (2^-14 <= |f| < 65520): rebias the exponent (127 -> 15) and round the 13
    // dropped mantissa bits to nearest even: add 0xfff plus the lowest kept bit, then shift.
    // A carry out of the mantissa bumps the exponent, which is right (it reaches 0x7c00,
    // infinity, from 65520 up).
    const uint32_t odd = (a >> 13) & 1u;
    const uint32_t normal = (a - 0x38000000u + 0x0fffu + odd) >> 13;

    // Subnormal halves and zero (|f| < 2^-14): adding 0.5f puts the half's last place
    // (2^-24) at the last place of the float sum, so the hardware rounds to nearest even;
    // the low mantissa bits of the sum are then the half.
    const uint32_t small = bitsOf(floatOf(a) + 0.5f) - 0x3f000000u;

    uint32_t h = select(a < 0x38800000u, small, normal);
    h = select(a >= 0x477ff000u, 0x7c00u, h); // 65520 and up (and +-inf): infinity
    h = select(a > 0x7f800000u, 0x7e00u | ((a >> 13) & 0x3ffu), h); // NaN: quiet, keep payload top
    return uint16_t(h | sign);
}

inline float halfToFloat(uint16_t h)
{
    using namespace Float16Detail;
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t em = h & 0x7fffu; // exponent and mantissa

    // Normal halves: move the fields into place and rebias the exponent (15 -> 127).
    const uint32_t normal = (em << 13) + 0x38000000u;
    // Subnormal halves and zero: mantissa * 2^-24, exact in float32 (never a float subnormal).
    const uint32_t small = bitsOf(float(int32_t(em)) * 5.9604644775390625e-8f);
    // Infinity and NaN: all exponent bits set, mantissa kept; NaNs made quiet.
    const uint32_t special = (em << 13) | 0x7f800000u | (uint32_t(em > 0x7c00u) << 22);

    uint32_t u = select(em < 0x0400u, small, normal);
    u = select(em >= 0x7c00u, special, u);
    return floatOf(u | sign);
}

// Bulk conversions of n values; src and dst must not overlap. Blocks of a fixed size let the
// compiler vectorise the body even at -O2 (its cheapest cost model wants no remainder loop).
template <class From, class To, To (*convert)(From)>
inline void convertInBlocks(const From *src, To *dst, size_t n)
{
    constexpr size_t kBlock = 16;
    const size_t whole = n - n % kBlock;
    for (size_t i = 0; i < whole; i += kBlock)
        for (size_t j = 0; j < kBlock; ++j)
            dst[i + j] = convert(src[i + j]);
    for (size_t i = whole; i < n; ++i)
        dst[i] = convert(src[i]);
}

inline void floatsToHalves(const float *src, uint16_t *dst, size_t n)
{
    convertInBlocks<float, uint16_t, floatToHalf>(src, dst, n);
}

inline void halvesToFloats(const uint16_t *src, float *dst, size_t n)
{
    convertInBlocks<uint16_t, float, halfToFloat>(src, dst, n);
}

} // namespace HeadLens
