#!/usr/bin/env bash
# The end of `make demo`: starts `bin/baton serve` in the background (unless
# it runs already; pid in .dev/serve.pid, log in .dev/serve.log, stopped by
# scripts/dev-down.sh), waits until it answers, and prints the page of one
# interesting order of the simulated data (a WISMO ticket blamed on a viewer
# out of sync, so with a failed sync too) and the scorecard's.
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${BATON_SERVE_LISTEN:-127.0.0.1:8090}
db=${BATON_CLICKHOUSE_DATABASE:-baton}

alive() {
  local pid
  [ -s .dev/serve.pid ] || return 1
  pid=$(cat .dev/serve.pid)
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "baton serve" || return 1
}

if ! alive; then
  mkdir -p .dev
  setsid bin/baton serve --listen "$listen" >.dev/serve.log 2>&1 </dev/null &
  echo $! >.dev/serve.pid
fi
for _ in $(seq 1 50); do
  curl -sf --max-time 1 "http://$listen/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf --max-time 1 "http://$listen/healthz" >/dev/null || { echo "demo: baton serve did not start; see .dev/serve.log" >&2; exit 1; }

order=$(clickhouse-client --query "SELECT order_id FROM $db.wismo_tickets FINAL
  WHERE cause = 'viewer_out_of_sync' AND order_id IN (SELECT order_id FROM $db.failed_syncs)
  ORDER BY order_id LIMIT 1")
echo
echo "baton serve is running in the background (pid $(cat .dev/serve.pid), log .dev/serve.log):"
[ -n "$order" ] && echo "  an order with a failed sync and a WISMO ticket:  http://$listen/orders/$order"
echo "  the scorecard with charts:                       http://$listen/scorecard"
echo "  the JSON API, e.g.                               curl -s http://$listen/api/orders/${order:-ORD-00000001}"
