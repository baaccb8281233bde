#!/usr/bin/env bash
# Runs Debian's real clickhouse-server for the dev stack without systemd: data,
# logs and pid file under .dev/clickhouse, listening on 127.0.0.1 only (HTTP
# 8123, native protocol 9000). Installs it first if missing.
#
#   scripts/clickhouse.sh start    start unless it answers already, then wait until it does
#   scripts/clickhouse.sh stop     stop it (same as scripts/dev-down.sh clickhouse)
#   scripts/clickhouse.sh status   say whether it answers; exit 1 if not
set -euo pipefail
cd "$(dirname "$0")/.."

dir="$PWD/.dev/clickhouse"
pidfile="$dir/ch.pid"
url='http://127.0.0.1:8123/?query=SELECT%201'
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

answers() { curl -sf --max-time 2 "$url" >/dev/null 2>&1; }

# server_pid prints the pid from the pid file if that process is a
# clickhouse-server (a stale file may name a reused pid).
server_pid() {
  local pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF clickhouse-server || return 1
  echo "$pid"
}

start() {
  if answers; then
    echo "clickhouse: already running at 127.0.0.1:8123"
    return
  fi
  command -v clickhouse-server >/dev/null 2>&1 || scripts/install-deps.sh
  # A server still starting up has its pid file but does not answer yet:
  # wait for it rather than start a second one.
  if ! server_pid >/dev/null; then
    rm -f "$pidfile"
    mkdir -p "$dir/data/tmp" "$dir/data/user_files" "$dir/data/format_schemas"
    $SUDO chown -R clickhouse:clickhouse "$dir"
    $SUDO runuser -u clickhouse -- /usr/sbin/clickhouse-server \
      --config-file=/etc/clickhouse-server/config.xml --daemon --pid-file="$pidfile" -- \
      --path="$dir/data/" --tmp_path="$dir/data/tmp/" --user_files_path="$dir/data/user_files/" \
      --format_schema_path="$dir/data/format_schemas/" \
      --logger.log="$dir/ch.log" --logger.errorlog="$dir/ch.err.log" --listen_host=127.0.0.1
  fi
  local i
  for ((i = 0; i < 300; i++)); do
    if answers; then
      echo "clickhouse: ready at 127.0.0.1:8123 and :9000 (pid $(server_pid || echo '?'), data .dev/clickhouse/data)"
      return
    fi
    sleep 0.1
  done
  echo "clickhouse: no answer from $url within 30 s; last lines of $dir/ch.err.log:" >&2
  tail -n 20 "$dir/ch.err.log" >&2 2>/dev/null || true
  exit 1
}

status() {
  if answers; then
    echo "clickhouse: running at 127.0.0.1:8123 (pid $(server_pid || echo 'not from .dev/clickhouse'))"
  elif pid=$(server_pid); then
    echo "clickhouse: pid $pid is running but does not answer at 127.0.0.1:8123; see $dir/ch.err.log"
    return 1
  else
    echo "clickhouse: not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) exec scripts/dev-down.sh clickhouse ;;
  status) status ;;
  *) echo "usage: scripts/clickhouse.sh start|stop|status" >&2; exit 2 ;;
esac
