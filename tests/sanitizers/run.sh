#!/bin/bash
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer (GCC): a build of its
# own (build-asan/ beside build/) of everything but the engine, whose libtorch is not
# instrumented and whose tests would take hours there, and its tests: the trace and project
# readers and writers, the analyses, the torch-free model readers and tokenizers, serve's
# request reader, the document layer, the views and the workbench. The engine's readers are
# the fuzz targets' (tests/fuzz, ASan and UBSan too). Leaks are reported (LeakSanitizer).
# Exits non-zero when the build fails or a test fails or a sanitizer reports.
#
# usage: tests/sanitizers/run.sh        environment: BUILD=dir (default build-asan)

set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-asan}
flags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEADLENS_BUILD_ENGINE=OFF \
    -DHEADLENS_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$BUILD"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
# Python runs the package's tests with its own uninstrumented interpreter, the packaging and
# format checks read files: those are the main build's.
ctest --test-dir "$BUILD" --output-on-failure --timeout 900 -j"$(nproc)" \
    -E '^(python_|packaging_|format$|tst_translations$)'
