#!/usr/bin/env bash
# The marketplace's searches on this build against another marketplace executable (an earlier commit's,
# built aside), in one run on the same data: both serve `GET /jobs` from one runner (the other as
# `GET /before/jobs`, the same function run by its executable), and each filter set of bench/marketplace.sh
# is loaded with wrk on each in turn, the order swapped every round, so a slow minute of the machine falls
# on both. The other executable must know the same migrations (its search code may differ).
#
#   bench/search-against.sh <before-executable> [count] [seconds] [rounds] [--postgres | --only-postgres]
#   e.g. bench/search-against.sh /tmp/marketplace-before 100000 3 2 --postgres
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
before=$(realpath "$1")
rounds=${4:-2}
search_benchmark "${2:-100000}" "${3:-3}" 2 "${5:-}"
[ -x "$before" ] || { echo "no executable at $before" >&2; exit 1; }

for engine in "${engines[@]}"; do
  engine_env "$engine" users marketplace -- BLYTZ_ADMIN_PASSWORD="benchmark admin password"
  seeded=$(env "${env[@]}" "$bin/blytz" marketplace seed-postings --count "$count" --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml)
  env "${env[@]}" "$bin/blytz" users create-admin --email admin@bench.blytz.work --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml >/dev/null
  { cat bench/marketplace.yaml
    printf '  marketplace-jobs-search-before: { service: marketplace, http: GET /before/jobs, command: [%s], environment: { _HANDLER: marketplace-jobs-search } }\n' "$before"
  } > "$work/against.yaml"
  start_runner "$work/against.yaml"
  admin=$(curl -sf -XPOST localhost:3000/api/auth/login -H 'content-type: application/json' \
    -d '{"email":"admin@bench.blytz.work","password":"benchmark admin password"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
  measure() { # path → "rps p50 p99 non2xx"
    wrk -t1 -c"$concurrency" -d"${duration}s" --latency -H "Authorization: Bearer $admin" "http://127.0.0.1:3000$1" | wrk_summary
  }
  # Both answer the same: the same postings, in the same order.
  items() { curl -sf -H "Authorization: Bearer $admin" "localhost:3000$1" | python3 -c 'import json, sys; print([item["id"] for item in json.load(sys.stdin)["items"]])'; }
  for q in "${searches[@]}"; do
    [ "$(items "/api/jobs?$q")" = "$(items "/api/before/jobs?$q")" ] || { echo "the two answer GET /jobs?$q differently" >&2; exit 1; }
    wrk -t1 -c"$concurrency" -d1s -H "Authorization: Bearer $admin" "http://127.0.0.1:3000/api/jobs?$q" >/dev/null
    wrk -t1 -c"$concurrency" -d1s -H "Authorization: Bearer $admin" "http://127.0.0.1:3000/api/before/jobs?$q" >/dev/null
  done
  echo
  echo "$engine: $count postings ($seeded), concurrency $concurrency, ${duration}s each, $rounds rounds; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-56s %5s %14s %14s %14s %14s\n' "GET /jobs?…" round "this req/s" "p99 ms" "before req/s" "p99 ms"
  read -r rps _ p99 _ < <(measure /api/users/ping)
  printf '%-56s %5s %14s %14s\n' "baseline: GET /api/users/ping" - "$rps" "$p99"
  for q in "${searches[@]}"; do
    for round in $(seq "$rounds"); do
      if [ $((round % 2)) -eq 1 ]; then
        read -r now _ now99 _ < <(measure "/api/jobs?$q"); read -r was _ was99 _ < <(measure "/api/before/jobs?$q")
      else
        read -r was _ was99 _ < <(measure "/api/before/jobs?$q"); read -r now _ now99 _ < <(measure "/api/jobs?$q")
      fi
      printf '%-56s %5s %14s %14s %14s %14s\n' "${q:0:56}" "$round" "$now" "$now99" "$was" "$was99"
    done
  done
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
done
