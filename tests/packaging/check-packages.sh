#!/usr/bin/env bash
# shellcheck disable=SC2015  # pass and fail always succeed: `test && pass || fail` is if-else
# CTest "packaging_deb": builds the Debian packages from an existing, fully built build tree
# into a temporary folder (cpack, gzip for speed) and checks their metadata and file lists:
#   check-packages.sh BUILD_DIR VERSION COMPONENT...    (components: gui engine examples python)
# With HEADLENS_DEB_DIR set it checks the packages in that folder instead of running cpack.
# What must hold: headlens never depends on libtorch and needs the Qt platform plugins;
# headlens-engine depends on libtorch and a fast BLAS; the desktop integration, man pages,
# translations, copyright and changelog are where Debian expects them; no RUNPATH, stripped.
# The full release check (xz, lintian) is packaging/build-deb.sh. Exit 77 = skipped.
set -euo pipefail
# Under pipefail, `producer | grep -q` fails when grep exits at its first match and the
# producer then dies of SIGPIPE: a present postinst read as missing (seen once in CI), or a
# RUNPATH read as absent. So grep reads what the producer wrote, from a here-string.

build=$1 version=$2
shift 2
components=" $* "
for tool in cpack dpkg-deb dpkg-shlibdeps readelf file; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (Debian: cmake, dpkg-dev, binutils, file)"
    exit 77
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/headlens-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

start=$SECONDS
if [ -n "${HEADLENS_DEB_DIR:-}" ]; then
  out=$HEADLENS_DEB_DIR   # packages made already (packaging/build-deb.sh)
else
  out=$tmp
  if ! cpack --config "$build/CPackConfig.cmake" -B "$out" \
         -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip >"$tmp/cpack.log" 2>&1; then
    cat "$tmp/cpack.log"
    echo "FAIL: cpack"
    exit 1
  fi
  echo "cpack: $((SECONDS - start)) s"
fi

# deb_of PACKAGE ARCH: the .deb cpack made for PACKAGE.
deb_of() {
  local f="$out/${1}_${version}_${2}.deb"
  [ -f "$f" ] || { echo "FAIL: cpack made no $(basename "$f"); it made:" >&2; ls "$out" >&2; return 1; }
  echo "$f"
}
field() { dpkg-deb --field "$2" "$1" 2>/dev/null || true; }   # field NAME DEB

# has_files DEB PATH...: every PATH is in the package's file list.
has_files() {
  local deb=$1 list
  shift
  list=$(dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|')
  for p in "$@"; do
    if grep -qxF "$p" <<<"$list"; then pass "$(basename "$deb"): $p"; else fail "$(basename "$deb") lacks $p"; fi
  done
}

# common DEB PACKAGE: fields and files every package has.
common() {
  local deb=$1 pkg=$2
  [ "$(field Package "$deb")" = "$pkg" ] || fail "$deb: Package is not $pkg"
  [ "$(field Version "$deb")" = "$version" ] || fail "$pkg: Version $(field Version "$deb") is not $version"
  [ "$(field Section "$deb")" = science ] || fail "$pkg: Section is not science"
  grep -qE '^[^<>]+ <[^<>@ ]+@[^<>@ ]+>$' <<<"$(field Maintainer "$deb")" || fail "$pkg: Maintainer '$(field Maintainer "$deb")'"
  [ "$(field Description "$deb" | wc -l)" -ge 3 ] || fail "$pkg: no extended Description"
  if grep -qE '^ \.[^ ]' <<<"$(field Description "$deb")"; then fail "$pkg: a Description line starts with a dot"; fi
  has_files "$deb" "/usr/share/doc/$pkg/copyright" "/usr/share/doc/$pkg/changelog.Debian.gz"
  # Nothing under /usr/local, and permissions as Debian wants them.
  if dpkg-deb --contents "$deb" | awk '{print $1, $6}' | grep -E 'usr/local|^-rw.rw|^drwxrwx' ; then
    fail "$pkg: files in /usr/local or group/world-writable"
  fi
}

# binary_ok DEB PATH: the program is stripped and carries no RUNPATH/RPATH; NEEDED names a
# file with its DT_NEEDED libraries.
binary_ok() {
  local deb=$1 path=$2 dir
  dir=$(mktemp -d "$tmp/x.XXXX")
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" ".$path"
  if grep -qE 'RUNPATH|RPATH' <<<"$(readelf -d "$dir$path")"; then fail "$path has a RUNPATH/RPATH"; else pass "$path: no RUNPATH"; fi
  if grep -q 'not stripped' <<<"$(file "$dir$path")"; then fail "$path is not stripped"; else pass "$path: stripped"; fi
  readelf -d "$dir$path" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' >"$dir/needed"
  NEEDED="$dir/needed"
}

if [[ $components == *" gui "* ]]; then
  deb=$(deb_of headlens amd64)
  common "$deb" headlens
  depends=$(field Depends "$deb")
  echo "headlens Depends: $depends"
  echo "headlens Recommends: $(field Recommends "$deb")"
  grep -qi 'torch\|libc10\|opencv' <<<"$depends" && fail "headlens depends on libtorch: $depends" || pass "headlens: no libtorch dependency"
  grep -q 'qt6-qpa-plugins' <<<"$depends" || fail "headlens: Depends lacks qt6-qpa-plugins"
  grep -q 'libqt6widgets6' <<<"$depends" || fail "headlens: Depends lacks libqt6widgets6 (shlibdeps did not run?)"
  grep -q 'headlens-engine' <<<"$(field Recommends "$deb")" || fail "headlens: Recommends lacks headlens-engine"
  binary_ok "$deb" /usr/bin/headlens
  grep -qi 'torch\|c10' "$NEEDED" && fail "headlens links libtorch: $(tr '\n' ' ' <"$NEEDED")" || pass "headlens: links no libtorch"
  files=(/usr/bin/headlens
         /usr/share/applications/org.headlens.HeadLens.desktop
         /usr/share/metainfo/org.headlens.HeadLens.metainfo.xml
         /usr/share/mime/packages/org.headlens.HeadLens.xml
         /usr/share/icons/hicolor/scalable/apps/org.headlens.HeadLens.svg
         /usr/share/icons/hicolor/scalable/mimetypes/application-x-headlens-project.svg
         /usr/share/man/man1/headlens.1.gz
         /usr/share/headlens/translations/headlens_it.qm)
  if grep -q 'HEADLENS_RSVG_CONVERT:FILEPATH=/' "$build/CMakeCache.txt"; then
    for s in 16 22 24 32 48 64 128 256; do
      files+=("/usr/share/icons/hicolor/${s}x$s/apps/org.headlens.HeadLens.png"
              "/usr/share/icons/hicolor/${s}x$s/mimetypes/application-x-headlens-project.png")
    done
  fi
  has_files "$deb" "${files[@]}"
fi

if [[ $components == *" engine "* ]]; then
  deb=$(deb_of headlens-engine amd64)
  common "$deb" headlens-engine
  depends=$(field Depends "$deb")
  echo "headlens-engine Depends: $depends"
  grep -q 'libtorch' <<<"$depends" || fail "headlens-engine: Depends lacks libtorch"
  grep -q 'libopenblas0-pthread' <<<"$depends" || fail "headlens-engine: Depends lacks a fast BLAS"
  grep -qi 'libqt6' <<<"$depends" && fail "headlens-engine depends on Qt: $depends" || pass "headlens-engine: no Qt"
  binary_ok "$deb" /usr/bin/headlens-cli
  grep -qi 'torch\|c10\|Qt' "$NEEDED" && fail "the launcher headlens-cli links $(tr '\n' ' ' <"$NEEDED")" ||
    pass "headlens-cli: a launcher that links no libtorch"
  binary_ok "$deb" /usr/libexec/headlens/headlens-cli-engine
  grep -qi 'torch' "$NEEDED" && pass "headlens-cli-engine: links libtorch" ||
    fail "headlens-cli-engine does not link libtorch"
  has_files "$deb" /usr/bin/headlens-cli /usr/libexec/headlens/headlens-cli-engine \
    /usr/share/man/man1/headlens-cli.1.gz \
    /usr/share/doc/headlens-engine/examples/headlens-batch.sbatch
fi

if [[ $components == *" examples "* ]]; then
  deb=$(deb_of headlens-examples all)
  common "$deb" headlens-examples
  [ "$(field Architecture "$deb")" = all ] || fail "headlens-examples: Architecture is not all"
  n=$(dpkg-deb --contents "$deb" | grep -c '/usr/share/headlens/examples/.*[^/]$' || true)
  [ "$n" -gt 0 ] && pass "headlens-examples: $n files in /usr/share/headlens/examples" || fail "headlens-examples: no examples"
fi

if [[ $components == *" python "* ]]; then
  deb=$(deb_of python3-headlens all)
  common "$deb" python3-headlens
  [ "$(field Architecture "$deb")" = all ] || fail "python3-headlens: Architecture is not all"
  depends=$(field Depends "$deb")
  echo "python3-headlens Depends: $depends"
  for d in python3-numpy python3-h5py; do
    grep -q "$d" <<<"$depends" || fail "python3-headlens: Depends lacks $d"
  done
  has_files "$deb" /usr/lib/python3/dist-packages/headlens/__init__.py \
    /usr/share/doc/python3-headlens/README.md
  grep -qE '__pycache__|\.pyc$' <<<"$(dpkg-deb --contents "$deb")" &&
    fail "python3-headlens ships byte-compiled files" || pass "python3-headlens: sources only"
  grep -qx './postinst' <<<"$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)" ||
    fail "python3-headlens: no postinst (py3compile)"
  # The module as packaged imports with Debian's Python and opens the example project.
  if /usr/bin/python3 -c 'import numpy, h5py' 2>/dev/null; then
    dir=$(mktemp -d "$tmp/py.XXXX")
    dpkg-deb -x "$deb" "$dir"
    example=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/resources/examples/example.hlproj
    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$dir/usr/lib/python3/dist-packages" /usr/bin/python3 -c '
import sys, headlens
assert headlens.__file__.startswith(sys.argv[2]), headlens.__file__
with headlens.open(sys.argv[1]) as p:
    print(next(iter(p.traces.values())).grid())' "$example" "$dir" >/dev/null &&
      pass "python3-headlens: imports and opens the example project" ||
      fail "python3-headlens does not open the example project"
  fi
fi

# The desktop integration files themselves (cheap; validators are optional).
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$src/packaging/org.headlens.HeadLens.desktop" && pass "desktop file valid" || fail "desktop-file-validate"
fi
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net --no-color "$src/packaging/org.headlens.HeadLens.metainfo.xml" >"$tmp/as.log" 2>&1 \
    && pass "AppStream metainfo valid" || { cat "$tmp/as.log"; fail "appstreamcli validate"; }
fi
if command -v update-mime-database >/dev/null; then
  mkdir -p "$tmp/mime/packages"
  cp "$src/packaging/org.headlens.HeadLens.mime.xml" "$tmp/mime/packages/org.headlens.HeadLens.xml"
  update-mime-database "$tmp/mime" 2>"$tmp/mime.log" && [ -f "$tmp/mime/application/x-headlens-project.xml" ] \
    && pass "MIME type application/x-headlens-project registers" || { cat "$tmp/mime.log"; fail "update-mime-database"; }
fi
if command -v man >/dev/null; then
  for page in headlens.1 headlens-cli.1; do
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$src/packaging/man/$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] && pass "man page $page renders without warnings" || fail "$page: $warnings"
  done
fi

echo "packaging check: $failures failure(s), $((SECONDS - start)) s"
[ "$failures" -eq 0 ]
