// Sparse attention storage (sparseattention.h).

#include "sparseattention.h"

#include "hlprojlayout.h"

#include "headlens/trace/float16.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace HeadLens::SparseAttention {

namespace {

constexpr hsize_t kEntryChunk = hsize_t(1) << 20; // entries per chunk of keys and weights

// An empty 1-D dataset that grows as entries are appended.
H5::Dataset createGrowing(hid_t g, const std::string &path, hid_t type)
{
    const std::string what = "cannot write dataset " + path;
    const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
    H5::Space space(H5Screate_simple(1, &zero, &unlimited), what);
    H5::Plist dcpl(H5Pcreate(H5P_DATASET_CREATE), what);
    H5::checkStatus(H5Pset_chunk(dcpl, 1, &kEntryChunk), what);
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        H5::checkStatus(H5Pset_shuffle(dcpl), what);
        H5::checkStatus(H5Pset_deflate(dcpl, 1), what);
    }
    H5::takeErrorStack();
    H5::Plist lcpl(H5Pcreate(H5P_LINK_CREATE), what);
    H5::checkStatus(H5Pset_create_intermediate_group(lcpl, 1), what);
    return H5::Dataset(H5Dcreate2(g, path.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT), what);
}

void append(const H5::Dataset &ds, int64_t at, int64_t n, hid_t memType, const void *data)
{
    const std::string what = "cannot append to a sparse attention dataset";
    const hsize_t size = hsize_t(at + n), start = hsize_t(at), count = hsize_t(n);
    H5::checkStatus(H5Dset_extent(ds, &size), what);
    H5::Space file(H5Dget_space(ds), what);
    H5::checkStatus(H5Sselect_hyperslab(file, H5S_SELECT_SET, &start, nullptr, &count, nullptr),
                    what);
    H5::Space mem(H5Screate_simple(1, &count, nullptr), what);
    H5::checkStatus(H5Dwrite(ds, memType, mem, file, H5P_DEFAULT, data), what);
}

void writeSlab(const H5::Dataset &ds, hid_t memType, const std::vector<int64_t> &start,
               const std::vector<int64_t> &count, const void *data)
{
    const std::string what = "cannot write sparse attention rows";
    std::vector<hsize_t> s(start.begin(), start.end()), c(count.begin(), count.end());
    H5::Space file(H5Dget_space(ds), what);
    H5::checkStatus(H5Sselect_hyperslab(file, H5S_SELECT_SET, s.data(), nullptr, c.data(), nullptr),
                    what);
    H5::Space mem(H5Screate_simple(int(c.size()), c.data(), nullptr), what);
    H5::checkStatus(H5Dwrite(ds, memType, mem, file, H5P_DEFAULT, data), what);
}

// The kept keys of one row of n weights (a distribution: they sum to 1), heaviest first, into
// keys/weights; returns the weight left out. The threshold is on the weight itself, not on the
// row's sum, so a row read back from this form and stored again keeps the same keys.
float keepRow(const float *p, int64_t n, std::vector<int32_t> &idx, std::vector<int32_t> &keys,
              std::vector<float> &weights)
{
    idx.resize(size_t(n));
    std::iota(idx.begin(), idx.end(), 0);
    const int64_t m = std::min<int64_t>(kMaxKeys, n);
    auto heavier = [p](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
    std::nth_element(idx.begin(), idx.begin() + (m - 1), idx.end(), heavier);
    std::sort(idx.begin(), idx.begin() + m, heavier);
    double kept = 0;
    for (int64_t i = 0; i < m && kept < kMass && p[idx[size_t(i)]] > 0; ++i) {
        keys.push_back(idx[size_t(i)]);
        weights.push_back(p[idx[size_t(i)]]);
        kept += p[idx[size_t(i)]];
    }
    return float(std::max(0.0, 1.0 - kept));
}

struct Datasets {
    H5::DatasetInfo rowEnd, remainder, keys, weights;
};

Datasets open(hid_t g, int64_t L, int64_t H, int64_t T)
{
    auto need = [&](const char *path) {
        auto info = H5::openDataset(g, path);
        if (!info) throw H5::H5Error(std::string("dataset ") + path + " is missing");
        return std::move(*info);
    };
    Datasets d{need(HlProj::kSparseRowEnd), need(HlProj::kSparseRemainder),
               need(HlProj::kSparseKeys), need(HlProj::kSparseWeights)};
    const std::vector<int64_t> rows{L, T, H};
    if (d.rowEnd.dims != rows || d.remainder.dims != rows)
        throw H5::H5Error(std::string(HlProj::kSparseRowEnd) + " has shape " +
                          shapeString(d.rowEnd.dims) + ", expected " + shapeString(rows));
    if (d.keys.dims.size() != 1 || d.weights.dims != d.keys.dims)
        throw H5::H5Error("sparse attention keys and weights differ in shape");
    return d;
}

// Row ends of rows [first, first + n) in the flat order (layer, query, head), and the start of
// the first; checked to be non-decreasing and within the entries.
std::vector<int64_t> rowBounds(const Datasets &d, int64_t L, int64_t H, int64_t T, int layer,
                               int64_t q0, int64_t nq)
{
    std::vector<int64_t> ends(size_t(nq * H + 1), 0);
    H5::readHyperslab(d.rowEnd, H5T_NATIVE_INT64, {layer, q0, 0}, {1, nq, H}, ends.data() + 1);
    if (layer > 0 || q0 > 0) {
        const int64_t flat = (int64_t(layer) * T + q0) * H - 1;
        const int64_t pl = flat / (T * H), pq = (flat / H) % T, ph = flat % H;
        H5::readHyperslab(d.rowEnd, H5T_NATIVE_INT64, {pl, pq, ph}, {1, 1, 1}, ends.data());
    }
    (void)L;
    const int64_t n = d.keys.dims[0];
    for (size_t i = 0; i + 1 < ends.size(); ++i)
        if (ends[i] < 0 || ends[i + 1] < ends[i] || ends[i + 1] > n ||
            ends[i + 1] - ends[i] > kMaxKeys)
            throw H5::H5Error(std::string(HlProj::kSparseRowEnd) + " is inconsistent");
    return ends;
}

// The entries of rows [q0, q0 + nq) of a layer, scattered into out [H, nq, T].
void scatter(const Datasets &d, int64_t L, int64_t H, int64_t T, int layer, int64_t q0, int64_t nq,
             float *out)
{
    const std::vector<int64_t> ends = rowBounds(d, L, H, T, layer, q0, nq);
    const int64_t first = ends.front(), n = ends.back() - first;
    std::vector<int32_t> keys(size_t(std::max<int64_t>(n, 1)));
    std::vector<float> weights(size_t(std::max<int64_t>(n, 1)));
    if (n > 0) {
        H5::readHyperslab(d.keys, H5T_NATIVE_INT32, {first}, {n}, keys.data());
        H5::readFloatHyperslab(d.weights, {first}, {n}, weights.data());
    }
    std::fill(out, out + H * nq * T, 0.0f);
    for (int64_t q = 0; q < nq; ++q)
        for (int64_t h = 0; h < H; ++h) {
            const size_t row = size_t(q * H + h);
            for (int64_t e = ends[row]; e < ends[row + 1]; ++e) {
                const int32_t k = keys[size_t(e - first)];
                if (k < 0 || k >= T)
                    throw H5::H5Error("sparse attention key " + std::to_string(k) +
                                      " is outside the " + std::to_string(T) + " positions");
                out[(h * nq + q) * T + k] = weights[size_t(e - first)];
            }
        }
}

} // namespace

Writer::Writer(hid_t g, int64_t L, int64_t H, int64_t T, StoreType weights)
    : m_L(L), m_H(H), m_T(T), m_f16(H5::float16Type())
{
    m_weightType = weights == StoreType::F16 ? hid_t(m_f16) : H5T_IEEE_F32LE;
    H5::Layout byLayer;
    byLayer.chunk = {1, hsize_t(T), hsize_t(H)};
    m_rowEnd = H5::createDataset(g, HlProj::kSparseRowEnd, H5T_STD_I64LE, {L, T, H}, byLayer);
    m_remainder =
        H5::createDataset(g, HlProj::kSparseRemainder, H5T_IEEE_F32LE, {L, T, H}, byLayer);
    m_keys = createGrowing(g, HlProj::kSparseKeys, H5T_STD_I32LE);
    m_weights = createGrowing(g, HlProj::kSparseWeights, m_weightType);
    H5::Group sparse = H5::openGroup(g, HlProj::kSparseGroup);
    H5::writeIntAttr(sparse, "max_keys", kMaxKeys);
    H5::writeStringAttr(sparse, "mass", "0.99");
}

void Writer::rows(int layer, int64_t q0, int64_t rows, const float *p)
{
    if (layer != m_nextLayer || q0 != m_nextRow || rows < 1 || q0 + rows > m_T)
        throw H5::H5Error("sparse attention rows came out of order (layer " +
                          std::to_string(layer) + ", row " + std::to_string(q0) + ")");
    std::vector<int32_t> idx, keys;
    std::vector<float> weights;
    std::vector<int64_t> ends(size_t(rows * m_H));
    std::vector<float> left(size_t(rows * m_H));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t h = 0; h < m_H; ++h) {
            const int64_t q = q0 + r;
            const size_t row = size_t(r * m_H + h);
            left[row] = keepRow(p + (h * rows + r) * m_T, q + 1, idx, keys, weights);
            ends[row] = m_total + int64_t(keys.size());
        }
    const int64_t n = int64_t(keys.size());
    if (n > 0) {
        append(m_keys, m_total, n, H5T_NATIVE_INT32, keys.data());
        if (H5::isIeeeHalf(m_weightType)) {
            std::vector<uint16_t> halves(static_cast<size_t>(n));
            floatsToHalves(weights.data(), halves.data(), size_t(n));
            append(m_weights, m_total, n, m_weightType, halves.data());
        } else {
            append(m_weights, m_total, n, H5T_NATIVE_FLOAT, weights.data());
        }
    }
    m_total += n;
    writeSlab(m_rowEnd, H5T_NATIVE_INT64, {layer, q0, 0}, {1, rows, m_H}, ends.data());
    writeSlab(m_remainder, H5T_NATIVE_FLOAT, {layer, q0, 0}, {1, rows, m_H}, left.data());
    m_nextRow = q0 + rows;
    if (m_nextRow == m_T) {
        m_nextRow = 0;
        ++m_nextLayer;
    }
}

void Writer::close()
{
    if (m_nextLayer != m_L && m_rowEnd.valid())
        throw H5::H5Error("sparse attention: only " + std::to_string(m_nextLayer) + " of " +
                          std::to_string(m_L) + " layers were written");
    m_rowEnd.reset();
    m_remainder.reset();
    m_keys.reset();
    m_weights.reset();
}

bool present(hid_t g)
{
    return H5::isGroup(g, HlProj::kSparseGroup);
}

StoreType weightsType(hid_t g)
{
    auto w = H5::openDataset(g, HlProj::kSparseWeights);
    return w && w->typeSize <= 2 ? StoreType::F16 : StoreType::F32;
}

FloatArray readLayer(hid_t g, int64_t L, int64_t H, int64_t T, int layer)
{
    const Datasets d = open(g, L, H, T);
    FloatArray out({H, T, T});
    scatter(d, L, H, T, layer, 0, T, out.data.data());
    return out;
}

FloatArray readRow(hid_t g, int64_t L, int64_t H, int64_t T, int layer, int64_t query)
{
    const Datasets d = open(g, L, H, T);
    FloatArray out({H, T});
    scatter(d, L, H, T, layer, query, 1, out.data.data());
    return out;
}

} // namespace HeadLens::SparseAttention
