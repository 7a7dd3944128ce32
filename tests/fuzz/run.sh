#!/usr/bin/env bash
# Runs one libFuzzer harness for a time, corpus seeded from tests/fuzz/seeds.
#   run.sh HARNESS NAME SECONDS
# New inputs go to $ONEPASS_FUZZ_CORPUS/NAME (default: next to the harness),
# crashes to crash-* files there. Prints the runs done; exits non-zero on a
# crash, a hang (-timeout), a sanitizer report or a leak-free failure.
# Long campaign:  bash tests/fuzz/run.sh build/tests/fuzz/fuzz_jsonl jsonl 3600
set -euo pipefail
exe=$(readlink -f "$1") name=$2 seconds=$3
here=$(cd "$(dirname "$0")" && pwd)
corpus=${ONEPASS_FUZZ_CORPUS:-$(dirname "$exe")/corpus}/$name
mkdir -p "$corpus"
cd "$corpus"
# GLib's type system and interned strings live until exit: leak reports
# would be about them, not us (memcheck covers our leaks in the suite)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export G_DEBUG=${G_DEBUG:-fatal-criticals}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
"$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
  -print_final_stats=1 "$corpus" "$here/seeds/$name" >"$log" 2>&1
rc=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "fuzz/$name: ${runs:-0} runs in ${seconds} s, corpus $(ls "$corpus" | wc -l) inputs, exit $rc"
if [ "$rc" != 0 ]; then
  tail -40 "$log"
fi
exit "$rc"
