#!/usr/bin/env bash
# The request path's cost model: where one warm invocation of a trivial function through the gateway
# goes, per request, by process — the runner (gateway) and the worker — beside the same handler served
# in-process by a bare Hummingbird server (bench-baseline):
# - user-space instructions (valgrind's callgrind, counters zeroed after a warm-up, dumped after the run);
# - system calls (strace -c attached to each process);
# - context switches (voluntary and not, every thread of the process, from /proc);
# - bytes through read/write-like system calls (/proc/<pid>/io rchar + wchar);
# requests made one at a time over one keep-alive connection, release build.
#
#   bench/costmodel.sh [requests]      e.g. bench/costmodel.sh 2000
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
requests=${1:-2000}
command -v valgrind >/dev/null && command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind strace >/dev/null; }
build_release blytz users bench-baseline
require_free_ports 3000 3001 3100
data=$(mktemp -d)
runner_pid=; baseline_pid=
stop_all() { for pid in $runner_pid $baseline_pid; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; runner_pid=; baseline_pid=; }
cleanup() { stop_all; rm -rf "$data"; }
trap cleanup EXIT

# Sends `count` GETs to `url` one at a time on one connection.
load() { # url count
  python3 - "$1" "$2" <<'PY'
import http.client, sys, urllib.parse
url, count = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2])
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
for _ in range(count):
    connection.request("GET", url.path)
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
PY
}
worker_pid() { # the pid of users-ping's worker
  for pid in $(pgrep -f "$bin/users" || true); do tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx '_HANDLER=users-ping' && { echo "$pid"; return; }; done
}
switches() { # pid → voluntary + involuntary context switches of every thread
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'
}
io_bytes() { awk '/^(rchar|wchar)/ { n += $2 } END { print n + 0 }' /proc/"$1"/io; }
start_runner() { # extra command words before blytz (valgrind …)
  "$@" "$bin/blytz" local --manifest bench/costmodel.yaml --data-dir "$data/runner" --bin-dir "$bin" --port 3000 --no-dashboard > "$data/runner.out" 2> "$data/runner.err" &
  runner_pid=$!
  for _ in $(seq 1200); do grep -q '"event":"ready"' "$data/runner.out" 2>/dev/null && break; sleep 0.05; done
  until curl -sf -m 60 localhost:3000/api/users/ping >/dev/null; do kill -0 "$runner_pid" || { cat "$data/runner.err" >&2; exit 1; }; sleep 0.2; done
}
start_baseline() {
  "$@" "$bin/bench-baseline" 3100 > /dev/null 2>&1 &
  baseline_pid=$!
  until curl -sf -m 60 localhost:3100/users/ping >/dev/null; do kill -0 "$baseline_pid" || exit 1; sleep 0.2; done
}

# System calls, context switches and bytes, on the plain processes.
start_runner
start_baseline
load http://127.0.0.1:3000/api/users/ping 200
load http://127.0.0.1:3100/users/ping 200
worker=$(worker_pid)
declare -A before_sw before_io
for name in runner worker baseline; do
  case $name in runner) pid=$runner_pid ;; worker) pid=$worker ;; baseline) pid=$baseline_pid ;; esac
  before_sw[$name]=$(switches "$pid"); before_io[$name]=$(io_bytes "$pid")
done
load http://127.0.0.1:3000/api/users/ping "$requests"
load http://127.0.0.1:3100/users/ping "$requests"
declare -A sw io
for name in runner worker baseline; do
  case $name in runner) pid=$runner_pid ;; worker) pid=$worker ;; baseline) pid=$baseline_pid ;; esac
  sw[$name]=$(( $(switches "$pid") - ${before_sw[$name]} )); io[$name]=$(( $(io_bytes "$pid") - ${before_io[$name]} ))
done
strace -c -f -q -p "$runner_pid" -o "$data/strace.runner" & s1=$!
strace -c -f -q -p "$worker" -o "$data/strace.worker" & s2=$!
strace -c -f -q -p "$baseline_pid" -o "$data/strace.baseline" & s3=$!
sleep 1
load http://127.0.0.1:3000/api/users/ping "$requests"
load http://127.0.0.1:3100/users/ping "$requests"
kill -INT $s1 $s2 $s3; wait $s1 $s2 $s3 2>/dev/null || true
stop_all

# Instructions: every process under callgrind (workers too), counters zeroed after the warm-up, on copies
# without debug information (valgrind cannot read the DWARF of Swift's release build). Valgrind's
# `rt_sigsuspend` writes into the mask it is given, and libdispatch hands it a read-only one (the main
# thread of every async Swift program ends in `_dispatch_sig_thread`), so valgrind stops with SIGSEGV; a
# preloaded `sigsuspend` that passes a copy on the stack gets past it without changing what is counted.
calls=$((requests / 10))
declare -A instructions
mkdir -p "$data/bin"
for product in blytz users bench-baseline; do objcopy --strip-debug "$bin/$product" "$data/bin/$product"; done
cat > "$data/sigsuspend.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
int sigsuspend(const sigset_t *mask) {
  int (*real)(const sigset_t *) = (int (*)(const sigset_t *))dlsym(RTLD_NEXT, "sigsuspend");
  sigset_t copy = *mask;
  return real(&copy);
}
C
cc -shared -fPIC -O2 -o "$data/sigsuspend.so" "$data/sigsuspend.c" -ldl
if timeout 60 env LD_PRELOAD="$data/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$data/bin/blytz" --help >/dev/null 2>&1; then
  bin="$data/bin"
  export LD_PRELOAD="$data/sigsuspend.so"
  callgrind=(valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$data/callgrind.%p")
  start_runner "${callgrind[@]}"
  start_baseline "${callgrind[@]}"
  load http://127.0.0.1:3000/api/users/ping 100
  load http://127.0.0.1:3100/users/ping 100
  callgrind_control -z >/dev/null
  load http://127.0.0.1:3000/api/users/ping "$calls"
  load http://127.0.0.1:3100/users/ping "$calls"
  callgrind_control -d >/dev/null
  sleep 2
  stop_all
  unset LD_PRELOAD
  # The dumps callgrind_control made (`<file>.1`): what each process ran since the counters were zeroed.
  for file in "$data"/callgrind.*.1; do
    command=$(grep -m1 '^cmd:' "$file" | cut -c6-)
    total=$(grep -m1 '^totals:' "$file" | awk '{ print $2 }')
    case $command in
      *bench-baseline*) name=baseline ;;
      *blytz*) name=runner ;;
      *users*) name=worker ;;
      *) continue ;;
    esac
    instructions[$name]=$total
    [ -n "${COSTMODEL_PROFILES:-}" ] && mkdir -p "$COSTMODEL_PROFILES" && cp "$file" "$COSTMODEL_PROFILES/callgrind.$name"
  done
else
  reason=$(timeout 60 env LD_PRELOAD="$data/sigsuspend.so" valgrind --tool=none "$data/bin/blytz" --help 2>&1 | grep -m1 -o 'VALGRIND INTERNAL ERROR.*' || true)
  echo "instructions: n/a — $(valgrind --version) cannot run these binaries (${reason:-it failed})"
fi

syscalls() { awk '$NF == "total" { print $4; found = 1 } END { if (!found) print 0 }' "$1"; }
top_calls() { awk 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ { printf "%s %s\n", $NF, $4 }' "$1" | sort -k2 -nr | head -4 | awk -v r="$requests" '{ printf "%s %.1f, ", $1, $2 / r }' | sed 's/, $//'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $requests requests one at a time (instructions: $calls under callgrind)"
printf '\n%-22s %14s %11s %10s %11s   %s\n' "per request" "instructions" "syscalls" "switches" "bytes r+w" "top system calls per request"
for name in runner worker baseline; do
  printf '%-22s %14s %11.1f %10.2f %11.0f   %s\n' "$name" \
    "$([ -n "${instructions[$name]:-}" ] && echo $(( ${instructions[$name]} / calls )) || echo n/a)" \
    "$(awk -v n="$(syscalls "$data/strace.$name")" -v r="$requests" 'BEGIN { print n / r }')" \
    "$(awk -v n="${sw[$name]}" -v r="$requests" 'BEGIN { print n / r }')" \
    "$(awk -v n="${io[$name]}" -v r="$requests" 'BEGIN { print n / r }')" \
    "$(top_calls "$data/strace.$name")"
done
[ -n "${instructions[baseline]:-}" ] && awk -v r="${instructions[runner]:-0}" -v w="${instructions[worker]:-0}" -v b="${instructions[baseline]}" \
  'BEGIN { printf "\nrunner + worker / baseline: %.1fx instructions per request\n", (r + w) / b }'
true
