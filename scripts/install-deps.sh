#!/usr/bin/env bash
# Installs the Debian packages baton's dev stack and tests need, only when missing:
#   clickhouse-server/client  - the real ClickHouse server the pipeline writes to
#   kcat                      - a third-party Kafka client used in smoke tests
#   prometheus (promtool)     - validates and unit-tests the alert rules
#   chromium                  - the real browser the `baton serve` page tests drive
# Idempotent: a second run does nothing.
set -euo pipefail
need=()
command -v clickhouse-server >/dev/null 2>&1 || need+=(clickhouse-server clickhouse-client)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
