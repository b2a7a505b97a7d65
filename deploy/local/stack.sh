#!/usr/bin/env bash
# Local infrastructure for tests and the distributed run: PostgreSQL, Redis and Kafka.
#
# Usage: stack.sh start|stop|restart|status|env
#
#   start    start all services (idempotent; waits until each is ready)
#   stop     stop all services started by these scripts
#   status   report each service; exits non-zero unless all are running
#   env      print export lines for the application, e.g.
#              eval "$(deploy/local/stack.sh env)"
#
# Ports and state location follow the per-service scripts (KAFKA_PORT,
# PG_PORT, REDIS_PORT, YIWANG_LOCAL, ...).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES=(postgres redis kafka)

cmd_start() {
    local s
    for s in "${SERVICES[@]}"; do
        "$HERE/$s.sh" start
    done
}

cmd_stop() {
    local i rc=0
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        "$HERE/${SERVICES[i]}.sh" stop || rc=1
    done
    return "$rc"
}

cmd_status() {
    local s rc=0
    for s in "${SERVICES[@]}"; do
        "$HERE/$s.sh" status || rc=3
    done
    return "$rc"
}

cmd_env() {
    printf 'export YIWANG_KAFKA_BOOTSTRAP=%s\n' "127.0.0.1:${KAFKA_PORT:-9092}"
    printf 'export YIWANG_POSTGRES_URL=%s\n' "$("$HERE/postgres.sh" url)"
    printf 'export YIWANG_REDIS_URL=%s\n' "$("$HERE/redis.sh" url)"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop && cmd_start ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
        echo "usage: $(basename "$0") start|stop|restart|status|env" >&2
        exit 2
        ;;
esac
