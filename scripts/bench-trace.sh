#!/usr/bin/env bash
# Tracer benchmark: what tracing costs and how fast `swebox trace` makes traces.
#
#   scripts/bench-trace.sh [--programs N (default 500)] [--work N (default 20000)]
#
# 1. Slowdown: one CPU-bound function (a sieve and a sort over N items, ~N*15 events) run by the
#    tracer's own server (trajectories/tracer/swebox_tracer.py, unsandboxed, caps lifted) against
#    the same call in plain python3 without a tracer, in the same run, in CPU seconds (fair on a
#    shared machine): median of 3 traced runs (the job process's cpu_s: set-up, compile, trace,
#    result) against the median of 5 means of 10 plain compile-and-call runs. Prints events per CPU
#    second and minute too.
# 2. Throughput: N small generated programs (loops, recursion, strings, dicts, classes, exceptions;
#    2 inputs each) through `swebox trace -j 2`, in sandboxes, against the naive peer that runs one
#    fresh untraced `python3` per (program, input), two at a time, unsandboxed (its rate from the
#    first 200 pairs).
set -euo pipefail
cd "$(dirname "$0")/.."
programs=500
work=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --programs) programs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench-trace: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
build=${SWEBOX_BUILD_DIR:-build}
# Debian's interpreter, the one the sandbox runs (another python3 may come first in PATH).
python=/usr/bin/python3
[ -x "$python" ] || python=python3
[ -x "$build/swebox" ] || { echo "bench-trace: no $build/swebox (run scripts/build.sh first)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/swebox-bench-trace.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "swebox trace benchmark: $(nproc) cores, $($python --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Slowdown and events per second.
PYTHONHASHSEED=0 $python - "$work" trajectories/tracer/swebox_tracer.py <<'PY'
import json, statistics, subprocess, sys, time
n, tracer = int(sys.argv[1]), sys.argv[2]
code = '''def work(n):
    sieve = [True] * (n + 1)
    primes = []
    for i in range(2, n + 1):
        if sieve[i]:
            primes.append(i)
            for j in range(i * i, n + 1, i):
                sieve[j] = False
    words = [str(p)[::-1] for p in primes]
    words.sort()
    total = 0
    for w in words:
        total += len(w)
    return total
'''
settings = {"max_events": 10**9, "max_bytes": 10**12, "timeout_s": 600}
jobs = "\n".join([json.dumps(settings)] + [json.dumps({"code": code, "entry": "work", "input": str(n)})] * 3) + "\n"
out = subprocess.run([sys.executable, tracer, "serve"], input=jobs, capture_output=True, text=True, check=True).stdout
results = [json.loads(l) for l in out.splitlines()]
assert all(r["status"] == "ok" for r in results), results[0].get("error")
traced = statistics.median(r["cpu_s"] for r in results)
events = len(results[0]["frames"])
plain_times = []
for _ in range(5):
    t = time.process_time()
    for _ in range(10):
        ns = {"__name__": "__main__"}
        exec(compile(code, "<program>", "exec"), ns)
        value = ns["work"](n)
    plain_times.append((time.process_time() - t) / 10)
plain = statistics.median(plain_times)
assert repr(value) == results[0]["return_repr"]
print()
print("%-52s %12s" % ("measure (median of 3 traced, 5x10 plain runs)", "value"))
print("%-52s %12s" % ("-" * 52, "-" * 12))
print("%-52s %12d" % ("events in one trace (work(%d))" % n, events))
print("%-52s %12.4f" % ("plain python3, untraced: CPU s", plain))
print("%-52s %12.4f" % ("swebox tracer: CPU s of the job (fork to result)", traced))
print("%-52s %11.1fx" % ("slowdown traced / untraced (target <= 10x)", traced / plain))
print("%-52s %12.0f" % ("events per CPU second", events / traced))
print("%-52s %12.0f" % ("events per CPU minute (target >= 1,000,000)", 60 * events / traced))
PY

# 2. Throughput on small programs.
python3 - "$programs" "$tmp/programs.jsonl" <<'PY'
import json, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
templates = [
    ("def f(xs):\n    s = 0\n    for x in xs:\n        if x %% %d:\n            s += x\n    return s\n", "f", lambda: str([rng.randint(0, 50) for _ in range(rng.randint(0, 8))])),
    ("def f(n):\n    if n < 2:\n        return n\n    return f(n - 1) + f(n - %d)\n", "f", lambda: str(rng.randint(0, 7))),
    ("def f(s):\n    out = ''\n    for c in s:\n        out = c * %d + out\n    return out\n", "f", lambda: repr("".join(rng.choice("abc xy") for _ in range(rng.randint(0, 6))))),
    ("def f(words):\n    counts = {}\n    for w in words:\n        counts[w] = counts.get(w, %d) + 1\n    return sorted(counts.items())\n", "f", lambda: str([rng.choice(["a", "b", "c"]) for _ in range(rng.randint(0, 6))])),
    ("class Acc:\n    def __init__(self):\n        self.items = []\n    def add(self, x):\n        self.items.append(x * %d)\n\ndef f(xs):\n    a = Acc()\n    for x in xs:\n        a.add(x)\n    return a.items\n", "f", lambda: str([rng.randint(-5, 5) for _ in range(rng.randint(0, 5))])),
    ("def f(a, b):\n    try:\n        return a // b + %d\n    except ZeroDivisionError:\n        return None\n", "f", lambda: "%d, %d" % (rng.randint(0, 9), rng.randint(0, 2))),
]
with open(path, "w") as out:
    for i in range(n):
        code, entry, make = templates[i % len(templates)]
        out.write(json.dumps({"id": "p%d" % i, "code": code % (i % 5 + 1), "entry": entry, "inputs": [make(), make()]}) + "\n")
PY
start=$(date +%s.%N)
"$build/swebox" trace --programs "$tmp/programs.jsonl" --out "$tmp/traces.jsonl" -j 2 --no-progress 2>"$tmp/log"
end=$(date +%s.%N)
$python - "$tmp/programs.jsonl" "$tmp/traces.jsonl" "$start" "$end" "$tmp/log" <<'PY'
import json, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
programs, traces, start, end, log = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
records = [json.loads(l) for l in open(traces)]
statuses = {}
for r in records:
    statuses[r["status"]] = statuses.get(r["status"], 0) + 1
events = sum(r.get("events_count", 0) for r in records)
swebox_s = end - start
pairs = [(p, i) for p in map(json.loads, open(programs)) for i in p["inputs"]]
runner = "import sys, json\np = json.loads(sys.argv[1])\nns = {'__name__': '__main__'}\nexec(p['code'], ns)\nprint(repr(eval(p['entry'] + '(' + sys.argv[2] + ')', ns)))\n"
def plain(pair):
    return subprocess.run([sys.executable, "-c", runner, json.dumps(pair[0]), pair[1]], capture_output=True, text=True).returncode
sample = pairs[:200]   # the peer is slow: its rate from the first 200 pairs
t = time.monotonic()
with ThreadPoolExecutor(2) as pool:
    codes = list(pool.map(plain, sample))
peer_s = time.monotonic() - t
print()
print("%-52s %12s" % ("throughput (%d programs, %d pairs)" % (len(set(r["id"] for r in records)), len(records)), "value"))
print("%-52s %12s" % ("-" * 52, "-" * 12))
print("%-52s %12s" % ("statuses", " ".join("%s:%d" % kv for kv in sorted(statuses.items()))))
print("%-52s %12d" % ("events in all traces", events))
print("%-52s %12.2f" % ("swebox trace -j 2: s", swebox_s))
print("%-52s %12.1f" % ("swebox trace -j 2: traces/s (target >= 100)", len(records) / swebox_s))
print("%-52s %12.1f" % ("peer: a plain python3 per pair, 2 at a time: runs/s", len(sample) / peer_s))
print("%-52s %11.2fx" % ("swebox traced / peer untraced (throughput)", (len(records) / swebox_s) / (len(sample) / peer_s)))
assert len(records) == len(pairs), open(log).read()
PY
