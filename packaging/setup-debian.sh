#!/usr/bin/env bash
# Sets up a Debian 12 machine for HeadLens, builds it, and runs one job:
#   packaging/setup-debian.sh example   install + build + trace the bundled example (default)
#   packaging/setup-debian.sh test      install + build + run the whole test suite
#   packaging/setup-debian.sh build     install + build only
# Safe to run again: packages already present are not reinstalled, the build is incremental.
set -euo pipefail

mode=${1:-example}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${HEADLENS_BUILD_DIR:-$src/build}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

packages=(
  # build tools
  cmake ninja-build ccache g++ pkg-config dpkg-dev git
  # packaging: PNG icons rendered from the SVGs, and the package check (tests/packaging)
  librsvg2-bin file
  # libraries (PITFALLS.md: Qt Charts needs libqt6opengl6-dev and libgl-dev)
  libtorch-dev libhdf5-dev nlohmann-json3-dev
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libgl-dev
  qt6-tools-dev qt6-l10n-tools qt6-qpa-plugins
  # a fast BLAS: Debian's libtorch is ~16x slower on the reference BLAS
  libopenblas0-pthread
  # tests: SentencePiece oracle, HDF5 tools and Python readers (with the notebook example's
  # plots), a display for GUI screenshots
  libsentencepiece-dev sentencepiece hdf5-tools python3-h5py python3-numpy python3-torch
  python3-matplotlib
  xvfb xauth imagemagick fonts-dejavu-core
  # fuzzing the readers (tests/fuzz): Clang with libFuzzer and the sanitizers; the format
  # check (tests/packaging/check-format.sh)
  clang-14 libclang-rt-14-dev clang-format-14
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

cli="$build/app/cli/headlens-cli"
case "$mode" in
  build) ;;
  example)
    # The bundled example: trace a carry with the adder HeadLens trained itself, show where
    # the answer is decided, then open the example project in the workbench when there is a
    # display (without one, the CLI's summary is the result).
    examples="$src/resources/examples"
    out="$build/example.hlproj"
    "$cli" trace "$examples/adder" --prompt "587+469=" --generate 4 -o "$out" --name carry --force
    "$cli" info "$out"
    echo "--- tokens, with the layer from which each next-token prediction is decided:"
    "$cli" export "$out" --trace carry --what tokens
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$build/app/headlens/headlens" ]; then
      "$build/app/headlens/headlens" "$examples/example.hlproj" &
      echo "setup: the workbench is open on $examples/example.hlproj"
    fi
    ;;
  test)
    ctest --test-dir "$build" --output-on-failure --timeout 900
    # The suite without the engine under ASan and UBSan (a GCC build of its own in
    # build-asan/; tests/sanitizers/run.sh says what it covers).
    BUILD="$build-asan" "$src/tests/sanitizers/run.sh"
    # The readers of outside files under libFuzzer with ASan and UBSan, 30 s each (a Clang
    # build of its own in build-fuzz/; tests/fuzz/run.sh runs them longer by hand). The .hlproj
    # target runs by hand only: what it finds now is inside libhdf5 itself (tests/fuzz/README).
    BUILD="$build-fuzz" CLI="$cli" "$src/tests/fuzz/run.sh" 30 safetensors hfconfig hffolder \
      llama2c hftokenizer bpefiles sentencepiece llama2ctokenizer tunedlens serve
    ;;
  *)
    echo "usage: $0 [example|test|build]" >&2
    exit 2
    ;;
esac
