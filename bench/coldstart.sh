#!/usr/bin/env bash
# Cold start of service executables side by side, in the same run: for each, `runs` times, its worker
# stopped and the time of the next request to GET /api/auth/jwks (the worker's spawn, initialisation with
# its database, and first invocation); beside them the floor, a statically linked Swift hello-world spawned
# and waited for.
#
#   bench/coldstart.sh [runs] [name=executable…]
#
# Without executables it takes what is built: debug (.build/debug/users), release (.build/release/users) and
# packaged (the bootstrap of .build/lambda/users-jwks.zip, from `blytz package users-jwks`).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
shift || true
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
variants=("$@")
if [ ${#variants[@]} -eq 0 ]; then
  for build in debug release; do [ -x ".build/$build/users" ] && variants+=("$build=$PWD/.build/$build/users"); done
  if [ -f .build/lambda/users-jwks.zip ]; then
    unzip -q .build/lambda/users-jwks.zip -d "$work/package"
    variants+=("packaged=$work/package/bootstrap")
  fi
fi
runner=$(ls .build/release/blytz .build/debug/blytz 2>/dev/null | head -1)
[ -n "$runner" ] && [ ${#variants[@]} -gt 0 ] || { echo "build blytz and users first (swift build)" >&2; exit 1; }
printf 'print("hello")\n' > "$work/hello.swift"
swiftc -O -static-executable "$work/hello.swift" -o "$work/hello" 2>/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# One runner serves GET /api/auth/jwks once per executable (the same function, `_HANDLER=users-jwks`, and
# the same database); each round stops every one's worker and times its next request, in turn, so a slow
# minute of the machine falls on all of them.
{
  printf 'version: 1\nservices:\n  users: { port: 3001, executable: users, database: users_db }\nfunctions:\n'
  for variant in "${variants[@]}"; do
    printf '  cold-%s: { service: users, http: GET /cold/%s, command: [%s], environment: { _HANDLER: users-jwks }, scaling: { min: 0, max: 1 } }\n' \
      "${variant%%=*}" "${variant%%=*}" "${variant#*=}"
  done
} > "$work/coldstart.yaml"
"$runner" local --manifest "$work/coldstart.yaml" --data-dir "$work/data" --no-dashboard > "$work/runner.out" 2> "$work/runner.err" &
pid=$!
for _ in $(seq 400); do grep -q '"event":"ready"' "$work/runner.out" 2>/dev/null && break; sleep 0.05; done
for variant in "${variants[@]}"; do
  curl -sf -o /dev/null "localhost:3000/api/cold/${variant%%=*}" || { echo "${variant%%=*} does not answer; see $work/data/logs" >&2; exit 1; }
done
for _ in $(seq "$runs"); do
  for variant in "${variants[@]}"; do
    name=${variant%%=*}
    curl -sf -XPOST "localhost:3000/_local/functions/cold-$name/recycle" > /dev/null
    for _ in $(seq 200); do
      total=$(curl -sf localhost:3000/_local/functions | python3 -c 'import json, sys; print([f for f in json.load(sys.stdin)["functions"] if f["name"] == sys.argv[1]][0]["workers"]["total"])' "cold-$name")
      [ "$total" = 0 ] && break
      sleep 0.01
    done
    echo "$name $(curl -sf -o /dev/null -w '%{time_total}' "localhost:3000/api/cold/$name")"
  done
  python3 -c 'import subprocess, sys, time; s = time.perf_counter(); subprocess.run([sys.argv[1]], stdout=subprocess.DEVNULL); print("hello-world", time.perf_counter() - s)' "$work/hello"
done | python3 -c '
import collections, sys
times = collections.defaultdict(list)
for line in sys.stdin:
    name, seconds = line.split()
    times[name].append(float(seconds) * 1000)
print("%-12s %5s %7s %7s %7s" % ("executable", "runs", "p50 ms", "p90 ms", "max ms"))
for name, values in times.items():
    values.sort()
    print("%-12s %5d %7.1f %7.1f %7.1f" % (name, len(values), values[len(values) // 2], values[int(len(values) * 0.9)], values[-1]))
'
curl -sf localhost:3000/_local/functions | python3 -c '
import json, sys
for f in json.load(sys.stdin)["functions"]:
    print("%-12s spawn to its first Runtime API poll (runner, last %d): p50 %.1f ms  p90 %.1f ms" % (f["name"][5:], min(f["workersStarted"], 64), f["coldStartMs"]["p50"], f["coldStartMs"]["p90"]))'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
