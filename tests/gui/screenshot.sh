#!/bin/sh
# Screenshots of the workbench on a real trace, for the README and for looking at.
#
#   screenshot.sh OUT_DIR HEADLENS HEADLENS_CLI [HL_MAKE_CHECKPOINT]
#
# HEADLENS_SCREENSHOT_SIZE (1600x1000) sets the screen, HEADLENS_SCREENSHOT_LANG (the system's)
# the workbench's language, e.g. it_IT.UTF-8.
#
# Traces the third-party model stories260K (../shared/models/stories260K beside the checkout,
# or $HEADLENS_SHARED_DIR/models/stories260K) with the engine; without it, a small random model
# written by hl-make-checkpoint. Then runs headlens under Xvfb (xvfb-run) and takes the screen
# with ImageMagick's `import -window root`. Settings and recovery files go to a temporary home,
# so the user's own are never touched. Exit status 77 when xvfb-run or import is missing.
set -eu

out=${1:?usage: screenshot.sh OUT_DIR HEADLENS HEADLENS_CLI [HL_MAKE_CHECKPOINT]}
headlens=${2:?headlens executable}
cli=${3:?headlens-cli executable}
make_checkpoint=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
shared=${HEADLENS_SHARED_DIR:-$here/../../../shared}
size=${HEADLENS_SCREENSHOT_SIZE:-1600x1000}
settle=${HEADLENS_SCREENSHOT_WAIT:-6}
lang=${HEADLENS_SCREENSHOT_LANG:-} # e.g. it_IT.UTF-8: the workbench in that language

command -v xvfb-run >/dev/null 2>&1 || { echo "screenshot.sh: xvfb-run is missing" >&2; exit 77; }
command -v import >/dev/null 2>&1 || { echo "screenshot.sh: import (ImageMagick) is missing" >&2; exit 77; }

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
project="$work/stories.hlproj"

model="$shared/models/stories260K"
if [ -f "$model/stories260K.bin" ] && [ -f "$model/tok512.bin" ]; then
    echo "screenshot.sh: tracing stories260K"
    "$cli" trace "$model/stories260K.bin" --tokenizer "$model/tok512.bin" \
        --prompt "Once upon a time, there was a little girl named Lily. She loved to play" \
        --generate 24 --name girl -o "$project" >/dev/null
    "$cli" trace "$model/stories260K.bin" --tokenizer "$model/tok512.bin" \
        --prompt "Once upon a time, there was a little boy named Tom. He loved to eat" \
        --generate 24 --name boy -o "$project" >/dev/null
    "$cli" heads "$model/stories260K.bin" "$project" --roles --tokenizer "$model/tok512.bin" \
        >/dev/null
    # Activation patching: which block carries "dog" (not "cat") to the last position, where
    # the model's next token starts " dog" (id 400) or " cat" (id 280).
    "$cli" patch "$model/stories260K.bin" --tokenizer "$model/tok512.bin" --name pets \
        --clean "Lily had a big dog. She loved her dog very much. Every day she played with her" \
        --corrupted "Lily had a big cat. She loved her cat very much. Every day she played with her" \
        --answer-id 400 --wrong-id 280 --heads -o "$project" >/dev/null
    first=girl second=boy select=3,18 head=2 patched=pets patchselect=4,27 patchhead=4
    # " Lily" (id 317), which position 13 ("named") predicts.
    follow=317 followselect=4,13
else
    [ -n "$make_checkpoint" ] || { echo "screenshot.sh: no stories260K and no hl-make-checkpoint" >&2; exit 1; }
    echo "screenshot.sh: stories260K is absent; tracing a random model"
    "$make_checkpoint" "$work/random" --layers 6 --d-model 128 --heads 4 --vocab 512 >/dev/null
    "$cli" trace "$work/random" --token-ids 1,17,42,99,7,256,300,12,8,77 --generate 20 \
        --name first -o "$project" >/dev/null
    "$cli" trace "$work/random" --token-ids 1,17,42,99,7,256,301,12,9,78 --generate 20 \
        --name second -o "$project" >/dev/null
    "$cli" patch "$work/random" --clean-ids 1,17,42,99,7,256,300,12,8,77 \
        --corrupted-ids 1,17,43,99,7,256,300,12,8,77 --answer-id 5 --wrong-id 6 --heads \
        --name patched -o "$project" >/dev/null
    first=first second=second select=4,12 head=1 patched=patched patchselect=5,9 patchhead=1
    follow=42 followselect=5,2
fi

# One screenshot: shot NAME HEADLENS-ARGS...
shot() {
    name=$1
    shift
    home="$work/home-$name"
    mkdir -p "$home"
    cat > "$work/run.sh" <<INNER
#!/bin/sh
export HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home"
[ -z "$lang" ] || export LC_ALL="$lang" LANG="$lang"
"$headlens" -geometry $size+0+0 "\$@" >"$home/log" 2>&1 &
pid=\$!
sleep $settle
import -window root "$out/$name.png"
kill \$pid 2>/dev/null || true
wait \$pid 2>/dev/null || true
INNER
    chmod +x "$work/run.sh"
    xvfb-run -a -s "-screen 0 ${size}x24" "$work/run.sh" "$@"
    [ -s "$out/$name.png" ] || { echo "screenshot.sh: no $name.png" >&2; cat "$home/log" >&2; exit 1; }
    echo "screenshot.sh: $out/$name.png"
}

shot main-window "$project" --trace "$first" --select "$select" --compare "$second" --decompose
shot entropy-and-head "$project" --trace "$first" --site resid_mid --colour entropy \
    --head "$head" --select "$select"
shot attribution "$project" --trace "$first" --select "$select" --raise LogitAttributionDock
shot head-roles "$project" --trace "$first" --select "$select" --raise HeadRolesDock
shot patching "$project" --trace "$patched" --colour patching --select "$patchselect" \
    --head "$patchhead"
shot follow-token "$project" --trace "$first" --select "$followselect" --follow "$follow" \
    --raise FollowTokenDock
shot attention-pattern "$project" --trace "$patched" --select "$patchselect" \
    --head "$patchhead" --raise AttentionPatternDock
