#!/usr/bin/env bash
# The platform benchmark: requests/s and p50/p99 latency of a trivial function through the runner
# (gateway → worker process over the Runtime API → response), side by side with the same handler
# served in-process by a bare Hummingbird server, at the same client concurrency, in one run;
# then cold starts (process spawn to first response).
#
#   bench/run.sh [duration-seconds] [concurrency...]      e.g. bench/run.sh 10 4 16
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${1:-10}
shift || true
concurrencies=("${@:-4}")
[ ${#concurrencies[@]} -gt 0 ] || concurrencies=(4)

require_wrk
build_release blytz users bench-baseline
require_free_ports 3000 3001 3100
data=$(mktemp -d)
cleanup() { kill "${runner_pid:-0}" "${baseline_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

"$bin/bench-baseline" 3100 &
baseline_pid=$!
"$bin/blytz" local --manifest bench/bench.yaml --data-dir "$data" --bin-dir "$bin" --port 3000 --no-dashboard > "$data/runner.out" 2> "$data/runner.err" &
runner_pid=$!
for _ in $(seq 200); do
  grep -q '"event":"ready"' "$data/runner.out" 2>/dev/null && curl -sf localhost:3100/users/ping >/dev/null 2>&1 && break
  sleep 0.05
done
kill -0 "$runner_pid" && kill -0 "$baseline_pid" || { echo "runner or baseline failed to start:" >&2; cat "$data/runner.err" >&2; exit 1; }
# Warm both: the runner's four workers, the baseline's JIT-free paths.
for _ in $(seq 50); do curl -sf localhost:3000/api/users/ping >/dev/null; curl -sf localhost:3100/users/ping >/dev/null; done

measure() { # url concurrency → "rps p50 p99" (latencies in ms)
  wrk -t2 -c"$2" -d"${duration}s" --latency "$1" | wrk_summary
}

printf '\n%-34s %5s %10s %9s %9s %7s\n' "target" "conc" "req/s" "p50 ms" "p99 ms" "non-2xx"
for c in "${concurrencies[@]}"; do
  read -r brps bp50 bp99 bbad < <(measure http://127.0.0.1:3100/users/ping "$c")
  read -r rrps rp50 rp99 rbad < <(measure http://127.0.0.1:3000/api/users/ping "$c")
  printf '%-34s %5s %10s %9s %9s %7s\n' "baseline (in-process Hummingbird)" "$c" "$brps" "$bp50" "$bp99" "$bbad"
  printf '%-34s %5s %10s %9s %9s %7s\n' "runner (gateway → worker process)" "$c" "$rrps" "$rp50" "$rp99" "$rbad"
  awk -v r="$rrps" -v b="$brps" -v rp="$rp99" -v bp="$bp99" 'BEGIN { printf "%-34s %5s %9.2fx %9s %8.2fx\n", "runner / baseline", "", r / b, "", rp / bp }'
done

# Cold starts: stop the function's worker, then time the first request (spawn → first response).
echo
samples=()
for _ in $(seq 20); do
  curl -sf -XPOST localhost:3000/_local/functions/users-cold/recycle >/dev/null
  for _ in $(seq 100); do
    total=$(curl -sf localhost:3000/_local/functions | python3 -c 'import json,sys; print([f for f in json.load(sys.stdin)["functions"] if f["name"]=="users-cold"][0]["workers"]["total"])')
    [ "$total" = 0 ] && break
    sleep 0.01
  done
  samples+=("$(curl -sf -o /dev/null -w '%{time_total}' localhost:3000/api/users/cold)")
done
printf '%s\n' "${samples[@]}" | sort -n | awk '{ v[NR] = $1 * 1000 } END { printf "cold start, first response (ms, n=%d): p50 %.1f  p90 %.1f  max %.1f\n", NR, v[int(NR*0.5+0.5)], v[int(NR*0.9+0.5)], v[NR] }'
curl -sf localhost:3000/_local/functions | python3 -c '
import json, sys
f = [f for f in json.load(sys.stdin)["functions"] if f["name"] == "users-cold"][0]
print("cold start, spawn to first Runtime API poll (ms, last %d): p50 %.1f  p90 %.1f" % (min(f["workersStarted"], 64), f["coldStartMs"]["p50"], f["coldStartMs"]["p90"]))'

# The floor, in the same run: a statically linked Swift hello-world spawned and waited for, beside the
# service executable started with an unknown command (loading, relocation and static set-up; no database,
# no Runtime API), and /bin/true.
printf 'print("hello")\n' > "$data/hello.swift"
swiftc -O -static-executable "$data/hello.swift" -o "$data/hello" 2>/dev/null
python3 - "$data/hello" "$bin/users" <<'PY'
import subprocess, sys, time
def spawn(command, n=40):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return "p50 %.1f  p90 %.1f  max %.1f" % (times[n // 2], times[int(n * 0.9)], times[-1])
print("spawn to exit (ms, n=40): static Swift hello-world %s" % spawn([sys.argv[1]]))
print("spawn to exit (ms, n=40): users with an unknown command %s" % spawn([sys.argv[2], "unknown"]))
print("spawn to exit (ms, n=40): /bin/true %s" % spawn(["/bin/true"]))
PY
