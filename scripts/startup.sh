#!/usr/bin/env bash
# Measures start to first successful API call, the server's CPU time until
# then, and idle RSS of the default (SQLite) server (Linux: /proc).
# Usage: scripts/startup.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/localcases
go build -o "$bin" ./cmd/localcases
port=4688
for _ in $(seq "${1:-3}"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  "$bin" serve --addr 127.0.0.1:$port --data "$dir" --log-level error >/dev/null 2>&1 &
  pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:$port/domains-list)" = 200 ]; do :; done
  end=$(date +%s%N)
  # The server's own CPU time to its first answer (all threads): on a
  # machine busy with other work, wall time also counts waiting for a CPU.
  cpu=0
  for f in /proc/$pid/task/*/schedstat; do read -r ns _ < "$f" && cpu=$((cpu + ns)); done
  sleep 2
  echo "start to first call: $(( (end - start) / 1000000 )) ms (server CPU $(( cpu / 1000000 )) ms); idle $(grep VmRSS /proc/$pid/status | tr -s ' \t' ' ')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
done
