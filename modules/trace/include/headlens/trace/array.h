#pragma once
// A dense row-major array with a shape: the one container every module uses for tensors, so
// data crosses module borders without torch, Qt or HDF5 types.

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace HeadLens {

template <typename T> struct Array {
    std::vector<int64_t> shape; // outermost first
    std::vector<T> data;        // row-major, size() == product(shape)

    Array() = default;
    explicit Array(std::vector<int64_t> s, T fill = T()) { reset(std::move(s), fill); }

    void reset(std::vector<int64_t> s, T fill = T())
    {
        shape = std::move(s);
        data.assign(static_cast<size_t>(count(shape)), fill);
    }
    void clear()
    {
        shape.clear();
        data.clear();
    }
    bool empty() const { return shape.empty(); }
    size_t size() const { return data.size(); }
    int rank() const { return static_cast<int>(shape.size()); }
    int64_t dim(int i) const { return shape.at(static_cast<size_t>(i)); }

    // Element strides, outermost first.
    std::vector<int64_t> strides() const
    {
        std::vector<int64_t> st(shape.size(), 1);
        for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
            st[size_t(i)] = st[size_t(i) + 1] * shape[size_t(i) + 1];
        return st;
    }

    // Flat offset of an index; checked, for tests and slow paths.
    int64_t offset(std::initializer_list<int64_t> idx) const
    {
        if (idx.size() != shape.size())
            throw std::out_of_range("Array: index rank does not match shape");
        int64_t off = 0;
        size_t i = 0;
        for (int64_t v : idx) {
            if (v < 0 || v >= shape[i]) throw std::out_of_range("Array: index out of range");
            off = off * shape[i] + v;
            ++i;
        }
        return off;
    }
    T &at(std::initializer_list<int64_t> idx) { return data[size_t(offset(idx))]; }
    const T &at(std::initializer_list<int64_t> idx) const { return data[size_t(offset(idx))]; }

    static int64_t count(const std::vector<int64_t> &s)
    {
        return std::accumulate(s.begin(), s.end(), int64_t(1), std::multiplies<int64_t>());
    }
};

using FloatArray = Array<float>;
using IntArray = Array<int32_t>;

std::string shapeString(const std::vector<int64_t> &shape); // "[2, 3, 4]"

} // namespace HeadLens
