#!/usr/bin/env bash
# The chat benchmark: a message posted over HTTP, timed until the recipient's open WebSocket has it, with
# `connections` WebSockets held by the runner meanwhile; then a push to every one of them. The POST's own
# round trip and a WebSocket ping/pong are measured in the same run as baselines. Embedded defaults (SQLite).
#
#   bench/chat.sh [connections] [messages]     e.g. bench/chat.sh 1000 300
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
connections=${1:-1000}
messages=${2:-300}
python3 -c "import websockets" 2>/dev/null || python3 -m pip install -q websockets
build_release "${backend[@]}"
require_free_ports 3000 3001 3002 3003 3004 3005 3006
data=$(mktemp -d)
cleanup() { kill "${runner_pid:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true
USERS_BCRYPT_COST=4 LOG_LEVEL=warning "$bin/blytz" local --data-dir "$data" --bin-dir "$bin" > "$data/runner.out" 2> "$data/runner.err" &
runner_pid=$!
wait_ready "$data/runner.out"
python3 bench/chat.py "$connections" "$messages"
