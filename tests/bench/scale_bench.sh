#!/bin/bash
# Scale figures for headlens-cli on checkpoints of real models' shapes (random weights, written
# by make_checkpoint.py): `bench` at two prompt lengths and two compute dtypes, then a
# default-options `trace` measured from outside (wall time, peak RSS, and the peak anonymous RSS,
# i.e. not counting the memory-mapped model file), and, where this machine allows it, the same
# trace inside a memory cgroup with a hard limit. Run by hand; it prints figures and asserts
# nothing.
#
# usage: tests/bench/scale_bench.sh [WORKDIR]          (default WORKDIR /tmp/headlens-scale)
#
# environment (all optional):
#   CLI=path            headlens-cli to measure (default build/app/cli/headlens-cli of this repo)
#   PYTHON=path         python with numpy for make_checkpoint.py (default /usr/bin/python3)
#   WITH_F32=1          also a Llama-2-7B-shaped checkpoint stored in f32 (7.5 GB more disk)
#   SMALL=1             the small CI shape instead of the real ones (a smoke run of this script:
#                       small-2L-bf16 takes the YI_* settings, small-2L-f32 with WITH_F32 LLAMA_*)
#   BENCH_TOKENS="128 1024"  BENCH_DTYPES="f32 bf16"  BENCH_REPEAT=1 (bench's --repeat)
#   YI_TRACE_TOKENS=1024  LLAMA_TRACE_TOKENS=256     prompt lengths of the measured traces
#   YI_LIMIT=4G  LLAMA_LIMIT=2.5G   cgroup memory limits (G/M decimal, Gi/Mi binary, or bytes)
#   THREADS=N           pass --threads N to every command
#   SKIP_BENCH=1  SKIP_TRACE=1  SKIP_CGROUP=1        leave a part out
#   DROP_CACHES=1       (root) drop the page cache before each limited run, so the model file's
#                       pages are read, and charged, inside the limited cgroup
#   KEEP_PROJECTS=1     keep the traced .hlproj files (by default deleted once measured)
#
# The traces give no --dtype, so they compute in f32 (the CLI's default) whatever is stored.
# Checkpoints live in WORKDIR/models (generated when absent: a folder counts as present when its
# config.json exists, which make_checkpoint.py writes last); logs of every run in WORKDIR/logs.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLI=${CLI:-$ROOT/build/app/cli/headlens-cli}
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=${1:-/tmp/headlens-scale}
BENCH_TOKENS=${BENCH_TOKENS:-128 1024}
BENCH_DTYPES=${BENCH_DTYPES:-f32 bf16}
BENCH_REPEAT=${BENCH_REPEAT:-1}
YI_TRACE_TOKENS=${YI_TRACE_TOKENS:-1024}
LLAMA_TRACE_TOKENS=${LLAMA_TRACE_TOKENS:-256}
YI_LIMIT=${YI_LIMIT:-4G}
LLAMA_LIMIT=${LLAMA_LIMIT:-2.5G}
THREADS=${THREADS:-}

if [ ! -x "$CLI" ]; then
    echo "scale_bench: no executable headlens-cli at $CLI (set CLI=...)" >&2
    exit 2
fi
if [ ! -x /usr/bin/time ]; then
    echo "scale_bench: needs GNU time at /usr/bin/time (Debian package 'time')" >&2
    exit 2
fi
mkdir -p "$WORK/models" "$WORK/logs" "$WORK/out" || exit 2
CLI=$(cd "$(dirname "$CLI")" && pwd)/$(basename "$CLI")

# "4G" -> 4000000000, "2.5Gi" -> 2684354560, "123" -> 123
to_bytes() {
    awk -v s="$1" 'BEGIN {
        m = 1; n = s
        if (sub(/Gi$/, "", n)) m = 1024 ^ 3; else if (sub(/Mi$/, "", n)) m = 1024 ^ 2;
        else if (sub(/G$/, "", n)) m = 1e9; else if (sub(/M$/, "", n)) m = 1e6;
        printf "%.0f\n", n * m }'
}
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k < 0) print "-"; else printf "%.0f\n", k / 1024 }'; }

# The checkpoints: label shape layers dtype trace_tokens limit
MODELS=()
if [ "${SMALL:-0}" = 1 ]; then
    MODELS+=("small-2L-bf16 small 2 bf16 ${YI_TRACE_TOKENS} $(to_bytes "${YI_LIMIT}")")
    [ "${WITH_F32:-0}" = 1 ] &&
        MODELS+=("small-2L-f32 small 2 f32 ${LLAMA_TRACE_TOKENS} $(to_bytes "${LLAMA_LIMIT}")")
else
    MODELS+=("yi-34b-4L-bf16 yi-34b 4 bf16 ${YI_TRACE_TOKENS} $(to_bytes "${YI_LIMIT}")")
    MODELS+=("llama2-7b-8L-bf16 llama2-7b 8 bf16 ${LLAMA_TRACE_TOKENS} $(to_bytes "${LLAMA_LIMIT}")")
    [ "${WITH_F32:-0}" = 1 ] &&
        MODELS+=("llama2-7b-8L-f32 llama2-7b 8 f32 ${LLAMA_TRACE_TOKENS} $(to_bytes "${LLAMA_LIMIT}")")
fi

echo "== headlens scale bench: $(date -u '+%Y-%m-%d %H:%M:%S') UTC"
echo "cli      $CLI"
echo "git      $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' (+ uncommitted changes)')"
echo "machine  $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
echo "work     $WORK ($(df -h --output=avail "$WORK" | tail -1 | tr -d ' ') free)"

# ---------------------------------------------------------------- memory cgroup, where possible
CG_KIND=""   # v1 | v2 | "" (none)
CG_PARENT=""
CG_WHY=""
detect_cgroup() {
    if [ "${SKIP_CGROUP:-0}" = 1 ]; then CG_WHY="SKIP_CGROUP=1"; return; fi
    if [ "$(id -u)" != 0 ]; then CG_WHY="not root"; return; fi
    local line path
    # cgroup v1 memory controller (hybrid or legacy hierarchy), e.g. "4:memory:/some/path"
    if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
        line=$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' /proc/self/cgroup | head -1)
        path=${line#*:*:}
        if [ -n "$line" ] && [ -d "/sys/fs/cgroup/memory$path" ]; then
            CG_KIND=v1
            CG_PARENT="/sys/fs/cgroup/memory$path"
            return
        fi
    fi
    # cgroup v2 (unified hierarchy at /sys/fs/cgroup), "0::/some/path"
    if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
        line=$(grep -E '^0::' /proc/self/cgroup | head -1)
        path=${line#0::}
        local dir="/sys/fs/cgroup${path%/}"
        if [ -d "$dir" ]; then
            # A child gets memory.max only when its parent delegates the controller; a non-root
            # cgroup holding processes cannot (the no-internal-processes rule).
            if ! grep -qw memory "$dir/cgroup.subtree_control" 2>/dev/null; then
                echo +memory >"$dir/cgroup.subtree_control" 2>/dev/null
            fi
            if grep -qw memory "$dir/cgroup.subtree_control" 2>/dev/null; then
                CG_KIND=v2
                CG_PARENT=$dir
                return
            fi
            CG_WHY="cgroup v2 at $dir does not delegate the memory controller"
            return
        fi
    fi
    CG_WHY="no memory cgroup controller found (mount | grep cgroup)"
}

CG_DIR=""
cg_make() { # LIMIT_BYTES -> CG_DIR
    CG_DIR="$CG_PARENT/headlens-scale-$$"
    rmdir "$CG_DIR" 2>/dev/null
    if ! mkdir "$CG_DIR"; then CG_DIR=""; return 1; fi
    if [ "$CG_KIND" = v1 ]; then
        echo "$1" >"$CG_DIR/memory.limit_in_bytes" || { cg_remove; return 1; }
        # With swap, also cap memory + swap (must come after the memory limit).
        [ -f "$CG_DIR/memory.memsw.limit_in_bytes" ] &&
            echo "$1" >"$CG_DIR/memory.memsw.limit_in_bytes" 2>/dev/null
    else
        echo "$1" >"$CG_DIR/memory.max" || { cg_remove; return 1; }
        [ -f "$CG_DIR/memory.swap.max" ] && echo 0 >"$CG_DIR/memory.swap.max" 2>/dev/null
    fi
    return 0
}
cg_remove() {
    [ -n "$CG_DIR" ] || return 0
    local _try
    for _try in 1 2 3 4 5 6 7 8 9 10; do
        rmdir "$CG_DIR" 2>/dev/null && { CG_DIR=""; return 0; }
        sleep 0.5
    done
    echo "scale_bench: could not remove cgroup $CG_DIR" >&2
}
cg_report() { # -> "peak_bytes oom_kills"
    local peak="-" ooms="-"
    if [ "$CG_KIND" = v1 ]; then
        peak=$(cat "$CG_DIR/memory.max_usage_in_bytes" 2>/dev/null || echo -)
        ooms=$(awk '/^oom_kill / {print $2}' "$CG_DIR/memory.oom_control" 2>/dev/null)
    else
        peak=$(cat "$CG_DIR/memory.peak" 2>/dev/null || echo -)
        ooms=$(awk '/^oom_kill / {print $2}' "$CG_DIR/memory.events" 2>/dev/null)
    fi
    echo "${peak:--} ${ooms:--}"
}
# Commands started with & by a script ignore SIGINT: on ^C or TERM, end the measured one (only
# it and its /usr/bin/time, by their ids), then leave no cgroup behind.
R_TPID="" R_PID=""
on_signal() {
    if [ -n "$R_PID" ]; then
        kill -TERM "$R_PID" 2>/dev/null # /usr/bin/time then reaps it and ends
    elif [ -n "$R_TPID" ]; then
        kill -TERM "$R_TPID" 2>/dev/null
    fi
    [ -n "$R_TPID" ] && wait "$R_TPID" 2>/dev/null
    exit 130
}
trap 'cg_remove' EXIT
trap on_signal INT TERM

# ---------------------------------------------------------------- one measured run
# run_measured LOG CGDIR CMD... : runs CMD under /usr/bin/time -v (in cgroup CGDIR when not
# empty), sampling /proc/PID/status every 0.2 s. Sets R_RC R_WALL (s) R_MAXRSS R_ANON R_FILE (kB).
run_measured() {
    local log=$1 cg=$2
    shift 2
    : >"$log.time"
    if [ -n "$cg" ]; then
        # $BASHPID, not $$: $$ in a subshell is still this script's own id.
        ( echo "$BASHPID" >"$cg/cgroup.procs" || exit 125
          exec /usr/bin/time -v -o "$log.time" "$@" ) >"$log" 2>&1 &
    else
        ( exec /usr/bin/time -v -o "$log.time" "$@" ) >"$log" 2>&1 &
    fi
    local tpid=$! pid="" st k v _
    R_TPID=$tpid R_PID=""
    R_ANON=0 R_FILE=0
    while :; do
        read -r _ _ st _ 2>/dev/null <"/proc/$tpid/stat" || break
        [ "$st" = Z ] && break
        [ -n "$pid" ] || { pid=$(pgrep -P "$tpid" | head -1); R_PID=$pid; }
        if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
            while read -r k v _; do
                case $k in
                RssAnon:) [ "$v" -gt "$R_ANON" ] && R_ANON=$v ;;
                RssFile:) [ "$v" -gt "$R_FILE" ] && R_FILE=$v ;;
                esac
            done 2>/dev/null <"/proc/$pid/status"
        fi
        sleep 0.2
    done
    wait "$tpid"
    R_RC=$?
    R_TPID="" R_PID=""
    R_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$log.time")
    R_MAXRSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.time")
    R_WALL=${R_WALL:--} R_MAXRSS=${R_MAXRSS:--}
}

threads_opt=()
[ -n "$THREADS" ] && threads_opt=(--threads "$THREADS")

# ---------------------------------------------------------------- checkpoints
echo
echo "== checkpoints"
for m in "${MODELS[@]}"; do
    read -r label shape layers dtype _ _ <<<"$m"
    dir="$WORK/models/$label"
    if [ -f "$dir/config.json" ]; then
        echo "$label: present ($(du -sh "$dir" | cut -f1))"
        continue
    fi
    echo "$label: generating ($shape, $layers layers, $dtype) ..."
    t0=$(date +%s.%N)
    if ! "$PYTHON" "$HERE/make_checkpoint.py" --shape "$shape" --layers "$layers" \
            --dtype "$dtype" -o "$dir" 2>"$WORK/logs/make-$label.log"; then
        echo "$label: make_checkpoint.py failed, see $WORK/logs/make-$label.log"
        tail -3 "$WORK/logs/make-$label.log"
        continue
    fi
    tail -1 "$WORK/logs/make-$label.log"
    echo "$label: $(du -sh "$dir" | cut -f1) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
done

SUMMARY_BENCH=()
# bench's "plain   0.0035 /   0.0035 ..." -> the wall figure
fig() { awk -v k="$1" '$1 == k && $3 == "/" {print $2; exit}' "$log"; }
SUMMARY_TRACE=()

# ---------------------------------------------------------------- bench
if [ "${SKIP_BENCH:-0}" != 1 ]; then
    echo
    echo "== bench (--repeat $BENCH_REPEAT)"
    for m in "${MODELS[@]}"; do
        read -r label _ _ _ _ _ <<<"$m"
        dir="$WORK/models/$label"
        [ -f "$dir/config.json" ] || continue
        for T in $BENCH_TOKENS; do
            for dt in $BENCH_DTYPES; do
                log="$WORK/logs/bench-$label-$T-$dt.log"
                echo "-- $CLI bench $dir --tokens $T --dtype $dt --repeat $BENCH_REPEAT ${threads_opt[*]}"
                run_measured "$log" "" "$CLI" bench "$dir" --tokens "$T" --dtype "$dt" \
                    --repeat "$BENCH_REPEAT" "${threads_opt[@]}"
                cat "$log"
                echo "   (outside: rc $R_RC, wall $R_WALL s, max RSS $(mib "$R_MAXRSS") MiB, peak RssAnon $(mib "$R_ANON") MiB, peak RssFile $(mib "$R_FILE") MiB)"
                load=$(awk '/^weights/ {for (i = 1; i < NF; i++) if ($i == "load") {print $(i + 1); exit}}' "$log")
                peak=$(awk '/^rss/ {for (i = 1; i < NF; i++) if ($i == "peak") {print $(i + 1); exit}}' "$log")
                SUMMARY_BENCH+=("$(printf '%-20s %6s %-5s %4s %8s %9s %9s %9s %9s %9s %9s' \
                    "$label" "$T" "$dt" "$R_RC" "${load:--}" "$(fig plain)" "$(fig capture)" \
                    "$(fig lens)" "$(fig trace)" "${peak:--}" "$(mib "$R_ANON")")")
            done
        done
    done
fi

# ---------------------------------------------------------------- trace, free and limited
token_ids() { # N VOCAB -> N ids in [3, VOCAB), fixed seed
    "$PYTHON" -c 'import random, sys
n, v = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(1234)
print(",".join(str(r.randrange(3, v)) for _ in range(n)))' "$1" "$2"
}

trace_once() { # label dir tokens cgdir kind
    local label=$1 dir=$2 T=$3 cg=$4 kind=$5
    local vocab ids out log size cgpeak="-" ooms="-" last
    vocab=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$dir/config.json")
    ids=$(token_ids "$T" "$vocab")
    out="$WORK/out/$label-$T-$kind.hlproj"
    log="$WORK/logs/trace-$label-$T-$kind.log"
    rm -f "$out"
    echo "-- [$kind] $CLI trace $dir --token-ids <$T random ids in [3, $vocab)> -o $out --force ${threads_opt[*]}"
    run_measured "$log" "$cg" "$CLI" trace "$dir" --token-ids "$ids" -o "$out" --force "${threads_opt[@]}"
    [ -n "$cg" ] && read -r cgpeak ooms <<<"$(cg_report)"
    tail -5 "$log" | sed 's/^/   /'
    size=$( [ -f "$out" ] && du -m "$out" | cut -f1 || echo -)
    echo "   rc $R_RC, wall $R_WALL s, Maximum resident set size $R_MAXRSS kB ($(mib "$R_MAXRSS") MiB), peak RssAnon $R_ANON kB ($(mib "$R_ANON") MiB), peak RssFile $R_FILE kB ($(mib "$R_FILE") MiB), project ${size} MiB"
    if [ -n "$cg" ]; then
        echo "   cgroup: peak usage $(awk -v b="$cgpeak" 'BEGIN {if (b == "-") print "-"; else printf "%.0f", b / 1048576}') MiB, oom kills $ooms"
    fi
    [ "${KEEP_PROJECTS:-0}" = 1 ] || rm -f "$out"
    last=$(grep -v '^\s*$' "$log" | tail -1 | cut -c1-90)
    SUMMARY_TRACE+=("$(printf '%-20s %5s %-16s %4s %8s %8s %8s %8s %8s %7s  %s' \
        "$label" "$T" "$kind" "$R_RC" "$R_WALL" "$(mib "$R_MAXRSS")" "$(mib "$R_ANON")" \
        "$(mib "$R_FILE")" "$(awk -v b="$cgpeak" 'BEGIN {if (b == "-") print "-"; else printf "%.0f", b / 1048576}')" \
        "$size" "$last")")
}

if [ "${SKIP_TRACE:-0}" != 1 ]; then
    detect_cgroup
    echo
    if [ -n "$CG_KIND" ]; then
        echo "== trace (memory cgroup $CG_KIND under $CG_PARENT)"
    else
        echo "== trace (no limited runs: $CG_WHY)"
    fi
    for m in "${MODELS[@]}"; do
        read -r label _ _ _ T limit <<<"$m"
        dir="$WORK/models/$label"
        [ -f "$dir/config.json" ] || continue
        trace_once "$label" "$dir" "$T" "" free
        if [ -n "$CG_KIND" ]; then
            if [ "${DROP_CACHES:-0}" = 1 ]; then
                sync
                echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || echo "   (could not drop caches)"
            fi
            if cg_make "$limit"; then
                trace_once "$label" "$dir" "$T" "$CG_DIR" \
                    "limit-$(awk -v b="$limit" 'BEGIN {printf "%.2gGB", b / 1e9}')"
                cg_remove
            else
                echo "   could not make a cgroup with a $limit byte limit under $CG_PARENT"
            fi
        fi
    done
fi

# ---------------------------------------------------------------- summary
echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M:%S') UTC)"
if [ ${#SUMMARY_BENCH[@]} -gt 0 ]; then
    echo "bench: wall seconds (best of $BENCH_REPEAT); peak = bench's own peak RSS, MiB; anon = peak RssAnon sampled outside, MiB"
    printf '%-20s %6s %-5s %4s %8s %9s %9s %9s %9s %9s %9s\n' \
        model tokens dtype rc load plain capture lens trace peakRSS anon
    printf '%s\n' "${SUMMARY_BENCH[@]}"
    echo
fi
if [ ${#SUMMARY_TRACE[@]} -gt 0 ]; then
    echo "trace: default options; wall s; maxRSS (time -v), anon (peak RssAnon), file (peak RssFile), cgroup peak, project: MiB"
    printf '%-20s %5s %-16s %4s %8s %8s %8s %8s %8s %7s  %s\n' \
        model tokens run rc wall maxRSS anon file cgroup proj "last line"
    printf '%s\n' "${SUMMARY_TRACE[@]}"
fi
[ -z "$CG_KIND" ] && [ "${SKIP_TRACE:-0}" != 1 ] && echo "(limited runs skipped: $CG_WHY)"
echo "logs in $WORK/logs"
exit 0
