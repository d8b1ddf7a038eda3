#!/usr/bin/env bash
# Builds the Debian packages of HeadLens from a clean tree into a fresh build folder, then
# checks them (metadata, file lists, lintian).
#   packaging/build-deb.sh [-o OUTDIR] [--rev REV] [--jobs N] [--no-lintian]
#     -o OUTDIR   where the .deb files go (default: build-deb/packages in the checkout)
#     --rev REV   build the committed tree of REV (git archive: nothing uncommitted or
#                 ignored gets in); default: the working tree as it is
#     --jobs N    parallel compile jobs (default: the number of cores)
# Needs what packaging/setup-debian.sh installs, plus lintian for the last step (skipped with
# a note when absent). The packages: headlens, headlens-engine, headlens-examples (when
# resources/examples exists), python3-headlens. Prints their size and the time taken.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="" rev="" jobs=$(nproc) lintian=1
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    --rev) rev=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --no-lintian) lintian=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-deb.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
work=${HEADLENS_DEB_WORK_DIR:-$src/build-deb}
out=${out:-$work/packages}
start=$SECONDS

rm -rf "$work"
mkdir -p "$work"
tree=$src
if [ -n "$rev" ]; then
  tree=$work/src
  mkdir -p "$tree"
  git -C "$src" archive --format=tar "$rev" | tar -x -C "$tree"
  echo "build-deb: building the committed tree of $(git -C "$src" rev-parse --short "$rev")"
fi

# Debian's hardening flags (fortify, stack protector, relro, bindnow, PIE), without -g: the
# packages are stripped anyway and debug info doubles the compile time of the engine.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
export DEB_CFLAGS_MAINT_STRIP=-g DEB_CXXFLAGS_MAINT_STRIP=-g
CFLAGS="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS)"
CXXFLAGS="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
export CFLAGS CXXFLAGS LDFLAGS

cmake -S "$tree" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DHEADLENS_BUILD_TESTS=OFF \
  -DHEADLENS_BUILD_BENCHMARKS=OFF >"$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
grep -E 'warning|Warning' -A3 "$work/configure.log" || true
cmake --build "$work/build" -j"$jobs"
built=$SECONDS

mkdir -p "$out"
rm -f "$out"/headlens*.deb "$out"/python3-headlens*.deb
(cd "$work/build" && cpack -G DEB -B "$work/cpack") >"$work/cpack.log" ||
  { cat "$work/cpack.log"; exit 1; }
mv "$work/cpack"/*.deb "$out/"
packed=$SECONDS

echo
for deb in "$out"/*.deb; do
  echo "=== $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
  dpkg-deb --field "$deb" | sed 's/^/  /'
  dpkg-deb --contents "$deb" | awk '{print "    " $6}'
done

# The metadata and file-list checks of CI, on these packages.
debs=("$out"/headlens*.deb)
version=$(dpkg-deb --field "${debs[0]}" Version)
IFS=';' read -ra components < <(sed -n 's/^set(CPACK_COMPONENTS_ALL "\(.*\)")$/\1/p' "$work/build/CPackConfig.cmake")
HEADLENS_DEB_DIR=$out bash "$tree/tests/packaging/check-packages.sh" "$work/build" "$version" "${components[@]}"

status=0
if [ "$lintian" = 1 ]; then
  if command -v lintian >/dev/null; then
    echo
    echo "=== lintian"
    lintian --fail-on error --info --display-level '>=warning' --tag-display-limit 0 "$out"/*.deb ||
      status=$?
    [ "$status" -eq 0 ] && echo "lintian: no errors"
  else
    echo "build-deb: lintian is not installed (apt-get install lintian): not run"
  fi
fi
echo
echo "build-deb: packages in $out; build $((built - start)) s, cpack $((packed - built)) s, total $((SECONDS - start)) s"
exit "$status"
