#!/usr/bin/env bash
# Throughput of `swebox run` with the oracle policy on the fixture suite: episodes per minute at
# -j 1, 4, 16, 64, and the runner's own overhead per turn (limits, parsing, observation rendering;
# target < 1 ms beyond the action's own time). Evaluation is off by default (the tests' cost is the
# suite's, not the runner's); BENCH_EVAL=1 includes it.
# Usage: scripts/bench-run.sh [OUT_DIR]   (env: SAMPLES=22 JOBS="1 4 16 64" BENCH_EVAL=0 SWEBOX_BUILD_DIR=build)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/bench-run}
swebox=${SWEBOX:-${SWEBOX_BUILD_DIR:-build}/swebox}
samples=${SAMPLES:-22}
jobs=${JOBS:-"1 4 16 64"}
eval_flag="--no-eval"
[ "${BENCH_EVAL:-0}" = 1 ] && eval_flag=""

rm -rf "$out"
mkdir -p "$out"
scripts/make-fixture-suite.sh "$out/fixtures" >/dev/null
# Warm the base-tree cache once so every row measures the same thing.
"$swebox" run --suite "$out/fixtures/suite.jsonl" --repos "$out/fixtures/repos" --cache "$out/cache" \
  --policy oracle --out "$out/warm" --no-eval --quiet >/dev/null

printf "%-6s %-9s %-10s %-14s %-14s %-16s %-10s\n" "-j" "episodes" "wall_s" "episodes/min" "tool_ms/turn" "runner_ms/turn" "resolved"
for j in $jobs; do
  "$swebox" run --suite "$out/fixtures/suite.jsonl" --repos "$out/fixtures/repos" --cache "$out/cache" \
    --policy oracle --out "$out/j$j" -j "$j" --samples "$samples" $eval_flag --quiet
  python3 - "$out/j$j/summary.json" "$j" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["timing"]
print(f'{sys.argv[2]:<6} {s["episodes"]:<9} {t["run_wall_s"]:<10.1f} {t["episodes_per_minute"]:<14.1f} '
      f'{t["mean_tool_ms_per_turn"]:<14.2f} {t["mean_runner_ms_per_turn"]:<16.3f} {s.get("resolved_episodes", "n/a"):<10}')
PY
done
