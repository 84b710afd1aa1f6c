#!/usr/bin/env bash
# The everyday local build, compared by build mode: the first build of every executable, the rebuild of one
# service after a one-line change to a handler (what `blytz local --watch` runs), and the latency of a
# signed-in request (`GET /auth/me`: gateway, worker, token check and a SQLite read) served by that build.
#
#   bench/localbuild.sh [--fresh] [mode…]      modes: debug, optimized, release (default: all three)
#
# debug      swift build                          what `./local/run --debug` builds
# optimized  swift build -Xswiftc -O -Xcc -O2     the debug configuration compiled with optimisation, file by
#            (scratch path .build/optimized)      file (no whole-module step): the middle ground
# release    swift build -c release               what `./local/run` and the benchmarks build
#
# --fresh removes each mode's build folder first, so the first build is measured from nothing (about ten
# minutes a mode on two cores); without it, the first-build column reports the build of what is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
fresh=false
[ "${1:-}" = --fresh ] && { fresh=true; shift; }
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(debug optimized release)

flags() { # mode → the build flags
  case $1 in
    debug) echo "" ;;
    optimized) echo "--scratch-path .build/optimized -Xswiftc -O -Xcc -O2" ;;
    release) echo "-c release" ;;
    *) echo "unknown mode $1" >&2; exit 2 ;;
  esac
}
scratch() { case $1 in optimized) echo .build/optimized ;; release) echo .build/release ;; *) echo .build/debug ;; esac; }

require_wrk
require_free_ports 3000 3001 3002 3003 3004 3005 3006
work=$(mktemp -d)
handler=Sources/Users/Auth/Me.swift
cp "$handler" "$work/handler.swift"
cleanup() {
  cp "$work/handler.swift" "$handler"
  kill "${runner_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

seconds() { # command… → wall seconds, the command's output kept in $work/build.log
  local start end
  start=$(date +%s.%N)
  "$@" > "$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", e - s }'
}

printf '\nload before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-10s %12s %14s %14s %12s %10s %10s %10s\n' mode "first (s)" "rebuild (s)" "unchanged (s)" "c1 req/s" "p50 ms" "p99 ms" "c4 req/s"
for mode in "${modes[@]}"; do
  read -r -a f <<< "$(flags "$mode")"
  $fresh && rm -rf "$(scratch "$mode")"
  first=$(seconds swift build "${f[@]}")
  # One line of a handler changed, then changed back: the service's executable rebuilt each time.
  sed -i 's/There is no user /No user is /' "$handler"
  one=$(seconds swift build "${f[@]}" --product users)
  cp "$work/handler.swift" "$handler"
  two=$(seconds swift build "${f[@]}" --product users)
  unchanged=$(seconds swift build "${f[@]}" --product users)
  rebuild=$(( (one + two) / 2 ))
  bin=$(swift build "${f[@]}" --show-bin-path)

  data="$work/$mode"
  mkdir -p "$data"
  USERS_BCRYPT_COST=4 "$bin/blytz" local --data-dir "$data" --bin-dir "$bin" --no-dashboard > "$data/runner.out" 2> "$data/runner.err" &
  runner_pid=$!
  wait_ready "$data/runner.out"
  read -r token _ < <(signup "me@$mode.example" va)
  for _ in $(seq 50); do curl -sf -H "authorization: Bearer $token" localhost:3000/api/auth/me >/dev/null; done
  read -r rps1 p50 p99 bad1 < <(wrk -t1 -c1 -d5s --latency -H "authorization: Bearer $token" http://127.0.0.1:3000/api/auth/me | wrk_summary)
  read -r rps4 _ _ bad4 < <(wrk -t2 -c4 -d5s --latency -H "authorization: Bearer $token" http://127.0.0.1:3000/api/auth/me | wrk_summary)
  [ "$bad1" = 0 ] && [ "$bad4" = 0 ] || { echo "non-2xx answers in mode $mode" >&2; exit 1; }
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
  printf '%-10s %12s %14s %14s %12s %10s %10s %10s\n' "$mode" "$first" "$rebuild" "$unchanged" "$rps1" "$p50" "$p99" "$rps4"
done
printf '\nload after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
