#!/usr/bin/env bash
# Queue delivery concurrency: one transaction publishes N events; two consumers of them, each 10 ms per
# event in batches of 10, one with `scaling.max` 1 (one batch at a time) and one with 4 (up to four at
# once), on the embedded queue, in one run; events/s of each until it has handled all N.
#
#   bench/consumers.sh [events]      e.g. bench/consumers.sh 2000
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
events=${1:-2000}
build_release blytz blytz-fixtures
data=$(mktemp -d)
cleanup() { kill "${runner_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
"$bin/blytz" local --manifest bench/consumers.yaml --data-dir "$data" --bin-dir "$bin" --ephemeral-ports --no-dashboard > "$data/out" 2> "$data/err" &
runner_pid=$!
wait_ready "$data/out"
gateway=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["gateway"])' "$data/out")
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$gateway" "$events" <<'PY'
import json, sys, time, urllib.request
gateway, events = sys.argv[1], int(sys.argv[2])
def call(method, path):
    with urllib.request.urlopen(urllib.request.Request(gateway + path, method=method), timeout=120) as response:
        return json.loads(response.read() or b"{}")
start = time.time()
call("POST", "/api/fx/burst?n=%d" % events)
finished = {}
while len(finished) < 2 and time.time() - start < 300:
    for consumer in ("fx-slow-1", "fx-slow-4"):
        if consumer not in finished and call("GET", "/api/fx/seen?consumer=" + consumer)["seen"] >= events:
            finished[consumer] = time.time() - start
    time.sleep(0.02)
print(f"\n{'consumer':<34} {'events':>7} {'seconds':>8} {'events/s':>9}")
for consumer, label in (("fx-slow-1", "scaling.max 1 (one batch at a time)"), ("fx-slow-4", "scaling.max 4")):
    seconds = finished.get(consumer)
    print(f"{label:<34} {events:>7} {seconds or float('nan'):>8.2f} {events / seconds if seconds else float('nan'):>9.1f}")
if len(finished) == 2:
    print(f"\nmax 4 / max 1: {finished['fx-slow-1'] / finished['fx-slow-4']:.2f}x events/s")
PY
