#pragma once
// One trace's group in a project file (tracegroupwriter.cpp): the checks a trace passes before
// anything of it is written, and the group written whole or, as the engine computes the trace,
// its large datasets a layer at a time. projectwriter.cpp decides which file the group goes
// into and how the project is kept whole meanwhile (a journal or a temp file).

#include "h5util.h"
#include "sparseattention.h"

#include "headlens/trace/trace.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace HeadLens::TraceGroup {

// Throws what a reader would refuse of t (a bad name, arrays of the wrong shapes), so nothing
// the writer writes is unreadable. With streamed, the large data were written layer by layer
// and are not in t.
void checkTrace(const Trace &t, bool streamed = false);

// Writes t as the new group t.name of `traces`.
void writeTrace(hid_t traces, const Trace &t);

// The group of one trace being written while the engine computes it: create() makes its large
// datasets up front, attention() / residual() / z() fill them a layer at a time, and finish()
// writes the rest of the trace and closes the group.
class StreamedGroup {
public:
    void create(hid_t traces, const std::string &name, const Trace &t);
    bool open() const { return m_g.valid(); }
    void attention(int layer, int64_t q0, int64_t rows, const float *p);
    void residual(Site site, int layer, const float *v);
    void z(int layer, const float *v);
    // Writes the rest of t (the trace this group was created for) and closes the group.
    void finish(const Trace &t);
    void close();

private:
    // count and start: the slab within the layer.
    void write(const H5::Dataset &ds, StoreType s, int layer, std::vector<int64_t> count,
               const float *data, std::vector<int64_t> start);

    std::string m_name;
    ModelConfig m_config;
    int64_t m_T = 0;
    StoreType m_attention = StoreType::None, m_residuals = StoreType::None,
              m_zStore = StoreType::None;
    H5::Group m_g;
    H5::Type m_f16;
    H5::Dataset m_att, m_z;
    std::array<H5::Dataset, kSiteCount> m_res;
    bool m_sparse = false;
    std::unique_ptr<SparseAttention::Writer> m_sparseWriter;
};

} // namespace HeadLens::TraceGroup
