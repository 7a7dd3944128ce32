#!/usr/bin/env bash
# onepass set-up: install what is needed (Debian bookworm), build, then
#   scripts/setup.sh demo   run the main job on the shipped sample data
#   scripts/setup.sh test   run the whole test suite (what CI runs)
#   scripts/setup.sh build  only install and build
# Set ONEPASS_NO_INSTALL=1 to skip apt-get (everything already installed).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=${1:-test}
build=${ONEPASS_BUILD_DIR:-$root/build}

install_deps() {
  local missing=()
  while read -r pkg; do
    case "$pkg" in ''|'#'*) continue ;; esac
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done < "$root/scripts/debian-packages.txt"
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "onepass: missing Debian packages: ${missing[*]}" >&2
      echo "onepass: not root and no sudo: as root run" >&2
      echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
      echo "onepass: then rerun with ONEPASS_NO_INSTALL=1" >&2
      exit 1
    fi
    sudo=sudo
  fi
  echo "onepass: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# tests/python/test_s3.py's S3 server: s3rver from the npm registry, into
# the cache folder the test looks in (the test installs it itself when it
# is missing, and skips when npm cannot)
install_s3rver() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/onepass/s3rver"
  [ -x "$dir/node_modules/.bin/s3rver" ] && return 0
  # Debian's npm conflicts with a nodejs that ships its own npm (NodeSource's):
  # install Debian's pair only when there is no npm at all, and never fail on it
  if ! command -v npm >/dev/null && [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      nodejs npm >&2 || echo "onepass: could not install nodejs/npm; python/s3 will skip" >&2
  fi
  command -v npm >/dev/null || return 0
  echo "onepass: installing s3rver@3 (npm) into $dir" >&2
  mkdir -p "$dir"
  npm install --no-audit --no-fund --prefix "$dir" s3rver@3 >&2 \
    || echo "onepass: npm could not install s3rver; python/s3 will skip" >&2
}

build_tree() {
  if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" "$root" >/dev/null
  else
    meson setup "$build" "$root"
  fi
  ninja -C "$build"
}

# "N passed, N failed" from meson's log, for humans and CI alike
summarize() {
  python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
print(f"onepass: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
}

run_tests() {
  local rc=0 logs="$build/meson-logs"
  rm -f "$logs"/testlog*.json
  meson test -C "$build" --print-errorlogs --num-processes 2 || rc=1
  # every GstCheck test again under valgrind (memcheck, definite leaks
  # fail); the Python checks are left out of that setup (memcheck would
  # only check CPython)
  meson test -C "$build" --setup valgrind --print-errorlogs --num-processes 2 \
    --suite check || rc=1
  summarize "$logs/testlog.json" "$logs/testlog-valgrind.json"
  return $rc
}

[ "${ONEPASS_NO_INSTALL:-0}" = 1 ] || { install_deps; install_s3rver; }
build_tree
case "$mode" in
  build) ;;
  test) run_tests ;;
  demo) "$root/scripts/demo.sh" "$build" ;;
  *) echo "usage: $0 demo|test|build" >&2; exit 2 ;;
esac
