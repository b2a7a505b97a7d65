# shellcheck shell=bash
# Shared helpers for the local infrastructure scripts in deploy/local.
# Sourced, not executed. Expects the caller to have enabled `set -euo pipefail`.

LOCAL_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LOCAL_SCRIPT_DIR/../.." && pwd)"

# Everything the scripts create lives under YIWANG_LOCAL (git-ignored).
YIWANG_LOCAL="${YIWANG_LOCAL:-$REPO_ROOT/.local}"
mkdir -p "$YIWANG_LOCAL"
YIWANG_LOCAL="$(cd "$YIWANG_LOCAL" && pwd)"
export YIWANG_LOCAL

# Number of log lines shown when a server fails to start.
LOG_TAIL_LINES="${LOG_TAIL_LINES:-40}"

_prefix() { printf '[%s] ' "${SERVICE_NAME:-local}"; }

log() { _prefix; printf '%s\n' "$*"; }

err() { _prefix >&2; printf '%s\n' "$*" >&2; }

die() { err "ERROR: $*"; exit 1; }

# Print the last lines of a log file to stderr, if it exists.
show_log_tail() {
    local file="$1"
    if [[ -s "$file" ]]; then
        err "---- last $LOG_TAIL_LINES lines of $file ----"
        tail -n "$LOG_TAIL_LINES" "$file" >&2 || true
        err "---- end of $file ----"
    fi
}

# True if the given pid is a live process. A zombie whose thread group leader
# has exited while other threads are still tearing down (and may still hold
# sockets and files) counts as alive; a fully exited, unreaped zombie does not.
pid_alive() {
    local pid="$1" state threads
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    read -r state threads < <(awk '/^State:/ {s = $2} /^Threads:/ {t = $2} END {print s, t}' \
        "/proc/$pid/status" 2>/dev/null || true) || true
    [[ -n "${state:-}" ]] || return 1
    [[ "$state" != "Z" ]] || [[ "${threads:-1}" -gt 1 ]]
}

# True if the process' command line contains the given marker (guards against pid reuse).
pid_matches() {
    local pid="$1" marker="$2"
    pid_alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# Read the first line of a pid file; prints nothing if absent or malformed.
read_pidfile() {
    local file="$1" pid=""
    [[ -f "$file" ]] || return 0
    pid="$(head -n 1 "$file" 2>/dev/null | tr -d '[:space:]')" || true
    [[ "$pid" =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
    return 0
}

# True if something accepts TCP connections on host:port.
port_open() {
    local host="$1" port="$2"
    timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# Wait for a pid to exit; returns 1 if it is still alive after the timeout.
wait_for_exit() {
    local pid="$1" timeout_s="$2" i
    for ((i = 0; i < timeout_s * 10; i++)); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    ! pid_alive "$pid"
}

# Print the pids of the direct children of a process (reads /proc, no procps needed).
child_pids() {
    local parent="$1" stat line fields
    for stat in /proc/[0-9]*/stat; do
        line="$(cat "$stat" 2>/dev/null)" || continue
        # Fields after the parenthesised command name: "<state> <ppid> ..."
        read -r -a fields <<<"${line##*) }"
        if [[ "${fields[1]:-}" == "$parent" ]]; then
            line="${stat#/proc/}"
            printf '%s\n' "${line%/stat}"
        fi
    done
}

# Short stable hash of a string (used for per-checkout paths outside YIWANG_LOCAL).
short_hash() {
    printf '%s' "$1" | sha256sum | cut -c1-12
}

# SIGTERM, wait, then SIGKILL. Returns 0 once the process is gone.
terminate_pid() {
    local pid="$1" grace_s="$2"
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for_exit "$pid" "$grace_s"; then
        err "pid $pid did not exit within ${grace_s}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for_exit "$pid" 10 || return 1
    fi
    return 0
}

# Keep the previous log as <file>.1 and start a fresh one, so readiness checks
# only look at output from the current run.
rotate_log() {
    local file="$1"
    if [[ -f "$file" ]]; then
        mv -f "$file" "$file.1"
    fi
    : >"$file"
}

# Install Debian packages quietly; output is shown only if the install fails.
# The package index is refreshed only when the first attempt fails.
apt_install() {
    local out
    [[ $EUID -eq 0 ]] || die "installing packages ($*) requires root; install them manually"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* manually"
    out="$(mktemp)"
    log "installing package(s): $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$out" 2>&1; then
        log "refreshing the package index and retrying"
        if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; } >"$out" 2>&1; then
            tail -n 30 "$out" >&2
            rm -f "$out"
            die "apt-get install $* failed"
        fi
    fi
    rm -f "$out"
}

# Serialise state-changing commands of one service (e.g. parallel test runners
# calling `start` at the same time). The lock is held on fd 9 and released when
# the script exits; long-running servers must be launched with `9>&-`.
acquire_lock() {
    local lockfile="$YIWANG_LOCAL/.${SERVICE_NAME:-local}.lock"
    exec 9>"$lockfile"
    if ! flock -n 9; then
        log "waiting for another ${SERVICE_NAME:-local} command to finish"
        flock -w "${LOCK_TIMEOUT:-600}" 9 || die "timed out waiting for $lockfile"
    fi
}

usage_exit() {
    echo "usage: $(basename "$0") $1" >&2
    exit 2
}

# The state of a server script's process (its running_pid and is_ready): 0 running,
# 1 started but not ready, 3 stopped. Usage: report_status <port> <not-ready message>
report_status() {
    local pid
    if pid="$(running_pid)"; then
        if is_ready; then
            log "running (pid $pid) on 127.0.0.1:$1"
            return 0
        fi
        log "${2//\{pid\}/$pid}"
        return 1
    fi
    log "stopped"
    return 3
}

# Runs the command a server script was called with. The script defines cmd_start,
# cmd_stop, cmd_status, cmd_kill and, when it can print its URL, url.
run_command() {
    local usage="start|stop|restart|status|kill"
    if declare -F url >/dev/null; then usage="$usage|url"; fi
    case "${1:-}" in
        start | stop | restart | kill) acquire_lock ;;
    esac
    case "${1:-}" in
        start) cmd_start ;;
        stop) cmd_stop ;;
        restart) cmd_stop && cmd_start ;;
        status) cmd_status ;;
        kill) cmd_kill ;;
        url) if declare -F url >/dev/null; then url; else usage_exit "$usage"; fi ;;
        *) usage_exit "$usage" ;;
    esac
}

# Stop the server of a pid file: SIGTERM, then SIGKILL after <timeout> seconds.
# Usage: stop_server <pidfile> <timeout>
stop_server() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$1"
        log "not running"
        return 0
    fi
    log "stopping (pid $pid)"
    terminate_pid "$pid" "$2" || die "could not stop pid $pid"
    rm -f "$1"
    log "stopped"
}

# Simulate a crash of the server of a pid file. Usage: kill_server <pidfile>
kill_server() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$1"
        log "not running"
        return 0
    fi
    kill -KILL "$pid" 2>/dev/null || true
    wait_for_exit "$pid" 10 || die "pid $pid survived SIGKILL"
    rm -f "$1"
    log "killed (pid $pid)"
}

# Prints the pid in <pidfile> when that process is this script's server: its command
# line holds every <marker> given. Usage: server_pid <pidfile> <marker>...
server_pid() {
    local pid marker
    pid="$(read_pidfile "$1")"
    [[ -n "$pid" ]] || return 1
    shift
    for marker in "$@"; do
        pid_matches "$pid" "$marker" || return 1
    done
    printf '%s\n' "$pid"
}
