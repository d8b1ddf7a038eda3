#!/bin/bash
# Builds the fuzz targets (Clang with ASan, UBSan and libFuzzer; build-fuzz/ beside build/) and
# runs each on its seed corpus (make_seeds.py) for SECONDS, or for RUNS executions when RUNS is
# set. Prints each target's executions; exits 1 when a target finds a crash, a leak, a hang or
# an escape from the readers' InputError contract (the input is kept under
# build-fuzz/findings/<target>/).
#
# usage: tests/fuzz/run.sh [SECONDS] [TARGET...]   (default 60 s, every target)
# environment: RUNS=N (executions instead of seconds), SEED=S (libFuzzer's seed, default 1: a
#   short run from the seeds then tries the same inputs on every machine), BUILD=dir (default
#   build-fuzz),
#   CLI=headlens-cli (adds a project it traced to the seeds; default build/app/cli/headlens-cli)

set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-fuzz}
CLI=${CLI:-$ROOT/build/app/cli/headlens-cli}
SECONDS_EACH=${1:-60}
SEED=${SEED:-1}
shift || true
TARGETS=${*:-safetensors hfconfig hffolder llama2c hftokenizer bpefiles sentencepiece llama2ctokenizer hlproj tunedlens serve}

command -v clang++-14 >/dev/null || { echo "fuzz: clang++-14 is missing (Debian: clang-14)" >&2; exit 1; }
CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHEADLENS_FUZZ=ON -DHEADLENS_BUILD_ENGINE=OFF -DHEADLENS_BUILD_GUI=OFF \
    -DHEADLENS_BUILD_TESTS=OFF -DHEADLENS_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD" >/dev/null

rm -rf "$BUILD/seeds"
/usr/bin/python3 "$HERE/make_seeds.py" "$BUILD/seeds" "$CLI"

# A finding is a crash, not an out-of-memory of the fuzzer itself: ASan's allocator may return
# null where a reader asks for more than the RSS limit, which the readers must refuse first.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1:suppressions=$HERE/asan.supp}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$HERE/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in $TARGETS; do
    corpus="$BUILD/corpus/$t"
    findings="$BUILD/findings/$t"
    mkdir -p "$corpus" "$findings"
    if [ -n "${RUNS:-}" ]; then limit=(-runs="$RUNS"); else limit=(-max_total_time="$SECONDS_EACH"); fi
    log="$BUILD/findings/$t.log"
    if [ "$t" = hlproj ]; then
        # libhdf5 crashes on some damaged metadata, where the programs read it in a child
        # process first and refuse the file: the fuzzer runs in a child process of its own
        # (-fork=1) and goes on past crashes, and triage.py then opens every input that crashed
        # with headlens-cli, which must refuse it or read it. libhdf5 also allocates what a
        # damaged object header's size says (4 GB seen, in H5C_protect) before it finds the file
        # too short, and frees it untouched: such a malloc is not a finding here; memory really
        # used still is (-rss_limit_mb). A number of RUNS is the total over the jobs.
        if [ -n "${RUNS:-}" ]; then limit=(-runs="$RUNS"); fi
        rm -f "$findings"/crash-* "$findings"/oom-* "$findings"/timeout-*
        "$BUILD/tests/fuzz/fuzz_$t" "${limit[@]}" -fork=1 -ignore_crashes=1 -ignore_ooms=1 \
            -ignore_timeouts=1 -malloc_limit_mb=16384 -seed="$SEED" -timeout=20 \
            -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$findings/" "$corpus" \
            "$BUILD/seeds/$t" >"$log" 2>&1 || true
        runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
        crashed=$(find "$findings" -maxdepth 1 -type f | wc -l)
        if [ "$crashed" -eq 0 ] ||
            /usr/bin/python3 "$HERE/triage.py" --cli "$CLI" "$findings"/* >"$findings.triage" 2>&1; then
            echo "fuzz: $t: ${runs:-?} executions, $crashed inputs crashed libhdf5 in-process, all refused by $(basename "$CLI"), nothing found ($(ls "$corpus" | wc -l) inputs in the corpus)"
        else
            failed=1
            echo "fuzz: $t: FOUND a problem: $(grep -c FINDING "$findings.triage") of $crashed inputs in $findings/ are not refused (triage.py: $findings.triage)"
            grep FINDING "$findings.triage" | head -5
        fi
        continue
    fi
    if "$BUILD/tests/fuzz/fuzz_$t" "${limit[@]}" -seed="$SEED" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$BUILD/seeds/$t" \
        >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $t: ${runs:-?} executions, nothing found ($(ls "$corpus" | wc -l) inputs in the corpus)"
    else
        failed=1
        echo "fuzz: $t: FOUND a problem; the input is in $findings/, the log $log:"
        grep -E "ERROR|SUMMARY|fuzz:|runtime error" "$log" | head -5
    fi
done
exit $failed
