#!/usr/bin/env bash
# Where a marketplace search's time goes on PostgreSQL: N postings seeded as bench/marketplace.sh seeds
# them, the runner started on release binaries, and each search of that benchmark made once warm with
# auto_explain logging every statement the request ran, with `EXPLAIN (ANALYZE, BUFFERS)`'s plan, and
# `log_min_duration_statement` the time of each protocol step (parse, bind — where an unnamed statement is
# planned — and execute). Prints, per search, the request's time at the client and as the runner timed the
# invocation (gateway → worker → answer), its statements with their plans, and the sums per step.
#
#   bench/search-profile.sh [count]      e.g. bench/search-profile.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
search_benchmark "${1:-100000}" 1 1 --only-postgres
psql=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -1 || command -v psql)


engine_env postgres users marketplace -- BLYTZ_ADMIN_PASSWORD="benchmark admin password"
seeded=$(env "${env[@]}" "$bin/blytz" marketplace seed-postings --count "$count" --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml)
env "${env[@]}" "$bin/blytz" users create-admin --email admin@bench.blytz.work --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml >/dev/null
database=$(printf '%s\n' "${env[@]}" | sed -n 's/^MARKETPLACE_DATABASE_URL=//p')
# Every statement of every new session of the marketplace's database, with its plan as run.
"$psql" -q "$database" <<'SQL'
ALTER DATABASE marketplace_bench SET session_preload_libraries = 'auto_explain';
ALTER DATABASE marketplace_bench SET auto_explain.log_min_duration = 0;
ALTER DATABASE marketplace_bench SET auto_explain.log_analyze = on;
ALTER DATABASE marketplace_bench SET auto_explain.log_buffers = on;
ALTER DATABASE marketplace_bench SET auto_explain.log_nested_statements = on;
ALTER DATABASE marketplace_bench SET log_min_duration_statement = 0;
SQL
start_runner bench/marketplace.yaml
admin=$(curl -sf -XPOST localhost:3000/api/auth/login -H 'content-type: application/json' \
  -d '{"email":"admin@bench.blytz.work","password":"benchmark admin password"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
log="$work/pg/server.log"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $count postings ($seeded)"
for q in "${searches[@]}"; do
  for _ in 1 2 3; do curl -sf -H "Authorization: Bearer $admin" "localhost:3000/api/jobs?$q" >/dev/null; done
  sleep 0.2
  from=$(wc -c < "$log")
  took=$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $admin" "localhost:3000/api/jobs?$q")
  sleep 0.5
  invoked=$(grep '"function":"marketplace-jobs-search"' "$data/runner.out" | tail -1 | sed 's/.*"durationMs":\([0-9.]*\).*/\1/')
  echo
  echo "=== GET /api/jobs?$q — ${took}s at the client, ${invoked} ms invoked (runner)"
  tail -c +"$((from + 1))" "$log" | python3 -c '
import re, sys
entries = re.split(r"^\S.*LOG:  duration: ", sys.stdin.read(), flags=re.M)[1:]
steps, plans = {}, 0
for entry in entries:
    ms, step = re.match(r"([0-9.]+) ms  (\w+)", entry).groups()
    if step == "plan":
        plans += 1
        print(f"--- {float(ms):.3f} ms: " + entry.split("\n", 1)[1].rstrip())
    else:
        steps[step] = steps.get(step, 0.0) + float(ms)
print(f"=== {plans} statements; in PostgreSQL: " + ", ".join(f"{step} {total:.3f} ms" for step, total in sorted(steps.items())))
'
done
kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
