#!/usr/bin/env bash
# `make test`: installs what is missing, starts the dev stack unless one is
# already running (then it reuses it and leaves it running), runs the static
# checks (with the Compose check) and every test with -race against the real
# broker, registry and ClickHouse (with the alert path through Debian's
# Prometheus and Alertmanager), then the sink tests again on current
# ClickHouse (chDB), and stops what it started. A missing service or library
# fails the tests; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=0
if ! answers 9092 || ! answers 8081 || ! answers 9000; then
  started=1
fi
cleanup() {
  if [ "$started" = 1 ]; then scripts/dev-down.sh || true; fi
}
trap cleanup EXIT
scripts/dev-up.sh
scripts/lint.sh
promtool check config deploy/prometheus/prometheus.yml
promtool test rules deploy/prometheus/tests/*.yml
go test -race -count=1 -timeout 30m ./...
# The same sink, report, documented-query and Grafana-query tests against
# current ClickHouse (chDB). Without -race: the race detector over the 560 MB
# libchdb.so turns a 3 s run into 5 minutes and crashes at exit.
lib=$(scripts/chdb.sh)
[ -s "$lib" ] || { echo "test: chDB is missing at $lib: scripts/install-deps.sh installs it" >&2; exit 1; }
CHDB_LIB_PATH=$lib go test -tags chdb -count=1 -timeout 10m ./sinks/clickhouse/...
