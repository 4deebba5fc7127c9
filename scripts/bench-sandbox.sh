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
# The bench program is a CMake target (scripts/CMakeLists.txt), built with the project.
cmake --build "$build" --target bench_sandbox >/dev/null || {
  echo "bench-sandbox: cannot build the bench_sandbox target in $build (run scripts/build.sh first)" >&2
  exit 1
}
command -v bwrap >/dev/null || echo "bench-sandbox: bwrap is missing (scripts/setup.sh installs bubblewrap)" >&2
"$build/bench_sandbox" "$@"
echo
if command -v hyperfine >/dev/null && [ -x "$build/swebox" ]; then
  # The bench's sandbox helper tears its live sandboxes down after the bench exits: let it finish.
  sleep 5
  scripts/bench-cli.sh
else
  echo "bench-sandbox: the CLI comparison (scripts/bench-cli.sh) is skipped: it needs hyperfine (scripts/setup.sh) and $build/swebox (scripts/build.sh)"
fi
