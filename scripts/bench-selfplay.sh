#!/usr/bin/env bash
# `swebox selfplay` validation throughput per injector on the python3-toolz repository
# (scripts/make-toolz-repo.sh): validated bugs per CPU-minute and the share of candidates that pass
# SSR's seven checks, with --solver none (validation only: the repair episodes are the policy's cost).
# CPU, never wall time: each command runs in a cpuacct cgroup of its own (cgroup v1; the sandboxes
# stay in their maker's cpuacct group, so their test runs count), read from cpuacct.usage. rusage
# (/usr/bin/time) would miss them: the sandboxes' processes are not waited for by swebox's process
# tree. Without a writable cpuacct hierarchy the script says so and falls back to rusage.
# The peer, measured in the same run: one plain run of the
# repository's test suite (python3 -m pytest, no sandbox), so "runs/bug" says how many whole test
# suites each valid bug costs. Target: >= 10 valid bugs per CPU-minute.
# Usage: scripts/bench-selfplay.sh [BUGS (default 20)] [BUILD_DIR (default $SWEBOX_BUILD_DIR or build)]
set -euo pipefail
cd "$(dirname "$0")/.."
bugs=${1:-20}
build=${2:-${SWEBOX_BUILD_DIR:-build}}
swebox=$build/swebox
[ -x "$swebox" ] || swebox=$build/runner/swebox
if [ ! -x "$swebox" ]; then
  echo "bench-selfplay: no swebox in $build or $build/runner; build first (scripts/build.sh) or pass BUILD_DIR" >&2
  exit 2
fi
work=$(mktemp -d)
cgroot=/sys/fs/cgroup/cpuacct
cleanup() {
  # A sandbox's cleaner may still be leaving the group: a few tries.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    rmdir "$cgroot"/swebox-bench-selfplay-$$-* 2>/dev/null || true
    compgen -G "$cgroot/swebox-bench-selfplay-$$-*" >/dev/null || break
    sleep 0.2
  done
  rm -rf "$work"
}
trap cleanup EXIT
# measured NAME COMMAND...: runs COMMAND, writing "CPU_SECONDS WALL_SECONDS METHOD" to $work/NAME.time.
measured() {
  local name=$1 cg=$cgroot/swebox-bench-selfplay-$$-$1 t0 t1 status=0
  shift
  t0=$(date +%s.%N)
  if mkdir "$cg" 2>/dev/null; then
    (echo "$BASHPID" >"$cg/cgroup.procs" && exec "$@") || status=$?
    t1=$(date +%s.%N)
    echo "$(awk '{printf "%.3f", $1 / 1e9}' "$cg/cpuacct.usage") $(echo "$t1 - $t0" | bc) cpuacct" >"$work/$name.time"
  else
    /usr/bin/time -f '%U %S %e' -o "$work/$name.rusage" "$@" || status=$?
    read -r u s e <"$work/$name.rusage"
    echo "$(echo "$u + $s" | bc) $e rusage" >"$work/$name.time"
  fi
  return $status
}
scripts/make-toolz-repo.sh "$work/toolz" >/dev/null
# The peer: the test suite once, as a developer runs it.
(cd "$work/toolz" && export PYTHONDONTWRITEBYTECODE=1 && measured peer python3 -m pytest -q -p no:cacheprovider toolz/tests \
  >/dev/null 2>&1) || true
for injector in procedural history; do
  measured "$injector" "$swebox" selfplay --repo "$work/toolz" \
    --out "$work/$injector" --cache "$work/cache-$injector" --injector "$injector" --solver none \
    --bugs "$bugs" -j "${JOBS:-2}" >"$work/$injector.log" 2>&1 || {
    echo "bench-selfplay: swebox selfplay --injector $injector failed:" >&2
    tail -20 "$work/$injector.log" >&2
    exit 1
  }
done
/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def cpu(name):
    c, w, method = open(f"{work}/{name}.time").read().split()
    return float(c), float(w), method
peer_cpu, peer_wall, method = cpu("peer")
if method != "cpuacct":
    print("NOTE: no writable cpuacct cgroup here: CPU is rusage, which misses the sandboxes' test runs")
print(f"peer: one plain pytest run of toolz/tests: {peer_cpu:.2f} CPU-s ({peer_wall:.2f} s wall)")
print(f"{'injector':<11} {'cand':>5} {'valid':>5} {'share':>6} {'CPU-s':>7} {'wall-s':>7} {'runs':>5} "
      f"{'valid/CPU-min':>13} {'CPU-s/bug':>9} {'peer runs/bug':>13}")
for injector in ("procedural", "history"):
    s = json.load(open(f"{work}/{injector}/summary.json"))
    c, w, _ = cpu(injector)
    cand, valid = s["candidates"], s["valid"]
    per_min = valid / (c / 60) if c else 0
    per_bug = c / valid if valid else float("inf")
    print(f"{injector:<11} {cand:>5} {valid:>5} {valid / max(cand, 1):>6.0%} {c:>7.1f} {w:>7.1f} {s['test_runs']:>5} "
          f"{per_min:>13.1f} {per_bug:>9.2f} {per_bug / peer_cpu if peer_cpu else 0:>13.1f}")
    for strategy, st in sorted(s["strategies"].items()):
        print(f"  {strategy:<20} {st['candidates']:>3} candidates {st['valid']:>3} valid")
    if s["rejections"]:
        print("  rejections: " + ", ".join(f"{k} {v}" for k, v in sorted(s["rejections"].items())))
PY
