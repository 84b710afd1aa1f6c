#!/usr/bin/env bash
# The dashboard's cost: requests/s and p50/p99 of a trivial function through the runner with 10,000
# invocations stored and the page closed, then open in a real headless Chromium (its live list updated by
# server-sent events), in one run, alternating; and the runner without the dashboard (`--no-dashboard`:
# no store, workers not tracing) for what keeping the activity costs at all.
#
#   bench/dashboard.sh [duration-seconds] [concurrency] [rounds]      e.g. bench/dashboard.sh 10 16 2
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${1:-10}
concurrency=${2:-16}
rounds=${3:-2}
require_wrk
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
build_release blytz users
require_free_ports 3000 3001
data=$(mktemp -d)
cleanup() { kill "${browser_pid:-0}" "${runner_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

start() { # extra arguments of `blytz local`…
  "$bin/blytz" local --manifest bench/bench.yaml --data-dir "$data" --bin-dir "$bin" --port 3000 "$@" > "$data/runner.out" 2> "$data/runner.err" &
  runner_pid=$!
  wait_ready "$data/runner.out"
  for _ in $(seq 100); do curl -sf localhost:3000/api/users/ping >/dev/null; done
}
stop() { kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true; : > "$data/runner.out"; }
measure() { wrk -t2 -c"$concurrency" -d"${duration}s" --latency http://127.0.0.1:3000/api/users/ping | wrk_summary; }
stored() { curl -sf 'localhost:3000/_local/invocations?limit=1' | python3 -c 'import json,sys; i=json.load(sys.stdin)["invocations"]; print(i[0]["seq"] if i else 0)'; }
open_page() {
  chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$data/browser" \
    --remote-debugging-port=0 'http://127.0.0.1:3000/_local/#invocations' > "$data/browser.log" 2>&1 &
  browser_pid=$!
  sleep 3
}
close_page() { kill "$browser_pid"; wait "$browser_pid" 2>/dev/null || true; }
row() { printf '%-30s %5s %10s %9s %9s %7s\n' "$1" "$concurrency" "$2" "$3" "$4" "$5"; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-30s %5s %10s %9s %9s %7s\n' "dashboard" "conc" "req/s" "p50 ms" "p99 ms" "non-2xx"
declare -a closed=() open=() off=() closed99=() open99=() off99=()
for round in $(seq "$rounds"); do
  start
  # 10,000 invocations stored before anything is measured.
  while [ "$(stored)" -lt 10000 ]; do wrk -t2 -c16 -d3s http://127.0.0.1:3000/api/users/ping >/dev/null; done
  read -r rps p50 p99 bad < <(measure)
  row "page closed (round $round)" "$rps" "$p50" "$p99" "$bad"; closed+=("$rps"); closed99+=("$p99")
  open_page
  read -r rps p50 p99 bad < <(measure)
  close_page
  row "page open (round $round)" "$rps" "$p50" "$p99" "$bad"; open+=("$rps"); open99+=("$p99")
  echo "  stored: $(stored) invocations (the last 10,000 kept)"
  stop
  start --no-dashboard
  read -r rps p50 p99 bad < <(measure)
  stop
  row "no dashboard (round $round)" "$rps" "$p50" "$p99" "$bad"; off+=("$rps"); off99+=("$p99")
done
python3 - "${closed[*]}" "${open[*]}" "${off[*]}" "${closed99[*]}" "${open99[*]}" "${off99[*]}" <<'PY'
import sys
closed, open_, off, closed99, open99, off99 = ([float(v) for v in a.split()] for a in sys.argv[1:7])
mean = lambda v: sum(v) / len(v)
print(f"\npage open / closed: requests/s {mean(open_) / mean(closed):.3f} ({(1 - mean(open_) / mean(closed)) * 100:+.1f}% drop), p99 {mean(open99) / mean(closed99):.3f}")
print(f"page closed / no dashboard: requests/s {mean(closed) / mean(off):.3f}, p99 {mean(closed99) / mean(off99):.3f}")
PY
