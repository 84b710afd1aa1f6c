#!/usr/bin/env bash
# Tracing's cost: requests/s and p50/p99 of a trivial function through the runner (gateway → worker), with
# span export off and on (OTLP/HTTP to a receiver, Tests/Fixtures/otlp_receiver.py, that reads each export
# without decoding it, as a collector elsewhere would cost this machine nothing), in one run, alternating,
# so the two see the same machine.
#
#   bench/tracing.sh [duration-seconds] [concurrency] [rounds]      e.g. bench/tracing.sh 10 16 2
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${1:-10}
concurrency=${2:-16}
rounds=${3:-2}
require_wrk
build_release blytz users
require_free_ports 3000 3001 4318
data=$(mktemp -d)
cleanup() { kill "${runner_pid:-0}" "${receiver_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
start_otlp_receiver

start() { # environment assignments…
  env "$@" "$bin/blytz" local --manifest bench/bench.yaml --data-dir "$data" --bin-dir "$bin" --port 3000 --no-dashboard > "$data/runner.out" 2> "$data/runner.err" &
  runner_pid=$!
  wait_ready "$data/runner.out"
  for _ in $(seq 100); do curl -sf localhost:3000/api/users/ping >/dev/null; done
}
stop() { kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true; : > "$data/runner.out"; }
measure() { wrk -t2 -c"$concurrency" -d"${duration}s" --latency http://127.0.0.1:3000/api/users/ping | wrk_summary; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-26s %5s %10s %9s %9s %7s\n' "tracing" "conc" "req/s" "p50 ms" "p99 ms" "non-2xx"
declare -a off_rps=() on_rps=() off_p99=() on_p99=()
for round in $(seq "$rounds"); do
  start OTEL_SDK_DISABLED=false
  read -r rps p50 p99 bad < <(measure)
  stop
  printf '%-26s %5s %10s %9s %9s %7s\n' "off (round $round)" "$concurrency" "$rps" "$p50" "$p99" "$bad"
  off_rps+=("$rps"); off_p99+=("$p99")
  start OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
  read -r rps p50 p99 bad < <(measure)
  stop
  printf '%-26s %5s %10s %9s %9s %7s\n' "on, exported (round $round)" "$concurrency" "$rps" "$p50" "$p99" "$bad"
  on_rps+=("$rps"); on_p99+=("$p99")
done
spans=$(curl -sf localhost:4318/count)
python3 - "${off_rps[*]}" "${on_rps[*]}" "${off_p99[*]}" "${on_p99[*]}" "$spans" <<'PY'
import json, sys
off, on, off99, on99 = ([float(v) for v in a.split()] for a in sys.argv[1:5])
mean = lambda v: sum(v) / len(v)
print(f"\non / off: requests/s {mean(on) / mean(off):.3f} ({(1 - mean(on) / mean(off)) * 100:+.1f}% overhead), p99 {mean(on99) / mean(off99):.3f}")
received = json.loads(sys.argv[5])
print(f"receiver: {received['exports']:,} exports, {received['bytes']:,} bytes")
PY
