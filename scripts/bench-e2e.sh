#!/usr/bin/env bash
# End-to-end throughput: simulate ORDERS orders into fresh topics, then time
# `baton run --until-caught-up` storing every record in a fresh ClickHouse
# database. Prints records/s and the pipeline's peak RSS. Needs the dev
# stack (`make dev-up`); cleans up its database afterwards. Arguments after
# ORDERS go to `baton run` (e.g. --sync-checks).
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${1:-20000}
shift || true
name="bench_$(date +%s)_$$"
export BATON_TOPIC_PREFIX="$name." BATON_CLICKHOUSE_DATABASE="$name" BATON_APP_ID="$name" BATON_METRICS_ADDR=""
echo "bench-e2e: simulating $orders orders into topics $BATON_TOPIC_PREFIX*"
bin/baton simulate --orders "$orders" --seed 1
echo "bench-e2e: running the pipeline until caught up"
bin/baton run --until-caught-up "$@" 2>&1 | tee ".dev/$name.log" | grep -E "caught up|pipeline stopped|error|ERROR" || true
curl -sf "http://127.0.0.1:8123/" --data-binary "DROP DATABASE IF EXISTS $name" >/dev/null || true
line=$(grep "pipeline stopped" ".dev/$name.log" || true)
if [ -z "$line" ]; then echo "bench-e2e: the pipeline did not finish; see .dev/$name.log" >&2; exit 1; fi
echo "bench-e2e: $line"
