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
  # tests: SentencePiece oracle, HDF5 tools and Python readers, a display for GUI screenshots
  libsentencepiece-dev sentencepiece hdf5-tools python3-h5py python3-numpy python3-torch
  xvfb xauth imagemagick fonts-dejavu-core
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
    out="$build/example.hlproj"
    stories="$src/../shared/models/stories260K"
    if [ -f "$stories/stories260K.bin" ]; then
      model="$stories/stories260K.bin"
      args=(--tokenizer "$stories/tok512.bin" --prompt "Once upon a time" --generate 24)
    else
      model="$build/example-model"
      [ -f "$model/config.json" ] || "$build/tests/tools/hl-make-checkpoint" "$model" \
        --layers 4 --d-model 64 --heads 4 --kv-heads 2 --ffn 172 --vocab 97 --seed 1
      args=(--token-ids 1,17,42,5,64,23,8,90 --generate 8)
    fi
    "$cli" trace "$model" "${args[@]}" -o "$out" --name example --force
    "$cli" info "$out"
    echo "--- tokens, with the layer where each next-token prediction is decided:"
    "$cli" export "$out" --trace example --what tokens
    ;;
  test)
    ctest --test-dir "$build" --output-on-failure --timeout 900
    ;;
  *)
    echo "usage: $0 [example|test|build]" >&2
    exit 2
    ;;
esac
