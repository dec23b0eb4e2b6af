#!/usr/bin/env bash
# Times the README's quick start on a fresh clone: `npm ci`, then `npm start` until its first answer
# (GET /v1/models on 127.0.0.1:8787), and writes bench/results/fresh-start.json in the checkout it runs from.
# Usage: bash scripts/time-fresh-start.sh [CLONE_DIR]   (~30 min on a 2-core machine: it builds the default model)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d)/edge-resnet}
git clone -q "$repo" "$dir"
cd "$dir"
t0=$(date +%s)
npm ci --no-audit --no-fund > npm-ci.log 2>&1
t1=$(date +%s)
npm start > npm-start.log 2>&1 &
pid=$!
until curl -sf -o /dev/null http://127.0.0.1:8787/v1/models; do
  kill -0 "$pid" 2>/dev/null || { tail -20 npm-start.log; exit 1; }
  sleep 5
done
t2=$(date +%s)
kill -INT "$pid"; wait "$pid" || true
node -e '
const [ci, start] = process.argv.slice(1).map(Number);
const os = require("node:os");
const out = { date: new Date().toISOString(), machine: { cpu: os.cpus()[0].model, cores: os.cpus().length, memory_gb: Math.round(os.totalmem() / 2 ** 30) },
  npm_ci_seconds: ci, npm_start_first_answer_seconds: start, command: "bash scripts/time-fresh-start.sh" };
require("node:fs").writeFileSync(process.argv[3], JSON.stringify(out, null, 2) + "\n");
' "$((t1 - t0))" "$((t2 - t1))" "$repo/bench/results/fresh-start.json"
cat "$repo/bench/results/fresh-start.json"
