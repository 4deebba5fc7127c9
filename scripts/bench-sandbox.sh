#!/usr/bin/env bash
# Benchmarks the native sandbox on this machine and prints a table of medians: a fresh sandbox
# running `true` against bwrap and `unshare`, a command in a live session against `docker exec`,
# and how many live sandboxes the machine holds at once; then `swebox sandbox exec -- true` as a
# whole process against bwrap (scripts/bench-cli.sh, when hyperfine is installed). Options go to the
# bench program (--fresh N, --actions N, --docker-execs N, --max-live N). Needs root (like the sandbox).
# Numbers measured here are recorded in docs/bench-sandbox.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWEBOX_BUILD_DIR:-build}
lib=$build/sandbox/libswebox_sandbox.a

if [ ! -f "$lib" ]; then
  echo "bench-sandbox: building $lib" >&2
  cmake -S . -B "$build" >/dev/null
  cmake --build "$build" -j "$(nproc)" --target swebox_sandbox
fi
command -v bwrap >/dev/null || echo "bench-sandbox: bwrap is missing (scripts/setup.sh installs bubblewrap)" >&2

# The bench program is built beside the library, again only when its source or the library changed.
bench=$build/bench_sandbox
if [ ! -x "$bench" ] || [ scripts/bench_sandbox.cc -nt "$bench" ] || [ "$lib" -nt "$bench" ]; then
  c++ -std=c++20 -O2 -I. scripts/bench_sandbox.cc "$lib" \
    $(pkg-config --libs libseccomp) -lpthread -o "$bench"
fi
"$bench" "$@"
echo
if command -v hyperfine >/dev/null && [ -x "$build/swebox" ]; then
  # The bench's sandbox helper tears its live sandboxes down after the bench exits: let it finish.
  sleep 5
  scripts/bench-cli.sh
else
  echo "bench-sandbox: the CLI comparison (scripts/bench-cli.sh) is skipped: it needs hyperfine (scripts/setup.sh) and $build/swebox (scripts/build.sh)"
fi
