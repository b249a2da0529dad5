#!/usr/bin/env bash
# bench-restart.sh — time a Cairn restart with a large sorted set: load N members
# into one key, stop the node cleanly, start it again and measure the time until
# the first ZREVRANK is answered (the index is rebuilt from Pebble at start-up).
#
# Usage: scripts/bench-restart.sh [MEMBERS] [PORT]   (defaults 10000000, 17301)
# Needs redis-cli and ../shared/bench/lib.sh (for the RESP generator). Uses a
# temporary data directory and kills only the process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
members=${1:-10000000}
port=${2:-17301}
lib=${BENCH_LIB:-../shared/bench/lib.sh}
# shellcheck source=/dev/null
. "$lib"

go build -o bin/cairn ./cmd/cairn
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

start() {
	./bin/cairn --port "$port" --dir "$dir" --loglevel warning &
	pid=$!
}
wait_ping() {
	until [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; do sleep 0.01; done
}

start
wait_ping
t0=$(date +%s.%N)
gen_zset lb "$members" 'member:%012d' | resp_load "127.0.0.1:$port"
t1=$(date +%s.%N)
echo "loaded $(redis-cli -p "$port" ZCARD lb) members in $(awk "BEGIN{print $t1 - $t0}") s"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "RSS after load: $((rss / 1024)) MiB; data dir: $(du -sm "$dir" | cut -f1) MiB"
redis-cli -p "$port" SHUTDOWN >/dev/null 2>&1 || true
wait "$pid" || true
pid=

t2=$(date +%s.%N)
start
until r=$(redis-cli -p "$port" ZREVRANK lb member:000000000042 2>/dev/null) && [ -n "$r" ] && [ "$r" != "" ]; do sleep 0.01; done
t3=$(date +%s.%N)
echo "restart to first ZREVRANK (reply $r): $(awk "BEGIN{print $t3 - $t2}") s"
