# What the benchmark scripts share; each sources it after `cd`-ing to the repository root.

# The backend's executables: the runner and every service.
backend=(blytz users marketplace contracts payments communication files)

# Builds `products` in release mode; sets `bin` to where they are.
build_release() {
  for product in "$@"; do swift build -c release --product "$product" | { grep -E "error" || true; }; done
  bin=$(swift build -c release --show-bin-path)
}

# Stops the script when one of `ports` is taken (the runner of a previous run, say).
require_free_ports() {
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use; stop what holds it first" >&2; exit 1; fi
  done
}

require_wrk() {
  command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
}

# Waits (bounded) for the runner's ready line in `file`.
wait_ready() {
  for _ in $(seq 400); do grep -q '"event":"ready"' "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "the runner did not start; see ${1%/*}" >&2
  return 1
}

# Reads `wrk --latency` output; prints "requests/s p50-ms p99-ms non-2xx".
wrk_summary() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.3f %.3f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }'
}

# The arguments of the search benchmarks: `count duration concurrency [--postgres | --only-postgres]`; sets
# `count`, `duration`, `concurrency` and `engines`, builds the backend, checks the ports, and makes `work`
# (removed, with the runner and PostgreSQL stopped, on exit).
# The filter sets the search benchmarks measure: a common skill, a word with a type, a category with a budget
# range under the budget sort, two skills of different rarity, three equalities, two words and a category.
searches=(
  "skills=skill-1&sort=recent"
  "q=inbox&jobType=hourly"
  "category=finance&minBudget=50000&sort=budget"
  "skills=skill-3,skill-40&remote=true"
  "experienceLevel=expert&jobType=fixed&maxBudget=100000"
  "q=support%20calendar&category=customer-support"
)

search_benchmark() {
  count=${1:-100000}
  duration=${2:-5}
  concurrency=${3:-2}
  engines=(sqlite)
  [ "${4:-}" = "--postgres" ] && engines+=(postgres)
  [ "${4:-}" = "--only-postgres" ] && engines=(postgres)
  require_wrk
  build_release "${backend[@]}"
  require_free_ports 3000 3001 3002 3003 3004 3005 3006
  work=$(mktemp -d)
  chmod 755 "$work"
  trap search_benchmark_cleanup EXIT
  started=$SECONDS
  echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the run"
}

search_benchmark_cleanup() {
  kill "${runner_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true
  [ -d "$work/pg" ] && ./local/postgres stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
  echo "load $(cut -d' ' -f1-3 /proc/loadavg) after the run; $((SECONDS - started)) s in all, data included"
}

# One engine's setup in a benchmark run: makes `data` and sets `env` (the user service's cheap bcrypt and
# any `extra` settings; on postgres, a throwaway server with one database per named service).
engine_env() { # engine service… [-- extra-setting…]
  local engine=$1 base service
  shift
  data="$work/$engine"
  mkdir -p "$data"
  env=(USERS_BCRYPT_COST=4)
  [ "$engine" = postgres ] && { ./local/postgres start "$work/pg" >/dev/null; base=$(./local/postgres url "$work/pg" | sed 's#/postgres$##'); }
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    [ "$engine" = postgres ] && env+=("$(echo "$1" | tr a-z A-Z)_DATABASE_URL=$base/$1_bench")
    shift
  done
  [ $# -gt 0 ] && { shift; env+=("$@"); }
  return 0
}

# Starts the runner on `manifest` with `env` and `data`, and waits until it is ready; sets `runner_pid`.
start_runner() { # manifest
  env "${env[@]}" "$bin/blytz" local --manifest "$1" --data-dir "$data" --bin-dir "$bin" > "$data/runner.out" 2> "$data/runner.err" &
  runner_pid=$!
  wait_ready "$data/runner.out"
}

# A table row of the contracts and payments benchmarks.
row() { printf '%-52s %8s %8s %8s %7s\n' "$@"; }

# Registers a user through the running runner; prints "access-token user-id".
signup() { # email role
  curl -sf -XPOST localhost:3000/api/auth/register -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"benchmark password\",\"role\":\"$2\"}" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["accessToken"], d["user"]["id"])'
}

# The pinned Python tools' venv (local/.venv, made when missing); sets `python`.
require_python_tools() {
  python=local/.venv/bin/python
  [ -x "$python" ] || { python3 -m venv local/.venv && local/.venv/bin/pip install -q -r local/tools/requirements.txt; }
}

# An OTLP/HTTP receiver on port 4318 that counts exports without decoding them
# (Tests/Fixtures/otlp_receiver.py); sets `receiver_pid`.
start_otlp_receiver() {
  require_python_tools
  PYTHONPATH=Tests/Fixtures "$python" -m otlp_receiver --port 4318 --discard > /dev/null 2>&1 &
  receiver_pid=$!
}
