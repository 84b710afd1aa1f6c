#!/usr/bin/env bash
# The search benchmark: GET /api/profiles/va with filters over 100,000 VA profiles, through the running
# runner, per filter set; side by side in the same run with GET /api/users/ping (the same path through
# gateway and worker, without the query). SQLite by default; with --postgres, a throwaway PostgreSQL too.
#
#   bench/profiles.sh [profiles] [duration-seconds] [concurrency] [--postgres | --only-postgres]     e.g. bench/profiles.sh 100000 5 2 --postgres
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
search_benchmark "$@"

queries=(
  "country=PH&skills=excel&sort=rating"
  "skills=shopify,seo&minRating=4&sort=rate"
  "q=reli&available=true&sort=recent"
  "country=IS&minRate=2000&maxRate=3000"
  "minRate=1000&maxRate=2000&available=true&minRating=4.5"
  "q=ecommerce%20support&country=IN&sort=rate"
)

measure() { # url → "rps p50 p99 non2xx" (ms)
  wrk -t1 -c"$concurrency" -d"${duration}s" --latency -H "Authorization: Bearer $token" "$1" | wrk_summary
}

for engine in "${engines[@]}"; do
  engine_env "$engine" users
  seeded=$(env "${env[@]}" "$bin/blytz" users seed-profiles --count "$count" --data-dir "$data" --bin-dir "$bin")
  start_runner bench/profiles.yaml
  token=$(curl -sf -XPOST localhost:3000/api/auth/register -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"benchmark password","role":"company"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
  # Warm the search and ping workers.
  for q in "${queries[@]}"; do for _ in 1 2 3 4 5; do curl -sf -H "Authorization: Bearer $token" "localhost:3000/api/profiles/va?$q" >/dev/null; done; done
  for _ in $(seq 20); do curl -sf localhost:3000/api/users/ping >/dev/null; done

  echo
  echo "$engine: $count profiles (seed: $seeded), concurrency $concurrency, ${duration}s each"
  printf '%-58s %8s %8s %8s %7s %6s\n' "request" "req/s" "p50 ms" "p99 ms" "non-2xx" "items"
  read -r rps p50 p99 bad < <(measure "http://127.0.0.1:3000/api/users/ping")
  printf '%-58s %8s %8s %8s %7s %6s\n' "baseline: GET /api/users/ping" "$rps" "$p50" "$p99" "$bad" "-"
  for q in "${queries[@]}"; do
    items=$(curl -sf -H "Authorization: Bearer $token" "localhost:3000/api/profiles/va?$q" | grep -o '"userId"' | wc -l)
    read -r rps p50 p99 bad < <(measure "http://127.0.0.1:3000/api/profiles/va?$q")
    printf '%-58s %8s %8s %8s %7s %6s\n' "GET /api/profiles/va?$q" "$rps" "$p50" "$p99" "$bad" "$items"
  done
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
done
