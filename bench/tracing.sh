#!/usr/bin/env bash
# Tracing's cost: requests/s and p50/p99 of a trivial function through the runner (gateway → worker), with
# span export off, on for every request, and on for one trace in ten (OTEL_TRACES_SAMPLER), over OTLP/HTTP to
# a receiver (Tests/Fixtures/otlp_receiver.py) that reads each export without decoding it, as a collector
# elsewhere would cost this machine nothing; in one run, alternating, so all three see the same machine.
#
# Each mode also reports the CPU time the runner and its workers spent per request (from /proc), steadier
# than requests/s on a machine shared with wrk.
#
#   bench/tracing.sh [duration-seconds] [concurrency] [rounds]      e.g. bench/tracing.sh 10 16 3
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
# CPU time (user + system, clock ticks) of the runner and its workers so far, per pid.
cpu_ticks() { for pid in "$runner_pid" $(pgrep -f "^$bin/users"); do echo "$pid $(cut -d')' -f2 "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}')"; done; }
# → "rps p50 p99 non2xx cpu-µs-per-request": wrk's figures, and the CPU the runner and its workers spent per
# request (the machine is shared with wrk, so requests/s alone moves with wrk's share too).
measure() {
  cpu_ticks > "$data/cpu-before"
  wrk -t2 -c"$concurrency" -d"${duration}s" --latency http://127.0.0.1:3000/api/users/ping > "$data/wrk.txt"
  cpu_ticks > "$data/cpu-after"
  local requests
  requests=$(awk '/requests in/ {print $1}' "$data/wrk.txt")
  echo "$(wrk_summary < "$data/wrk.txt") $(awk -v requests="$requests" -v hz="$(getconf CLK_TCK)" '
    NR == FNR { before[$1] = $2; next } { spent += $2 - before[$1] } END { printf "%.0f", spent / hz * 1e6 / requests }' "$data/cpu-before" "$data/cpu-after")"
}

modes=("off" "on, exported" "on, 1 in 10")
settings=(
  "OTEL_SDK_DISABLED=false"
  "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318"
  # One trace in ten kept, decided at the gateway; the workers follow the decision their traceparent carries.
  "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1"
)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-26s %5s %10s %9s %9s %7s %12s\n' "tracing" "conc" "req/s" "p50 ms" "p99 ms" "non-2xx" "CPU µs/req"
: > "$data/results"
for round in $(seq "$rounds"); do
  # Each round starts with a different mode, so a drift of the machine's speed falls on all three alike.
  for step in 0 1 2; do
    mode=$(( (round - 1 + step) % 3 ))
    # shellcheck disable=SC2086
    start ${settings[$mode]}
    read -r rps p50 p99 bad cpu < <(measure)
    stop
    printf '%-26s %5s %10s %9s %9s %7s %12s\n' "${modes[$mode]} (round $round)" "$concurrency" "$rps" "$p50" "$p99" "$bad" "$cpu"
    echo "$mode $rps $p99 $cpu" >> "$data/results"
  done
done
spans=$(curl -sf localhost:4318/count)
python3 - "$data/results" "$spans" <<'PY'
import json, sys
rows = [line.split() for line in open(sys.argv[1])]
mean = lambda mode, column: sum(float(r[column]) for r in rows if r[0] == mode) / sum(1 for r in rows if r[0] == mode)
print()
for mode, name in (("1", "on / off"), ("2", "1 in 10 / off")):
    rps = mean(mode, 1) / mean("0", 1)
    print(f"{name:14} requests/s {rps:.3f} ({(1 - rps) * 100:+.1f}% overhead), p99 {mean(mode, 2) / mean('0', 2):.3f}, "
          f"CPU per request {mean(mode, 3) / mean('0', 3):.3f} ({mean(mode, 3):.0f} against {mean('0', 3):.0f} µs)")
received = json.loads(sys.argv[2])
print(f"receiver: {received['exports']:,} exports, {received['bytes']:,} bytes")
PY
