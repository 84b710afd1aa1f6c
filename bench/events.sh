#!/usr/bin/env bash
# The events benchmark, for the three event paths in one run (the embedded queue, the PostgreSQL queue,
# and AWS's SNS and SQS, here moto's server):
# - throughput: N events published in one transaction, until the consumer has processed them all
#   (outbox → relay → queue → SQS batches → consumer, its effects recorded once through the inbox);
# - latency: events published one at a time (one per request), from publishing to the consumer's
#   handler starting on it, p50 and p99.
#
#   bench/events.sh [events] [latency-samples]      e.g. bench/events.sh 20000 300
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
events=${1:-20000}
samples=${2:-300}
build_release blytz blytz-fixtures
work=$(mktemp -d)
pg_dir="$work/postgres"
cleanup() { kill "${runner_pid:-0}" "${moto_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; local/postgres stop "$pg_dir" || true; rm -rf "$work"; }
trap cleanup EXIT
server=$(local/postgres start "$pg_dir")
base=${server%/postgres}
python=local/.venv/bin/python
[ -x "$python" ] || { python3 -m venv local/.venv && "$python" -m pip install -q -r local/tools/requirements.txt; }
moto_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m moto.server -p "$moto_port" -H 127.0.0.1 > "$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$moto_port") 2>/dev/null && break; sleep 0.1; done

run() { # name, then environment assignments
  local name=$1; shift
  local data="$work/$name"
  mkdir -p "$data"
  env "$@" "$bin/blytz" local --manifest bench/events.yaml --data-dir "$data" --bin-dir "$bin" --ephemeral-ports > "$data/out" 2> "$data/err" &
  runner_pid=$!
  wait_ready "$data/out"
  local gateway
  gateway=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["gateway"])' "$data/out")
  python3 - "$gateway" "$events" "$samples" "$name" <<'PY'
import json, sys, time, urllib.request
gateway, events, samples, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def call(method, path):
    request = urllib.request.Request(gateway + path, method=method)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"{}")
def seen():
    return call("GET", "/api/fx/seen?consumer=fx-on-hit")["seen"]
# Latency first, on an idle queue: one event per request, spaced out.
for _ in range(samples):
    call("POST", "/api/fx/hits")
    time.sleep(0.01)
while seen() < samples:
    time.sleep(0.01)
latency = call("GET", "/api/fx/latency")
# Throughput: one transaction publishes them all; wait until every one is processed.
start = time.time()
call("POST", "/api/fx/burst?n=%d" % events)
committed = time.time()
while seen() < samples + events:
    time.sleep(0.005)
done = time.time()
print("%-10s %8d events  %9.0f events/s (commit → all processed %.2f s; publishing took %.2f s)   latency p50 %6.2f ms  p99 %7.2f ms  (n=%d)" % (
    name, events, events / (done - committed), done - committed, committed - start, latency["p50"], latency["p99"], latency["count"]))
PY
  kill -TERM "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
}

echo
run embedded
run postgres "FIXTURES_DATABASE_URL=$base/bench_service" "BLYTZ_QUEUE_URL=$base/bench_queue"
run aws "FIXTURES_DATABASE_URL=$base/bench_aws_service" "BLYTZ_QUEUE_URL=aws://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
