#!/usr/bin/env bash
# End-to-end latency at a steady input rate: p50/p95/p99 of the wall-clock
# time from an event arriving in a source topic to the rows it causes being
# committed, per stage, with the pipeline running live (`baton run`, viewer
# sync checks on, its defaults otherwise).
#
#   scripts/bench-latency.sh [RATE] [SECONDS] [baton run flags...]
#
# RATE events per second (default 500) for about SECONDS (default 120):
# `baton simulate --pace RATE` stamps every record with the time it is
# produced, and `baton run` observes baton_pipeline_latency_seconds{stage}
# at each commit (stage="sink": source event → row queryable in
# ClickHouse). The quantiles come from the difference of two scrapes of
# /metrics, one after WARMUP seconds (env, default 20) and one once the
# pipeline has stored everything, interpolated within buckets as
# Prometheus' histogram_quantile does (scripts/promquantile).
#
# Starts the dev stack if it is not running (and stops what it started),
# builds bin/baton, uses a fresh topic prefix, app id and ClickHouse database
# (the database is dropped at the end, the topics stay in the dev broker
# like bench-e2e's), and keeps the logs and both scrapes in .dev/latency_*.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-500}
seconds=${2:-120}
shift 2 || shift $# || true
warmup=${WARMUP:-20}
events_per_order=36.5 # the simulator's default profile (go test ./simulator -bench 'Generate$')

awk -v r="$rate" -v s="$seconds" -v w="$warmup" 'BEGIN { exit !(r > 0 && s > w + 5 && w >= 0) }' || {
  echo "usage: scripts/bench-latency.sh [RATE > 0] [SECONDS > WARMUP+5] [baton run flags...]  (WARMUP=$warmup)" >&2
  exit 2
}

# --- the dev stack: start what is missing, remember it to stop it again ---
broker_answers() { (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; }
registry_answers() { curl -sf --max-time 2 http://127.0.0.1:8081/subjects >/dev/null 2>&1; }
clickhouse_answers() { curl -sf --max-time 2 'http://127.0.0.1:8123/?query=SELECT%201' >/dev/null 2>&1; }
started=()
for s in broker registry clickhouse; do "${s}_answers" || started+=("$s"); done

name="latency_$(date +%s)_$$"
tmp=$(mktemp -d)
run_pid="" sim_pid=""

stop_pid() { # PID SECONDS: SIGTERM, then SIGKILL after SECONDS
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "bench-latency: pid $pid still running $2 s after SIGTERM; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$sim_pid" 10
  stop_pid "$run_pid" 40
  if clickhouse_answers; then
    curl -sf "http://127.0.0.1:8123/" --data-binary "DROP DATABASE IF EXISTS $name" >/dev/null || true
  fi
  if [ ${#started[@]} -gt 0 ]; then
    scripts/dev-down.sh "${started[@]}" || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ${#started[@]} -gt 0 ]; then
  echo "bench-latency: starting the dev stack (${started[*]} not running; stopped again at the end)"
  scripts/dev-up.sh
fi

mkdir -p .dev
echo "bench-latency: building bin/baton and scripts/promquantile"
go build -o bin/baton ./cmd/baton
go build -o "$tmp/promquantile" ./scripts/promquantile

# A free port for the metrics (nothing answers on it).
port=""
for p in $(seq 19464 19664); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "bench-latency: no free port in 19464-19664" >&2; exit 1; }

export BATON_TOPIC_PREFIX="$name." BATON_CLICKHOUSE_DATABASE="$name" BATON_APP_ID="$name" BATON_METRICS_ADDR="127.0.0.1:$port"
metrics="http://$BATON_METRICS_ADDR/metrics"
run_log=".dev/$name.run.log" sim_log=".dev/$name.simulate.log" before=".dev/$name.before.prom" after=".dev/$name.after.prom"
orders=$(awk -v r="$rate" -v s="$seconds" -v e="$events_per_order" 'BEGIN { n = int(r * s / e + 0.5); print (n < 1 ? 1 : n) }')

echo "bench-latency: baton run (topics $BATON_TOPIC_PREFIX*, database $name, metrics $metrics) $*"
bin/baton run "$@" >"$run_log" 2>&1 &
run_pid=$!
for ((i = 0; ; i++)); do
  curl -sf --max-time 2 "$metrics" >/dev/null 2>&1 && break
  if ! kill -0 "$run_pid" 2>/dev/null || [ "$i" -ge 600 ]; then
    echo "bench-latency: baton run did not serve $metrics; last lines of $run_log:" >&2
    tail -n 20 "$run_log" >&2
    exit 1
  fi
  sleep 0.1
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-latency: simulating $orders orders at $rate events/s (about $seconds s); warm-up $warmup s"
sim_start=$(date +%s.%N)
bin/baton simulate --orders "$orders" --seed 1 --pace "$rate" --progress never >"$sim_log" 2>&1 &
sim_pid=$!

scrape() { # FILE
  curl -sf --max-time 10 "$metrics" >"$1" || { echo "bench-latency: scraping $metrics failed" >&2; exit 1; }
}
metric_sum() { # FILE REGEX: the sum of the samples whose line matches
  awk -v re="$2" '$0 ~ re { s += $NF } END { printf "%.0f\n", s }' "$1"
}

sleep "$warmup"
if ! kill -0 "$sim_pid" 2>/dev/null; then
  echo "bench-latency: the simulation ended within the warm-up; raise SECONDS. $sim_log:" >&2
  cat "$sim_log" >&2
  exit 1
fi
kill -0 "$run_pid" 2>/dev/null || { echo "bench-latency: baton run exited; see $run_log" >&2; exit 1; }
scrape "$before"
t1=$(date +%s.%N)
echo "bench-latency: first scrape at $(awk -v a="$t1" -v b="$sim_start" 'BEGIN { printf "%.1f", a - b }') s"

sim_rc=0
wait "$sim_pid" || sim_rc=$?
sim_pid=""
sim_end=$(date +%s.%N)
if [ "$sim_rc" -ne 0 ]; then
  echo "bench-latency: baton simulate failed ($sim_rc):" >&2
  cat "$sim_log" >&2
  exit 1
fi
events=$(sed -n 's/^simulated [0-9]* orders: \([0-9]*\) events.*/\1/p' "$sim_log")
[ -n "$events" ] || { echo "bench-latency: no event count in $sim_log" >&2; exit 1; }
echo "bench-latency: simulation done: $(grep '^paced' "$sim_log" || echo "$events events")"

# Drain: every source event stored in ClickHouse and the sink's latency
# count unchanged for 3 s (longer than the default 1 s flush interval).
echo "bench-latency: waiting for the pipeline to store everything"
stored=0 last=-1 stable=0
for ((i = 0; i < 240; i++)); do
  kill -0 "$run_pid" 2>/dev/null || { echo "bench-latency: baton run exited; see $run_log" >&2; exit 1; }
  stored=$(curl -sf "http://127.0.0.1:8123/" --data-binary "SELECT count() FROM $name.source_events" 2>/dev/null || echo 0)
  scrape "$after"
  n=$(metric_sum "$after" '^baton_pipeline_latency_seconds_count\\{stage="sink"\\}')
  if [ "$stored" -ge "$events" ] && [ "$n" = "$last" ]; then
    stable=$((stable + 1))
    [ "$stable" -ge 6 ] && break
  else
    stable=0
  fi
  last=$n
  sleep 0.5
done
t2=$(date +%s.%N)
if [ "$stored" -lt "$events" ]; then
  echo "bench-latency: warning: only $stored of $events source events stored after 120 s; the figures cover what was committed" >&2
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

dead=$(awk '/^baton_dead_letters_total/ {
  n += $NF
  st = $0; sub(/.*stage="/, "", st); sub(/".*/, "", st)
  rs = $0; sub(/.*reason="/, "", rs); sub(/".*/, "", rs)
  by = by (by ? ", " : "") st "/" rs " " $NF
} END { printf "%d dead letters%s", n, (n ? " (" by ")" : "") }' "$after")
run_args=("$@")
setting() { # FLAG [bool]: its value in the baton run arguments, else its default from `baton run -h`
  local f=$1 a v="" next=0
  for a in "${run_args[@]}"; do
    if [ "$next" = 1 ]; then v=$a next=0; continue; fi
    case "$a" in
      "-$f="* | "--$f="*) v=${a#*=} ;;
      "-$f" | "--$f") if [ "${2:-}" = bool ]; then v=true; else next=1; fi ;;
    esac
  done
  [ -n "$v" ] || v=$(bin/baton run -h 2>&1 | awk -v f="-$f" '$1 == f { getline; if (match($0, /\(default [^)]*\)$/)) print substr($0, RSTART + 9, RLENGTH - 10); exit }')
  echo "$v"
}

echo
echo "=== baton pipeline latency at a steady rate ==="
echo "rate           $rate events/s requested; $(grep '^paced' "$sim_log" || echo '?')"
echo "records        $events source events from $orders orders (seed 1); $stored stored in source_events; $dead"
printf 'window         %.1f s: from %s s into the run (after the warm-up) until everything was stored\n' \
  "$(awk -v a="$t2" -v b="$t1" 'BEGIN { print a - b }')" "$warmup"
printf 'simulation     %.1f s\n' "$(awk -v a="$sim_end" -v b="$sim_start" 'BEGIN { print a - b }')"
echo "baton run      defaults except: ${*:-(none)} --metrics-addr $BATON_METRICS_ADDR"
echo "               in effect: flush-interval $(setting flush-interval), batch-size $(setting batch-size), sync-checks $(setting sync-checks bool), idle-advance $(setting idle-advance)"
tree="not a git checkout"
if rev=$(git rev-parse --short HEAD 2>/dev/null); then
  tree="commit $rev"
  git diff --quiet HEAD 2>/dev/null || tree="$tree + uncommitted changes"
fi
echo "machine        $(nproc) cores, load average $load_before at start, $load_after at the end; $tree"
echo
echo "baton_pipeline_latency_seconds between the scrapes, from the source event's arrival to the commit of the"
echo "work it caused (observed: input records whose work the stage committed; sink: records stored as rows):"
"$tmp/promquantile" -order normalize,unify,sink "$before" "$after"
echo
echo "logs: $run_log, $sim_log; scrapes: $before, $after"
