#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace HeadLens::Kernels {

namespace {

// Four float lanes (GCC/Clang vector extension): the width every x86-64 and AArch64 CPU has
// in registers, so the compiler keeps them there (wider types it cannot hold in registers go
// through the stack). ULanes is the same at any float's alignment, to read and write rows in
// place.
typedef float Lanes __attribute__((vector_size(16)));
typedef float ULanes __attribute__((vector_size(16), aligned(4), may_alias));
constexpr int64_t kLanes = 4;
#define HL_LANES(p) (*reinterpret_cast<const ULanes *>(p))
typedef int32_t Ints __attribute__((vector_size(16)));

inline Lanes lanes(float v)
{
    return Lanes{v, v, v, v};
}

inline bool anyLane(Ints m)
{
    return (m[0] | m[1] | m[2] | m[3]) != 0;
}

inline Lanes laneMax(Lanes a, Lanes b)
{
    return a > b ? a : b;
}

// e^x in four lanes for x <= 0: x = n ln 2 + r with |r| <= ln 2 / 2 (ln 2 in two parts, so r
// is exact), e^r from a degree-6 polynomial (Cephes' expf coefficients) and 2^n written into
// the exponent bits. Lanes below -87 (e^x < 1.7e-38) give 0.
inline Lanes expLanes(Lanes x)
{
    const Ints under = x < -87.0f;
    x = under ? lanes(-87.0f) : x;
    // Adding 1.5 * 2^23 rounds x log2(e) to an integer held in the low mantissa bits.
    const Lanes t = x * 1.44269504088896341f + 12582912.0f;
    const Lanes n = t - 12582912.0f;
    const Lanes r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    Lanes p = lanes(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    Ints bits;
    std::memcpy(&bits, &t, sizeof bits);
    bits = ((bits - 0x4B400000) + 127) << 23; // 2^n as a float's bits
    Lanes scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return under ? lanes(0.0f) : p * scale;
}

// Float lanes summed into float64 every kFlush entries, so a long row's sum keeps its digits.
constexpr int64_t kFlush = 256;

inline void flush(Lanes &acc, double &total)
{
    total += (double(acc[0]) + double(acc[1])) + (double(acc[2]) + double(acc[3]));
    acc = lanes(0.0f);
}

} // namespace

double dot(const float *a, const float *b, int64_t n)
{
    // Four accumulators, so that consecutive additions do not wait for each other.
    Lanes s0 = {}, s1 = {}, s2 = {}, s3 = {};
    int64_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
        s0 += HL_LANES(a + i) * HL_LANES(b + i);
        s1 += HL_LANES(a + i + kLanes) * HL_LANES(b + i + kLanes);
        s2 += HL_LANES(a + i + 2 * kLanes) * HL_LANES(b + i + 2 * kLanes);
        s3 += HL_LANES(a + i + 3 * kLanes) * HL_LANES(b + i + 3 * kLanes);
    }
    const Lanes acc = (s0 + s1) + (s2 + s3);
    double s = 0;
    for (int64_t k = 0; k < kLanes; ++k)
        s += double(acc[k]);
    for (; i < n; ++i)
        s += double(a[i]) * double(b[i]);
    return s;
}

void sumHeads(const HeadBlock &b, const float *bias, int64_t i0, int64_t i1, float *attnOut)
{
    const int64_t D = b.D;
    for (int64_t i = i0; i < i1; ++i) {
        float *out = attnOut + (b.t0 + i) * D;
        const float *first = b.r + i * D;
        int64_t d = 0;
        for (; d + kLanes <= D; d += kLanes) {
            Lanes s = HL_LANES(first + d);
            for (int h = 1; h < b.H; ++h)
                s += HL_LANES(first + h * b.headStride + d);
            if (bias) s += HL_LANES(bias + d);
            *reinterpret_cast<ULanes *>(out + d) = s;
        }
        for (; d < D; ++d) {
            float s = first[d];
            for (int h = 1; h < b.H; ++h)
                s += first[h * b.headStride + d];
            out[d] = bias ? s + bias[d] : s;
        }
    }
}

namespace {

// <a, b_j> for four rows b_j at once: a's lanes are read once for all four.
void dots4(const float *a, const float *const *b, int64_t n, double *out)
{
    Lanes s0 = {}, s1 = {}, s2 = {}, s3 = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        const Lanes x = HL_LANES(a + i);
        s0 += x * HL_LANES(b[0] + i);
        s1 += x * HL_LANES(b[1] + i);
        s2 += x * HL_LANES(b[2] + i);
        s3 += x * HL_LANES(b[3] + i);
    }
    const Lanes *acc[4] = {&s0, &s1, &s2, &s3};
    for (int j = 0; j < 4; ++j) {
        const Lanes &v = *acc[j];
        double s = (double(v[0]) + double(v[1])) + (double(v[2]) + double(v[3]));
        for (int64_t k = i; k < n; ++k)
            s += double(a[k]) * double(b[j][k]);
        out[j] = s;
    }
}

} // namespace

void headDots(const HeadBlock &b, int64_t i0, int64_t i1, const HeadDotsOut &out)
{
    const int H = b.H;
    const int64_t D = b.D, n = H + 2;
    std::vector<const float *> row(static_cast<size_t>(H)), partner;
    std::vector<double> gram(size_t(n * n)), d;
    partner.reserve(size_t(H) + 3);
    d.reserve(size_t(H) + 6);
    for (int64_t i = i0; i < i1; ++i) {
        const int64_t t = b.t0 + i;
        const float *ao = b.attnOut + t * D, *pre = b.residPre + t * D;
        for (int h = 0; h < H; ++h)
            row[size_t(h)] = b.r + h * b.headStride + i * D;
        gram[size_t(H * n + H)] = dot(ao, ao, D);
        gram[size_t((H + 1) * n + H + 1)] = dot(pre, pre, D);
        for (int h = 0; h < H; ++h) {
            const float *rh = row[size_t(h)];
            // result_h with itself, attn_out, resid_pre and the later heads, four at a time.
            partner.assign({rh, ao, pre});
            partner.insert(partner.end(), row.begin() + h + 1, row.end());
            d.assign(partner.size(), 0.0);
            size_t j = 0;
            for (; j + 4 <= partner.size(); j += 4)
                dots4(rh, partner.data() + j, D, d.data() + j);
            for (; j < partner.size(); ++j)
                d[j] = dot(rh, partner[j], D);
            double *g = gram.data() + h * n;
            g[h] = d[0];
            g[H] = d[1];
            g[H + 1] = d[2];
            for (int k = h + 1; k < H; ++k)
                g[k] = d[size_t(3 + k - h - 1)];
        }
        headMetricsAt(gram.data(), H, t, out);
    }
}

void headMetricsAt(const double *gram, int H, int64_t t, const HeadDotsOut &out)
{
    const int64_t n = H + 2, T = out.T;
    const double aoNorm = std::sqrt(std::max(0.0, gram[H * n + H]));
    const double preNorm = std::sqrt(std::max(0.0, gram[(H + 1) * n + H + 1]));
    const double safeAo = std::max(aoNorm, 1e-300), safePre = std::max(preNorm, 1e-300);
    std::vector<double> inv(static_cast<size_t>(H));
    double *pair = out.pairCosine + t * H * H;
    for (int h = 0; h < H; ++h) {
        const double *g = gram + h * n;
        const double norm = std::sqrt(std::max(0.0, g[h]));
        inv[size_t(h)] = norm > 0 ? 1.0 / norm : 0.0;
        pair[h * H + h] = g[h] * inv[size_t(h)] * inv[size_t(h)];
        const double dAo = g[H], dPre = g[H + 1];
        const int64_t at = int64_t(h) * T + t;
        out.contribNorm[at] = float(norm);
        out.contribProjection[at] = float(dAo / safeAo);
        out.contribCosine[at] = norm > 0 ? float(dAo / (safeAo * norm)) : 0.0f;
        out.residRatio[at] = float(norm / safePre);
        out.residProjection[at] = float(dPre / safePre);
    }
    for (int h = 0; h < H; ++h)
        for (int g = h + 1; g < H; ++g)
            pair[h * H + g] = pair[g * H + h] = gram[h * n + g] * inv[size_t(h)] * inv[size_t(g)];
    out.attnResidRatio[t] = float(aoNorm / safePre);
}

void meanPairCosine(const double *pairCosine, int64_t T, int H, float *sim)
{
    const int64_t n = int64_t(H) * H;
    std::vector<double> s(size_t(n), 0.0);
    for (int64_t t = 0; t < T; ++t)
        for (int64_t k = 0; k < n; ++k)
            s[size_t(k)] += pairCosine[t * n + k];
    for (int64_t k = 0; k < n; ++k)
        sim[k] = T > 0 ? float(s[size_t(k)] / double(T)) : 0.0f;
}

void quadraticNorms(const float *y, const float *x, int64_t headStride, int64_t rowStride,
                    int64_t rowsPerHead, int64_t n, int64_t r0, int64_t r1, float *out)
{
    for (int64_t r = r0; r < r1; ++r) {
        const float *xr = x + (r / rowsPerHead) * headStride + (r % rowsPerHead) * rowStride;
        out[r] = float(std::sqrt(std::max(0.0, dot(y + r * n, xr, n))));
    }
}

void softmaxEntropy(const float *scores, const float *pattern, int64_t T, int64_t cols,
                    int64_t past, int64_t r0, int64_t r1, float *entropy)
{
    for (int64_t r = r0; r < r1; ++r) {
        const float *s = scores + r * cols, *p = pattern + r * cols;
        const int64_t n = std::min(cols, past + r % T + 1);
        // The largest score and the largest weight (p is increasing in s: they are one entry's).
        Lanes sMax = lanes(-std::numeric_limits<float>::infinity()), pMax = lanes(0.0f);
        int64_t i = 0;
        for (; i + kLanes <= n; i += kLanes) {
            sMax = laneMax(sMax, HL_LANES(s + i));
            pMax = laneMax(pMax, HL_LANES(p + i));
        }
        float m = std::max(std::max(sMax[0], sMax[1]), std::max(sMax[2], sMax[3]));
        float top = std::max(std::max(pMax[0], pMax[1]), std::max(pMax[2], pMax[3]));
        for (; i < n; ++i) {
            m = std::max(m, s[i]);
            top = std::max(top, p[i]);
        }
        Lanes acc = lanes(0.0f);
        double e = 0;
        i = 0;
        while (i + kLanes <= n) {
            const int64_t end = std::min(n - kLanes + 1, i + kFlush);
            for (; i < end; i += kLanes)
                acc += HL_LANES(p + i) * (m - HL_LANES(s + i)); // both factors >= 0
            flush(acc, e);
        }
        for (; i < n; ++i)
            e += double(p[i] * (m - s[i]));
        e -= top > 0 ? std::log(double(top)) : 0.0;
        entropy[r] = float(std::max(0.0, e));
    }
}

void rowCompare(const float *a, const float *b, int64_t n, int64_t r0, int64_t r1,
                float *cosDistance, float *normRatio)
{
    for (int64_t r = r0; r < r1; ++r) {
        const float *x = a + r * n, *y = b + r * n;
        double xy = 0, xx = 0, yy = 0;
        for (int64_t i = 0; i < n; ++i) {
            const double u = x[i], v = y[i];
            xy += u * v;
            xx += u * u;
            yy += v * v;
        }
        const double nx = std::sqrt(xx), ny = std::sqrt(yy);
        if (cosDistance) cosDistance[r] = float(1.0 - xy / std::max(nx * ny, 1e-300));
        if (normRatio) normRatio[r] = float(nx / std::max(ny, 1e-300));
    }
}

void expNonPositive(const float *x, int64_t n, float *out)
{
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        const Lanes e = expLanes(HL_LANES(x + i));
        std::memcpy(out + i, &e, sizeof e);
    }
    for (; i < n; ++i) {
        Lanes v = lanes(x[i]);
        out[i] = expLanes(v)[0];
    }
}

void lensRows(const float *x, int64_t V, int k, int64_t r0, int64_t r1, int32_t *ids, float *probs,
              float *entropy, float *rowMax, double *rowLogSum)
{
    using Entry = std::pair<float, int32_t>;
    // The heap's top is the smallest kept entry; of equal logits the larger id goes first.
    const auto later = [](const Entry &a, const Entry &b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    std::vector<Entry> heap;
    heap.reserve(size_t(k) + 1);
    for (int64_t r = r0; r < r1; ++r) {
        const float *row = x + r * V;
        heap.clear();
        float thr = -std::numeric_limits<float>::infinity();
        const auto offer = [&](int64_t i) {
            if (!(row[i] > thr)) return;
            heap.emplace_back(row[i], int32_t(i));
            std::push_heap(heap.begin(), heap.end(), later);
            if (int64_t(heap.size()) > k) {
                std::pop_heap(heap.begin(), heap.end(), later);
                heap.pop_back();
            }
            if (int64_t(heap.size()) == k) thr = heap.front().first;
        };
        int64_t i = 0;
        for (; i + 4 * kLanes <= V; i += 4 * kLanes) {
            const Lanes m =
                laneMax(laneMax(HL_LANES(row + i), HL_LANES(row + i + kLanes)),
                        laneMax(HL_LANES(row + i + 2 * kLanes), HL_LANES(row + i + 3 * kLanes)));
            if (anyLane(m > thr))
                for (int64_t j = i; j < i + 4 * kLanes; ++j)
                    offer(j);
        }
        for (; i < V; ++i)
            offer(i);
        std::sort(heap.begin(), heap.end(), later);
        const float m = heap.empty() ? std::numeric_limits<float>::quiet_NaN() : heap[0].first;

        // S = sum e^(x_i - m) and A = sum e^(x_i - m) (x_i - m) <= 0.
        Lanes sLanes = lanes(0.0f), aLanes = lanes(0.0f);
        double S = 0, A = 0;
        i = 0;
        while (i + kLanes <= V) {
            const int64_t end = std::min(V - kLanes + 1, i + kFlush);
            for (; i < end; i += kLanes) {
                const Lanes d = HL_LANES(row + i) - m;
                const Lanes e = expLanes(d);
                sLanes += e;
                aLanes += e * d;
            }
            flush(sLanes, S);
            flush(aLanes, A);
        }
        for (; i < V; ++i) {
            const float d = row[i] - m;
            const float e = expLanes(lanes(d))[0];
            S += e;
            A += double(e) * double(d);
        }
        const double logS = std::log(S);
        entropy[r] = float(std::max(0.0, logS - A / S));
        rowMax[r] = m;
        rowLogSum[r] = logS;
        for (int j = 0; j < k; ++j) {
            const bool have = j < int(heap.size());
            ids[r * k + j] = have ? heap[size_t(j)].second : 0;
            probs[r * k + j] = have ? float(std::exp((double(heap[size_t(j)].first) - m) - logS))
                                    : std::numeric_limits<float>::quiet_NaN();
        }
    }
}

void klRows(const float *x, const float *xMax, const double *xLogSum, const float *y,
            const float *yMax, const double *yLogSum, int64_t V, int64_t r0, int64_t r1, float *kl)
{
    for (int64_t r = r0; r < r1; ++r) {
        const float *a = x + r * V, *b = y + r * V;
        const float am = xMax[r], al = float(xLogSum[r]);
        const double c = (double(xMax[r]) - double(yMax[r])) + (xLogSum[r] - yLogSum[r]);
        const float cHi = float(c), cLo = float(c - double(cHi));
        Lanes acc = lanes(0.0f);
        double total = 0;
        int64_t i = 0;
        while (i + kLanes <= V) {
            const int64_t end = std::min(V - kLanes + 1, i + kFlush);
            for (; i < end; i += kLanes) {
                const Lanes xa = HL_LANES(a + i);
                const Lanes d = ((xa - HL_LANES(b + i)) - cHi) - cLo;
                acc += expLanes((xa - am) - al) * d;
            }
            flush(acc, total);
        }
        for (; i < V; ++i) {
            const float d = ((a[i] - b[i]) - cHi) - cLo;
            total += double(expLanes(lanes((a[i] - am) - al))[0]) * double(d);
        }
        kl[r] = float(std::max(0.0, total));
    }
}

} // namespace HeadLens::Kernels
