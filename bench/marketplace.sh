#!/usr/bin/env bash
# The marketplace benchmark: GET /api/jobs with filters over N open postings, GET /api/matches/recommendations
# for jobs over N VAs, and GET /api/matches/jobs for VAs over the N postings, through the running runner;
# side by side in the same run with GET /api/users/ping (the same gateway → worker path, no query).
# The data comes from `blytz marketplace seed-postings` and `seed-people` (Sources/Marketplace/DemoData.swift,
# `SyntheticMarket`). SQLite by default; with --postgres, a throwaway PostgreSQL too.
#
#   bench/marketplace.sh [count] [duration-seconds] [concurrency] [--postgres | --only-postgres]     e.g. bench/marketplace.sh 100000 5 2 --postgres
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
search_benchmark "$@"


measure() { # token url → "rps p50 p99 non2xx" (ms)
  wrk -t1 -c"$concurrency" -d"${duration}s" --latency -H "Authorization: Bearer $1" "$2" | wrk_summary
}
row() { printf '%-72s %8s %8s %8s %7s %6s\n' "$@"; }
first_job() { # search query → the id of its first posting
  curl -sf -H "Authorization: Bearer $admin" "localhost:3000/api/jobs?limit=1&$1" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4
}

for engine in "${engines[@]}"; do
  engine_env "$engine" users marketplace -- BLYTZ_ADMIN_PASSWORD="benchmark admin password"
  seeded_jobs=$(env "${env[@]}" "$bin/blytz" marketplace seed-postings --count "$count" --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml)
  seeded_vas=$(env "${env[@]}" "$bin/blytz" marketplace seed-people --count "$count" --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml)
  env "${env[@]}" "$bin/blytz" users create-admin --email admin@bench.blytz.work --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml >/dev/null
  start_runner bench/marketplace.yaml
  admin=$(curl -sf -XPOST localhost:3000/api/auth/login -H 'content-type: application/json' \
    -d '{"email":"admin@bench.blytz.work","password":"benchmark admin password"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
  # Two VAs with profiles (their copies arrive by ProfileUpdated): common skills only, and common with rare.
  vas=()
  for skills in '"skill-0","skill-2","skill-5","skill-9"' '"skill-1","skill-4","skill-88","skill-140","skill-177"'; do
    read -r token _ < <(signup "va$RANDOM@bench.blytz.work" va)
    curl -sf -XPOST localhost:3000/api/profiles/va -H "Authorization: Bearer $token" -H 'content-type: application/json' \
      -d "{\"name\":\"Bench VA\",\"country\":\"PH\",\"timezone\":\"Asia/Manila\",\"hourlyRateCents\":1200,\"skills\":[$skills]}" >/dev/null
    vas+=("$token")
  done
  # The first ranking of each matching worker loads its index: time it.
  for _ in $(seq 100); do
    read -r code first_jobs < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer ${vas[1]}" localhost:3000/api/matches/jobs)
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  # Jobs to recommend VAs for: common skills, a rare skill, and both.
  jobs=("$(first_job 'skills=skill-0,skill-1')" "$(first_job 'skills=skill-150')" "$(first_job 'skills=skill-2,skill-120')")
  first_vas=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $admin" "localhost:3000/api/matches/recommendations?jobPostingId=${jobs[0]}")
  requests=()
  for q in "${searches[@]}"; do requests+=("$admin /api/jobs?$q"); done
  for job in "${jobs[@]}"; do requests+=("$admin /api/matches/recommendations?jobPostingId=$job"); done
  requests+=("${vas[0]} /api/matches/jobs" "${vas[1]} /api/matches/jobs")
  # Warm every worker, at the measured concurrency too, so the workers the runner adds have loaded.
  for request in "${requests[@]}"; do
    set -- $request
    for _ in 1 2 3 4 5; do curl -sf -H "Authorization: Bearer $1" "localhost:3000$2" >/dev/null; done
    wrk -t1 -c"$concurrency" -d2s -H "Authorization: Bearer $1" "http://127.0.0.1:3000$2" >/dev/null
  done
  for _ in $(seq 20); do curl -sf localhost:3000/api/users/ping >/dev/null; done

  echo
  echo "$engine: $count postings (${seeded_jobs}), $count VAs (${seeded_vas}), concurrency $concurrency, ${duration}s each"
  row "request" "req/s" "p50 ms" "p99 ms" "non-2xx" "items"
  read -r rps p50 p99 bad < <(measure "$admin" "http://127.0.0.1:3000/api/users/ping")
  row "baseline: GET /api/users/ping" "$rps" "$p50" "$p99" "$bad" "-"
  for request in "${requests[@]}"; do
    set -- $request
    # A page's items: each posting has one proposalCount, each ranked item one score.
    items=$(curl -sf -H "Authorization: Bearer $1" "localhost:3000$2" | { grep -oE '"(score|proposalCount)":' || true; } | sort | uniq -c | sort -rn | awk 'NR==1 {print $1}')
    read -r rps p50 p99 bad < <(measure "$1" "http://127.0.0.1:3000$2")
    label="GET $2"
    row "${label:0:72}" "$rps" "$p50" "$p99" "$bad" "$items"
  done
  echo "first ranking of a new worker (its index loaded): recommendations ${first_vas}s, jobs ${first_jobs}s"
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
done
