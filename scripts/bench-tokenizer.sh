#!/usr/bin/env bash
# Tokenizer throughput: swebox's BPE (model/bpe) against the npm peers on the same text, each
# counting the same tokens: js-tiktoken's cl100k_base (a tiktoken ranks file for swebox) and
# llama3-tokenizer-js (its vocabulary as a tokenizer.json for swebox).
#
#   scripts/bench-tokenizer.sh [--repeats N (default 5)]
#
# Text: every SWE-bench problem statement in the shared data, then this repository's C++ sources
# (about 4 MB of prose and code). Times are CPU seconds of each process (fair on a shared machine);
# prints tokens/s of each side and the ratio; the token counts must agree. The peers are installed
# with npm into $SWEBOX_NPM_PEERS (default /tmp/swebox-npm-peers), never into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=5
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench-tokenizer: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
shared=${SWEBOX_SHARED_DIR:-../shared}
peers=${SWEBOX_NPM_PEERS:-/tmp/swebox-npm-peers}
work=$(mktemp -d /tmp/swebox-bench-tokenizer.XXXXXX)
trap 'rm -rf "$work"' EXIT

build=${SWEBOX_BUILD_DIR:-build}
cmake --build "$build" --target bench_tokenizer >/dev/null || {
  echo "bench-tokenizer: cannot build the bench_tokenizer target in $build (run scripts/build.sh first)" >&2
  exit 1
}
if [ ! -d "$peers/node_modules/js-tiktoken" ] || [ ! -d "$peers/node_modules/llama3-tokenizer-js" ]; then
  mkdir -p "$peers"
  npm install --prefix "$peers" --no-audit --no-fund --no-save js-tiktoken@1.0.21 llama3-tokenizer-js@1.2.0 >"$work/npm.log" 2>&1 || {
    echo "bench-tokenizer: npm could not install the peers (unreachable?): $(tail -3 "$work/npm.log")" >&2
    exit 1
  }
fi

{
  for f in "$shared"/data/swebench/*.jsonl; do
    [ -f "$f" ] && python3 -c 'import json,sys
for line in open(sys.argv[1]):
    print(json.loads(line).get("problem_statement", ""))' "$f"
  done
  cat model/*.cc runner/*.cc tasks/*.cc tools/*.cc
} > "$work/text"
printf 'x\0' > "$work/texts"
node tests/model/peers/bpe_peers.mjs "$peers/node_modules" "$work" "$work/texts" >/dev/null

node --input-type=module - "$peers/node_modules" "$work/text" "$repeats" > "$work/peer" <<'JS'
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const [modules, textFile, repeats] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(path.join(modules, p)).href);
const text = fs.readFileSync(textFile, 'utf8');
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const { Tiktoken } = await load('js-tiktoken/dist/lite.js');
const ranks = (await load('js-tiktoken/dist/ranks/cl100k_base.js')).default;
const llama3 = (await load('llama3-tokenizer-js/bundle/llama3-tokenizer-with-baked-data.js')).default;
let t0 = cpu();
const cl100k = new Tiktoken(ranks);
let t1 = cpu();
let n = 0;
for (let i = 0; i < repeats; i++) n += cl100k.encode(text, [], []).length;
let t2 = cpu();
console.log(`cl100k tokens ${n} load_cpu_s ${(t1 - t0).toFixed(3)} encode_cpu_s ${(t2 - t1).toFixed(3)}`);
t0 = cpu();
n = 0;
for (let i = 0; i < repeats; i++) n += llama3.encode(text, { bos: false, eos: false }).length;
t1 = cpu();
console.log(`llama3 tokens ${n} load_cpu_s 0 encode_cpu_s ${(t1 - t0).toFixed(3)}`);
JS

python3 - "$work" "$repeats" "$build" <<'EOF'
import subprocess, sys
work, repeats, build = sys.argv[1], sys.argv[2], sys.argv[3]
size = len(open(f"{work}/text", "rb").read())
peer = {}
for line in open(f"{work}/peer"):
    f = line.split()
    peer[f[0]] = (int(f[2]), float(f[6]))
print(f"text: {size / 1e6:.2f} MB x {repeats} repeats")
print(f"{'vocabulary':<28}{'tokens':>10}{'swebox tok/s':>15}{'peer tok/s':>13}{'ratio':>8}  peer")
# js-tiktoken is asked to read special tokens spelled in the text as text; llama3-tokenizer-js always
# reads them as the tokens.
for name, file, peer_name, special in (("cl100k_base (tiktoken)", "cl100k.tiktoken", "js-tiktoken", []),
                                       ("Llama 3 (tokenizer.json)", "llama3.tokenizer.json", "llama3-tokenizer-js",
                                        ["special"])):
    key = "cl100k" if "cl100k" in file else "llama3"
    out = subprocess.run([f"{build}/bench_tokenizer", f"{work}/{file}", f"{work}/text", repeats] + special,
                         check=True, capture_output=True, text=True).stdout.split()
    ours_tokens, ours_s = int(out[1]), float(out[5])
    peer_tokens, peer_s = peer[key]
    if ours_tokens != peer_tokens:
        print(f"bench-tokenizer: token counts differ on {name}: swebox {ours_tokens}, peer {peer_tokens}", file=sys.stderr)
        sys.exit(1)
    ours_rate, peer_rate = ours_tokens / ours_s, peer_tokens / peer_s
    print(f"{name:<28}{ours_tokens:>10}{ours_rate:>15.0f}{peer_rate:>13.0f}{ours_rate / peer_rate:>7.2f}x  {peer_name}")
EOF
