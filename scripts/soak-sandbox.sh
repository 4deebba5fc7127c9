#!/usr/bin/env bash
# Soak test of the native sandbox: many sandboxes made at once, used right after creation, destroyed,
# with failures counted by their detail text (see scripts/soak_sandbox.cc). Options go to the soak
# program (--rounds N, --concurrent N, --creators N, --configs N, --verbose), except
#   --hog N   run N busy loops (plain shell) beside it, to mimic a loaded machine.
# Exits 1 when any sandbox failed. Needs root (like the sandbox itself).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWEBOX_BUILD_DIR:-build}

hog=0
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --hog) hog=${2:?--hog needs a number}; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

# The soak program is a CMake target (scripts/CMakeLists.txt), built with the project.
cmake --build "$build" --target soak_sandbox >/dev/null || {
  echo "soak-sandbox: cannot build the soak_sandbox target in $build (run scripts/build.sh first)" >&2
  exit 1
}
soak=$build/soak_sandbox

hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_hogs EXIT
for ((i = 0; i < hog; i++)); do
  bash -c 'while :; do :; done' &
  hogs+=($!)
done

"$soak" "${args[@]}"
