#!/usr/bin/env bash
# The events benchmark, for both queue backends in one run:
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
cleanup() { kill "${runner_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; local/postgres stop "$pg_dir" || true; rm -rf "$work"; }
trap cleanup EXIT
server=$(local/postgres start "$pg_dir")
base=${server%/postgres}

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
