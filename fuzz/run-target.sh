#!/usr/bin/env bash
# Runs one fuzz target for a bounded time: TARGET CORPUS WORKDIR SECONDS.
# First every file of CORPUS (the committed seeds and regression inputs) is run whole, then the
# target mutates the corpus for SECONDS with inputs up to 16 KiB (larger regression inputs, e.g. a
# 50 KB line, would otherwise raise every mutation's size); new inputs go to WORKDIR/new (CORPUS is
# never written), a crashing input to WORKDIR/artifacts/. Any crash, sanitizer report, leak, or
# input slower than 10 s fails the run.
# The mutations follow seed 1 (or $SWEBOX_FUZZ_SEED), so that the tests' run does not hinge on a new
# find; SWEBOX_FUZZ_SEED=random explores afresh (fuzz longer by hand that way to look for finds).
set -euo pipefail
target=$1 corpus=$2 work=$3 seconds=$4
seed=${SWEBOX_FUZZ_SEED:-1}
if [ "$seed" = random ]; then seed=; fi
mkdir -p "$work/new" "$work/artifacts"
common=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/")
"$target" "${common[@]}" "$corpus"/*
exec "$target" "${common[@]}" ${seed:+-seed="$seed"} -max_total_time="$seconds" -max_len=16384 -print_final_stats=1 "$work/new" "$corpus"
