#!/usr/bin/env bash
# Cold start of a packaged bootstrap beside the debug build, in the same run: for each, `runs` times, a
# fresh runner serving GET /api/auth/jwks with that executable as the function's command, and the time of
# its first request (the worker's spawn, initialisation and first invocation).
#
#   bench/coldstart.sh [runs]     after `blytz package users-jwks` and `swift build` (uses .build/lambda/users-jwks.zip)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
unzip -q .build/lambda/users-jwks.zip -d "$work/package"
for variant in "packaged:$work/package/bootstrap" "debug:$PWD/.build/debug/users"; do
  name=${variant%%:*}
  cat > "$work/$name.yaml" <<YAML
version: 1
services:
  users: { port: 3001, executable: users, database: users_db }
functions:
  users-jwks: { service: users, handler: Users.KeySet, http: GET /auth/jwks, command: [${variant#*:}] }
YAML
  for _ in $(seq "$runs"); do
    rm -rf "$work/data"
    .build/debug/blytz local --manifest "$work/$name.yaml" --data-dir "$work/data" --no-dashboard > "$work/runner.out" 2> "$work/runner.err" &
    pid=$!
    for _ in $(seq 400); do grep -q '"event":"ready"' "$work/runner.out" 2>/dev/null && break; sleep 0.05; done
    sleep 0.3
    echo "$name $(curl -s -o /dev/null -w '%{time_total}' localhost:3000/api/auth/jwks)"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done | python3 -c '
import collections, sys
times = collections.defaultdict(list)
for line in sys.stdin:
    name, seconds = line.split()
    times[name].append(float(seconds) * 1000)
print("build     runs  p50 ms  p99 ms")
for name, values in times.items():
    values.sort()
    print(f"{name:9} {len(values):4} {values[len(values) // 2]:7.1f} {values[min(len(values) - 1, int(len(values) * 0.99))]:7.1f}")
'
