#!/usr/bin/env bash
# `swebox sandbox exec -- true` as a whole process (a sandbox made from nothing, run, torn down)
# against bwrap with all its namespaces, a read-only host root and fresh /dev and /proc, timed by
# hyperfine in one run (-N: no shell between; 10 warm-up runs, then N, default 100). Prints
# hyperfine's lines and the ratio of the means (target <= 1). Needs root, $SWEBOX_BUILD_DIR/swebox
# (scripts/build.sh), hyperfine and bwrap (scripts/setup.sh). Numbers are in docs/bench-sandbox.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWEBOX_BUILD_DIR:-build}
runs=${1:-100}
for tool in hyperfine bwrap python3; do
  command -v "$tool" >/dev/null || { echo "bench-cli: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
[ -x "$build/swebox" ] || { echo "bench-cli: $build/swebox is missing (scripts/build.sh builds it)" >&2; exit 1; }

swebox="$build/swebox sandbox exec -- true"
bwrap="bwrap --ro-bind / / --unshare-all --die-with-parent --dev /dev --proc /proc true"
json=$(mktemp)
trap 'rm -f "$json"' EXIT
echo "swebox CLI benchmark: $(nproc) cores, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M UTC')"
hyperfine -N -w 10 -r "$runs" --style basic --export-json "$json" "$swebox" "$bwrap"
python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
s, b = r[0], r[1]
ms = lambda x: x * 1000
print(f"swebox sandbox exec -- true: mean {ms(s['mean']):.2f} ms, median {ms(s['median']):.2f} ms")
print(f"bwrap --unshare-all ... true:  mean {ms(b['mean']):.2f} ms, median {ms(b['median']):.2f} ms")
print(f"ratio swebox / bwrap: {s['mean'] / b['mean']:.2f} (means), {s['median'] / b['median']:.2f} (medians); target <= 1")
PY
