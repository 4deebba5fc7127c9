#!/usr/bin/env bash
# Similarity-reward throughput: swebox (C++) against CPython's difflib on the same patch pairs.
#
#   scripts/bench-similarity.sh [--pairs N (default 500)] [--max-chars M]
#
# Pairs: gold patches from the shared SWE-bench data (at most M characters, default 3000, so the
# CPython side ends in minutes) against deterministic edits of them (changed added lines, dropped
# hunks' text, extra words). Both sides time (1) SequenceMatcher(None, pred, oracle,
# autojunk=False).ratio() on each pair's normalised change text and (2) the whole unidiff reward
# (parse both patches, normalise, ratio per file, mean; CPython runs scripts/difflib_oracle.py's
# restatement of docs/formats.md §5.1). Times are CPU seconds of each process (fair on a shared machine).
# Prints both times and the speed-ups; the ratio sums must agree.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=500
max_chars=3000
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs=$2; shift 2 ;;
    --max-chars) max_chars=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench-similarity: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
shared=${SWEBOX_SHARED_DIR:-../shared}
[ -d "$shared/data/swebench" ] || { echo "bench-similarity: no SWE-bench data under $shared/data/swebench (set SWEBOX_SHARED_DIR)" >&2; exit 1; }
work=$(mktemp -d /tmp/swebox-bench-similarity.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The C++ side: a CMake target (scripts/CMakeLists.txt) over the tasks library, built with the
# project (RelWithDebInfo: -O2, NDEBUG).
build=${SWEBOX_BUILD_DIR:-build}
cmake --build "$build" --target bench_similarity >/dev/null || {
  echo "bench-similarity: cannot build the bench_similarity target in $build (run scripts/build.sh first)" >&2
  exit 1
}

/usr/bin/python3 - "$shared" "$pairs" "$max_chars" "$work/pairs.jsonl" <<'EOF'
import json, random, sys
sys.path.insert(0, "scripts")
from difflib_oracle import patch_files
shared, n, max_chars, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
patches = []
for name in ("verified.test", "lite.test", "lite.dev"):
    for line in open(f"{shared}/data/swebench/{name}.jsonl"):
        p = json.loads(line)["patch"]
        if len(p) <= max_chars and patch_files(p):
            patches.append(p)
patches = list(dict.fromkeys(patches))
rng = random.Random(2024)
def edit(patch):
    out = []
    for line in patch.split("\n"):
        if line.startswith("+") and not line.startswith("+++"):
            r = rng.random()
            if r < 0.3:
                line = line.replace("self", "this")
            elif r < 0.5:
                line = line + "  # tweak"
            elif r < 0.6:
                line = "+" + line[1:][::-1]
        out.append(line)
    return "\n".join(out)
with open(out, "w") as f:
    for k in range(n):
        oracle = patches[k % len(patches)]
        pred = edit(oracle)
        o, p = patch_files(oracle), patch_files(pred)
        path = sorted(o)[0]
        f.write(json.dumps({"oracle": oracle, "pred": pred, "oracle_change": o[path], "pred_change": p.get(path, "")}) + "\n")
EOF

cpp=$("$build/bench_similarity" "$work/pairs.jsonl")
py=$(/usr/bin/python3 - "$work/pairs.jsonl" <<'EOF'
import difflib, json, sys, time
sys.path.insert(0, "scripts")
from difflib_oracle import unidiff_case
rows = [json.loads(l) for l in open(sys.argv[1])]
t0 = time.process_time()  # CPU time, as the C++ side measures
s = 0.0
for r in rows:
    s += difflib.SequenceMatcher(None, r["pred_change"], r["oracle_change"], autojunk=False).ratio()
t1 = time.process_time()
rs = 0.0
for r in rows:
    rs += float.fromhex(unidiff_case({"oracle": r["oracle"], "pred": r["pred"]})["reward"])
t2 = time.process_time()
print(json.dumps({"ratio_seconds": t1 - t0, "reward_seconds": t2 - t1, "ratio_sum": repr(s), "reward_sum": repr(rs)}))
EOF
)
/usr/bin/python3 - "$cpp" "$py" <<'EOF'
import json, sys
c, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n = c["pairs"]
print(f"pairs: {n} (gold patch vs an edited copy, SWE-bench shared data)")
for what in ("ratio", "reward"):
    cs, ps = c[what + "_seconds"], p[what + "_seconds"]
    print(f"{what:7s} swebox {cs:9.3f} cpu-s ({n / cs:10.0f}/s)   CPython {ps:9.3f} cpu-s ({n / ps:8.1f}/s)   speed-up {ps / cs:6.1f}x")
same = float(p["ratio_sum"]) == c["ratio_sum"]
print("ratio sums agree bit for bit" if same else f"MISMATCH: ratio sums differ: swebox {c['ratio_sum']!r} CPython {p['ratio_sum']}")
reward_close = abs(float(p["reward_sum"]) - c["reward_sum"]) < 1e-9
print("reward sums agree" if reward_close else f"MISMATCH: reward sums differ: swebox {c['reward_sum']!r} CPython {p['reward_sum']}")
sys.exit(0 if same and reward_close else 1)
EOF
