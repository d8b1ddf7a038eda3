#!/bin/bash
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer (GCC): a build of its
# own (build-asan/ beside build/) of everything but the engine, and its tests: the trace and
# project readers and writers, the analyses, the torch-free model readers and tokenizers,
# serve's request reader, the document layer, the views and the workbench. The engine's
# readers are the fuzz targets' (tests/fuzz, ASan and UBSan too). Leaks are reported
# (LeakSanitizer). Exits non-zero when the build fails or a test fails or a sanitizer reports.
#
# ENGINE=1 builds the engine instead (build-asan-engine/, without the workbench) and runs every
# test it has, the Python ones included (they drive the instrumented headlens-cli): by hand,
# not in CI, since its libtorch code takes about 40 minutes to build on 2 cores. libtorch
# itself is not instrumented, and keeps allocations until exit, so leaks are not reported.
#
# usage: tests/sanitizers/run.sh        environment: BUILD=dir, ENGINE=1

set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
flags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ "${ENGINE:-0}" = 1 ]; then
    BUILD=${BUILD:-$ROOT/build-asan-engine}
    parts=(-DHEADLENS_BUILD_ENGINE=ON -DHEADLENS_BUILD_GUI=OFF)
    leaks=0
    # The packaging and format checks read files: those are the main build's.
    skip='^(packaging_|format$)'
else
    BUILD=${BUILD:-$ROOT/build-asan}
    parts=(-DHEADLENS_BUILD_ENGINE=OFF)
    leaks=1
    # Python runs the package's tests with its own uninstrumented interpreter, the packaging and
    # format checks read files: those are the main build's.
    skip='^(python_|packaging_|format$|tst_translations$)'
fi
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug "${parts[@]}" \
    -DHEADLENS_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$BUILD"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=$leaks:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
ctest --test-dir "$BUILD" --output-on-failure --timeout 1800 -j"$(nproc)" -E "$skip"
