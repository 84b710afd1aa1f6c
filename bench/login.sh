#!/usr/bin/env bash
# Login timing at the default bcrypt cost (12): an unknown email against a wrong password for a known one,
# interleaved in one run through the runner. They should take about the same time.
#
#   bench/login.sh [attempts]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
attempts=${1:-20}
build_release "${backend[@]}"
require_free_ports 3000 3001 3002 3003 3004 3005 3006
data=$(mktemp -d)
cleanup() { kill "${runner_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
USERS_LOGIN_MAX_FAILURES_PER_ADDRESS=100000 "$bin/blytz" local --data-dir "$data" --bin-dir "$bin" > "$data/runner.out" 2> "$data/runner.err" &
runner_pid=$!
wait_ready "$data/runner.out"
login() { curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -XPOST localhost:3000/api/auth/login -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"not the password\"}"; }
for i in $(seq "$attempts"); do
  curl -sf -o /dev/null -XPOST localhost:3000/api/auth/register -H 'content-type: application/json' \
    -d "{\"email\":\"known$i@example.com\",\"password\":\"the right password\",\"role\":\"va\"}"
done
login warm@example.com >/dev/null
: > "$data/known"; : > "$data/unknown"
for i in $(seq "$attempts"); do
  login "known$i@example.com" >> "$data/known"
  login "unknown$i@example.com" >> "$data/unknown"
done
summary() { # file → "status p50 ms mean ms"
  sort -k2 -n "$1" | awk '{ s[NR] = $2 * 1000; sum += $2 * 1000; code = $1 } END { printf "%s %.1f %.1f\n", code, s[int((NR + 1) / 2)], sum / NR }'
}
read -r kc kp km < <(summary "$data/known")
read -r uc up um < <(summary "$data/unknown")
printf '%-36s %6s %9s %9s\n' "login (bcrypt cost 12, $attempts each)" "status" "p50 ms" "mean ms"
printf '%-36s %6s %9s %9s\n' "known email, wrong password" "$kc" "$kp" "$km"
printf '%-36s %6s %9s %9s\n' "unknown email" "$uc" "$up" "$um"
awk -v a="$up" -v b="$kp" 'BEGIN { printf "%-36s %6s %8.2fx\n", "unknown / known", "", a / b }'
