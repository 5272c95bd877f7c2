#!/usr/bin/env bash
# localcases import of a snapshot into a fresh `localcases serve` of each
# engine, timed from the import command's start to its exit, with one or
# more builds taking turns run by run so that the machine's drift falls on
# each alike. Prints one line per run. Needs psql for PostgreSQL.
# Usage: scripts/import-bench.sh [runs] [snapshot] [engines] [binary...]
#   engines: comma-separated, of memory,sqlite,postgres (default all three)
#   binary:  builds to compare (default: this tree, built here)
# The snapshot is made first if the file is missing (bench --export, 100,000
# cases).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3} snap=${2:-/tmp/localcases-100k.json} engines=${3:-memory,sqlite,postgres}
shift $(($# < 3 ? $# : 3))
db=${LOCALCASES_PG:-postgres://postgres@127.0.0.1:5432/test}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
builds=("$@")
if [[ ${#builds[@]} -eq 0 ]]; then
	go build -o "$dir/localcases" ./cmd/localcases
	builds=("$dir/localcases")
fi
sep='?'; [[ $db == *\?* ]] && sep='&'
drop() { psql -q "$db" -c "DROP SCHEMA IF EXISTS $1 CASCADE" >/dev/null 2>&1; }

if [[ ! -f $snap ]]; then
	"${builds[0]}" bench --store memory --op GetCase --seed-cases 100000 --requests 1 --quiet --export "$snap" >/dev/null
fi
port=4693
for engine in ${engines//,/ }; do
	for i in $(seq "$runs"); do
		for b in "${builds[@]}"; do
			schema=lcimport_$$_$i
			case $engine in
			memory) args=(--memory) ;;
			sqlite) args=(--data "$dir/data") ;;
			postgres) drop "$schema"; args=(--store "$db${sep}schema=$schema") ;;
			esac
			"$b" serve --addr 127.0.0.1:$port --log-level warn "${args[@]}" >"$dir/serve.log" 2>&1 &
			pid=$!
			for _ in $(seq 100); do "$b" health --url http://127.0.0.1:$port >/dev/null 2>&1 && break; sleep 0.1; done
			start=$(date +%s.%N)
			out=$("$b" import --url http://127.0.0.1:$port "$snap")
			end=$(date +%s.%N)
			size=
			[[ $engine == sqlite ]] && size=", $(du -sm "$dir/data" | cut -f1) MB on disk"
			kill $pid; wait $pid 2>/dev/null || true
			rm -rf "$dir/data"
			[[ $engine == postgres ]] && drop "$schema"
			echo "import $engine $(basename "$b") run=$i: $(echo "$end - $start" | bc) s ($out$size; load $(cut -d' ' -f1 /proc/loadavg))"
		done
	done
done
