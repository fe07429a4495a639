#!/usr/bin/env bash
# User-space instructions of `mtown serve --threads 1` under a short arena load, counted
# by callgrind (repeatable whatever else the machine does, unlike CPU time):
#   bench/callgrind_server.sh BUILD_DIR OUT_FILE [BOTS] [SECONDS]   (defaults: 16 10)
# then e.g. `callgrind_annotate --inclusive=yes OUT_FILE | grep -E 'scheduler::run|decode'`.
# Loopback only; stops the server it started, by PID.
set -euo pipefail
build=$1
out=$2
bots=${3:-16}
secs=${4:-10}
command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 1; }
dir=$(mktemp -d)
valgrind --tool=callgrind --callgrind-out-file="$out" \
  "$build/mtown" serve --dev --port 0 --threads 1 --database none --log-format json 2>"$dir/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=""
for _ in $(seq 600); do
  port=$(grep -o '"port":[0-9]*' "$dir/log" | head -1 | cut -d: -f2 || true)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { echo "server did not start:" >&2; cat "$dir/log" >&2; exit 1; }
"$build/mtown" loadtest --url "ws://127.0.0.1:$port/ws" --scenario arena --bots "$bots" --input-hz 20 \
  --threads 1 --duration "$secs" --report "$dir/report.json" -q || true
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('state messages', r['arena']['state_messages'])" \
  "$dir/report.json"
kill -TERM "$pid"
wait "$pid" || true
