#!/usr/bin/env bash
# Where a marketplace search's time goes, on SQLite and on PostgreSQL: N postings seeded as
# bench/marketplace.sh seeds them, the runner started on release binaries, and each search of that benchmark
# made once warm. Prints, per search, the request's time at the client and as the runner timed the
# invocation (gateway → worker → answer), then every statement the request ran with its plan:
# - SQLite: the worker logs each statement with its binds (LOG_LEVEL=debug); each is then shown with
#   `EXPLAIN QUERY PLAN` and timed on the same database file by Python's sqlite3 (the median of 20 runs);
# - PostgreSQL: auto_explain logs every statement's `EXPLAIN (ANALYZE, BUFFERS)` plan as it ran, and
#   `log_min_duration_statement` the time of each protocol step (parse, bind — where an unnamed statement is
#   planned — and execute).
#
#   bench/search-profile.sh [count] [--sqlite | --postgres]      e.g. bench/search-profile.sh 100000 (both engines)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
count=${1:-100000}
case "${2:-}" in
  --sqlite) search_benchmark "$count" 1 1 ;;
  --postgres) search_benchmark "$count" 1 1 --only-postgres ;;
  *) search_benchmark "$count" 1 1 --postgres ;;
esac
psql=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -1 || command -v psql)

# The request's time at the client and the runner's time of its invocation.
search_once() { # query
  for _ in 1 2 3; do curl -sf -H "Authorization: Bearer $admin" "localhost:3000/api/jobs?$1" >/dev/null; done
  sleep 0.2
  mark_logs
  took=$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $admin" "localhost:3000/api/jobs?$1")
  sleep 0.5
  invoked=$(grep '"function":"marketplace-jobs-search"' "$data/runner.out" | tail -1 | sed 's/.*"durationMs":\([0-9.]*\).*/\1/')
  echo
  echo "=== GET /api/jobs?$1 — ${took}s at the client, ${invoked} ms invoked (runner)"
}

for engine in "${engines[@]}"; do
  extra=(BLYTZ_ADMIN_PASSWORD="benchmark admin password")
  [ "$engine" = sqlite ] && extra+=(LOG_LEVEL=debug)
  engine_env "$engine" users marketplace -- "${extra[@]}"
  seeded=$(env "${env[@]}" "$bin/blytz" marketplace seed-postings --count "$count" --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml)
  env "${env[@]}" "$bin/blytz" users create-admin --email admin@bench.blytz.work --data-dir "$data" --bin-dir "$bin" --manifest bench/marketplace.yaml >/dev/null
  if [ "$engine" = postgres ]; then
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
    log="$work/pg/server.log"
  else
    log="$data/logs/marketplace-jobs-search.log"
  fi
  start_runner bench/marketplace.yaml
  admin=$(curl -sf -XPOST localhost:3000/api/auth/login -H 'content-type: application/json' \
    -d '{"email":"admin@bench.blytz.work","password":"benchmark admin password"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
  mark_logs() { from=$(wc -c < "$log" 2>/dev/null || echo 0); }

  echo
  echo "##### $engine: $count postings ($seeded); load $(cut -d' ' -f1-3 /proc/loadavg)"
  for q in "${searches[@]}"; do
    search_once "$q"
    if [ "$engine" = postgres ]; then
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
    else
      tail -c +"$((from + 1))" "$log" | python3 -c '
import json, re, sqlite3, statistics, sys, time
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
# The log line holds the binds as swift-log prints a list of SQLite values: ["text", 42, null].
def binds(text):
    return [value(token) for token in re.findall(r"\"[^\"]*\"|[^,\s\[\]]+", text)]
def value(bind):
    if bind.startswith("\"") and bind.endswith("\""): return bind[1:-1]
    if bind == "null": return None
    return float(bind) if "." in bind else int(bind)
total, statements = 0.0, 0
for line in sys.stdin:
    entry = json.loads(line)
    if entry.get("message") != "Executing query": continue
    sql, values = entry["sql"], binds(entry.get("binds", "[]"))
    if sql.startswith(("BEGIN", "COMMIT", "ROLLBACK")): continue
    runs = []
    for _ in range(20):
        started = time.perf_counter(); db.execute(sql, values).fetchall(); runs.append((time.perf_counter() - started) * 1000)
    ms = statistics.median(runs)
    total += ms; statements += 1
    shown = values[:6] + (["…"] if len(values) > 6 else [])
    print(f"--- {ms:.3f} ms: {sql}  {shown}")
    for row in db.execute("EXPLAIN QUERY PLAN " + sql, values): print(f"      {row[3]}")
print(f"=== {statements} statements; in SQLite (Python sqlite3, median of 20): {total:.3f} ms")
' "$(find "$data" -name 'marketplace*.sqlite' | head -1)"
    fi
  done
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
done
