#!/bin/sh
# Makes resources/examples/example.hlproj from the shipped example models with headlens-cli:
# additions with and without a carry (adder) and fact questions (facts), each traced with its
# greedily generated answer. Run from anywhere; the CLI is taken from $HEADLENS_CLI, else from
# the build folder beside this checkout.
#
#   resources/examples/make-example-project.sh [OUTPUT.hlproj]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cli=${HEADLENS_CLI:-$root/build/app/cli/headlens-cli}
out=${1:-$here/example.hlproj}

if [ ! -x "$cli" ]; then
    echo "make-example-project.sh: no headlens-cli at $cli (build first, or set HEADLENS_CLI)" >&2
    exit 1
fi

# Written beside the target and moved over it at the end, so a failure leaves the old file.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
project="$work/example.hlproj"

trace() { # NAME MODEL PROMPT TOKENS-TO-GENERATE
    "$cli" trace "$here/$2" --prompt "$3" --generate "$4" --name "$1" --threads 1 -o "$project"
}

# adder: the answer is the sum in four digits; the first is the carry out of the hundreds.
trace carry-587+469 adder "587+469=" 4     # carries in every column: 1056
trace no-carry-481+512 adder "481+512=" 4  # hundreds and tens add up to 9, no carry: 0993
trace cascade-199+801 adder "199+801=" 4   # a carry that runs through all columns: 1000
trace no-carry-123+456 adder "123+456=" 4  # no carry anywhere: 0579
trace one-carry-245+318 adder "245+318=" 4 # a carry out of the ones only: 0563

# facts: questions about invented countries; the answers are not in the prompts.
trace capital-veloria facts "The capital of Veloria is" 2
trace known-for-veloria facts "Veloria is known for its" 2
trace capital-after-filler facts "The baker visits the long bridge. The capital of Kestova is" 2
trace capital-zarkavia facts "The capital of Zarkavia is" 2

mv "$project" "$out"
"$cli" info "$out"
