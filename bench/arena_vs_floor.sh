#!/usr/bin/env bash
# Server CPU per delivered arena state message: `mtown serve --threads 1` against the
# raw-socket floor (bench/raw_floor), each pinned to core 0 and driven by arena_load
# (pinned to core 1) with the same clients, input rate and message size. Loopback only;
# every process here is started by this script and stopped by PID.
#   bench/arena_vs_floor.sh [BUILD_DIR] [CLIENTS] [SECONDS]   (defaults: build 400 20)
set -euo pipefail
build=${1:-build}
clients=${2:-400}
seconds=${3:-20}
warmup=${WARMUP:-3}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
# NICE=-10 (as root) keeps other work on the machine (builds) from starving the measured
# processes: each runs in its own session, whose autogroup gets that nice value (with
# kernel.sched_autogroup_enabled=1 a plain `nice` only ranks processes inside a session).
# CPU per message is counted either way; rates and latency need it on a busy machine.
nice=${NICE:-0}
# The arena auto-starts with a 120 s match; setup + warmup + the run must fit inside it.
(( seconds + warmup <= 100 )) || { echo "SECONDS + WARMUP must be <= 100 (the match lasts 120 s)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) > clients + 200 )) || { echo "fd limit $(ulimit -n) too low for $clients clients" >&2; exit 1; }
command -v python3 >/dev/null || { echo "needs python3 to read the JSON reports" >&2; exit 1; }

dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# Waits for a `"port":N` in a log file; prints N.
wait_port() {
  local port=""
  for _ in $(seq 200); do
    port=$(grep -o '"port":[0-9]*' "$1" | head -1 | cut -d: -f2 || true)
    [[ -n $port ]] && { echo "$port"; return 0; }
    sleep 0.05
  done
  echo "server did not start:" >&2; cat "$1" >&2; return 1
}

boost() {  # give a process we started (and its own session) the NICE priority
  [[ $nice == 0 ]] && return 0
  # Only once setsid has run: before that the process is still in our session's autogroup.
  for _ in $(seq 100); do
    [[ $(cut -d' ' -f6 "/proc/$1/stat" 2>/dev/null) == "$1" ]] && break
    sleep 0.02
  done
  renice -n "$nice" -p "$1" >/dev/null 2>&1 || true
  if [[ -w /proc/$1/autogroup ]]; then echo "$nice" >"/proc/$1/autogroup" 2>/dev/null || true; fi
}

run_load() {  # arena_load on the load core, in its own session; report to stdout
  setsid taskset -c "$load_cpu" "$build/bench/arena_load" "$@" &
  local gen=$!
  pids+=("$gen")
  boost "$gen"
  wait "$gen" || true
  stop "$gen"
}

stop() {  # stop one of our processes by PID and forget it
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=()
  for p in "${pids[@]}"; do [[ $p != "$1" ]] && keep+=("$p"); done
  pids=("${keep[@]}")
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) cores, nice $nice, $(date -u +%FT%TZ))"

# 1. mtown
setsid taskset -c "$server_cpu" "$build/mtown" serve --dev --port 0 --threads 1 --database none --log-format json \
  --set limits.max_connections=$((clients + 100)) --set limits.max_connections_per_ip=$((clients + 100)) \
  2>"$dir/mtown.log" &
mtown_pid=$!
pids+=("$mtown_pid")
boost "$mtown_pid"
port=$(wait_port "$dir/mtown.log")
run_load --url "ws://127.0.0.1:$port/ws" --clients "$clients" \
  --duration "$seconds" --warmup "$warmup" --server-pid "$mtown_pid" >"$dir/mtown.json"
# The server's own view: ticks dropped for lateness, tick time, slow-consumer closes.
if command -v curl >/dev/null; then
  curl -s --max-time 5 "http://127.0.0.1:$port/metrics" |
    grep -E '^mtown_(tick_overruns_total|tick_duration_seconds_(sum|count)|ws_closed_total)' >"$dir/metrics.txt" || true
fi
stop "$mtown_pid"
[[ -s $dir/mtown.json ]] || { echo "arena_load against mtown printed no report" >&2; exit 1; }

# 2. the floor, sending frames of mtown's average state message size (wire bytes)
msg_bytes=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['received']['avg_state_wire_bytes']))" \
  "$dir/mtown.json")
(( msg_bytes >= 12 )) || msg_bytes=400
setsid taskset -c "$server_cpu" "$build/bench/raw_floor" --port 0 --msg-bytes "$msg_bytes" \
  --max-seconds $((seconds + warmup + 180)) >"$dir/raw.log" &
raw_pid=$!
pids+=("$raw_pid")
boost "$raw_pid"
port=$(wait_port "$dir/raw.log")
run_load --raw --url "tcp://127.0.0.1:$port" --clients "$clients" \
  --duration "$seconds" --warmup "$warmup" --server-pid "$raw_pid" >"$dir/raw.json"
stop "$raw_pid"
[[ -s $dir/raw.json ]] || { echo "arena_load against raw_floor printed no report" >&2; exit 1; }

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo "--- mtown (arena_load report)"
cat "$dir/mtown.json"
[[ -s $dir/metrics.txt ]] && { echo "--- mtown /metrics after the run"; cat "$dir/metrics.txt"; }
echo "--- raw_floor (arena_load --raw report; frames of $msg_bytes bytes)"
cat "$dir/raw.json"
python3 - "$dir/mtown.json" "$dir/raw.json" "$clients" "$seconds" <<'EOF'
import json, sys
m, r = (json.load(open(p)) for p in sys.argv[1:3])
mu, ru = m["server"]["cpu_us_per_state_msg"], r["server"]["cpu_us_per_state_msg"]
ratio = mu / ru if ru else float("inf")
print("--- summary")
print(json.dumps({
    "clients": int(sys.argv[3]), "seconds": float(sys.argv[4]),
    "mtown_cpu_us_per_msg": mu, "raw_cpu_us_per_msg": ru, "ratio": round(ratio, 3),
    "target_ratio": 1.25, "ratio_ok": ratio <= 1.25,
    "mtown_cpu_util": m["server"]["cpu_util"], "raw_cpu_util": r["server"]["cpu_util"],
    "runqueue_wait_s": [m["server"].get("runqueue_wait_s"), r["server"].get("runqueue_wait_s")],
    "mtown_state_per_client_avg": m["state_msgs_per_client_per_s"]["avg"],
    "mtown_state_per_client_p5": m["state_msgs_per_client_per_s"]["p5"],
    "mtown_latency_ms_p50_p95_p99": [m["latency_ms"][k] for k in ("p50", "p95", "p99")],
    "raw_latency_ms_p50_p95_p99": [r["latency_ms"][k] for k in ("p50", "p95", "p99")],
    "generator_cpu_util": [m["generator"]["cpu_util"], r["generator"]["cpu_util"]],
    "generator_runqueue_wait_s": [m["generator"].get("runqueue_wait_s"), r["generator"].get("runqueue_wait_s")],
}, indent=2))
EOF
