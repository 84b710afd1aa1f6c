#!/usr/bin/env bash
# The payments benchmark: POST /api/payments (a company paying a VA through the simulated provider: the
# charge, its ledger entries, the release and its events, each request a new payment with its own
# Idempotency-Key: bench/payments.lua) through the running runner, beside GET /api/users/ping in the same
# run. SQLite by default; with --postgres, a throwaway PostgreSQL too.
#
#   bench/payments.sh [duration-seconds] [concurrency] [--postgres | --only-postgres]     e.g. bench/payments.sh 10 2
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
search_benchmark 0 "${1:-10}" "${2:-2}" "${3:-}"

for engine in "${engines[@]}"; do
  engine_env "$engine" users payments
  start_runner bench/payments.yaml
  read -r company _ < <(signup "company$RANDOM@bench.blytz.work" company)
  read -r _ va_id < <(signup "va$RANDOM@bench.blytz.work" va)
  script="$work/payments.lua"
  { echo "payee = \"$va_id\""; cat bench/payments.lua; } > "$script"
  # Warm every worker, at the measured concurrency too.
  for _ in 1 2 3 4 5; do curl -sf -o /dev/null localhost:3000/api/users/ping; done
  wrk -t1 -c"$concurrency" -d2s -s "$script" -H "Authorization: Bearer $company" http://127.0.0.1:3000/api/payments >/dev/null

  echo
  echo "$engine: payments by one company to one VA (simulated provider), concurrency $concurrency, ${duration}s each"
  row "request" "req/s" "p50 ms" "p99 ms" "non-2xx"
  read -r rps p50 p99 bad < <(wrk -t1 -c"$concurrency" -d"${duration}s" --latency http://127.0.0.1:3000/api/users/ping | wrk_summary)
  row "baseline: GET /api/users/ping" "$rps" "$p50" "$p99" "$bad"
  read -r rps p50 p99 bad < <(wrk -t1 -c"$concurrency" -d"${duration}s" --latency -s "$script" -H "Authorization: Bearer $company" http://127.0.0.1:3000/api/payments | wrk_summary)
  row "POST /api/payments (payments/s = req/s)" "$rps" "$p50" "$p99" "$bad"
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
done
