#!/usr/bin/env bash
# The C++ sources are formatted as .clang-format says: fails, naming the files and the first
# lines clang-format would change, when one is not. clang-format's output differs between
# major versions, so the check needs the version the tree is formatted with (Debian 12's
# clang-format-14); without it the test is skipped (77).
#   check-format.sh SOURCE_DIR
set -uo pipefail

src=${1:?usage: check-format.sh SOURCE_DIR}
tool=$(command -v clang-format-14 || true)
if [ -z "$tool" ]; then
  echo "check-format: clang-format-14 is absent (Debian package clang-format-14); skipped"
  exit 77
fi

cd "$src"
bad=()
while IFS= read -r -d '' f; do
  "$tool" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(find app modules tests \( -name '*.cpp' -o -name '*.h' \) -type f -print0 | sort -z)

if [ ${#bad[@]} -gt 0 ]; then
  echo "check-format: ${#bad[@]} file(s) differ from .clang-format (fix: clang-format-14 -i FILE):"
  for f in "${bad[@]}"; do
    echo "  $f"
    "$tool" --dry-run "$f" 2>&1 | grep -m 2 'warning:' | sed 's/^/    /'
  done
  exit 1
fi
echo "check-format: every C++ file under app, modules and tests is formatted"
