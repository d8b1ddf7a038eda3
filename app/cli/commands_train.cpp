// train-example: trains one of the example models of resources/examples from its seed and
// writes it as a Hugging Face folder (modules/model trainer.h does the work).

#include "args.h"

#include "headlens/model/trainer.h"

#include <cstdio>
#include <iostream>
#include <limits>

namespace HeadLens::Cli {

int cmdTrainExample(const std::vector<std::string> &argv)
{
    const Args a = parseArgs(argv, {"-o", "--output", "--seed", "--steps", "--threads"}, {});
    if (a.positional.size() != 1) {
        std::string known;
        for (const std::string &n : Examples::names())
            known += (known.empty() ? "" : "|") + n;
        throw UsageError("expected one example name (" + known + ")");
    }
    TrainOptions o;
    o.name = a.positional[0];
    (void)Examples::recipe(o.name); // an unknown name is refused before anything is written
    o.outDir = a.value("-o", a.value("--output", ""));
    if (o.outDir.empty()) throw UsageError("train-example needs -o DIR");
    if (auto s = a.value("--seed")) {
        size_t used = 0;
        unsigned long long v = 0;
        try {
            v = std::stoull(*s, &used);
        } catch (const std::exception &) {
            used = 0;
        }
        if (used != s->size() || s->empty() || (*s)[0] == '-' || v == 0)
            throw UsageError("--seed needs a whole number above 0, not '" + *s + "'");
        o.seed = v;
    }
    o.steps = a.intValue("--steps", 0, 1, 10000000);
    // One thread by default: the operations of these small models are too small to split,
    // and on shared CPUs a second thread waiting for the first made training ten times slower.
    o.threads = a.intValue("--threads", 1, 0, 1024);
    o.log = [](const std::string &s) { std::cout << s << std::endl; };
    o.progress = [](const TrainProgress &p) {
        std::printf("step %6d/%d  loss %.4f  %7.1f s", p.step, p.steps, p.loss, p.seconds);
        if (p.accuracy >= 0) std::printf("  quick held-out check %.1f%%", 100.0 * p.accuracy);
        std::printf("\n");
        std::fflush(stdout);
    };

    const TrainReport r = trainExample(o);
    std::printf("wrote %s (%s, seed %llu, %d steps, %d threads, %.0f s of training)\n",
                r.outDir.c_str(), r.name.c_str(), static_cast<unsigned long long>(r.seed), r.steps,
                r.threads, r.trainSeconds);
    if (r.name == "adder") {
        std::printf("held-out sums answered exactly (greedy): %d/%d = %.2f%%\n", r.heldOut.correct,
                    r.heldOut.cases, 100.0 * r.heldOut.accuracy());
    } else {
        std::printf("facts recalled (greedy, bare prompt): %d/%d = %.1f%%\n", r.heldOut.correct,
                    r.heldOut.cases, 100.0 * r.heldOut.accuracy());
        std::printf("facts recalled after two fresh filler sentences: %d/%d = %.1f%%\n",
                    r.heldOutFiller.correct, r.heldOutFiller.cases,
                    100.0 * r.heldOutFiller.accuracy());
    }
    return 0;
}

} // namespace HeadLens::Cli
