#!/usr/bin/env bash
# Server and generator CPU per arena state message, each against a raw-socket floor:
# `mtown serve --threads 1` driven by `mtown loadtest --threads 1`, then bench/raw_floor
# driven by bench/raw_load (a raw read loop), with the same clients, input rate and
# message size; servers pinned to core 0, generators to core 1. Loopback only; every
# process here is started by this script and stopped by PID.
#   bench/arena_vs_floor.sh [BUILD_DIR] [CLIENTS] [SECONDS]   (defaults: build 400 20)
# FLOOR_ONLY=1 runs only the floor (frames of MSG_BYTES, default 486: mtown's arena state
# message at 8 players) and says whether it alone holds the client-count target.
# RUNS=N runs N mtown-then-floor pairs and judges the ratio of the medians: on a shared VM
# one pair's ratio moves by +-0.1 with the machine (docs/performance.md).
# SERVER_ARGS="--set rooms.tick_lanes=1" adds flags to `mtown serve` (an A/B on one binary).
# FLOOR_ARGS="--send-batch 1" makes the floor batch its sends through io_uring as mtown's
# one-thread server does (server.io_uring: auto): the floor for that mode.
# Both generators read through io_uring where the kernel allows (generator.reads in the
# summary); LOAD_ARGS="--io-uring off" RAW_ARGS="--read asio" make them read with epoll.
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

runs=${RUNS:-1}
if (( runs > 1 )); then
  [[ ${FLOOR_ONLY:-0} == 0 ]] || { echo "RUNS > 1 compares mtown with the floor: not with FLOOR_ONLY" >&2; exit 2; }
  outs=()
  trap 'rm -f "${outs[@]}"' EXIT
  for i in $(seq "$runs"); do
    outs+=("$(mktemp)")
    RUNS=1 "$0" "$build" "$clients" "$seconds" >"${outs[-1]}"
    echo "run $i of $runs: $(grep -m1 'load average before' "${outs[-1]}")" >&2
    grep -E '^cores (before|after):' "${outs[-1]}" | sed 's/^/  /' >&2 || true
  done
  python3 - "${outs[@]}" <<'EOF'
import json, statistics, sys
def summary(path):
    s = open(path).read()
    return json.loads(s[s.rindex("\n{") + 1:])
runs = [summary(p) for p in sys.argv[1:]]
med = lambda f: statistics.median(f(r) for r in runs)
m, f = med(lambda r: r["server"]["mtown_cpu_us_per_msg"]), med(lambda r: r["server"]["floor_cpu_us_per_msg"])
g, rl = med(lambda r: r["generator"]["loadtest_cpu_us_per_msg"]), med(lambda r: r["generator"]["raw_read_loop_cpu_us_per_msg"])
print("--- summary of %d pairs (medians; each pair's own summary under runs)" % len(runs))
print(json.dumps({
    "clients": runs[0]["clients"], "seconds": runs[0]["seconds"], "pairs": len(runs),
    "server": {"mtown_cpu_us_per_msg_median": m, "floor_cpu_us_per_msg_median": f,
               "ratio_of_medians": round(m / f, 3), "target_ratio": 1.25,
               "ratios": [r["server"]["ratio"] for r in runs]},
    "generator": {"loadtest_cpu_us_per_msg_median": g, "raw_read_loop_cpu_us_per_msg_median": rl,
                  "ratio_of_medians": round(g / rl, 3), "target_ratio": 1.3,
                  "ratios": [r["generator"]["ratio"] for r in runs]},
    "mtown_state_per_client_min": min(r["mtown_state_per_client_avg"] for r in runs),
    "mtown_p95_ms_max": max(r["mtown_latency_ms_p50_p95_p99"][1] for r in runs),
    "runs": runs,
}, indent=2))
EOF
  exit 0
fi

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

run_gen() {  # a load generator on the load core, in its own session; its stdout to $1
  local out=$1
  shift
  setsid taskset -c "$load_cpu" "$@" >"$out" &
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
# How fast the two cores run right now, alone and together (bench/cpu_probe.cpp): this guest
# reports no steal time, so a slower host shows only as more CPU per message.
probe() { [[ -x $build/bench/cpu_probe ]] && echo "cores $1: $("$build/bench/cpu_probe" --core "$server_cpu" --core "$load_cpu")"; true; }
probe before
echo "binary: $("$build/mtown" --version)"

floor_only=${FLOOR_ONLY:-0}
msg_bytes=${MSG_BYTES:-486}

# 1. mtown, driven by `mtown loadtest` (one generator thread)
if [[ $floor_only == 0 ]]; then
setsid taskset -c "$server_cpu" "$build/mtown" serve --dev --port 0 --threads 1 --database none --log-format json \
  --set limits.max_connections=$((clients + 100)) --set limits.max_connections_per_ip=$((clients + 100)) \
  ${SERVER_ARGS:-} 2>"$dir/mtown.log" &
mtown_pid=$!
pids+=("$mtown_pid")
boost "$mtown_pid"
port=$(wait_port "$dir/mtown.log")
run_gen "$dir/mtown.txt" "$build/mtown" loadtest --url "ws://127.0.0.1:$port/ws" --scenario arena --bots "$clients" \
  --input-hz 20 --threads 1 --duration "$seconds" --server-pid "$mtown_pid" --report "$dir/mtown.json" -q ${LOAD_ARGS:-}
# The server's own view: ticks dropped for lateness, tick time, slow-consumer closes.
if command -v curl >/dev/null; then
  curl -s --max-time 5 "http://127.0.0.1:$port/metrics" |
    grep -E '^mtown_(tick_overruns_total|tick_duration_seconds_(sum|count)|ws_closed_total)' >"$dir/metrics.txt" || true
fi
stop "$mtown_pid"
[[ -s $dir/mtown.json ]] || { echo "mtown loadtest printed no report" >&2; cat "$dir/mtown.txt" >&2; exit 1; }
# The floor sends frames of mtown's average message size (wire bytes).
msg_bytes=$(python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['totals']; print(round(t['wire_bytes_in']/max(1,t['messages_in'])))" \
  "$dir/mtown.json")
fi
(( msg_bytes >= 12 )) || msg_bytes=400

# 2. the floor, read by raw_load: a raw-socket read loop, also the floor for the
#    generator's own cost
setsid taskset -c "$server_cpu" "$build/bench/raw_floor" --port 0 --msg-bytes "$msg_bytes" \
  --max-seconds $((seconds + warmup + 180)) ${FLOOR_ARGS:-} >"$dir/raw.log" &
raw_pid=$!
pids+=("$raw_pid")
boost "$raw_pid"
port=$(wait_port "$dir/raw.log")
run_gen "$dir/raw.json" "$build/bench/raw_load" --port "$port" --clients "$clients" \
  --duration "$seconds" --warmup "$warmup" --server-pid "$raw_pid" ${RAW_ARGS:-}
stop "$raw_pid"
[[ -s $dir/raw.json ]] || { echo "raw_load printed no report" >&2; exit 1; }

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
probe after
if [[ $floor_only != 0 ]]; then
  echo "--- raw_floor (raw_load report; frames of $msg_bytes bytes)"
  cat "$dir/raw.json"
  python3 - "$dir/raw.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
rate, p95 = r["frames_per_client_per_s"], r["latency_ms"]["p95"]
print("--- summary: the floor alone against the client-count target (>= 57 msgs/s a client, p95 < 50 ms)")
print(json.dumps({"clients": r["clients"], "server_cpu_share": round(r["server_cpu_share"], 3),
                  "server_cpu_us_per_frame": round(r["server_cpu_us_per_frame"], 2),
                  "generator_cpu_share": round(r["cpu_share"], 3), "frames_per_client_per_s": rate,
                  "p95_ms": p95, "holds": rate >= 57 and p95 < 50}, indent=2))
EOF
  exit 0
fi
echo "--- mtown (mtown loadtest summary; the JSON report has every figure)"
cat "$dir/mtown.txt"
[[ -s $dir/metrics.txt ]] && { echo "--- mtown /metrics after the run"; cat "$dir/metrics.txt"; }
echo "--- raw_floor (raw_load report; frames of $msg_bytes bytes)"
cat "$dir/raw.json"
python3 - "$dir/mtown.json" "$dir/raw.json" "$clients" "$seconds" <<'EOF'
import json, sys
m, r = (json.load(open(p)) for p in sys.argv[1:3])
w = m["window_s"]
m_msgs = m["totals"]["messages_in_per_s_window"] * w
mu = m["server"]["cpu_share"] * w * 1e6 / max(1, m["arena"]["state_messages"])
ru = r["server_cpu_us_per_frame"]
gen_share = m["generator"]["thread_cpu_share"][0]
gu = gen_share * w * 1e6 / max(1, m_msgs)
fu = r["cpu_us_per_frame"]
print("--- summary")
print(json.dumps({
    "clients": int(sys.argv[3]), "seconds": float(sys.argv[4]),
    "server": {"mtown_cpu_us_per_msg": round(mu, 2), "floor_cpu_us_per_msg": round(ru, 2),
               "ratio": round(mu / ru, 3) if ru else None, "target_ratio": 1.25,
               "mtown_cpu_share": m["server"]["cpu_share"], "floor_cpu_share": r["server_cpu_share"]},
    "generator": {"loadtest_cpu_us_per_msg": round(gu, 2), "raw_read_loop_cpu_us_per_msg": round(fu, 2),
                  "ratio": round(gu / fu, 3) if fu else None, "target_ratio": 1.3,
                  "loadtest_msgs_per_s": round(m_msgs / w), "raw_msgs_per_s": round(r["frames"] / r["duration_s"]),
                  "loadtest_cpu_share": round(gen_share, 3), "raw_cpu_share": round(r["cpu_share"], 3),
                  "msgs_per_s_per_core": round(1e6 / gu) if gu else None,
                  "reads": [m["generator"].get("reads", "epoll"), r.get("reads", "asio")]},
    "mtown_state_per_client_avg": m["arena"]["state_rate_per_bot"]["avg"],
    "mtown_state_per_client_p5": m["arena"]["state_rate_per_bot"]["p5"],
    "mtown_latency_ms_p50_p95_p99": [m["latency"][k] for k in ("p50_ms", "p95_ms", "p99_ms")],
    "raw_latency_ms_p50_p95_p99": [r["latency_ms"][k] for k in ("p50", "p95", "p99")],
    "raw_frames_per_client_per_s": r["frames_per_client_per_s"],
}, indent=2))
EOF
