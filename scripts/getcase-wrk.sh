#!/usr/bin/env bash
# GetCase on a separate localcases server (SQLite unless serve flags say
# otherwise) against the bare net/http + encoding/json ceiling, both driven
# by wrk (2 threads, 50 connections) in the order localcases, ceiling,
# ceiling, localcases, ... after an uncounted warm-up of each. Requests
# rotate over 100 of 10,000 seeded cases, asking for four fields; the
# ceiling answers each with a copy of localcases' own answer. Prints each
# run and the ratio of the means. Needs wrk, curl and jq.
# Usage: scripts/getcase-wrk.sh [pairs] [seconds per run] [serve flags...]
# LOCALCASES=path/to/binary serves that build instead of this checkout's;
# the ceiling is always this checkout's.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3} secs=${2:-10}
shift $(($# < 2 ? $# : 2))
dir=$(mktemp -d)
go build -o "$dir/localcases" ./cmd/localcases
cp "$dir/localcases" "$dir/ceiling"
if [ -n "${LOCALCASES:-}" ]; then cp "$LOCALCASES" "$dir/localcases"; fi
api=4688 ceil=4689
ep=http://127.0.0.1:$api
"$dir/localcases" serve --addr 127.0.0.1:$api --data "$dir/data" --log-level warn "$@" >"$dir/serve.log" 2>&1 &
srvpid=$! ceilpid=
trap 'kill $srvpid $ceilpid 2>/dev/null; wait $srvpid $ceilpid 2>/dev/null; rm -rf "$dir"' EXIT
"$dir/localcases" health --wait --url $ep >/dev/null
domain=$("$dir/localcases" bench --url $ep --op GetCase --seed-cases 10000 --requests 1 --quiet --json | jq -r .seed.domainId)
curl -sf -X POST "$ep/domains/$domain/cases-search" -H 'Content-Type: application/json' -d '{"maxResults":100}' \
  | jq -r '.cases[].caseId' >"$dir/ids"
body='{"fields":[{"id":"title"},{"id":"status"},{"id":"summary"},{"id":"created_datetime"}]}'
curl -sf -X POST "$ep/domains/$domain/cases/$(head -1 "$dir/ids")" -H 'Content-Type: application/json' -d "$body" >"$dir/answer"
"$dir/ceiling" bench --op GetCase --serve-ceiling 127.0.0.1:$ceil --ceiling-answer "$dir/answer" 2>"$dir/ceiling.log" &
ceilpid=$!
until curl -s -o /dev/null http://127.0.0.1:$ceil/; do
  kill -0 $ceilpid 2>/dev/null || { cat "$dir/ceiling.log" >&2; exit 1; }
  sleep 0.1
done
cat >"$dir/getcase.lua" <<LUA
local ids, i = {}, 0
for line in io.lines("$dir/ids") do ids[#ids + 1] = line end
local headers = {["Content-Type"] = "application/json"}
request = function()
  i = i % #ids + 1
  return wrk.format("POST", "/domains/$domain/cases/" .. ids[i], headers, '$body')
end
LUA
run() { # run localcases|ceiling SECONDS: prints requests/s
  local port=$api
  [ "$1" = ceiling ] && port=$ceil
  wrk -t2 -c50 -d"$2s" -s "$dir/getcase.lua" "http://127.0.0.1:$port" | awk '/^Requests\/sec/ {print $2}'
}
run localcases 2 >/dev/null
run ceiling 2 >/dev/null
sum_l=0 sum_c=0
for i in $(seq "$pairs"); do
  order="localcases ceiling"
  [ $((i % 2)) = 0 ] && order="ceiling localcases"
  for who in $order; do
    t=$(run $who "$secs")
    printf 'pair %d  %-10s  %8.0f GetCase/s\n' "$i" "$who" "$t"
    if [ $who = localcases ]; then l=$t sum_l=$(awk "BEGIN{print $sum_l + $t}"); else c=$t sum_c=$(awk "BEGIN{print $sum_c + $t}"); fi
  done
  awk -v l="$l" -v c="$c" -v i="$i" 'BEGIN { printf "pair %d  ratio %.3f\n", i, l/c }'
done
awk -v l="$sum_l" -v c="$sum_c" -v n="$pairs" \
  'BEGIN { printf "mean: localcases %.0f/s, ceiling %.0f/s, ratio %.3f\n", l/n, c/n, l/c }'
