#!/usr/bin/env bash
# PostgreSQL write throughput: CreateCase with 32 workers, on one server and
# on two servers sharing the one database (bench --servers 2), each run on a
# fresh schema that is dropped afterwards; then localcases import of a
# 100,000-case snapshot into each engine. Prints one line per run.
# Needs psql. Usage: scripts/pg-bench.sh [runs] [seconds] [snapshot]
# The snapshot is made first if the file is missing (bench --export).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3} secs=${2:-10} snap=${3:-/tmp/localcases-100k.json}
db=${LOCALCASES_PG:-postgres://postgres@127.0.0.1:5432/test}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/localcases" ./cmd/localcases
lc=$dir/localcases
sep='?'; [[ $db == *\?* ]] && sep='&'
drop() { psql -q "$db" -c "DROP SCHEMA IF EXISTS $1 CASCADE" >/dev/null 2>&1; }

for servers in 1 2; do
	for i in $(seq "$runs"); do
		schema=lcbench_$$_$i
		drop "$schema"
		rate=$("$lc" bench --store "$db${sep}schema=$schema" --servers "$servers" --op CreateCase \
			--concurrency 32 --duration "${secs}s" --quiet --json | jq -r '.localcases.throughput')
		drop "$schema"
		echo "CreateCase postgres servers=$servers run=$i: $rate req/s"
	done
done

if [[ ! -f $snap ]]; then
	"$lc" bench --store memory --op GetCase --seed-cases 100000 --requests 1 --quiet --export "$snap" >/dev/null
fi
port=4691
for engine in memory sqlite postgres; do
	for i in $(seq "$runs"); do
		schema=lcimport_$$_$i
		case $engine in
		memory) args=(--memory) ;;
		sqlite) args=(--data "$dir/data-$i") ;;
		postgres) drop "$schema"; args=(--store "$db${sep}schema=$schema") ;;
		esac
		"$lc" serve --addr 127.0.0.1:$port --log-level warn "${args[@]}" >"$dir/serve.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do "$lc" health --url http://127.0.0.1:$port >/dev/null 2>&1 && break; sleep 0.1; done
		start=$(date +%s.%N)
		"$lc" import --url http://127.0.0.1:$port "$snap" >/dev/null
		end=$(date +%s.%N)
		kill $pid; wait $pid 2>/dev/null || true
		rm -rf "$dir/data-$i"
		[[ $engine == postgres ]] && drop "$schema"
		echo "import $engine run=$i: $(echo "$end - $start" | bc) s"
	done
done
