#!/usr/bin/env bash
# Throwaway redis + PostgreSQL 15 for tests, all state inside DIR.
#   tests/services.sh start DIR   -> writes DIR/env (source it)
#   tests/services.sh stop DIR    -> stops what start started (idempotent)
set -euo pipefail

REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-/usr/bin/redis-cli}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
TIMEOUT=30

die() { echo "services.sh: $*" >&2; exit 1; }
log() { echo "services.sh: $*"; }

(($# == 2)) || die "usage: $0 start|stop DIR"
cmd=$1
[[ $cmd == stop && ! -d $2 ]] && exit 0
mkdir -p "$2"
DIR=$(cd "$2" && pwd)

# initdb/pg_ctl refuse to run as root, so drop to the postgres user then.
as_pg() {
    if ((EUID == 0)); then (cd "$DIR" && runuser -u postgres -- "$@"); else "$@"; fi
}

port_free() {
    # Something accepting on the port => in use.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || return 1
    ! command -v ss >/dev/null || [[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

pick_port() {
    local p i
    for i in $(seq 50); do
        p=$((20000 + RANDOM % 20001))
        [[ $p != "${1:-}" ]] && port_free "$p" && { echo "$p"; return; }
    done
    die "no free port found in 20000-40000"
}

# Zombies count as dead: our daemons are reparented to PID 1, which may reap late.
alive() { [[ $1 =~ ^[0-9]+$ && $(ps -o stat= -p "$1" 2>/dev/null) == [!Z]* ]]; }

# pid_is PID NAME: PID is alive and its command name contains NAME.
pid_is() { alive "$1" && [[ $(ps -o comm= -p "$1" 2>/dev/null) == *"$2"* ]]; }

wait_gone() {
    local i
    for i in $(seq $((TIMEOUT * 10))); do alive "$1" || return 0; sleep 0.1; done
    return 1
}

stop_redis() {
    local f=$DIR/redis.pid pid
    [[ -f $f ]] || return 0
    pid=$(<"$f")
    if pid_is "$pid" redis; then
        kill -TERM "$pid"
        wait_gone "$pid" || { log "redis $pid did not exit, killing"; kill -KILL "$pid" 2>/dev/null || true; }
    fi
    rm -f "$f"
}

stop_pg() {
    local f=$DIR/pg/postmaster.pid pid
    [[ -f $f ]] || return 0
    pid=$(head -n1 "$f")
    pid_is "$pid" postgres || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" stop -m fast -w -t "$TIMEOUT" >/dev/null ||
        { log "pg_ctl stop failed, killing postmaster $pid"; kill -QUIT "$pid" 2>/dev/null || true; }
    wait_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
}

stop_all() { stop_redis; stop_pg; }

fail_start() {
    echo "services.sh: $*" >&2
    for f in "$DIR/redis.log" "$DIR/initdb.log" "$DIR/pg.log"; do
        if [[ -s $f ]]; then echo "--- tail $f" >&2; tail -n 20 "$f" >&2; fi
    done
    stop_all
    exit 1
}

start() {
    if { [[ -f $DIR/redis.pid ]] && pid_is "$(<"$DIR/redis.pid")" redis; } ||
       { [[ -f $DIR/pg/postmaster.pid ]] && pid_is "$(head -n1 "$DIR/pg/postmaster.pid")" postgres; }; then
        die "services already running in $DIR (run: $0 stop $DIR)"
    fi
    [[ -x $REDIS_SERVER && -x $PG_BIN/initdb ]] || die "redis-server or PostgreSQL 15 missing; run scripts/install-deps.sh"

    local redis_port pg_port i
    redis_port=$(pick_port)
    pg_port=$(pick_port "$redis_port")
    rm -rf "$DIR/redis" "$DIR/pg" "$DIR/pgsock" "$DIR/env"
    mkdir -p "$DIR/redis" "$DIR/pg" "$DIR/pgsock"
    : >"$DIR/pg.log"
    if ((EUID == 0)); then
        chmod a+x "$DIR"   # mktemp -d is 0700; postgres must traverse it
        chown postgres: "$DIR/pg" "$DIR/pgsock" "$DIR/pg.log"
    fi

    "$REDIS_SERVER" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize yes --pidfile "$DIR/redis.pid" --dir "$DIR/redis" \
        --logfile "$DIR/redis.log" >/dev/null || fail_start "redis-server failed to start"

    # --no-sync/fsync=off: throwaway data, speed matters more than durability.
    as_pg "$PG_BIN/initdb" -D "$DIR/pg" -U mtown --auth=trust -E UTF8 --locale=C --no-sync \
        >"$DIR/initdb.log" 2>&1 || fail_start "initdb failed"
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w -t "$TIMEOUT" \
        -o "-p $pg_port -k '$DIR/pgsock' -c listen_addresses=127.0.0.1 -c fsync=off" \
        start >/dev/null || fail_start "PostgreSQL failed to start"

    for i in $(seq $((TIMEOUT * 10))); do
        [[ $("$REDIS_CLI" -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null) == PONG ]] &&
            "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
        ((i == TIMEOUT * 10)) && fail_start "services not ready after ${TIMEOUT}s"
        sleep 0.1
    done
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U mtown mtown || fail_start "createdb mtown failed"

    cat >"$DIR/env" <<EOF
export MTOWN_TEST_SERVICES_DIR='$DIR'
export MTOWN_TEST_REDIS_PORT=$redis_port
export MTOWN_TEST_REDIS_URL=redis://127.0.0.1:$redis_port
export MTOWN_TEST_PG_PORT=$pg_port
export MTOWN_TEST_PG_URL=postgres://mtown@127.0.0.1:$pg_port/mtown
export MTOWN_TEST_PG_DATA='$DIR/pg'
export MTOWN_TEST_PG_SOCKET_DIR='$DIR/pgsock'
export REDIS_SERVER='$REDIS_SERVER'
export PG_BIN='$PG_BIN'
EOF
    log "redis on 127.0.0.1:$redis_port, postgres on 127.0.0.1:$pg_port (env: $DIR/env)"
}

case $cmd in
    start) start ;;
    stop) stop_all ;;
    *) die "usage: $0 start|stop DIR" ;;
esac
