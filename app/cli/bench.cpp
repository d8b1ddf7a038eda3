// headlens-cli bench: the engine's figures from one process — plain forward, full capture
// (lens excluded), lens, a plain matmul of the lens's shape, direct logit attribution, and
// peak RSS.

#include "args.h"
#include "enginememory.h"

#include "headlens/model/model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <sys/resource.h>
#include <unistd.h>

namespace HeadLens::Cli {

namespace {

double cpuNow()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Wall and process-CPU seconds of the fastest of `repeat` runs. CPU time is the steadier
// figure on a busy machine; wall time is what a user waits.
struct Timing {
    double wall = 1e300, cpu = 1e300;
};

void timeOnce(const std::function<void()> &f, Timing &best)
{
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpuNow();
    f();
    best.cpu = std::min(best.cpu, cpuNow() - c0);
    best.wall = std::min(
        best.wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

Timing timed(const std::function<void()> &f, int repeat)
{
    Timing best;
    for (int i = 0; i < repeat; ++i)
        timeOnce(f, best);
    return best;
}

// The best of `repeat` runs of each, taken in turns: on a shared machine whose speed drifts
// (a VM's neighbours), all see the same slow and fast spells, so their ratios stay fair.
std::vector<Timing> timedInTurns(const std::vector<std::function<void()>> &fs, int repeat)
{
    std::vector<Timing> best(fs.size());
    for (int i = 0; i < repeat; ++i)
        for (size_t k = 0; k < fs.size(); ++k)
            timeOnce(fs[k], best[k]);
    return best;
}

double peakRssMiB()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0; // ru_maxrss is KiB on Linux
}

double currentRssMiB()
{
    std::ifstream in("/proc/self/statm");
    long pages = 0, resident = 0;
    in >> pages >> resident;
    return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// Wants every tensor and head metric, no lens; copies what it gets, as a trace would, and takes
// attention a block of query rows at a time, as a trace does (TraceBuilder).
class CaptureAll : public CaptureSink {
public:
    bool lensOnly = false;
    std::vector<std::vector<float>> store;
    size_t next = 0;
    void reset() { next = 0; }
    bool wants(Tap, int) override { return !lensOnly; }
    bool wantsLens(Site, int) override { return lensOnly; }
    bool wantsLogits() override { return lensOnly; }
    void keep(const TensorView &v)
    {
        const size_t n = size_t(Array<float>::count(v.shape));
        if (next == store.size()) store.emplace_back();
        store[next].resize(n);
        std::memcpy(store[next].data(), v.data, n * sizeof(float));
        ++next;
    }
    void tensor(Tap, int, const TensorView &v) override { keep(v); }
    bool wantsAttentionRows() override { return true; }
    void attentionRows(int, int64_t, const TensorView &rows) override { keep(rows); }
    void heads(int, const HeadMetricsView &m) override
    {
        for (const TensorView *v :
             {&m.contribNorm, &m.contribCosine, &m.contribProjection, &m.attnEntropy, &m.valueNorm})
            keep(*v);
    }
    void lens(Site, int, const LensView &) override {}
    void logits(const LensView &) override {}
};

// Wants only the direct logit attribution: against a plain run, what it adds to a trace.
class AttributionOnly : public CaptureSink {
public:
    LogitAttribution kept;
    bool wants(Tap, int) override { return false; }
    bool wantsLens(Site, int) override { return false; }
    bool wantsLogits() override { return false; }
    bool wantsAttribution() override { return true; }
    void attribution(const LogitAttribution &a) override { kept = a; }
    void tensor(Tap, int, const TensorView &) override {}
    void heads(int, const HeadMetricsView &) override {}
    void lens(Site, int, const LensView &) override {}
    void logits(const LensView &) override {}
};

} // namespace

int cmdBench(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"--tokens", "--threads", "--dtype", "--repeat", "--tokenizer"},
                             {"--patch"});
    if (a.positional.size() != 1) throw UsageError("bench needs one MODEL");
    const int T = a.intValue("--tokens", 128, 1, 1 << 20);
    const int repeat = a.intValue("--repeat", 3, 1, 100);
    LoadOptions lo;
    lo.threads = a.intValue("--threads", 0, 0, 1024);
    lo.dtype = a.value("--dtype", "f32");
    lo.tokenizerPath = a.value("--tokenizer", "");

    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<Model> model = loadModel(a.positional[0], lo);
    const double loadS =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const ModelConfig &c = model->config();
    std::vector<int32_t> ids(static_cast<size_t>(T), 0);
    for (int i = 0; i < T; ++i)
        ids[size_t(i)] = int32_t((uint64_t(i) * 7919u + 13u) % uint64_t(c.vocabSize));
    if (c.bosId >= 0) ids[0] = c.bosId;
    model->checkIds(ids);

    std::printf(
        "model        %s (%s): %d layers, d_model %d, %d heads (%d kv), d_ffn %d, vocab %d\n",
        model->name().c_str(), model->format().c_str(), c.nLayers, c.dModel, c.nHeads, c.nKvHeads,
        c.dFfn, c.vocabSize);
    std::printf("weights      %.1f MiB stored, compute %s, threads %d, load %.3f s\n",
                double(model->weightBytes()) / (1024.0 * 1024.0), model->computeDtype().c_str(),
                setEngineThreads(lo.threads), loadS);
    // What libgomp read when it started (the launcher headlens-cli sets PASSIVE).
    const char *policy = std::getenv("OMP_WAIT_POLICY");
    std::printf("openmp       OMP_WAIT_POLICY=%s\n", policy ? policy : "(unset)");

    model->run(ids, nullptr); // warm up: page in the weights, allocate
    CaptureAll cap;
    model->run(ids, &cap);
    CaptureAll lensSink;
    lensSink.lensOnly = true;
    AttributionOnly dlaSink;
    const std::vector<Timing> runs =
        timedInTurns({[&] { model->run(ids, nullptr); },
                      [&] {
                          cap.reset();
                          model->run(ids, &cap);
                      },
                      [&] { model->run(ids, &lensSink); }, [&] { model->run(ids, &dlaSink); }},
                     repeat);
    const Timing &plain = runs[0], &capture = runs[1], &withLens = runs[2];
    const Timing dla{std::max(0.0, runs[3].wall - plain.wall),
                     std::max(0.0, runs[3].cpu - plain.cpu)};
    const Timing lens{std::max(0.0, withLens.wall - plain.wall),
                      std::max(0.0, withLens.cpu - plain.cpu)};
    // The lens decodes 5 sites x T rows per layer (resid_pre reuses resid_post of the layer
    // below, so 4 x T rows are computed past layer 0) against the [V, D] decoder.
    const int64_t lensRows = int64_t(T) * (5 + 4 * (c.nLayers - 1));
    const double c0 = cpuNow();
    const double mmWall = timePlainMatmul(lensRows / c.nLayers, c.dModel, c.vocabSize,
                                          model->computeDtype(), repeat) *
                          c.nLayers;
    const double mmCpu = (cpuNow() - c0) / repeat * c.nLayers;
    TraceOptions to;
    const Timing trace =
        timed([&] { (void)traceTokens(*model, model->tokensFromIds(ids), "", to); }, 1);

    std::printf("tokens       %d (best of %d runs, plain, capture and lens taken in turns; wall s "
                "/ process CPU s)\n",
                T, repeat);
    std::printf("plain        %8.4f / %8.4f  forward and logits, no capture\n", plain.wall,
                plain.cpu);
    std::printf("capture      %8.4f / %8.4f  all sites, patterns, z, head metrics, lens excluded: "
                "ratio %.3f / %.3f\n",
                capture.wall, capture.cpu, capture.wall / plain.wall, capture.cpu / plain.cpu);
    std::printf("lens         %8.4f / %8.4f  5 sites x %d layers, top-k + entropy over %d tokens\n",
                lens.wall, lens.cpu, c.nLayers, c.vocabSize);
    std::printf("lens matmul  %8.4f / %8.4f  plain libtorch matmul of the same rows: lens/matmul "
                "%.3f / %.3f\n",
                mmWall, mmCpu, lens.wall / mmWall, lens.cpu / mmCpu);
    std::printf(
        "trace        %8.4f / %8.4f  traceTokens end to end, default options: ratio %.3f / %.3f\n",
        trace.wall, trace.cpu, trace.wall / plain.wall, trace.cpu / plain.cpu);
    std::printf("attribution  %8.4f / %8.4f  direct logit attribution of the top-1 (its part of a "
                "trace): %.1f%% / %.1f%% of the trace\n",
                dla.wall, dla.cpu, 100.0 * dla.wall / trace.wall, 100.0 * dla.cpu / trace.cpu);
    if (a.has("--patch")) {
        // Activation patching of every site, layer and position (no heads), against the goal:
        // at most 2 x (sites x layers) plain forward passes. The prompts differ in their second
        // token, so every later position is patched (the most work).
        std::vector<int32_t> corrupted = ids;
        corrupted[size_t(std::min(1, T - 1))] =
            int32_t((corrupted[size_t(std::min(1, T - 1))] + 1) % c.vocabSize);
        PatchOptions po;
        po.answer = 3 % c.vocabSize;
        po.wrong = 4 % c.vocabSize;
        const Timing patch = timed([&] { (void)model->patch(ids, corrupted, po); }, repeat);
        const double passes = double(kSiteCount) * c.nLayers;
        std::printf("patch        %8.4f / %8.4f  %d sites x %d layers x %d positions: %.2f / %.2f "
                    "forward passes per (site, layer) (goal <= 2)\n",
                    patch.wall, patch.cpu, kSiteCount, c.nLayers, T,
                    patch.wall / (passes * plain.wall), patch.cpu / (passes * plain.cpu));
    }
    std::printf("rss          now %.1f MiB, peak %.1f MiB = %.3f x the weight bytes\n",
                currentRssMiB(), peakRssMiB(),
                peakRssMiB() * 1024.0 * 1024.0 / double(model->weightBytes()));
    return 0;
}

} // namespace HeadLens::Cli
