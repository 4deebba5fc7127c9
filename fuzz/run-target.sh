#!/usr/bin/env bash
# Runs one fuzz target for a bounded time: TARGET CORPUS WORKDIR SECONDS.
# libFuzzer first replays every input of CORPUS (the committed seeds and regression inputs), then
# mutates for SECONDS; new inputs go to WORKDIR/new (CORPUS is never written), a crashing input to
# WORKDIR/artifacts/. Any crash, sanitizer report, leak, or input slower than 10 s fails the run.
set -euo pipefail
target=$1 corpus=$2 work=$3 seconds=$4
mkdir -p "$work/new" "$work/artifacts"
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/new" "$corpus"
