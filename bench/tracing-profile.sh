#!/usr/bin/env bash
# Where tracing's cost goes: the trivial `Ping` function through the runner under wrk, with span export off
# and then on (to Tests/Fixtures/otlp_receiver.py), each sampled with `perf record` (cpu-clock, call
# graphs) in the runner and in one of its workers. Prints the CPU samples per request of each process in
# each mode, and with export on the share of samples under swift-otel's span start, span end, the
# protobuf encoding of exports, the runtime's generic-metadata lookups and `Traces.traceparent(of:)`.
#
#   bench/tracing-profile.sh [seconds]      e.g. bench/tracing-profile.sh 6
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
seconds=${1:-6}
require_wrk
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
build_release blytz users
require_free_ports 3000 3001 4318
data=$(mktemp -d)
cleanup() { kill "${runner_pid:-0}" "${receiver_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
start_otlp_receiver
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

for mode in off on; do
  if [ "$mode" = on ]; then setting=OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318; else setting=OTEL_SDK_DISABLED=false; fi
  env "$setting" "$bin/blytz" local --manifest bench/bench.yaml --data-dir "$data" --bin-dir "$bin" --port 3000 --no-dashboard > "$data/runner.out" 2> "$data/runner.err" &
  runner_pid=$!
  wait_ready "$data/runner.out"
  for _ in $(seq 200); do curl -sf localhost:3000/api/users/ping >/dev/null; done
  worker=$(pgrep -f "^$bin/users" | head -1)
  wrk -t2 -c16 -d"$((seconds + 4))s" http://127.0.0.1:3000/api/users/ping > "$data/wrk-$mode.txt" &
  wrk_pid=$!
  sleep 2
  perf record -F 499 -e cpu-clock -g -o "$data/runner-$mode.perf" -p "$runner_pid" -- sleep "$seconds" > /dev/null 2>&1 &
  runner_perf=$!
  perf record -F 499 -e cpu-clock -g -o "$data/worker-$mode.perf" -p "$worker" -- sleep "$seconds" > /dev/null 2>&1 &
  worker_perf=$!
  wait "$wrk_pid" "$runner_perf" "$worker_perf"
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
  : > "$data/runner.out"
done

python3 - "$data" "$seconds" <<'PY'
import re, subprocess, sys
data, seconds = sys.argv[1], float(sys.argv[2])
def rps(mode):
    return float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{data}/wrk-{mode}.txt").read()).group(1))
def samples(name):
    out = subprocess.run(["perf", "script", "-i", f"{data}/{name}.perf", "-F", "period"], capture_output=True, text=True).stdout
    return len(out.split())
def share(name, patterns):
    out = subprocess.run(["perf", "report", "-i", f"{data}/{name}.perf", "--children", "--sort", "symbol", "--stdio", "-g", "none"],
                         capture_output=True, text=True).stdout
    found = {}
    for label, pattern in patterns:
        values = [float(m.group(1)) for line in out.splitlines() if re.search(pattern, line) for m in [re.match(r"\s*([\d.]+)%", line)] if m]
        found[label] = max(values) if values else 0.0
    return found
print(f"\n{'process':<8} {'export':<6} {'req/s':>8} {'samples/request':>16}")
per = {}
for process in ("runner", "worker"):
    for mode in ("off", "on"):
        # A worker is one of the pool's four: its share of the requests.
        requests = rps(mode) * seconds / (4 if process == "worker" else 1)
        per[process, mode] = samples(f"{process}-{mode}") / requests
        print(f"{process:<8} {mode:<6} {rps(mode):>8,.0f} {per[process, mode]:>16.3f}")
for process in ("runner", "worker"):
    print(f"{process}: export on costs {(per[process, 'on'] / per[process, 'off'] - 1) * 100:+.0f}% CPU per request")
patterns = [("span start", r"OTel0A6TracerC9startSpan"), ("span end", r"OTel0A4SpanC3end"), ("batch processor hand-off", r"OTel0A6TracerC7process"),
            ("protobuf encoding", r"SwiftProtobuf7MessagePAAE15serializedBytes"), ("generic metadata lookups", r"LockingConcurrentMap<swift::GenericCacheEntry"),
            ("Traces.traceparent(of:)", r"Blytz6TracesO11traceparent2of")]
for process in ("runner", "worker"):
    found = share(f"{process}-on", patterns)
    print(f"{process}, export on, share of samples: " + ", ".join(f"{label} {value:.1f}%" for label, value in found.items()))
PY
