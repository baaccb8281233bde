#!/usr/bin/env bash
# Installs the Debian packages baton's dev stack and tests need, only when missing:
#   clickhouse-server/client  - the real ClickHouse server the pipeline writes to
#   kcat                      - a third-party Kafka client used in smoke tests
#   prometheus (promtool)     - validates and unit-tests the alert rules
#   prometheus-alertmanager   - amtool, checks the Alertmanager config
#   chromium                  - the real browser the `baton serve` page tests drive
#   npm                       - fetches chDB (below) when node/npm are missing
# and, under .dev/chdb, chDB: a current ClickHouse as a library (npm
# @chdb/lib-linux-x64-gnu, ~560 MB libchdb.so) that `make test` runs the sink,
# report, documented-query and Grafana-query tests against, beside Debian's
# 18.16 server (scripts/chdb.sh prints its path).
# Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
CHDB_VERSION=26.5.3
need=()
command -v clickhouse-server >/dev/null 2>&1 || need+=(clickhouse-server clickhouse-client)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
lib=$(scripts/chdb.sh)
if [ ! -s "$lib" ]; then
  echo "install-deps: installing chDB $CHDB_VERSION (npm @chdb/lib-linux-x64-gnu) under .dev/chdb" >&2
  mkdir -p .dev/chdb
  npm install --prefix .dev/chdb --no-audit --no-fund --no-save --loglevel=error "@chdb/lib-linux-x64-gnu@$CHDB_VERSION" >/dev/null
  test -s "$lib"
fi
