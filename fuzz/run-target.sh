#!/usr/bin/env bash
# Runs one fuzz target for a bounded time: TARGET CORPUS WORKDIR SECONDS.
# First every file of CORPUS (the committed seeds and regression inputs) is run whole, then the
# target mutates the corpus for SECONDS with inputs up to 16 KiB (larger regression inputs, e.g. a
# 50 KB line, would otherwise raise every mutation's size); new inputs go to WORKDIR/new (CORPUS is
# never written), a crashing input to WORKDIR/artifacts/. Any crash, sanitizer report, leak, or
# input slower than 10 s fails the run.
# The mutations are random unless SWEBOX_FUZZ_SEED is set; under CI they follow seed 1, so that a
# submission's run does not hinge on a new find (fuzz longer by hand to look for one).
set -euo pipefail
target=$1 corpus=$2 work=$3 seconds=$4
seed=${SWEBOX_FUZZ_SEED:-}
if [ -z "$seed" ] && [ "${CI:-}" = true ]; then seed=1; fi
mkdir -p "$work/new" "$work/artifacts"
common=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/")
"$target" "${common[@]}" "$corpus"/*
exec "$target" "${common[@]}" ${seed:+-seed="$seed"} -max_total_time="$seconds" -max_len=16384 -print_final_stats=1 "$work/new" "$corpus"
