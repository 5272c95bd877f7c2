#!/usr/bin/env bash
# Durable CreateCase throughput with case events off and on, in one SQLite
# server that delivers every event to one webhook sink: two domains, one
# with its event configuration enabled, measured alternately (on off, off
# on, ...) so that the server's drift as its database grows falls on both,
# after a warm-up pair that is not counted.
# Prints each run and the ratio of the means. Needs curl, jq and python3
# (the webhook receiver).
# Usage: scripts/events-bench.sh [pairs] [seconds per run]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-4} secs=${2:-8}
dir=$(mktemp -d)
go build -o "$dir/localcases" ./cmd/localcases
api=4686 hook=4687
ep=http://127.0.0.1:$api
python3 - "$hook" >"$dir/hook.log" 2>&1 <<'PY' &
import http.server, socketserver, sys
n = 0
class H(http.server.BaseHTTPRequestHandler):
    # Keep-alive: with HTTP/1.0 every event cost a TCP connection and a
    # thread on both sides, which the server's two CPUs paid for.
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global n
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        n += 1
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_GET(self):
        b = str(n).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
hookpid=$!
"$dir/localcases" serve --addr 127.0.0.1:$api --data "$dir/data" --log-level warn --event-sink "http://127.0.0.1:$hook/events" >"$dir/serve.log" 2>&1 &
srvpid=$!
trap 'kill $srvpid $hookpid 2>/dev/null; wait $srvpid 2>/dev/null; rm -rf "$dir"' EXIT
"$dir/localcases" health --wait --url $ep >/dev/null
until curl -sf http://127.0.0.1:$hook/ >/dev/null; do sleep 0.1; done
call() { curl -sf -X "$1" "$ep$2" -H 'Content-Type: application/json' -d "$3"; }
off=$(call POST /domains '{"name":"events-off"}' | jq -r .domainId)
on=$(call POST /domains '{"name":"events-on"}' | jq -r .domainId)
call PUT "/domains/$on/case-event-configuration" '{"eventBridge":{"enabled":true,"includedData":{"caseData":{"fields":[{"id":"status"},{"id":"title"},{"id":"summary"}]},"relatedItemData":{"includeContent":true}}}}' >/dev/null
run() { # run on|off: prints the throughput
  local id=$off
  [ "$1" = on ] && id=$on
  "$dir/localcases" bench --url $ep --domain-id "$id" --op CreateCase --concurrency 16 --duration "${secs}s" --quiet --json \
    | jq -r '.localcases.throughput'
}
# A warm-up pair, not counted: the first runs on a fresh database are the
# fastest of all, and would favour whichever arm came first.
run on >/dev/null
run off >/dev/null
sum_on=0 sum_off=0
for i in $(seq "$pairs"); do
  order="on off"
  [ $((i % 2)) = 0 ] && order="off on"
  for mode in $order; do
    t=$(run $mode)
    printf 'pair %d  events %-3s  %7.1f CreateCase/s\n' "$i" "$mode" "$t"
    if [ $mode = on ]; then sum_on=$(awk "BEGIN{print $sum_on + $t}"); else sum_off=$(awk "BEGIN{print $sum_off + $t}"); fi
  done
done
sleep 2
awk -v on="$sum_on" -v off="$sum_off" -v n="$pairs" -v got="$(curl -sf http://127.0.0.1:$hook/)" \
  'BEGIN { printf "mean: events off %.1f/s, on %.1f/s, on/off %.3f; the webhook received %d events\n", off/n, on/n, on/off, got }'
