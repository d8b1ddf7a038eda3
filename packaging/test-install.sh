#!/usr/bin/env bash
# Installs the HeadLens packages into fresh Debian 12 roots and runs them: the check before
# a release (by hand, as root; not in CI: it downloads ~1 GB).
#   packaging/test-install.sh [--debs DIR] [--work DIR] [--mirror URL] [--fresh] [--keep]
#                             [--no-screenshot]
#     --debs DIR   the .deb files (default: build-deb/packages, from packaging/build-deb.sh)
#     --work DIR   where the roots go (default: /var/tmp/headlens-install; needs ~3 GB)
#     --mirror URL Debian mirror (default: the first Debian URI in /etc/apt/sources.list*)
#     --fresh      make the debootstrap base again even if one is cached in --work
#     --keep       keep the two roots afterwards (to look around: chroot DIR/full bash)
#     --no-screenshot  skip the screenshot of the workbench under Xvfb in the viewer root
#     --model PATH [--tokenizer PATH] [--prompt TEXT]
#                  trace this model (a Hugging Face folder or a llama2.c .bin, copied into the
#                  root) instead of the first example model
# Two roots are copied from one `debootstrap --variant=minbase bookworm` base:
#   full    apt installs headlens, headlens-engine and headlens-examples (so Depends and
#           Recommends resolve from the archive); runs headlens-cli --version, traces the
#           example model, reads the project back, and starts headlens offscreen on it.
#   viewer  apt installs headlens (and the examples) with --no-install-recommends; checks that
#           no libtorch came with it, that the Italian translation and the MIME type are in
#           place, and opens the example project in headlens offscreen (and under Xvfb, with a
#           screenshot written to --work/viewer-screenshot.png).
# Prints the download and installed sizes and the time of every step.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
args=("$@")
debs=$src/build-deb/packages work=/var/tmp/headlens-install mirror="" fresh=0 keep=0 shot=1
model_arg="" tokenizer_arg="" prompt_arg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --debs) debs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --keep) keep=1; shift ;;
    --no-screenshot) shot=0; shift ;;
    --model) model_arg=$(realpath "$2"); shift 2 ;;
    --tokenizer) tokenizer_arg=$(realpath "$2"); shift 2 ;;
    --prompt) prompt_arg=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "test-install.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "test-install.sh: run as root (debootstrap, chroot, mount)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "test-install.sh: apt-get install debootstrap" >&2; exit 2; }
debs=$(cd "$debs" && pwd)
first() { find "$debs" -maxdepth 1 -name "$1" | sort | tail -1; }
gui_deb=$(first 'headlens_*_amd64.deb')
engine_deb=$(first 'headlens-engine_*_amd64.deb')
examples_deb=$(first 'headlens-examples_*_all.deb')
python_deb=$(first 'python3-headlens_*_all.deb')
[ -n "$engine_deb" ] || { echo "test-install.sh: no headlens-engine .deb in $debs (run packaging/build-deb.sh)" >&2; exit 2; }

# Every mount below lives in a private mount namespace: when the script ends, however it
# ends, they are gone, and the host's mounts are never touched.
if [ -z "${HEADLENS_IN_NAMESPACE:-}" ]; then
  export HEADLENS_IN_NAMESPACE=1
  exec unshare --mount --propagation private "$0" "${args[@]}"
fi

if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
           grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi
mkdir -p "$work"
log=$work/test-install.log
: >"$log"
say() { echo "[$(date +%T)] $*" | tee -a "$log"; }
failures=0
check() {   # check DESCRIPTION COMMAND...: runs it, says ok or FAIL (and sets last_ok)
  local what=$1
  shift
  if "$@" >>"$log" 2>&1; then say "ok:   $what"; last_ok=1; return; fi
  say "FAIL: $what (see $log)"
  failures=$((failures + 1))
  last_ok=0
}
t0=$SECONDS
step() { say "--- $* ($((SECONDS - t0)) s so far)"; }

# new_root NAME: a copy of the base with /proc, a private /tmp and /dev/shm, and DNS, ready
# for apt. debootstrap made the device nodes; the host's /dev is not bound in.
new_root() {
  local root=$work/$1
  drop_root "$root"
  cp -a "$base" "$root"
  mount -t proc proc "$root/proc"
  mount -t tmpfs tmpfs "$root/tmp"
  mkdir -p "$root/dev/shm"
  mount -t tmpfs tmpfs "$root/dev/shm"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" \
    >"$root/etc/apt/sources.list"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"   # start no services
  chmod +x "$root/usr/sbin/policy-rc.d"
  mkdir -p "$root/tmp/debs"
  cp "$debs"/*.deb "$root/tmp/debs/"
}
# drop_root DIR: unmounts what new_root mounted, then deletes the root, never crossing into
# another file system.
drop_root() {
  local root=$1
  [ -d "$root" ] || return 0
  for m in dev/shm tmp proc; do
    if mountpoint -q "$root/$m"; then umount -l "$root/$m"; fi
  done
  rm -rf --one-file-system "$root"
}
# run_in ROOT COMMAND: runs a shell command in the root, with a clean environment.
run_in() {
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive /bin/bash -c "$*"
}
# apt_install ROOT APT-ARGS...: apt-get install in the root; says what it downloaded and took.
apt_install() {
  local root=$1 start=$SECONDS before after
  shift
  before=$(du -smx "$root" | cut -f1)
  run_in "$root" "apt-get update -qq" >>"$log" 2>&1
  run_in "$root" "apt-get install -y $*" >"$root.apt.log" 2>&1 ||
    { tail -30 "$root.apt.log"; say "FAIL: apt-get install $*"; exit 1; }
  cat "$root.apt.log" >>"$log"
  run_in "$root" "apt-get clean"
  after=$(du -smx "$root" | cut -f1)
  say "apt-get install $*: $(grep -oE 'Need to get [^ ]+ [kMG]?B' "$root.apt.log" | head -1 | sed 's/Need to get //') downloaded," \
      "$(grep -oE '[0-9]+ newly installed' "$root.apt.log" | cut -d' ' -f1) packages, +$((after - before)) MB on disk, $((SECONDS - start)) s"
}
# root_alone_with NAME DEB: a new root with DEB and the examples, without Recommends.
root_alone_with() {
  local pkgs
  new_root "$1"
  pkgs="/tmp/debs/$(basename "$2")"
  [ -n "$examples_deb" ] && pkgs="$pkgs /tmp/debs/$(basename "$examples_deb")"
  apt_install "$work/$1" "--no-install-recommends $pkgs"
}
cleanup() {
  if [ "$keep" = 0 ]; then drop_root "$work/full"; drop_root "$work/viewer"; drop_root "$work/python"; fi
}
trap cleanup EXIT

# --- the base: debootstrap once, cached -------------------------------------------------
base=$work/base
if [ "$fresh" = 1 ] || [ ! -x "$base/usr/bin/apt-get" ]; then
  step "debootstrap bookworm from $mirror"
  drop_root "$base"
  start=$SECONDS
  debootstrap --variant=minbase bookworm "$base" "$mirror" >>"$log" 2>&1 ||
    { tail -20 "$log"; echo "test-install.sh: debootstrap failed (mirror $mirror reachable?)"; exit 1; }
  rm -f "$base"/var/cache/apt/archives/*.deb
  say "base: $(du -sm "$base" | cut -f1) MB in $((SECONDS - start)) s"
else
  say "base: reusing $base (--fresh to make it again)"
fi

# --- full: workbench, engine and examples --------------------------------------------------
step "root 'full': $(for d in "$engine_deb" "$gui_deb" "$examples_deb" "$python_deb"; do if [ -n "$d" ]; then basename "$d"; fi; done | tr '\n' ' ')"
new_root full
full=$work/full
pkgs="/tmp/debs/$(basename "$engine_deb")"
[ -n "$gui_deb" ] && pkgs="$pkgs /tmp/debs/$(basename "$gui_deb")"
[ -n "$examples_deb" ] && pkgs="$pkgs /tmp/debs/$(basename "$examples_deb")"
[ -n "$python_deb" ] && pkgs="$pkgs /tmp/debs/$(basename "$python_deb")"
apt_install "$full" "$pkgs"
check "headlens-cli --version" run_in "$full" "headlens-cli --version"
check "libblas.so.3 is OpenBLAS, not the reference BLAS" \
  run_in "$full" "update-alternatives --query libblas.so.3-x86_64-linux-gnu | grep '^Value:.*openblas'"
check "man page headlens-cli(1) installed" run_in "$full" "test -f /usr/share/man/man1/headlens-cli.1.gz"

# The model to trace: --model, or the example model facts (asked the README's question), or
# the first example model folder. The prompt: --prompt, or the folder's prompt.txt, or else a
# few token ids (valid for any vocabulary).
targs=()
if [ -n "$model_arg" ]; then
  mkdir -p "$full/tmp/model"
  cp -r "$model_arg" "$full/tmp/model/"
  model=/tmp/model/$(basename "$model_arg")
  if [ -n "$tokenizer_arg" ]; then
    cp "$tokenizer_arg" "$full/tmp/model/"
    targs=(--tokenizer "/tmp/model/$(basename "$tokenizer_arg")")
  fi
elif [ -f "$full/usr/share/headlens/examples/facts/config.json" ]; then
  model=/usr/share/headlens/examples/facts   # the fact the README's walkthrough follows
  prompt_arg=${prompt_arg:-The capital of Veloria is}
else
  model=$(run_in "$full" "find /usr/share/headlens/examples -name config.json -printf '%h\n' 2>/dev/null | sort | head -1")
fi
traced=""
if [ -n "$model" ]; then
  if [ -n "$prompt_arg" ]; then printf '%s' "$prompt_arg" >"$full/tmp/prompt.txt"
  elif [ -f "$full$model/prompt.txt" ]; then cp "$full$model/prompt.txt" "$full/tmp/prompt.txt"; fi
  if [ -f "$full/tmp/prompt.txt" ]; then targs+=(--prompt-file /tmp/prompt.txt); else targs+=(--token-ids '1,2,3,4,5'); fi
  start=$SECONDS
  check "trace $model (${targs[*]})" run_in "$full" \
    "headlens-cli trace '$model' ${targs[*]} --generate 8 -o /tmp/example-trace.hlproj"
  say "trace took $((SECONDS - start)) s"
  if [ "$model" = /usr/share/headlens/examples/facts ]; then   # right answers, not just answers
    check "the example model facts answers 'The capital of Veloria is' with Drumm" run_in "$full" \
      "headlens-cli generate $model --prompt 'The capital of Veloria is' -n 2 | tee /dev/stderr | grep -q Drumm"
  fi
  check "read the traced project back (headlens-cli info)" run_in "$full" "headlens-cli info /tmp/example-trace.hlproj"
  if [ "$last_ok" = 1 ]; then
    traced=/tmp/example-trace.hlproj
    run_in "$full" "headlens-cli info $traced" | sed 's/^/    /' | tee -a "$log"
    if [ -n "$python_deb" ]; then
      check "python3-headlens reads the traced project (its lens grid)" run_in "$full" \
        "python3 -c 'import headlens; print(next(iter(headlens.open(\"$traced\").traces.values())).grid())'"
    fi
  fi
else
  say "FAIL: no model to trace: no headlens-examples package and no --model"
  failures=$((failures + 1))
fi

# headlens offscreen: --version, then the traced project for 8 s. `timeout` ending it (124)
# means it ran; Qt's complaints (a missing platform plugin, a library) fail the check.
if [ -n "$gui_deb" ]; then
  check "headlens --version (offscreen)" run_in "$full" "QT_QPA_PLATFORM=offscreen headlens --version"
  check "headlens starts offscreen${traced:+ on $traced} and stays up 8 s" run_in "$full" \
    "QT_QPA_PLATFORM=offscreen timeout 8 headlens $traced >/tmp/gui.log 2>&1; rc=\$?; cat /tmp/gui.log;
     [ \$rc -eq 124 ] && ! grep -qiE 'could not (load|find)|cannot load library|error while loading' /tmp/gui.log"
fi

# --- viewer: the workbench alone, without libtorch --------------------------------------------
if [ -n "$gui_deb" ]; then
  step "root 'viewer': headlens alone (--no-install-recommends)"
  root_alone_with viewer "$gui_deb"
  viewer=$work/viewer
  check "no libtorch in the viewer root" run_in "$viewer" "! dpkg -l | grep -E '^ii +(libtorch|libc10|libopencv)'"
  check "headlens-engine not installed" run_in "$viewer" "! dpkg -l headlens-engine 2>/dev/null | grep -q '^ii'"
  check "every library of headlens resolves" run_in "$viewer" "! ldd /usr/bin/headlens | grep 'not found'"
  check "headlens --version (offscreen)" run_in "$viewer" "QT_QPA_PLATFORM=offscreen headlens --version"
  check "the Italian translation loads (LANG=it_IT.UTF-8 headlens --help)" run_in "$viewer" \
    "LANG=it_IT.UTF-8 QT_QPA_PLATFORM=offscreen headlens --help | grep 'Progetti da aprire'"
  check "the MIME type application/x-headlens-project is registered" run_in "$viewer" \
    "test -f /usr/share/mime/application/x-headlens-project.xml"
  # The example project, or else the project the engine traced in the other root.
  example=$(run_in "$viewer" "find /usr/share/headlens/examples -name '*.hlproj' 2>/dev/null | sort | head -1")
  if [ -z "$example" ] && [ -n "$traced" ]; then
    cp "$full$traced" "$viewer/tmp/traced-elsewhere.hlproj"
    example=/tmp/traced-elsewhere.hlproj
    say "no example project: opening the project traced in the root 'full' instead"
  fi
  if [ -n "$example" ]; then
    check "headlens opens $example offscreen and stays up 8 s" run_in "$viewer" \
      "QT_QPA_PLATFORM=offscreen timeout 8 headlens '$example' >/tmp/gui.log 2>&1; rc=\$?; cat /tmp/gui.log;
       [ \$rc -eq 124 ] && ! grep -qiE 'could not (load|find)|cannot load library|error while loading|cannot open|not a' /tmp/gui.log"
    if [ "$shot" = 1 ]; then
      # After the checks above, so these packages cannot have satisfied headlens' dependencies.
      apt_install "$viewer" "--no-install-recommends xvfb xauth imagemagick fonts-dejavu-core"
      run_in "$viewer" "xvfb-run -a -s '-screen 0 1600x1000x24' sh -c \"headlens '$example' & sleep 8;
          import -window root /tmp/shot.png; kill %1\"" >>"$log" 2>&1 || true
      if [ -f "$viewer/tmp/shot.png" ]; then
        cp "$viewer/tmp/shot.png" "$work/viewer-screenshot.png"
        say "screenshot of the workbench with $example: $work/viewer-screenshot.png"
      else
        say "no screenshot (see $log)"
      fi
    fi
  else
    say "FAIL: no project to open (no example project, nothing traced)"
    failures=$((failures + 1))
  fi
fi

# --- python: the Python reader alone, with Debian's Python ---------------------------------
if [ -n "$python_deb" ]; then
  step "root 'python': python3-headlens alone (--no-install-recommends)"
  root_alone_with python "$python_deb"
  py=$work/python
  check "no libtorch, no Qt and no HeadLens program in the python root" run_in "$py" \
    "! dpkg -l | grep -E '^ii +(libtorch|libc10|libqt6|headlens |headlens-engine)'"
  check "the package was byte-compiled (py3compile)" run_in "$py" \
    "ls /usr/lib/python3/dist-packages/headlens/__pycache__/project.*.pyc"
  project=$(run_in "$py" "find /usr/share/headlens/examples -name '*.hlproj' 2>/dev/null | sort | head -1")
  if [ -n "$project" ]; then
    check "python3 reads $project: every trace's lens grid and one layer" run_in "$py" \
      "python3 -c 'import headlens
p = headlens.open(\"$project\")
for name, t in p.traces.items():
    g = t.grid()
    print(name, t.lens(\"resid_post\").ids[0].shape)
print(g)'"
    check "python3 refuses a file that is not a project, naming it" run_in "$py" \
      "python3 -c 'import headlens
try:
    headlens.open(\"/etc/hostname\")
except headlens.NotAProjectError as e:
    print(e); assert \"/etc/hostname\" in str(e)
else:
    raise SystemExit(\"opened /etc/hostname\")'"
    example=/usr/share/headlens/examples/notebook_example.py
    if [ -f "$py$example" ]; then
      # After the checks above, so matplotlib cannot have satisfied the reader's dependencies.
      apt_install "$py" "--no-install-recommends python3-matplotlib"
      check "the notebook example draws its charts (matplotlib, Agg)" run_in "$py" \
        "mkdir -p /tmp/charts && MPLBACKEND=Agg HEADLENS_EXAMPLE_OUT=/tmp/charts python3 $example >/dev/null &&
         ls /tmp/charts/*.png"
    fi
  else
    say "FAIL: no example project in the python root (headlens-examples missing?)"
    failures=$((failures + 1))
  fi
fi

say "test-install: $failures failure(s), $((SECONDS - t0)) s in all; log: $log"
[ "$failures" -eq 0 ]
