#!/usr/bin/env bash
# Holds N (default 10000) idle WebSocket connections to a fresh `mtown serve` on
# loopback and prints the server's resident memory per connection.
#   bench/idle_connections.sh [BUILD_DIR] [N]
set -euo pipefail
build=${1:-build}
n=${2:-10000}
# Each process (server, client) needs one descriptor per connection plus some slack.
ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) > n + 200 )) || { echo "fd limit $(ulimit -n) too low for $n connections" >&2; exit 1; }

dir=$(mktemp -d)
"$build/mtown" serve --dev --port 0 --database none --log-format json \
  --set limits.max_connections=$((n + 100)) --set limits.max_connections_per_ip=$((n + 100)) 2>"$dir/server.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  port=$(grep -o '"port":[0-9]*' "$dir/server.log" | head -1 | cut -d: -f2 || true)
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n ${port:-} ]] || { echo "server did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
"$build/bench/idle_connections" "$port" "$n" 3
