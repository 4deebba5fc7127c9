#!/usr/bin/env bash
# Soak test of the native sandbox: many sandboxes made at once, used right after creation, destroyed,
# with failures counted by their detail text (see scripts/soak_sandbox.cc). Options go to the soak
# program (--rounds N, --concurrent N, --creators N, --configs N, --verbose), except
#   --hog N   run N busy loops (plain shell) beside it, to mimic a loaded machine.
# Exits 1 when any sandbox failed. Needs root (like the sandbox itself).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWEBOX_BUILD_DIR:-build}
lib=$build/sandbox/libswebox_sandbox.a

hog=0
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --hog) hog=${2:?--hog needs a number}; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ ! -f "$lib" ]; then
  echo "soak-sandbox: building $lib" >&2
  cmake -S . -B "$build" >/dev/null
  cmake --build "$build" -j "$(nproc)" --target swebox_sandbox
fi

# Built beside the library, again only when its source or the library changed.
soak=$build/soak_sandbox
if [ ! -x "$soak" ] || [ scripts/soak_sandbox.cc -nt "$soak" ] || [ "$lib" -nt "$soak" ]; then
  c++ -std=c++20 -O2 -g -I. scripts/soak_sandbox.cc "$lib" \
    $(pkg-config --libs libseccomp) -lpthread -o "$soak"
fi

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
