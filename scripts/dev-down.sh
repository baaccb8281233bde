#!/usr/bin/env bash
# Stops the dev stack that scripts/dev-up.sh started, and the `baton serve`
# that `make demo` started (scripts/demo-serve.sh), each by its pid file:
# SIGTERM (the broker and registry then save their state), SIGKILL if it is
# still running after 15 s. Removes the pid files. Idempotent.
#
#   scripts/dev-down.sh [--purge] [serve|broker|registry|clickhouse ...]
#
# Stops the named services, or all four. --purge also deletes .dev/: every
# topic, record, offset, schema and table of the dev stack.
set -euo pipefail
cd "$(dirname "$0")/.."

purge=0
services=()
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    serve | broker | registry | clickhouse) services+=("$arg") ;;
    *) echo "usage: scripts/dev-down.sh [--purge] [serve|broker|registry|clickhouse ...]" >&2; exit 2 ;;
  esac
done
[ ${#services[@]} -gt 0 ] || services=(serve broker registry clickhouse)

# Each service's pid file, and what its command line contains: a pid file
# left by a crash may name a pid since reused by an unrelated process.
pidfile() { case "$1" in clickhouse) echo .dev/clickhouse/ch.pid ;; *) echo ".dev/$1.pid" ;; esac; }
cmdline() { case "$1" in clickhouse) echo clickhouse-server ;; serve) echo "baton serve" ;; *) echo "baton dev $1" ;; esac; }

# alive NAME: prints the service's pid if its pid file names a live process
# that is that service.
alive() {
  local file pid
  file=$(pidfile "$1")
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(cmdline "$1")" || return 1
  echo "$pid"
}

gone_within() { # PID TENTHS: waits up to TENTHS/10 s for PID to exit
  local i
  for ((i = 0; i < $2; i++)); do
    [ -d "/proc/$1" ] || return 0
    sleep 0.1
  done
  [ ! -d "/proc/$1" ]
}

stop() {
  local name=$1 pid
  if ! pid=$(alive "$name"); then
    rm -f "$(pidfile "$name")"
    echo "dev-down: $name not running"
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! gone_within "$pid" 150; then
    echo "dev-down: $name (pid $pid) still running 15 s after SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    gone_within "$pid" 50 || { echo "dev-down: $name (pid $pid) survived SIGKILL" >&2; exit 1; }
  fi
  rm -f "$(pidfile "$name")"
  echo "dev-down: $name stopped (pid $pid)"
}

for s in "${services[@]}"; do stop "$s"; done

if [ "$purge" = 1 ]; then
  rm -rf .dev
  echo "dev-down: deleted .dev/"
fi
