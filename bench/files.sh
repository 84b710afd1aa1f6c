#!/usr/bin/env bash
# The files benchmark: a file of `size` MB (random bytes behind a PNG signature) goes up and comes back
# through the presigned flow, `rounds` times, on the local directory (the runner's local object endpoint)
# and then on S3 (moto's server, from PyPI). It reports each step's throughput and the peak resident memory
# of every process of ours (the runner with its object endpoint, each files worker) against what it held
# when first seen.
#
#   bench/files.sh [size-mb] [rounds]     e.g. bench/files.sh 100 3
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
size_mb=${1:-100}
rounds=${2:-3}
build_release blytz users files
require_free_ports 3000 3001 3006
venv=local/.venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install -q --disable-pip-version-check -r local/tools/requirements.txt
work=$(mktemp -d)
chmod 755 "$work"
trap 'kill ${sampler_pid:-0} ${runner_pid:-0} ${moto_pid:-0} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

file="$work/upload.png"
{ printf '\x89PNG\r\n\x1a\n'; head -c $((size_mb * 1024 * 1024 - 8)) /dev/urandom; } > "$file"
bytes=$(stat -c %s "$file")
mbps() { python3 -c "import sys; print(f'{$bytes / 1048576 / float(sys.argv[1]):.0f}')" "$1"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
small="$work/small.png"
{ printf '\x89PNG\r\n\x1a\n'; head -c 65536 /dev/urandom; } > "$small"

# One round of `$1` through the presigned flow as `$va`: sets `put`, `done_s` and `get` (seconds).
round_trip() {
  local path=$1 size sha ticket id url
  size=$(stat -c %s "$path")
  sha=$(sha256sum "$path" | cut -d' ' -f1)
  ticket=$(curl -sf -XPOST localhost:3000/api/files/uploads -H "authorization: Bearer $va" -H 'content-type: application/json' \
    -d "{\"filename\":\"board.png\",\"contentType\":\"image/png\",\"size\":$size,\"sha256\":\"$sha\"}")
  id=$(echo "$ticket" | json '["file"]["id"]')
  url=$(echo "$ticket" | json '["uploadUrl"]')
  put=$(curl -sf -XPUT -T "$path" -H 'expect:' -H 'content-type: image/png' -o /dev/null -w '%{time_total}' "$url")
  done_s=$(curl -sf -XPOST -o "$data/complete.json" -w '%{time_total}' "localhost:3000/api/files/$id/complete" -H "authorization: Bearer $va")
  [ "$(json '["status"]' < "$data/complete.json")" = ready ] || { echo "not ready: $(cat "$data/complete.json")" >&2; exit 1; }
  get=$(curl -sf -L -o "$data/download" -w '%{time_total}' "localhost:3000/api/files/$id/content" -H "authorization: Bearer $va")
  [ "$(sha256sum "$data/download" | cut -d' ' -f1)" = "$sha" ] || { echo "the download differs from the upload" >&2; exit 1; }
  rm -f "$data/download"
}

for backend in local s3; do
  data="$work/$backend"
  mkdir -p "$data"
  env=(USERS_BCRYPT_COST=4)
  if [ "$backend" = s3 ]; then
    moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$venv/bin/python" -m moto.server -p "$moto_port" -H 127.0.0.1 > "$data/moto.log" 2>&1 &
    moto_pid=$!
    for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$moto_port/" && break; sleep 0.1; done
    curl -sf -XPUT -o /dev/null "http://127.0.0.1:$moto_port/bench-files"
    env+=(FILES_STORAGE=s3 FILES_S3_BUCKET=bench-files FILES_S3_ENDPOINT="http://127.0.0.1:$moto_port" FILES_S3_PATH_STYLE=true
          FILES_AWS_ACCESS_KEY_ID=AKIABENCHMARK FILES_AWS_SECRET_ACCESS_KEY=benchmark-secret)
  fi
  start_runner bench/files.yaml
  read -r va _ < <(signup "va$RANDOM@bench.blytz.work" va)
  # A small file first, so every function's worker is up and warm before memory is watched.
  round_trip "$small"
  python3 bench/rss.py "$runner_pid" > "$data/rss.txt" &
  sampler_pid=$!
  sleep 0.5

  echo
  echo "$backend: a ${size_mb} MB file through the presigned flow, $rounds rounds (MB/s; seconds)"
  printf '%-6s %12s %12s %12s\n' round "PUT MB/s" "complete s" "GET MB/s"
  for round in $(seq "$rounds"); do
    round_trip "$file"
    printf '%-6s %12s %12s %12s\n' "$round" "$(mbps "$put")" "$done_s" "$(mbps "$get")"
  done

  kill "$sampler_pid"; wait "$sampler_pid" 2>/dev/null || true
  echo "resident memory of our processes (the runner and its workers) during the rounds"
  cat "$data/rss.txt"
  kill "$runner_pid"; wait "$runner_pid" 2>/dev/null || true
  if [ -n "${moto_pid:-}" ]; then kill "$moto_pid"; wait "$moto_pid" 2>/dev/null || true; moto_pid=; fi
done
