#!/bin/bash
# What appending a trace costs as the project grows: the same `headlens-cli trace` (the bundled
# adder model, a fixed prompt, every large dataset stored) into a project holding one small
# trace, and into one that also holds SIZE_GB of other data, in turns (a dataset the bench adds with
# h5py; HeadLens keeps what it does not know). Each append is timed REPEAT times from outside
# and the medians printed, with the ratio big / small. Run by hand; it prints figures and asserts
# nothing.
#
# usage: tests/bench/append_bench.sh [WORKDIR]          (default WORKDIR /tmp/headlens-append)
# environment: CLI=path (default build/app/cli/headlens-cli), PYTHON=path with h5py (default
#   /usr/bin/python3), SIZE_GB=5, REPEAT=5, KEEP=1 keeps WORKDIR's projects.

set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLI=${CLI:-$ROOT/build/app/cli/headlens-cli}
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=${1:-/tmp/headlens-append}
SIZE_GB=${SIZE_GB:-5}
REPEAT=${REPEAT:-5}
MODEL=$ROOT/resources/examples/adder

mkdir -p "$WORK"
small=$WORK/small.hlproj
big=$WORK/big.hlproj
rm -f "$small" "$big"
"$CLI" trace "$MODEL" --prompt "587+469=" -o "$small" --name first >/dev/null
cp "$small" "$big"
echo "append-bench: writing ${SIZE_GB} GB into $big"
"$PYTHON" - "$big" "$SIZE_GB" <<'EOF'
import sys
import h5py
import numpy as np
path, gb = sys.argv[1], float(sys.argv[2])
rows = int(gb * 1e9 / (1 << 20))  # rows of 1 MiB
block = np.random.default_rng(0).standard_normal((64, 1 << 18)).astype(np.float32)
with h5py.File(path, "a") as f:
    d = f.create_dataset("bench_bulk", shape=(rows, 1 << 18), dtype=np.float32,
                         chunks=(16, 1 << 18))
    for r in range(0, rows, 64):
        n = min(64, rows - r)
        d[r:r + n] = block[:n]
EOF
ls -l "$big" | awk '{printf "append-bench: %s is %.2f GB\n", $9, $5 / 1e9}'

# Wall time of one append of a new trace to $1, named $2.
append_once() {
    local start end
    start=$(date +%s.%N)
    "$CLI" trace "$MODEL" --prompt "123+456=" -o "$1" --name "$2" --store-z \
        --residuals f32 --attention f32 >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# In turns, so that a machine whose speed drifts skews neither side.
small_times=() big_times=()
for i in $(seq 1 "$REPEAT"); do
    small_times+=("$(append_once "$small" "run-$i")")
    big_times+=("$(append_once "$big" "run-$i")")
done
t_small=$(printf '%s\n' "${small_times[@]}" | median)
t_big=$(printf '%s\n' "${big_times[@]}" | median)
printf 'append-bench: append to a %.2f GB project: %.3f s (median of %d: %s)\n' \
    "$(stat -c %s "$small" | awk '{print $1 / 1e9}')" "$t_small" "$REPEAT" "${small_times[*]}"
printf 'append-bench: append to a %.2f GB project: %.3f s (median of %d: %s)\n' \
    "$(stat -c %s "$big" | awk '{print $1 / 1e9}')" "$t_big" "$REPEAT" "${big_times[*]}"
printf 'append-bench: ratio big / small: %.2f\n' "$(echo "$t_big / $t_small" | bc -l)"
"$CLI" info "$big" | head -3
[ -n "${KEEP:-}" ] || rm -f "$small" "$big"
