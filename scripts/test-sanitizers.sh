#!/usr/bin/env bash
# The hardening stage of scripts/test.sh: one clang build with AddressSanitizer and
# UndefinedBehaviorSanitizer (-fno-sanitize-recover: any report aborts, so the test fails) plus the
# libFuzzer targets of fuzz/, in build-sanitize/ (or $SWEBOX_SANITIZE_BUILD_DIR). It runs the unit
# tests of the areas in $SWEBOX_SANITIZE_AREAS under the sanitizers, and each fuzz target for
# $SWEBOX_FUZZ_RUNS inputs, at most $SWEBOX_FUZZ_SECONDS (after replaying its committed corpus: seeds
# and regression inputs; fuzz/run-target.sh says why a count and not a time).
#
# Areas left out: sandbox, sandbox_hostile, sandbox_unpriv, docker (the sandbox itself: raw clone()
# children with CLONE_VM, seccomp filters and address-space limits, which ASan's run-time and its
# multi-terabyte shadow mapping are not made for), attacks and runner (whole episodes through the
# swebox binary: minutes more under ASan on 2 cores, reaching the same parsers as the areas kept),
# design (no code run). The areas kept are those whose code reads hostile input; their tests that
# start sandboxes (tools, tasks, eval) do pass under ASan.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWEBOX_SANITIZE_BUILD_DIR:-build-sanitize}
areas=${SWEBOX_SANITIZE_AREAS:-"tasks;scoring;tools;trajectories;eval;model"}
seconds=${SWEBOX_FUZZ_SECONDS:-60}
runs=${SWEBOX_FUZZ_RUNS:-40000}

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$PWD")} CCACHE_NOHASHDIR=1
fi
start=$SECONDS
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWEBOX_FUZZ=ON \
  -DSWEBOX_TEST_AREAS="$areas" -DSWEBOX_FUZZ_SECONDS="$seconds" -DSWEBOX_FUZZ_RUNS="$runs" "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"
echo "test-sanitizers: build took $((SECONDS - start)) s"

# Reports abort (exit code != 0) instead of being printed and forgotten.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp}
start=$SECONDS
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
echo "test-sanitizers: tests took $((SECONDS - start)) s"
