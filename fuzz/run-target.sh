#!/usr/bin/env bash
# Runs one fuzz target for a bounded time: TARGET CORPUS WORKDIR SECONDS [RUNS].
# First every file of CORPUS (the committed seeds and regression inputs) is run whole, then the
# target mutates the corpus for RUNS inputs (at most SECONDS) with inputs up to 16 KiB (larger regression inputs, e.g. a
# 50 KB line, would otherwise raise every mutation's size); new inputs go to WORKDIR/new (CORPUS is
# never written), a crashing input to WORKDIR/artifacts/. Any crash, sanitizer report, leak, or
# input slower than 10 s fails the run.
# The mutations follow seed 1 (or $SWEBOX_FUZZ_SEED) from the committed corpus alone (WORKDIR/new is
# emptied first) for a count of inputs, not a time: the same inputs on every machine, fast or slow,
# so the tests' run never hinges on a new find, and a clean run here means a clean run in CI (a slow
# machine that reaches SECONDS first runs a prefix of the same inputs). SWEBOX_FUZZ_SEED=random
# explores afresh for SECONDS, keeping what it finds in WORKDIR/new (fuzz longer by hand that way).
set -euo pipefail
target=$1 corpus=$2 work=$3 seconds=$4 runs=${5:-40000}
seed=${SWEBOX_FUZZ_SEED:-1}
if [ "$seed" = random ]; then seed= runs=-1; else rm -rf "$work/new"; fi
mkdir -p "$work/new" "$work/artifacts"
common=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/")
"$target" "${common[@]}" "$corpus"/*
exec "$target" "${common[@]}" ${seed:+-seed="$seed"} -runs="$runs" -max_total_time="$seconds" -max_len=16384 -print_final_stats=1 "$work/new" "$corpus"
