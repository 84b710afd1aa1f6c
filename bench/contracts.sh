#!/usr/bin/env bash
# The contracts benchmark: GET /api/contracts for a company with N contracts, and POST
# /api/contracts/{id}/timesheets (each request a new, non-overlapping hour: bench/timesheets.lua), through
# the running runner, beside GET /api/users/ping in the same run. SQLite by default; with --postgres, a
# throwaway PostgreSQL too.
#
#   bench/contracts.sh [contracts] [duration-seconds] [concurrency] [--postgres | --only-postgres]     e.g. bench/contracts.sh 1000 5 2
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
search_benchmark "$@"

for engine in "${engines[@]}"; do
  engine_env "$engine" users contracts
  start_runner bench/contracts.yaml
  read -r company company_id < <(signup "company$RANDOM@bench.blytz.work" company)
  read -r va va_id < <(signup "va$RANDOM@bench.blytz.work" va)
  # The company's contracts, made through the API (four at a time); the last one is signed for timesheets.
  started=$(date +%s)
  seq "$count" | xargs -P4 -I{} curl -sf -o /dev/null -XPOST localhost:3000/api/contracts -H "Authorization: Bearer $company" \
    -H 'content-type: application/json' -d "{\"title\":\"Contract {}\",\"vaUserId\":\"$va_id\",\"type\":\"hourly\",\"hourlyRateCents\":1500,\"currency\":\"USD\"}"
  made=$(( $(date +%s) - started ))
  contract=$(curl -sf -H "Authorization: Bearer $company" "localhost:3000/api/contracts?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  for token in "$va" "$company"; do curl -sf -o /dev/null -XPOST -H "Authorization: Bearer $token" "localhost:3000/api/contracts/$contract/sign"; done
  # Warm every worker, at the measured concurrency too (the timesheet warm-up logs hours a year back, apart
  # from the measured ones).
  for _ in 1 2 3 4 5; do curl -sf -o /dev/null -H "Authorization: Bearer $company" localhost:3000/api/contracts; curl -sf -o /dev/null localhost:3000/api/users/ping; done
  wrk -t1 -c"$concurrency" -d2s -H "Authorization: Bearer $company" http://127.0.0.1:3000/api/contracts >/dev/null
  { echo "first_day = 400"; cat bench/timesheets.lua; } > "$work/warm-timesheets.lua"
  wrk -t1 -c"$concurrency" -d2s -s "$work/warm-timesheets.lua" -H "Authorization: Bearer $va" "http://127.0.0.1:3000/api/contracts/$contract/timesheets" >/dev/null

  echo
  echo "$engine: $count contracts of one company (made in ${made}s), concurrency $concurrency, ${duration}s each"
  row "request" "req/s" "p50 ms" "p99 ms" "non-2xx"
  read -r rps p50 p99 bad < <(wrk -t1 -c"$concurrency" -d"${duration}s" --latency http://127.0.0.1:3000/api/users/ping | wrk_summary)
  row "baseline: GET /api/users/ping" "$rps" "$p50" "$p99" "$bad"
  read -r rps p50 p99 bad < <(wrk -t1 -c"$concurrency" -d"${duration}s" --latency -H "Authorization: Bearer $company" http://127.0.0.1:3000/api/contracts | wrk_summary)
  row "GET /api/contracts (a page of 20 of $count)" "$rps" "$p50" "$p99" "$bad"
  read -r rps p50 p99 bad < <(wrk -t1 -c"$concurrency" -d"${duration}s" --latency -s bench/timesheets.lua -H "Authorization: Bearer $va" \
    "http://127.0.0.1:3000/api/contracts/$contract/timesheets" | wrk_summary)
  row "POST /api/contracts/{id}/timesheets (a new hour each)" "$rps" "$p50" "$p99" "$bad"
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
done
