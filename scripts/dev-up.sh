#!/usr/bin/env bash
# Starts the embedded dev stack, each service only if it is not running yet:
#   broker      bin/baton dev broker    127.0.0.1:9092          data .dev/kafka
#   registry    bin/baton dev registry  http://127.0.0.1:8081   data .dev/registry
#   clickhouse  scripts/clickhouse.sh   127.0.0.1:8123 and 9000 data .dev/clickhouse
# then waits until all three answer. Installs missing packages and (re)builds
# bin/baton when its sources are newer. Pid files and logs are in .dev/;
# scripts/dev-down.sh stops the stack. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
mkdir -p .dev

if [ ! -x bin/baton ] || [ -n "$(find . \( -path ./.git -o -path ./.dev -o -path ./bin \) -prune -o -type f \
  \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum -o -name '*.avsc' -o -name '*.sql' \) \
  -newer bin/baton -print -quit)" ]; then
  echo "dev-up: building bin/baton"
  if go build -o bin/baton ./cmd/baton; then
    touch bin/baton # go build leaves an up-to-date binary untouched
  elif [ -x bin/baton ]; then
    # The tree may be mid-edit; the dev services rarely change.
    echo "dev-up: build failed; starting the services from the existing bin/baton" >&2
  else
    exit 1
  fi
fi

broker_answers() { (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; }
registry_answers() { curl -sf --max-time 2 http://127.0.0.1:8081/subjects >/dev/null 2>&1; }

# alive NAME: prints the pid in .dev/NAME.pid if that process is
# `baton dev NAME` (a stale file may name a pid since reused).
alive() {
  local pid
  [ -s ".dev/$1.pid" ] || return 1
  pid=$(cat ".dev/$1.pid")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "baton dev $1" || return 1
  echo "$pid"
}

# how[NAME] says where the running service came from, for the status line.
declare -A how

# start NAME ARGS...: starts `bin/baton dev NAME ARGS...` in the background
# unless it runs already or something else answers at its address.
# It gets a session of its own, so a Ctrl-C meant for a later command in this
# terminal does not reach it.
start() {
  local name=$1 pid
  shift
  if "${name}_answers"; then
    if pid=$(alive "$name"); then
      how[$name]="already running, pid $pid"
    else
      how[$name]="already answering, not started from .dev/$name.pid"
    fi
    return
  fi
  if pid=$(alive "$name"); then
    how[$name]="pid $pid, started earlier" # not answering yet: wait for it
    return
  fi
  rm -f ".dev/$name.pid"
  setsid nohup bin/baton dev "$name" "$@" >>".dev/$name.log" 2>&1 </dev/null &
  echo $! >".dev/$name.pid"
  how[$name]="started, pid $!"
}

# wait_ready NAME ADDR: waits up to 30 s for the service to answer; fails with
# the tail of its log if it does not, or if it exits first.
wait_ready() {
  local name=$1 addr=$2 i
  for ((i = 0; i < 300; i++)); do
    if "${name}_answers"; then
      echo "dev-up: $name ready at $addr (${how[$name]})"
      return
    fi
    if ! alive "$name" >/dev/null; then
      echo "dev-up: $name exited before answering at $addr; last lines of .dev/$name.log:" >&2
      tail -n 20 ".dev/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "dev-up: $name did not answer at $addr within 30 s; last lines of .dev/$name.log:" >&2
  tail -n 20 ".dev/$name.log" >&2
  exit 1
}

start broker --port 9092 --data-dir .dev/kafka
start registry --addr 127.0.0.1:8081 --data-dir .dev/registry
scripts/clickhouse.sh start
wait_ready broker 127.0.0.1:9092
wait_ready registry http://127.0.0.1:8081
