#!/usr/bin/env bash
# Checks (or with --fix, applies) the documented code style: GNU indent
# with GStreamer's gst-indent flags, run twice as gst-indent does, over
# every .c file of the project. Exits 1 and prints the diff when a file
# differs. Headers are left to the author (indent mangles prototypes).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fix=0
[ "${1:-}" = --fix ] && fix=1
command -v indent >/dev/null || { echo "check-indent: GNU indent is not installed (apt-get install indent)" >&2; exit 2; }

flags=(--braces-on-if-line --case-brace-indentation0 --case-indentation2
  --braces-after-struct-decl-line --line-length80 --no-tabs --cuddle-else
  --dont-line-up-parentheses --continuation-indentation4 --honour-newlines
  --tab-size8 --indent-level2 --leave-preprocessor-space)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
cd "$root"
while IFS= read -r f; do
  out="$tmp/$(echo "$f" | tr / _)"
  indent "${flags[@]}" -o "$out.1" "$f" 2>/dev/null
  indent "${flags[@]}" -o "$out" "$out.1" 2>/dev/null
  if ! cmp -s "$f" "$out"; then
    if [ $fix = 1 ]; then
      cp "$out" "$f"
      echo "check-indent: reformatted $f"
    else
      diff -u "$f" "$out" --label "$f" --label "$f (indented)" || true
      bad=1
    fi
  fi
done < <(git ls-files '*.c' 2>/dev/null || find . -name '*.c' -not -path './build*' | sed 's|^\./||')
if [ $bad = 1 ]; then
  echo "check-indent: the files above differ from the documented style; run scripts/check-indent.sh --fix" >&2
  exit 1
fi
echo "check-indent: every .c file follows the documented style"
