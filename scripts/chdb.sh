#!/usr/bin/env bash
# Prints the path of libchdb.so, the current ClickHouse (as a library) that
# scripts/install-deps.sh installs under .dev/chdb; CHDB_LIB_PATH overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "${CHDB_LIB_PATH:-$PWD/.dev/chdb/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so}"
