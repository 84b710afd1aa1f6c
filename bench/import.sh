#!/usr/bin/env bash
# The import benchmark: a monolith of N users and their rows (about ten rows per user, generated in the
# database in bulk by Tests/Fixtures/monolith/generate.sql), imported by `blytz import` into SQLite files
# and into PostgreSQL databases; then imported again into SQLite (nothing changed: the re-run's cost).
# Prints rows read and written, rows/s and wall time of each, each service's own time, and the slowest
# tables with the part of their time spent reading the monolith.
#
#   bench/import.sh [users]      e.g. bench/import.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
users=${1:-100000}
build_release "${backend[@]}"
work=$(mktemp -d)
chmod 755 "$work"
pg_dir="$work/postgres"
cleanup() { local/postgres stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
server=$(local/postgres start "$pg_dir")
base=${server%/postgres}
psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | head -1)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

started=$(date +%s.%N)
"$psql" -q "$server" -c "CREATE DATABASE monolith"
"$psql" -q -v ON_ERROR_STOP=1 "$base/monolith" -f Tests/Fixtures/monolith/schema.sql
sed "s/{n}/$users/g" Tests/Fixtures/monolith/generate.sql | "$psql" -q -v ON_ERROR_STOP=1 "$base/monolith"
"$psql" -q "$base/monolith" -c "VACUUM ANALYZE"
rows=$("$psql" -At "$base/monolith" -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE schemaname = 'blytz_hire'")
elapsed() { python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$1" "$(date +%s.%N)"; }
echo "monolith: $users users, $rows rows, generated in $(elapsed "$started") s"
echo

run() { # label, data directory, then environment assignments
  local label=$1 data=$2; shift 2
  local begin
  begin=$(date +%s.%N)
  env "$@" "$bin/blytz" import --from "$base/monolith" --json --data-dir "$data" --bin-dir "$bin" > "$work/$label.json" 2> "$work/$label.err" \
    || { echo "$label failed:"; tail -20 "$work/$label.err"; exit 1; }
  python3 - "$label" "$work/$label.json" "$(elapsed "$begin")" <<'PY'
import json, sys
label, path, wall = sys.argv[1], sys.argv[2], float(sys.argv[3])
reports = [json.loads(line) for line in open(path) if line.startswith("{")]
read = sum(t["read"] for r in reports for t in r["tables"])
written = sum(t["written"] for r in reports for t in r["tables"])
services = ", ".join(f'{r["service"]} {r["seconds"]:.0f} s' for r in reports)
print(f"{label:<22} read {read:>9,}  written {written:>9,}  {read / wall:>8,.0f} rows/s  wall {wall:6.1f} s   ({services})")
tables = sorted(((t.get("seconds") or 0, t.get("readingSeconds") or 0, r["service"], t["source"]) for r in reports for t in r["tables"]), reverse=True)
print("  slowest tables: " + ", ".join(f"{service} {source} {total:.0f} s (reading {reading:.0f} s)" for total, reading, service, source in tables[:5]))
PY
}
run "sqlite" "$work/sqlite"
run "postgres" "$work/pg-data" BLYTZ_DATABASE_URL="$base"
run "sqlite, again" "$work/sqlite"
