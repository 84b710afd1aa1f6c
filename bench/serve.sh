#!/usr/bin/env bash
# Self-hosting through a real reverse proxy: HAProxy configured with the routing of the Traefik labels
# `blytz compose` writes, in front of `blytz serve` replicas on PostgreSQL.
# - a read route (GET /api/auth/jwks of the user service) through the proxy with one replica and with two
#   (and straight to one replica, the proxy's cost), wrk;
# - events/s of a queue consumer (bench/serve.yaml) with one replica and with two competing, and with two
#   of which one is SIGKILLed a third of the way through and started again: published, delivered (every
#   event the consumer was handed, counted by the consumer), processed once (its inbox).
#
#   bench/serve.sh [seconds] [connections] [events]      e.g. bench/serve.sh 10 32 20000
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${1:-10}
connections=${2:-32}
events=${3:-20000}
require_wrk
if [ ! -x /usr/sbin/haproxy ] || [ ! -x /usr/bin/docker-compose ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy docker-compose >/dev/null
fi
python=local/.venv/bin/python
[ -x "$python" ] || { python3 -m venv local/.venv && "$python" -m pip install -q -r local/tools/requirements.txt; }
build_release blytz users blytz-fixtures
work=$(mktemp -d)
pg_dir="$work/postgres"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  local/postgres stop "$pg_dir" || true
  rm -rf "$work"
}
trap cleanup EXIT
server=$(local/postgres start "$pg_dir")
base=${server%/postgres}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# serve SERVICE MANIFEST PORT DATA [VAR=value…]: starts a replica, waits for it; its pid in `replica_pid`.
serve() {
  local service=$1 manifest=$2 port=$3 data=$4
  shift 4
  mkdir -p "$data"
  env "$@" "$bin/blytz" serve "$service" --manifest "$manifest" --host 127.0.0.1 --port "$port" --data-dir "$data" --bin-dir "$bin" \
    > "$data/out-$port" 2> "$data/err-$port" &
  replica_pid=$!
  pids+=("$replica_pid")
  wait_ready "$data/out-$port"
}

# proxy NAME MANIFEST SERVICE=ADDR[,ADDR…]: HAProxy routed as the manifest's compose labels say; its URL in `proxy_url`.
proxy() {
  local name=$1 manifest=$2
  shift 2
  local dir="$work/$name-compose" port
  port=$(free_port)
  mkdir -p "$dir"
  cp "$manifest" "$dir/functions.yaml"
  (cd "$dir" && "$bin/blytz" compose --manifest functions.yaml > /dev/null)
  echo "POSTGRES_PASSWORD=unused" > "$dir/deploy/.env"
  "$python" local/tools/compose_routes.py haproxy "$dir/deploy/compose.yaml" "$port" "$@" > "$dir/haproxy.cfg"
  haproxy -db -f "$dir/haproxy.cfg" > "$dir/haproxy.log" 2>&1 &
  pids+=("$!")
  proxy_url="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -s -o /dev/null "$proxy_url/" && return 0; sleep 0.05; done
}

read_route() { # label URL
  curl -sf "$2" > /dev/null
  wrk -t2 -c"$connections" -d2s --latency "$2" > /dev/null   # warm the workers
  local summary
  summary=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$2" | wrk_summary)
  read -r rps p50 p99 bad <<< "$summary"
  printf "%-36s %8s requests/s  p50 %7s ms  p99 %7s ms  non-2xx %s\n" "$1" "$rps" "$p50" "$p99" "$bad"
}

echo
echo "read route GET /auth/jwks, $connections connections, ${duration} s each"
users_env=("USERS_DATABASE_URL=$base/bench_users" "BLYTZ_QUEUE_URL=$base/bench_queue" "BLYTZ_SERVICE_KEY=bench-key" "LOG_LEVEL=warning")
users_ports=("$(free_port)" "$(free_port)")
serve users functions.yaml "${users_ports[0]}" "$work/users" "${users_env[@]}"
read_route "one replica, straight to it" "http://127.0.0.1:${users_ports[0]}/auth/jwks"
proxy one functions.yaml "users=127.0.0.1:${users_ports[0]}"
read_route "one replica through the proxy" "$proxy_url/api/auth/jwks"
serve users functions.yaml "${users_ports[1]}" "$work/users" "${users_env[@]}"
proxy two functions.yaml "users=127.0.0.1:${users_ports[0]},127.0.0.1:${users_ports[1]}"
read_route "two replicas through the proxy" "$proxy_url/api/auth/jwks"
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()

# events NAME REPLICAS KILL: publishes `events` through the proxy, waits until all are processed.
events_run() {
  local name=$1 count=$2 kill_one=$3 ports=() addresses=()
  local data="$work/$name"
  local env=("FIXTURES_DATABASE_URL=$base/bench_${name}_fixtures" "BLYTZ_QUEUE_URL=$base/bench_${name}_queue" "BLYTZ_SERVICE_KEY=bench-key")
  local replica_pids=()
  for index in $(seq "$count"); do
    ports+=("$(free_port)")
    serve fixtures bench/serve.yaml "${ports[-1]}" "$data" "${env[@]}"
    replica_pids+=("$replica_pid")
    addresses+=("127.0.0.1:${ports[-1]}")
  done
  proxy "$name" bench/serve.yaml "fixtures=$(IFS=,; echo "${addresses[*]}")"
  "$python" - "$proxy_url" "$events" "$name" "$kill_one" "${replica_pids[0]}" <<'PY' > "$work/$name.result" &
import json, os, signal, sys, time, urllib.request
proxy, events, name, kill_one, victim = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "kill", int(sys.argv[5])
def call(method, path):
    with urllib.request.urlopen(urllib.request.Request(proxy + path, method=method), timeout=120) as response:
        return json.loads(response.read() or b"{}")
def counts():
    return call("GET", "/api/fx/seen?consumer=fx-on-hit")
start = time.time()
call("POST", "/api/fx/burst?n=%d" % events)
committed = time.time()
killed = False
while True:
    seen = counts()
    if kill_one and not killed and seen["seen"] >= events // 3:
        os.kill(victim, signal.SIGKILL)
        killed = True
        print("KILLED", flush=True)
    if seen["seen"] >= events:
        break
    time.sleep(0.01)
done = time.time()
print(json.dumps({"seconds": done - committed, "publish": committed - start, **seen}))
PY

  local waiter=$!
  if [ "$kill_one" = kill ]; then
    # The killed replica comes back on its port while the other goes on.
    until grep -q KILLED "$work/$name.result" || ! kill -0 "$waiter" 2>/dev/null; do sleep 0.02; done
    if grep -q KILLED "$work/$name.result"; then serve fixtures bench/serve.yaml "${ports[0]}" "$data" "${env[@]}"; fi
  fi
  wait "$waiter"
  python3 - "$name" "$count" "$events" "$kill_one" "$(tail -1 "$work/$name.result")" <<'PY'
import json, sys
name, replicas, events, kill_one, result = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])
label = "%s replica%s%s" % (replicas, "" if replicas == "1" else "s", ", one SIGKILLed" if kill_one == "kill" else "")
print("%-32s %6d events  %7.0f events/s  (%.2f s)  delivered %d times to %d events, processed once %d; lost %d, delivered twice %d" % (
    label, events, events / result["seconds"], result["seconds"], result["handed"], result["handedEvents"], result["seen"],
    events - result["seen"], result["handed"] - result["handedEvents"]))
PY
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

echo
echo "events through the proxy, published in one transaction, consumed by fx-on-hit-batch (batches of 500)"
events_run one 1 no
events_run two 2 no
events_run killed 2 kill
